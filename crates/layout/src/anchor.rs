//! How the configuration reaches the adapter: the [`Anchor`] static that
//! the adapter exports under [`ANCHOR_SYMBOL`] and the host patches to point
//! at the configuration, and where the data segments the host adds go.
//! The crate's documentation (`crates/layout/src/lib.rs`) tells the steps.

use crate::wire::Reader;

/// The export name of the adapter's anchor static.
pub const ANCHOR_SYMBOL: &str = "WASI_VIRT_ANCHOR";

/// `b"wvrt"`, the first word of the anchor.
pub const MAGIC: u32 = u32::from_le_bytes(*b"wvrt");

/// Bumped whenever the layout of [`Anchor`] or of the configuration changes.
/// The host refuses an adapter built against another layout.
pub const LAYOUT_VERSION: u32 = 12;

/// Data segments added by the library after the adapter's own: one active
/// segment holding the configuration.
pub const CONFIG_SEGMENTS: u32 = 1;

/// The data segment index of file segment `file_segment`, in an adapter whose
/// own module has `module_segments` data segments: the adapter's segments
/// come first, then the configuration, then the file segments in order.
pub const fn file_segment_index(module_segments: u32, file_segment: u32) -> u32 {
    module_segments + CONFIG_SEGMENTS + file_segment
}

/// The fixed-size record the adapter exports and the host patches.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// Always [`MAGIC`].
    pub magic: u32,
    /// The [`LAYOUT_VERSION`] the adapter was built with.
    pub layout_version: u32,
    /// Linear-memory address of the encoded configuration.
    pub config_ptr: u32,
    /// Byte length of the encoded configuration; 0 means "not configured".
    pub config_len: u32,
}

impl Anchor {
    /// Size of the anchor in linear memory.
    pub const SIZE: usize = 16;

    /// The anchor as the adapter is built: no configuration attached.
    pub const UNPATCHED: Anchor = Anchor {
        magic: MAGIC,
        layout_version: LAYOUT_VERSION,
        config_ptr: 0,
        config_len: 0,
    };

    /// The anchor's bytes as they lie in linear memory.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut out = [0; Self::SIZE];
        for (i, word) in [
            self.magic,
            self.layout_version,
            self.config_ptr,
            self.config_len,
        ]
        .iter()
        .enumerate()
        {
            out[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// Reads an anchor from linear-memory bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Anchor> {
        let mut r = Reader::new(bytes.get(..Self::SIZE)?);
        Some(Anchor {
            magic: r.u32().ok()?,
            layout_version: r.u32().ok()?,
            config_ptr: r.u32().ok()?,
            config_len: r.u32().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_round_trip() {
        let a = Anchor {
            config_ptr: 0x0011_0000,
            config_len: 77,
            ..Anchor::UNPATCHED
        };
        let bytes = a.to_bytes();
        assert_eq!(&bytes[..4], b"wvrt");
        assert_eq!(Anchor::from_bytes(&bytes), Some(a));
        assert_eq!(Anchor::from_bytes(&bytes[..15]), None);
    }
}
