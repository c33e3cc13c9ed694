//! The adapter's global state: the one accessor for its configuration, and
//! its heap.

use crate::global::Global;
use alloc::boxed::Box;
use core::alloc::{GlobalAlloc, Layout};
use wasi_virt_layout::heap::{Arena, Heap, PAGE};
use wasi_virt_layout::{
    flags_of, same_name, Anchor, Config, Env, Error, ANCHOR_SYMBOL, FLAG_DEBUG, FLAG_SERVE_RUN,
    FLAG_STDERR_TO_RESPONSE,
};

/// Patched by the host library (see `wasi_virt_layout`). Read only through
/// `read_volatile`, so the compiler cannot fold in the unpatched value.
#[no_mangle]
pub static WASI_VIRT_ANCHOR: Anchor = Anchor::UNPATCHED;
const _: () = assert!(same_name(stringify!(WASI_VIRT_ANCHOR), ANCHOR_SYMBOL));

/// A part of the configuration, decoded by `decode` on first use and
/// kept for the instance's life (leaked: it borrows the configuration,
/// which lives as long). Traps if it does not decode: the adapter was then
/// not configured by `wasi-virt`, and no answer would be right.
fn cached<T>(
    slot: &Global<Option<&'static T>>,
    decode: fn(&'static [u8]) -> Result<T, Error>,
) -> &'static T {
    slot.with(|slot| {
        *slot.get_or_insert_with(|| match decode(blob()) {
            Ok(value) => Box::leak(Box::new(value)),
            Err(_) => core::arch::wasm32::unreachable(),
        })
    })
}

static CONFIG: Global<Option<&'static Config<'static>>> = Global::new(None);
static ENV: Global<Option<&'static Env<'static>>> = Global::new(None);

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

/// The decoded configuration. (One function, not inlined at each of its
/// many callers.)
#[inline(never)]
pub fn config() -> &'static Config<'static> {
    cached(&CONFIG, Config::parse)
}

/// The environment part alone: what `wasi:cli/environment` needs, decoded
/// without the rest of the configuration.
#[inline(never)]
pub fn env() -> &'static Env<'static> {
    cached(&ENV, Env::parse)
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
pub struct Allocator(Global<Heap>);

impl Allocator {
    pub const fn new() -> Self {
        Allocator(Global::new(Heap::new()))
    }
}

/// The heap's pages left at the top of the memory the instance started
/// with (`crates/layout/src/heap.rs`): found on the heap's first `grow`,
/// before anything has grown the memory.
static ARENA: Global<Option<Arena>> = Global::new(None);

/// `pages` more pages for the heap, answering where they start. (One
/// function, not inlined into each of the heap's callers.)
#[inline(never)]
fn grow(pages: usize) -> Option<usize> {
    ARENA.with(|arena| {
        let arena = arena.get_or_insert_with(|| {
            // SAFETY: as in `blob`. An adapter the library did not
            // configure has no arena (and traps on its first call).
            let anchor = unsafe { core::ptr::read_volatile(&WASI_VIRT_ANCHOR) };
            Arena::new(
                core::arch::wasm32::memory_size(0) * PAGE,
                anchor.config_len != 0,
            )
        });
        arena.grow(pages, &mut memory_grow)
    })
}

fn memory_grow(pages: usize) -> Option<usize> {
    match core::arch::wasm32::memory_grow(0, pages) {
        usize::MAX => None,
        old => Some(old * PAGE),
    }
}

fn address(block: Option<usize>) -> *mut u8 {
    block.map_or(core::ptr::null_mut(), |a| a as *mut u8)
}

impl Allocator {
    // Each of these is called from every allocation and drop site: kept
    // out of line (with the check that `Global::with` makes), as the
    // heap's own methods are.

    #[inline(never)]
    fn alloc_block(&self, layout: Layout) -> *mut u8 {
        self.0.with(|heap| {
            // SAFETY: the arena and memory grown are the heap's alone.
            let block = unsafe { heap.alloc(layout.size(), layout.align(), &mut grow) };
            address(block)
        })
    }

    /// # Safety
    /// As for [`GlobalAlloc::dealloc`].
    #[inline(never)]
    unsafe fn free_block(&self, ptr: *mut u8, layout: Layout) {
        self.0.with(|heap| {
            // SAFETY: `ptr` came from this allocator with `layout`, as the
            // caller promised.
            unsafe { heap.free(ptr as usize, layout.size(), layout.align()) }
        })
    }

    /// # Safety
    /// As for [`GlobalAlloc::realloc`].
    #[inline(never)]
    unsafe fn realloc_block(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.0.with(|heap| {
            let (size, align) = (layout.size(), layout.align());
            // SAFETY: as for `free_block`.
            let block = unsafe { heap.realloc(ptr as usize, size, align, new_size, &mut grow) };
            address(block)
        })
    }
}

// SAFETY: the heap hands out disjoint blocks of memory that only it grows
// (the arena the library leaves it, and memory grown). It never allocates
// itself, so its `Global` is never re-entered.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.alloc_block(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as the caller promised.
        unsafe { self.free_block(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as the caller promised.
        unsafe { self.realloc_block(ptr, layout, new_size) }
    }
}
