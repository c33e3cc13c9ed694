//! [`Global`]: the one way the adapter keeps state in a `static` (its
//! heap, its decoded configuration, the virtual time, the in-memory
//! filesystems, ...), and the one `unsafe impl Sync` in the adapter.

use core::cell::{Cell, UnsafeCell};

// The soundness of `Global`'s `Sync` rests on there being one thread:
// refuse to build for a wasm32 with threads (shared memory and atomics).
#[cfg(target_feature = "atomics")]
compile_error!("the adapter's `Global` assumes a single thread: build without `atomics`");

/// A value in a `static`, reached only through [`Global::with`], which
/// lends it for the length of a closure.
///
/// Nothing can keep a reference to the value past the closure, and a
/// second `with` on the same `Global` while the first runs (from inside
/// the closure, directly or through any call it makes) traps instead of
/// lending the value twice: there is never more than one `&mut T`. Keep
/// the closures short, doing in them only what needs the value; every
/// `static` of the adapter is a `Global` of its own, so a closure may use
/// the others.
pub struct Global<T> {
    /// Whether the value is lent out now.
    busy: Cell<bool>,
    value: UnsafeCell<T>,
}

// SAFETY: `Sync` lets a `static` hold a `Global`. The adapter is built only
// for wasm32 without threads (`lib.rs` compiles it only for wasm32; the
// `compile_error!` above refuses `atomics`), so a component instance runs
// it on one thread and no two threads ever reach a `Global`, whatever `T`
// is. On that one thread, `with` checks `busy` so that it never lends the
// value twice.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    /// A global holding `value`.
    pub const fn new(value: T) -> Self {
        Global {
            busy: Cell::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Runs `f` on the value and returns what it returns. Traps if this
    /// global's value is already lent (a `with` reached from inside `f`).
    /// A panic in `f` traps too (the adapter's panic handler), so the
    /// value is never left marked as lent.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        if self.busy.replace(true) {
            core::arch::wasm32::unreachable();
        }
        // SAFETY: `busy` was false, so no reference to the value is live
        // (every one is made here and lives only in `f`); it stays true
        // until `f` returns, so no other is made meanwhile. One thread:
        // see the `Sync` impl.
        let result = f(unsafe { &mut *self.value.get() });
        self.busy.set(false);
        result
    }
}

impl<T: Copy> Global<T> {
    /// A copy of the value.
    #[inline]
    pub fn get(&self) -> T {
        self.with(|value| *value)
    }

    /// Replaces the value.
    #[inline]
    pub fn set(&self, value: T) {
        self.with(|slot| *slot = value);
    }
}
