//! The standard streams' policy: each stream allowed, denied or ignored,
//! and stdin possibly baked in.

use super::setting::Setting;
use serde::{Deserialize, Serialize};
use wasi_virt_layout::{StdioMode, Stream};

/// Standard input.
///
/// ```toml
/// stdin = "ignore"                                 # or "allow", "deny"
/// stdin = { content = "one line\n" }
/// stdin = { file = "request.json" }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StdinPolicy {
    /// Baked in: reads return this text, then end of stream.
    Content(String),
    /// Baked in from this file, read when virtualizing.
    File(std::path::PathBuf),
    /// The host's stdin, denied, or ignored.
    #[serde(untagged)]
    Mode(StdioMode),
}

impl Default for StdinPolicy {
    fn default() -> Self {
        StdinPolicy::Mode(StdioMode::Allow)
    }
}

impl From<StdioMode> for StdinPolicy {
    fn from(mode: StdioMode) -> Self {
        StdinPolicy::Mode(mode)
    }
}

impl StdinPolicy {
    /// The mode: a baked stdin never reads the host's, so it is `ignore`
    /// with content.
    pub fn mode(&self) -> StdioMode {
        match self {
            StdinPolicy::Mode(mode) => *mode,
            StdinPolicy::Content(_) | StdinPolicy::File(_) => StdioMode::Ignore,
        }
    }
}

impl std::fmt::Display for StdinPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StdinPolicy::Mode(mode) => write!(f, "{mode}"),
            StdinPolicy::Content(text) => write!(f, "baked ({} bytes)", text.len()),
            StdinPolicy::File(path) => write!(f, "baked from {}", path.display()),
        }
    }
}

/// What each standard stream does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StdioPolicy {
    /// Standard input.
    #[serde(default)]
    pub stdin: StdinPolicy,
    /// Standard output.
    #[serde(default)]
    pub stdout: StdioMode,
    /// Standard error.
    #[serde(default)]
    pub stderr: StdioMode,
}

impl StdioPolicy {
    /// All three streams in one mode.
    pub fn all(mode: StdioMode) -> Self {
        StdioPolicy {
            stdin: mode.into(),
            stdout: mode,
            stderr: mode,
        }
    }

    /// Reads return `text`, then end of stream; the host's stdin is never
    /// read.
    pub fn stdin_content(&mut self, text: &str) -> &mut Self {
        self.stdin = StdinPolicy::Content(text.to_string());
        self
    }

    /// The mode of one stream.
    pub fn mode(&self, stream: Stream) -> StdioMode {
        match stream {
            Stream::Stdin => self.stdin.mode(),
            Stream::Stdout => self.stdout,
            Stream::Stderr => self.stderr,
        }
    }

    /// Sets the mode of one stream.
    pub fn set(&mut self, stream: Stream, mode: StdioMode) {
        match stream {
            Stream::Stdin => self.stdin = mode.into(),
            Stream::Stdout => self.stdout = mode,
            Stream::Stderr => self.stderr = mode,
        }
    }
}

impl Setting for StdioPolicy {
    fn allowing() -> Self {
        StdioPolicy::all(StdioMode::Allow)
    }

    fn denying() -> Self {
        StdioPolicy::all(StdioMode::Deny)
    }

    fn allows(&self) -> bool {
        Stream::ALL
            .iter()
            .any(|s| self.mode(*s) == StdioMode::Allow)
    }

    fn describe(&self) -> String {
        format!(
            "stdin {}, stdout {}, stderr {}",
            self.stdin, self.stdout, self.stderr
        )
    }

    fn content(&self) -> Option<&'static str> {
        (!matches!(self.stdin, StdinPolicy::Mode(_))).then_some("a baked stdin")
    }
}
