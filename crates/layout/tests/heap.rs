//! The adapter's allocator (`crates/layout/src/heap.rs`) on the host, over a buffer that
//! stands in for linear memory: seeded random sequences of allocations,
//! frees and resizes, each block filled with its own pattern; every answer
//! must be aligned, inside the memory, apart from every other live block,
//! and keep its contents.

use std::collections::BTreeMap;
use wasi_virt_layout::heap::{Heap, PAGE};

mod gen;
use gen::Gen;

/// Linear memory: `pages` of it handed out by `grow`, up to a limit.
struct Memory {
    buf: Vec<u8>,
    base: usize,
    pages: usize,
    limit: usize,
}

impl Memory {
    fn new(limit: usize) -> Memory {
        let buf = vec![0u8; (limit + 1) * PAGE];
        let base = (buf.as_ptr() as usize).next_multiple_of(PAGE);
        Memory {
            buf,
            base,
            pages: 0,
            limit,
        }
    }

    fn grow(&mut self, pages: usize) -> Option<usize> {
        if self.pages + pages > self.limit {
            return None;
        }
        let at = self.base + self.pages * PAGE;
        self.pages += pages;
        Some(at)
    }

    fn contains(&self, addr: usize, len: usize) -> bool {
        let start = self.buf.as_ptr() as usize;
        addr >= start && addr + len <= start + self.buf.len()
    }
}

#[derive(Clone, Copy)]
struct Block {
    size: usize,
    align: usize,
    tag: u8,
}

fn fill(addr: usize, b: Block) {
    // SAFETY: the block is live and inside the test's memory.
    unsafe { std::ptr::write_bytes(addr as *mut u8, b.tag, b.size) }
}

fn check(addr: usize, b: Block, len: usize) {
    // SAFETY: as for `fill`.
    let bytes = unsafe { std::slice::from_raw_parts(addr as *const u8, len) };
    assert!(
        bytes.iter().all(|&x| x == b.tag),
        "block at {addr:#x} lost its contents"
    );
}

fn overlaps(live: &BTreeMap<usize, Block>, addr: usize, size: usize) -> bool {
    let end = addr + size.max(1);
    let before = live.range(..end).next_back();
    before.is_some_and(|(&a, b)| a + b.size.max(1) > addr)
}

fn draw_size(rng: &mut Gen) -> usize {
    match rng.below(10) {
        0..=5 => 1 + rng.below(64),
        6..=8 => 1 + rng.below(4096),
        _ => 1 + rng.below(300_000),
    }
}

