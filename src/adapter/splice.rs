//! Writing an output whose embedded files come straight from the host.
//!
//! The pipeline works on an output whose file segments are empty (the
//! rewrite writes them so, and marks the adapter module with a
//! [`FILES_MARKER`] section after its data section). Writing it copies the
//! output as it is, except that the data section's empty segments are
//! replaced by the files' bytes, read one file at a time, and the sizes of
//! the data section and of every section that encloses it grow to match. So
//! no copy of the files is ever held, and nothing validates or re-encodes
//! their bytes (passive data is never interpreted).

use crate::adapter::mount_tree::{Reader, Segment};
use crate::adapter::rewrite::FILES_MARKER;
use anyhow::{bail, ensure, Context, Result};
use std::io::Write;
use std::ops::Range;
use wasmparser::{Parser, Payload};

/// A section of the output: where its header starts, and its contents.
#[derive(Clone, Debug)]
struct Section {
    /// The offset of its id byte.
    header: usize,
    content: Range<usize>,
}

impl Section {
    /// The section whose contents are `content`, checked to have the header
    /// `id` + size just before them.
    fn before(bytes: &[u8], id: u8, content: Range<u64>) -> Result<Section> {
        let content = content.start as usize..content.end as usize;
        let size = leb_len(content.len() as u64);
        let header = content
            .start
            .checked_sub(1 + size)
            .context("a section has no room for its header")?;
        let mut written = Vec::new();
        leb(&mut written, content.len() as u64);
        ensure!(
            bytes[header] == id && bytes[header + 1..content.start] == written[..],
            "a section header is not where it was expected"
        );
        Ok(Section { header, content })
    }
}

/// Where the empty file segments are: the adapter's data section, the
/// sections that enclose it (outermost first), and the marker right after
/// it, which the written output leaves out.
struct Located {
    enclosing: Vec<Section>,
    data: Section,
    marker: Range<usize>,
}

/// The output's size once written.
pub fn written_len(bytes: &[u8], files: &[Segment]) -> Result<u64> {
    if files.is_empty() {
        return Ok(bytes.len() as u64);
    }
    let located = locate(bytes, files.len())?;
    let (sizes, _) = new_sizes(&located, files);
    let outer = located.enclosing.first().zip(sizes.first());
    let growth = outer
        .map(|(section, size)| grown(&section.content, *size))
        .context("the adapter module is not inside a component")?;
    Ok((bytes.len() as i64 + growth) as u64)
}

/// Writes `bytes` to `out`, with `files` in its empty file segments.
pub fn write(bytes: &[u8], files: &[Segment], out: &mut dyn Write) -> Result<()> {
    if files.is_empty() {
        return Ok(out.write_all(bytes)?);
    }
    let located = locate(bytes, files.len())?;
    let (sizes, data_size) = new_sizes(&located, files);
    let mut at = 0;
    for (section, size) in located.enclosing.iter().zip(&sizes) {
        at = write_header(bytes, at, section, *size, out)?;
    }
    let data = &located.data;
    at = write_header(bytes, at, data, data_size, out)?;
    let placeholders = data.content.end - 2 * files.len();
    out.write_all(&bytes[at..placeholders])?;
    let mut reader = Reader::default();
    for segment in files {
        let mut head = vec![0x01];
        leb(&mut head, segment.len());
        out.write_all(&head)?;
        segment.write_to(&mut reader, out)?;
    }
    out.write_all(&bytes[located.marker.end..])?;
    Ok(())
}

/// Copies up to `section`'s header and writes its id with `size`; returns
/// where its contents start.
fn write_header(
    bytes: &[u8],
    at: usize,
    section: &Section,
    size: u64,
    out: &mut dyn Write,
) -> Result<usize> {
    out.write_all(&bytes[at..=section.header])?;
    let mut header = Vec::new();
    leb(&mut header, size);
    out.write_all(&header)?;
    Ok(section.content.start)
}

/// The new sizes of the enclosing sections (outermost first) and of the data
/// section.
fn new_sizes(located: &Located, files: &[Segment]) -> (Vec<u64>, u64) {
    let filled: u64 = files
        .iter()
        .map(|s| 1 + leb_len(s.len()) as u64 + s.len())
        .sum();
    let data = located.data.content.len() as u64 - 2 * files.len() as u64 + filled;
    let mut growth = grown(&located.data.content, data) - located.marker.len() as i64;
    let mut sizes: Vec<u64> = Vec::new();
    for section in located.enclosing.iter().rev() {
        let size = (section.content.len() as i64 + growth) as u64;
        growth = grown(&section.content, size);
        sizes.push(size);
    }
    sizes.reverse();
    (sizes, data)
}

