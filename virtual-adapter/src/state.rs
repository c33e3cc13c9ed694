//! The adapter's global state: the one accessor for its configuration, and
//! its heap.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use wasi_virt_layout::heap::{Heap, PAGE};
use wasi_virt_layout::{
    flags_of, same_name, Anchor, Config, Env, Error, ANCHOR_SYMBOL, FLAG_DEBUG, FLAG_SERVE_RUN,
    FLAG_STDERR_TO_RESPONSE,
};

/// Patched by the host library (see `wasi_virt_layout`). Read only through
/// `read_volatile`, so the compiler cannot fold in the unpatched value.
#[no_mangle]
pub static WASI_VIRT_ANCHOR: Anchor = Anchor::UNPATCHED;
const _: () = assert!(same_name(stringify!(WASI_VIRT_ANCHOR), ANCHOR_SYMBOL));

/// A value decoded from the configuration on first use.
struct Cached<T>(UnsafeCell<Option<T>>);

// SAFETY: the adapter is single-threaded wasm; there is no concurrent access.
unsafe impl<T> Sync for Cached<T> {}

impl<T> Cached<T> {
    const fn new() -> Self {
        Cached(UnsafeCell::new(None))
    }

    /// The value, decoded by `decode` from the configuration the first time.
    /// Traps if it does not decode: the adapter was then not configured by
    /// `wasi-virt`, and no answer would be right.
    fn get(&self, decode: fn(&'static [u8]) -> Result<T, Error>) -> &T {
        // SAFETY: single-threaded; the cell is written once, before any
        // reference to its contents is handed out.
        unsafe {
            let slot = &mut *self.0.get();
            if slot.is_none() {
                match decode(blob()) {
                    Ok(value) => *slot = Some(value),
                    Err(_) => core::arch::wasm32::unreachable(),
                }
            }
            slot.as_ref().unwrap_unchecked()
        }
    }
}

static CONFIG: Cached<Config<'static>> = Cached::new();
static ENV: Cached<Env<'static>> = Cached::new();

/// The configuration's bytes. Traps if the adapter was used unconfigured.
fn blob() -> &'static [u8] {
    // SAFETY: the host placed `config_len` bytes at `config_ptr`, in memory
    // that nothing writes to.
    unsafe {
        let anchor = core::ptr::read_volatile(&WASI_VIRT_ANCHOR);
        if anchor.config_len == 0 {
            core::arch::wasm32::unreachable();
        }
        core::slice::from_raw_parts(
            anchor.config_ptr as usize as *const u8,
            anchor.config_len as usize,
        )
    }
}

/// The decoded configuration.
pub fn config() -> &'static Config<'static> {
    CONFIG.get(Config::parse)
}

/// The environment part alone: what `wasi:cli/environment` needs, decoded
/// without the rest of the configuration.
pub fn env() -> &'static Env<'static> {
    ENV.get(Env::parse)
}

/// Whether `--debug` tracing is on, read from the flags word alone.
pub fn debug() -> bool {
    flags_of(blob()) & FLAG_DEBUG != 0
}

/// Whether the command is served per request (`--serve-http`), read from
/// the flags word alone (one function, not inlined at each of its callers).
#[inline(never)]
pub fn serving() -> bool {
    flags_of(blob()) & FLAG_SERVE_RUN != 0
}

/// Whether a command served per request writes its stderr into the
/// response, read from the flags word alone.
pub fn stderr_into_response() -> bool {
    flags_of(blob()) & FLAG_STDERR_TO_RESPONSE != 0
}

/// The global allocator: the layout's heap over `memory.grow`.
pub struct Allocator(UnsafeCell<Heap>);

// SAFETY: single-threaded wasm, as above.
unsafe impl Sync for Allocator {}

impl Allocator {
    pub const fn new() -> Self {
        Allocator(UnsafeCell::new(Heap::new()))
    }
}

fn grow(pages: usize) -> Option<usize> {
    match core::arch::wasm32::memory_grow(0, pages) {
        usize::MAX => None,
        old => Some(old * PAGE),
    }
}

fn address(block: Option<usize>) -> *mut u8 {
    block.map_or(core::ptr::null_mut(), |a| a as *mut u8)
}

// SAFETY: the heap hands out disjoint blocks of memory that only it grows.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded; memory above the initial pages is the heap's.
        unsafe { address((*self.0.get()).alloc(layout.size(), layout.align(), &mut grow)) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { (*self.0.get()).free(ptr as usize, layout.size(), layout.align()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`.
        unsafe {
            let heap = &mut *self.0.get();
            address(heap.realloc(
                ptr as usize,
                layout.size(),
                layout.align(),
                new_size,
                &mut grow,
            ))
        }
    }
}
