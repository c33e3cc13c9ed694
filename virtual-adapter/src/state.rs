//! The one accessor for the adapter's configuration.

use core::cell::UnsafeCell;
use wasi_virt_layout::{same_name, Anchor, Config, ANCHOR_SYMBOL};

/// Patched by the host library (see `wasi_virt_layout`). Read only through
/// `read_volatile`, so the compiler cannot fold in the unpatched value.
#[no_mangle]
pub static WASI_VIRT_ANCHOR: Anchor = Anchor::UNPATCHED;
const _: () = assert!(same_name(stringify!(WASI_VIRT_ANCHOR), ANCHOR_SYMBOL));

struct Cached(UnsafeCell<Option<Config<'static>>>);

// SAFETY: the adapter is single-threaded wasm; there is no concurrent access.
unsafe impl Sync for Cached {}

static CONFIG: Cached = Cached(UnsafeCell::new(None));

/// The decoded configuration. Traps if the adapter was used unconfigured or
/// its configuration does not decode: both mean it was not produced by
/// `wasi-virt`, and no answer would be right.
pub fn config() -> &'static Config<'static> {
    // SAFETY: single-threaded; the cell is written once, before any reference
    // to its contents is handed out.
    unsafe {
        let slot = &mut *CONFIG.0.get();
        if slot.is_none() {
            let anchor = core::ptr::read_volatile(&WASI_VIRT_ANCHOR);
            if anchor.config_len == 0 {
                core::arch::wasm32::unreachable();
            }
            let bytes = core::slice::from_raw_parts(
                anchor.config_ptr as usize as *const u8,
                anchor.config_len as usize,
            );
            match Config::parse(bytes) {
                Ok(c) => *slot = Some(c),
                Err(_) => core::arch::wasm32::unreachable(),
            }
        }
        slot.as_ref().unwrap_unchecked()
    }
}