/// How much a section whose contents were `old` grows, header included,
/// when its contents become `new` bytes.
fn grown(old: &Range<usize>, new: u64) -> i64 {
    let old_len = old.len() as u64;
    (new as i64 - old_len as i64) + (leb_len(new) as i64 - leb_len(old_len) as i64)
}

/// Finds the marked data section and what encloses it. Only the sections
/// on that path are checked for a header where it is expected (the
/// composition and the encoder write them); the user component's own
/// sections are passed by, whatever their encoding.
fn locate(bytes: &[u8], files: usize) -> Result<Located> {
    let mut open: Vec<(u8, Range<u64>)> = Vec::new();
    let mut data: Option<Range<u64>> = None;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.context("failed to read the output back")? {
            Payload::ModuleSection {
                unchecked_range, ..
            } => open.push((1, unchecked_range)),
            Payload::ComponentSection {
                unchecked_range, ..
            } => open.push((4, unchecked_range)),
            Payload::End(_) => {
                open.pop();
            }
            Payload::DataSection(reader) => data = Some(reader.range()),
            Payload::CustomSection(c) if c.name() == FILES_MARKER => {
                let count = u32::from_le_bytes(c.data().try_into().context("a bad marker")?);
                ensure!(
                    count as usize == files,
                    "the marker counts {count} file segments"
                );
                let data = data.take().context("the marker follows no data section")?;
                let data = Section::before(bytes, 11, data)?;
                let marker = Section::before(bytes, 0, c.range())?;
                ensure!(
                    marker.header == data.content.end,
                    "the marker does not follow the data section"
                );
                let tail = &bytes[data.content.end - 2 * files..data.content.end];
                ensure!(
                    tail.chunks(2).all(|c| c == [0x01, 0x00]),
                    "the file segments are not empty"
                );
                let enclosing = open
                    .into_iter()
                    .map(|(id, range)| Section::before(bytes, id, range))
                    .collect::<Result<_>>()?;
                return Ok(Located {
                    enclosing,
                    data,
                    marker: marker.header..marker.content.end,
                });
            }
            _ => {}
        }
    }
    bail!("internal error: the output has no `{FILES_MARKER}` section for its embedded files")
}

/// `value` as an unsigned LEB128, as wasm-encoder writes every size.
fn leb(out: &mut Vec<u8>, value: u64) {
    wasm_encoder::Encode::encode(&value, out);
}

fn leb_len(value: u64) -> usize {
    let mut out = Vec::new();
    leb(&mut out, value);
    out.len()
}

#[cfg(test)]
mod tests {
    use crate::{FsEntry, WasiVirt};

    /// A standalone adapter holding a text file and a host file in two
    /// segments (one of them over the 1 MiB pack size).
    fn virt(dir: &std::path::Path) -> WasiVirt {
        std::fs::write(dir.join("big.bin"), vec![7u8; (1 << 20) + 3]).unwrap();
        let mut virt = WasiVirt::new();
        let text = FsEntry::Source("hello\n".into());
        virt.fs()
            .deny_host_preopens()
            .preopen("/etc", FsEntry::Dir([("motd".into(), text)].into()))
            .virtual_preopen("/data", dir);
        virt
    }

    #[test]
    fn files_are_written_in_place_and_sizes_agree() {
        let dir = tempfile::tempdir().unwrap();
        let virt = virt(dir.path());
        let out = virt.finish().unwrap();
        assert_eq!(out.report.size, out.bytes.len() as u64);
        wasmparser::Validator::new()
            .validate_all(&out.bytes)
            .unwrap();
        let mut streamed = Vec::new();
        let report = virt.finish_to(&mut streamed).unwrap();
        assert_eq!(streamed, out.bytes);
        assert_eq!(report, out.report);
        let holds = |needle: &[u8]| out.bytes.windows(needle.len()).any(|w| w == needle);
        assert!(holds(b"hello\n"));
        assert!(holds(&[7u8; 4096]));
        assert!(
            !holds(super::FILES_MARKER.as_bytes()),
            "the marker is left out"
        );
    }

    #[test]
    fn leb_round_trips_at_the_edges() {
        for value in [0u64, 1, 127, 128, 16_383, 16_384, u32::MAX as u64] {
            let mut out = Vec::new();
            super::leb(&mut out, value);
            assert_eq!(out.len(), super::leb_len(value));
            let mut reader = wasmparser::BinaryReader::new(&out, 0);
            assert_eq!(reader.read_var_u64().unwrap(), value);
        }
    }
}
