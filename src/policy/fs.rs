//! The filesystem's policy: the host's preopens, and what else is mounted
//! (embedded files, directories read at run time, tmpfs and overlays).

use super::setting::Setting;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// How the filesystem is virtualized.
///
/// ```toml
/// [fs]
/// host-preopens = false
/// preopens."/app" = { virtualize = "./static" }
/// preopens."/etc" = { dir = { "motd" = { source = "hello\n" } } }
/// preopens."/data" = { runtime-dir = "/var/data" }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FsPolicy {
    /// Whether the host's preopens pass through (default). Without them the
    /// component sees only the embedded preopens.
    #[serde(default = "yes")]
    pub host_preopens: bool,
    /// Embedded, read-only preopens: guest path to contents.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub preopens: IndexMap<String, FsEntry>,
}

/// One entry of an embedded filesystem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum FsEntry {
    /// A directory with these entries.
    Dir(IndexMap<String, FsEntry>),
    /// A file with this text.
    Source(String),
    /// The host file or directory at this path, read (recursively) when
    /// virtualizing and embedded.
    Virtualize(std::path::PathBuf),
    /// The host directory at this path, at run time: the host must preopen
    /// it, or a directory above it. Only as a preopen.
    RuntimeDir(std::path::PathBuf),
    /// The host file at this path, opened read-only at run time through the
    /// host preopen that holds it. Only inside a directory.
    RuntimeFile(std::path::PathBuf),
    /// An empty, writable directory held in the component instance's memory
    /// (`--tmpfs`). Only as a preopen.
    Tmpfs(Tmpfs),
    /// The host directory `dir`, embedded as `virtualize` does, with writes
    /// going to an in-memory layer above it (`--overlay`). Only as a preopen.
    Overlay(Overlay),
}

/// The default size limit of a tmpfs or an overlay's writable layer.
pub const DEFAULT_MEMORY_LIMIT: u64 = 64 << 20;

/// A writable in-memory directory.
///
/// ```toml
/// preopens."/tmp" = { tmpfs = { size = "16MiB" } }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Tmpfs {
    /// The most its files and metadata may take (default 64 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<ByteSize>,
}

/// An embedded directory with a writable in-memory layer above it.
///
/// ```toml
/// preopens."/app" = { overlay = { dir = "./app", size = "8MiB" } }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Overlay {
    /// The host directory embedded below the layer.
    pub dir: std::path::PathBuf,
    /// The most the layer's files and metadata may take (default 64 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<ByteSize>,
}

/// A size in bytes, written `4096`, `64KiB`, `16MiB`, `1GiB` (or `KB`,
/// `MB`, `GB` for powers of ten).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Self> {
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        let unit_bytes: u64 = match unit.trim() {
            "" | "B" => 1,
            "KiB" | "K" => 1 << 10,
            "MiB" | "M" => 1 << 20,
            "GiB" | "G" => 1 << 30,
            "KB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            other => anyhow::bail!(
                "`{text}`: unknown unit `{other}`; expected B, KiB, MiB, GiB, KB, MB or GB"
            ),
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| anyhow::anyhow!("`{text}` is not a size such as `64MiB`"))?;
        let bytes = n
            .checked_mul(unit_bytes)
            .ok_or_else(|| anyhow::anyhow!("`{text}` is too large"))?;
        anyhow::ensure!(bytes > 0, "`{text}`: a size must be more than 0 bytes");
        Ok(ByteSize(bytes))
    }
}

impl TryFrom<String> for ByteSize {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse().map_err(|e: anyhow::Error| format!("{e:#}"))
    }
}

impl From<ByteSize> for String {
    fn from(size: ByteSize) -> String {
        size.to_string()
    }
}

impl std::fmt::Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0;
        for (unit, bytes) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
            if n.is_multiple_of(bytes) {
                return write!(f, "{}{unit}", n / bytes);
            }
        }
        write!(f, "{n}")
    }
}

fn yes() -> bool {
    true
}

impl Default for FsPolicy {
    fn default() -> Self {
        FsPolicy {
            host_preopens: true,
            preopens: IndexMap::new(),
        }
    }
}

impl FsPolicy {
    /// Every host preopen passes through.
    pub fn allow_host_preopens(&mut self) -> &mut Self {
        self.host_preopens = true;
        self
    }

    /// No host preopen is visible, and the host's filesystem is not imported.
    pub fn deny_host_preopens(&mut self) -> &mut Self {
        self.host_preopens = false;
        self
    }

    /// Embeds `entry` as the preopen `guest`.
    pub fn preopen(&mut self, guest: &str, entry: FsEntry) -> &mut Self {
        self.preopens.insert(guest.to_string(), entry);
        self
    }

    /// Shows the host directory `host_path` as the preopen `guest`, at run
    /// time: the host must preopen `host_path` (or a directory above it).
    pub fn host_preopen(
        &mut self,
        guest: &str,
        host_path: impl Into<std::path::PathBuf>,
    ) -> &mut Self {
        self.preopen(guest, FsEntry::RuntimeDir(host_path.into()))
    }

    /// An empty writable in-memory directory as the preopen `guest`, of at
    /// most `size` bytes (default 64 MiB).
    pub fn tmpfs(&mut self, guest: &str, size: Option<u64>) -> &mut Self {
        let size = size.map(ByteSize);
        self.preopen(guest, FsEntry::Tmpfs(Tmpfs { size }))
    }

    /// The host directory `host_dir`, embedded, as the preopen `guest`, with
    /// a writable in-memory layer of at most `size` bytes above it.
    pub fn overlay(
        &mut self,
        guest: &str,
        host_dir: impl Into<std::path::PathBuf>,
        size: Option<u64>,
    ) -> &mut Self {
        let (dir, size) = (host_dir.into(), size.map(ByteSize));
        self.preopen(guest, FsEntry::Overlay(Overlay { dir, size }))
    }

    /// Embeds the host directory `host_dir`, recursively, as the preopen
    /// `guest`.
    pub fn virtual_preopen(
        &mut self,
        guest: &str,
        host_dir: impl Into<std::path::PathBuf>,
    ) -> &mut Self {
        self.preopen(guest, FsEntry::Virtualize(host_dir.into()))
    }
}

impl Setting for FsPolicy {
    fn allowing() -> Self {
        FsPolicy::default()
    }

    fn denying() -> Self {
        FsPolicy {
            host_preopens: false,
            preopens: IndexMap::new(),
        }
    }

    /// The host's preopens pass.
    fn allows(&self) -> bool {
        self.host_preopens
    }

    fn describe(&self) -> String {
        let mut line = if self.host_preopens {
            "host preopens".to_string()
        } else {
            "no host preopens".to_string()
        };
        for (guest, entry) in &self.preopens {
            match entry {
                FsEntry::RuntimeDir(h) => {
                    line.push_str(&format!("; {guest} = host {}", h.display()))
                }
                FsEntry::Tmpfs(t) => line.push_str(&format!(
                    "; {guest} tmpfs ({})",
                    t.size.unwrap_or(ByteSize(DEFAULT_MEMORY_LIMIT))
                )),
                FsEntry::Overlay(o) => line.push_str(&format!(
                    "; {guest} overlay on {} ({})",
                    o.dir.display(),
                    o.size.unwrap_or(ByteSize(DEFAULT_MEMORY_LIMIT))
                )),
                _ => line.push_str(&format!("; {guest} embedded")),
            }
        }
        line
    }

    fn content(&self) -> Option<&'static str> {
        (!self.preopens.is_empty()).then_some("embedded files or preopens")
    }
}
