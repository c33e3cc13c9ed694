//! The adapter's allocator: power-of-two size classes, each with a free list
//! threaded through its free blocks, carved from memory that only its
//! `grow` hands out: the pages left for it ([`ARENA_PAGES`]), then those of
//! `memory.grow`.
//!
//! The adapter allocates little, and most of it lives as long as the
//! instance (its resources, the in-memory filesystems' files), so this is
//! built to be small rather than to fight fragmentation: no splitting or
//! merging of blocks, a freed block waits for the next request of its
//! class. Every block of class `k` (`2^k` bytes) starts at a multiple of
//! `min(2^k, 64 KiB)`, so a request is aligned when its block is at least
//! as large as its alignment. The alignment gap a new block leaves behind
//! is cut into naturally aligned smaller blocks and listed, not lost.
//!
//! It lives here, beside the configuration, so that the host's tests run
//! the very code the adapter runs; the adapter supplies `grow` and
//! the memory itself (the free-list links are written into free blocks).

/// Bytes per page of `memory.grow`, and the largest alignment of a block.
pub const PAGE: usize = 1 << 16;

/// Pages the library leaves at the top of a configured adapter's initial
/// memory, after its configuration (`src/adapter/rewrite.rs` adds them),
/// which the adapter's heap takes before it grows the memory. An instance
/// that allocates little (one serving a request) then never grows it: a
/// pooling host makes grown pages accessible on each instance and takes
/// them back on its reuse, each a change of protection that flushes every
/// core's TLB.
pub const ARENA_PAGES: usize = 4;

/// The pages of the arena ([`ARENA_PAGES`]) not yet handed out: the heap's
/// `grow` hands these out first, then the memory's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arena {
    next: usize,
    end: usize,
}

impl Arena {
    /// The arena of a memory `size` bytes long as its instance starts: its
    /// top [`ARENA_PAGES`] where the library left them (`configured`),
    /// none otherwise.
    pub fn new(size: usize, configured: bool) -> Arena {
        let next = match configured {
            true => size.saturating_sub(ARENA_PAGES * PAGE),
            false => size,
        };
        Arena { next, end: size }
    }

    /// `pages` more pages, answering where they start: the arena's first,
    /// and, past them, pages of `memory_grow` (which answers where its
    /// pages start). The arena ends where the memory did before it first
    /// grew, so pages grown past its end continue it.
    pub fn grow(
        &mut self,
        pages: usize,
        memory_grow: &mut impl FnMut(usize) -> Option<usize>,
    ) -> Option<usize> {
        let left = (self.end - self.next) / PAGE;
        let start = match left {
            0 => return memory_grow(pages),
            _ if pages > left => {
                memory_grow(pages - left)?;
                self.next
            }
            _ => self.next,
        };
        self.next += pages.min(left) * PAGE;
        Some(start)
    }
}

/// The smallest block: room for a free-list link on any target.
const MIN_BLOCK: usize = 16;

/// One free list per size class: `free[k]` holds blocks of `2^k` bytes.
const CLASSES: usize = usize::BITS as usize;

/// Free lists and the unused rest of the last region `memory.grow` gave.
pub struct Heap {
    free: [usize; CLASSES],
    /// The first byte not yet carved into a block.
    top: usize,
    /// The end of the region `top` lies in.
    end: usize,
}

impl Default for Heap {
    fn default() -> Self {
        Heap::new()
    }
}

/// The size class of a request: the power of two that holds `size` bytes
/// at `align`, at least [`MIN_BLOCK`]; `None` past the address space.
fn class(size: usize, align: usize) -> Option<u32> {
    let block = size.max(align).max(MIN_BLOCK).checked_next_power_of_two()?;
    Some(block.trailing_zeros())
}

impl Heap {
    /// No memory yet; the first request grows the memory.
    pub const fn new() -> Heap {
        Heap {
            free: [0; CLASSES],
            top: 0,
            end: 0,
        }
    }