#[test]
fn random_sequences_keep_blocks_apart_aligned_and_intact() {
    for seed in 1..=40u64 {
        let mut rng = Gen(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut memory = Memory::new(4096);
        let mut heap = Heap::new();
        let mut live: BTreeMap<usize, Block> = BTreeMap::new();
        for step in 0..3_000u32 {
            let op = rng.below(10);
            if op < 5 || live.is_empty() {
                let b = Block {
                    size: draw_size(&mut rng),
                    align: 1 << rng.below(7),
                    tag: step as u8,
                };
                let addr = unsafe { heap.alloc(b.size, b.align, &mut |p| memory.grow(p)) }
                    .expect("memory to spare");
                assert_eq!(addr % b.align, 0, "seed {seed} step {step}: misaligned");
                assert!(memory.contains(addr, b.size));
                assert!(
                    !overlaps(&live, addr, b.size),
                    "seed {seed} step {step}: overlap"
                );
                fill(addr, b);
                live.insert(addr, b);
            } else {
                let nth = rng.below(live.len());
                let (&addr, &b) = live.iter().nth(nth).unwrap();
                check(addr, b, b.size);
                live.remove(&addr);
                if op < 8 {
                    unsafe { heap.free(addr, b.size, b.align) };
                    continue;
                }
                let new = Block {
                    size: draw_size(&mut rng),
                    tag: b.tag.wrapping_add(1),
                    ..b
                };
                let moved = unsafe {
                    heap.realloc(addr, b.size, b.align, new.size, &mut |p| memory.grow(p))
                }
                .expect("memory to spare");
                assert_eq!(moved % b.align, 0);
                assert!(memory.contains(moved, new.size));
                assert!(
                    !overlaps(&live, moved, new.size),
                    "seed {seed} step {step}: overlap"
                );
                check(moved, b, b.size.min(new.size));
                fill(moved, new);
                live.insert(moved, new);
            }
        }
        for (&addr, &b) in &live {
            check(addr, b, b.size);
        }
    }
}

#[test]
fn freed_blocks_are_reused_before_the_memory_grows() {
    let mut memory = Memory::new(64);
    let mut heap = Heap::new();
    let sizes = [24, 100, 5000, 70_000, 16, 16, 300];
    let first: Vec<usize> = sizes
        .iter()
        .map(|&s| unsafe { heap.alloc(s, 8, &mut |p| memory.grow(p)) }.unwrap())
        .collect();
    let pages = memory.pages;
    for (&addr, &s) in first.iter().zip(&sizes) {
        unsafe { heap.free(addr, s, 8) };
    }
    for &s in &sizes {
        let addr = unsafe { heap.alloc(s, 8, &mut |p| memory.grow(p)) }.unwrap();
        assert!(
            first.contains(&addr),
            "a freed block of the size was not reused"
        );
    }
    assert_eq!(memory.pages, pages);
}

#[test]
fn the_last_block_grows_in_place() {
    let mut memory = Memory::new(64);
    let mut heap = Heap::new();
    let mut addr = unsafe { heap.alloc(4096, 8, &mut |p| memory.grow(p)) }.unwrap();
    let start = addr;
    // A vector doubling its capacity, alone on the heap: never moved.
    let mut size = 4096;
    while size < 1 << 20 {
        addr = unsafe { heap.realloc(addr, size, 8, size * 2, &mut |p| memory.grow(p)) }.unwrap();
        assert_eq!(addr, start);
        size *= 2;
    }
    // Growing into memory the host refuses moves nothing and fails.
    let mut memory_full = |_| None;
    let big = unsafe { heap.realloc(addr, 1 << 20, 8, 1 << 30, &mut memory_full) };
    assert_eq!(big, None);
}

#[test]
fn requests_past_the_memory_fail() {
    let mut memory = Memory::new(4);
    let mut heap = Heap::new();
    assert!(unsafe { heap.alloc(5 * PAGE, 8, &mut |p| memory.grow(p)) }.is_none());
    assert!(unsafe { heap.alloc(usize::MAX / 2 + 2, 8, &mut |p| memory.grow(p)) }.is_none());
    assert!(unsafe { heap.alloc(PAGE, 8, &mut |p| memory.grow(p)) }.is_some());
}

/// The arena's pages come first, in order; past them the memory grows, and
/// a request that spans the arena's end takes its rest and grown pages
/// after it, contiguous with it.
#[test]
fn the_arena_is_handed_out_before_the_memory_grows() {
    use wasi_virt_layout::heap::{Arena, ARENA_PAGES};
    let size = 20 * PAGE;
    let mut grown = Vec::new();
    let mut pages_now = 20;
    let mut memory_grow = |pages: usize| {
        grown.push(pages);
        let at = pages_now * PAGE;
        pages_now += pages;
        Some(at)
    };
    let mut arena = Arena::new(size, true);
    let first = size - ARENA_PAGES * PAGE;
    assert_eq!(arena.grow(1, &mut memory_grow), Some(first));
    assert_eq!(arena.grow(1, &mut memory_grow), Some(first + PAGE));
    // Two pages left in the arena: three asked take them and one more.
    assert_eq!(arena.grow(3, &mut memory_grow), Some(first + 2 * PAGE));
    assert_eq!(arena.grow(2, &mut memory_grow), Some(size + PAGE));
    assert_eq!(grown, [1, 2]);

    // An adapter the library did not configure has no arena.
    let mut grown = 0;
    let mut arena = Arena::new(size, false);
    assert_eq!(
        arena.grow(1, &mut |p| {
            grown += p;
            Some(size)
        }),
        Some(size)
    );
    assert_eq!(grown, 1);
}

/// Where the memory cannot grow past the arena, a request larger than the
/// arena's rest fails and takes nothing from it.
#[test]
fn a_request_past_the_arena_fails_whole_when_the_memory_cannot_grow() {
    use wasi_virt_layout::heap::{Arena, ARENA_PAGES};
    let size = 20 * PAGE;
    let mut arena = Arena::new(size, true);
    let mut never = |_| None;
    assert_eq!(arena.grow(ARENA_PAGES + 1, &mut never), None);
    assert_eq!(
        arena.grow(ARENA_PAGES, &mut never),
        Some(size - ARENA_PAGES * PAGE)
    );
    assert_eq!(arena.grow(1, &mut never), None);
}
