//! What the adapter's functions and data objects refer to, from the
//! linker's relocations: written by `crates/adapter-refs` when `lib/` is
//! built, into the custom section [`REFS_SECTION`]; read by the library's
//! rewrite (`src/adapter/rewrite/live.rs`), which counts a function placed
//! in the table as callable only once live code or data holds its index,
//! and writes only the bytes of the data objects live code reaches.
//!
//! The section: the data objects, then the defined functions in order, each
//! a count and that many references; a reference is a LEB128 `u32`, an
//! object's index shifted left once, or a function's index shifted left
//! once with the low bit set. Then where each data object lies: a count,
//! and for each object its segment, its offset there and its size, each a
//! LEB128 `u32`.

use alloc::vec::Vec;

/// The name of the custom section.
pub const REFS_SECTION: &str = "wasi-virt:refs";

/// What some code or data refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ref {
    /// A data object, by index.
    Object(u32),
    /// A function whose table index is held.
    Function(u32),
}

/// Where a data object's bytes lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The data segment, by index.
    pub segment: u32,
    /// Where the object starts in the segment's bytes.
    pub offset: u32,
    /// How many bytes it has.
    pub size: u32,
}

/// The references of each data object and of each defined function.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Refs {
    /// Each data object's references, by object index.
    pub objects: Vec<Vec<Ref>>,
    /// Each defined function's references, in the code section's order.
    pub functions: Vec<Vec<Ref>>,
    /// Where each data object lies, by object index.
    pub spans: Vec<Span>,
}

impl Refs {
    /// Reads the section's contents; `None` if they are malformed.
    pub fn decode(bytes: &[u8]) -> Option<Refs> {
        let mut at = 0;
        let mut lists = || -> Option<Vec<Vec<Ref>>> {
            let n = leb(bytes, &mut at)?;
            (0..n)
                .map(|_| {
                    let k = leb(bytes, &mut at)?;
                    (0..k)
                        .map(|_| {
                            let v = leb(bytes, &mut at)?;
                            Some(match v & 1 {
                                0 => Ref::Object(v >> 1),
                                _ => Ref::Function(v >> 1),
                            })
                        })
                        .collect()
                })
                .collect()
        };
        let objects = lists()?;
        let functions = lists()?;
        let n = leb(bytes, &mut at)?;
        let spans = (0..n)
            .map(|_| {
                Some(Span {
                    segment: leb(bytes, &mut at)?,
                    offset: leb(bytes, &mut at)?,
                    size: leb(bytes, &mut at)?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        (at == bytes.len() && spans.len() == objects.len()).then_some(Refs {
            objects,
            functions,
            spans,
        })
    }

    /// The section's contents.
    #[cfg(feature = "encode")]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for lists in [&self.objects, &self.functions] {
            put(&mut out, lists.len() as u32);
            for list in lists {
                put(&mut out, list.len() as u32);
                for r in list {
                    put(
                        &mut out,
                        match *r {
                            Ref::Object(o) => o << 1,
                            Ref::Function(f) => f << 1 | 1,
                        },
                    );
                }
            }
        }
        put(&mut out, self.spans.len() as u32);
        for span in &self.spans {
            for v in [span.segment, span.offset, span.size] {
                put(&mut out, v);
            }
        }
        out
    }
}

fn leb(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let mut value = 0u32;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u32::from(byte & 0x7f).checked_shl(shift)?;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

#[cfg(feature = "encode")]
fn put(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(all(test, feature = "encode"))]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn round_trip() {
        let refs = Refs {
            objects: vec![vec![Ref::Object(3), Ref::Function(200)], vec![]],
            functions: vec![vec![], vec![Ref::Function(0), Ref::Object(70_000)]],
            spans: vec![
                Span {
                    segment: 0,
                    offset: 16,
                    size: 300,
                },
                Span {
                    segment: 2,
                    offset: 0,
                    size: 0,
                },
            ],
        };
        assert_eq!(Refs::decode(&refs.encode()), Some(refs));
        assert_eq!(Refs::decode(&[1, 1]), None);
        // A span for each object, or the section is malformed.
        assert_eq!(Refs::decode(&[1, 0, 0, 0]), None);
        assert_eq!(
            Refs::decode(&[1, 0, 0, 1, 0, 0, 0]).map(|r| r.spans.len()),
            Some(1)
        );
    }
}