    /// A block for `size` bytes at `align`, or `None` when the memory cannot
    /// grow. `grow(pages)` grows the memory, answering the address where
    /// the new pages start (as `memory.grow` does, times [`PAGE`]).
    ///
    /// # Safety
    /// The heap's blocks must be writable memory that nothing else uses.
    // Called from every allocation and drop site: kept out of line, where
    // inlining would repeat it hundreds of times in the adapter.
    #[inline(never)]
    pub unsafe fn alloc(
        &mut self,
        size: usize,
        align: usize,
        grow: &mut impl FnMut(usize) -> Option<usize>,
    ) -> Option<usize> {
        let k = class(size, align)?;
        let head = self.free[k as usize];
        if head != 0 {
            // SAFETY: a listed block is free and holds its successor.
            self.free[k as usize] = unsafe { (head as *const usize).read() };
            return Some(head);
        }
        // SAFETY: as the caller promised.
        unsafe { self.carve(1 << k, grow) }
    }

    /// Returns the block at `addr`, allocated for `size` bytes at `align`,
    /// to its free list.
    ///
    /// # Safety
    /// `addr` came from [`Heap::alloc`] (or [`Heap::realloc`]) with this
    /// size and alignment, and is not used after.
    #[inline(never)] // as `alloc`
    pub unsafe fn free(&mut self, addr: usize, size: usize, align: usize) {
        if let Some(k) = class(size, align) {
            // SAFETY: the caller gives up the block, which holds a link.
            unsafe { self.push(k, addr) };
        }
    }

    /// Resizes the block at `addr` from `size` to `new_size` bytes: in
    /// place when the class is the same, or when it is the last block
    /// carved and the region (grown if it can be, contiguously) has room;
    /// otherwise moved, its contents copied. `None` leaves it as it was.
    ///
    /// # Safety
    /// As for [`Heap::free`]; after `Some`, only the answer is used.
    #[inline(never)] // as `alloc`
    pub unsafe fn realloc(
        &mut self,
        addr: usize,
        size: usize,
        align: usize,
        new_size: usize,
        grow: &mut impl FnMut(usize) -> Option<usize>,
    ) -> Option<usize> {
        let (old, new) = (class(size, align)?, class(new_size, align)?);
        if old == new {
            return Some(addr);
        }
        let grows_in_place = new > old
            && addr + (1 << old) == self.top
            && addr.is_multiple_of((1usize << new).min(PAGE))
            && self.reserve(addr + (1 << new), grow);
        if grows_in_place {
            self.top = addr + (1 << new);
            return Some(addr);
        }
        // SAFETY: the new block is distinct from the old, which is still
        // allocated; both hold at least `size.min(new_size)` bytes.
        unsafe {
            let moved = self.alloc(new_size, align, grow)?;
            core::ptr::copy_nonoverlapping(addr as *const u8, moved as *mut u8, size.min(new_size));
            self.free(addr, size, align);
            Some(moved)
        }
    }

    /// A new block of `block` bytes (a power of two) from the region.
    unsafe fn carve(
        &mut self,
        block: usize,
        grow: &mut impl FnMut(usize) -> Option<usize>,
    ) -> Option<usize> {
        let align = block.min(PAGE);
        let mut start = self.top.checked_next_multiple_of(align)?;
        if !self.reserve(start.checked_add(block)?, grow) {
            // A fresh region: the tail of the old one is left unused.
            let pages = block.div_ceil(PAGE);
            let base = grow(pages)?;
            (self.top, self.end, start) = (base, base + pages * PAGE, base);
        }
        // The gap below `start`, as naturally aligned blocks: the lowest set
        // bit of `top` is the largest block that may start there.
        while self.top < start {
            let piece = self.top & self.top.wrapping_neg();
            // SAFETY: the piece lies in the region, below every block carved
            // after it, and is handed out only from its list.
            unsafe { self.push(piece.trailing_zeros(), self.top) };
            self.top += piece;
        }
        self.top = start + block;
        Some(start)
    }

    /// Whether the region reaches `to`, growing it contiguously if needed.
    fn reserve(&mut self, to: usize, grow: &mut impl FnMut(usize) -> Option<usize>) -> bool {
        if to <= self.end {
            return true;
        }
        if self.end == 0 {
            return false;
        }
        let pages = (to - self.end).div_ceil(PAGE);
        match grow(pages) {
            Some(base) if base == self.end => {
                self.end += pages * PAGE;
                true
            }
            // Not contiguous (or refused): the pages are unusable here;
            // a later carve takes a region of its own.
            _ => false,
        }
    }

    unsafe fn push(&mut self, k: u32, addr: usize) {
        // SAFETY: (callers) `addr` is a free block of at least MIN_BLOCK.
        unsafe { (addr as *mut usize).write(self.free[k as usize]) };
        self.free[k as usize] = addr;
    }
}
