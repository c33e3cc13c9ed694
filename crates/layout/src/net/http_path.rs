//! The path of an outgoing HTTP request, as HTTP rules decide it: the
//! adapter normalizes the request target the way a server reads it
//! ([`normalize`]), refuses every target a server could read two ways, sends
//! the normalized target, and matches its path against the rules' path
//! patterns ([`matches()`]). The library parses rule paths with the same
//! [`normalize`], so rules and requests are compared in one spelling.
//!
//! The exact rules are in docs/network.md ("What the rules mean").

use alloc::string::String;
use alloc::vec::Vec;

/// Why a request target is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// It does not start with `/`: an authority-form (`host:443`),
    /// absolute-form (`http://host/`) or asterisk-form (`*`) target, or
    /// an empty one.
    NotOrigin,
    /// A byte outside printable ASCII (a control, a space, DEL, non-ASCII).
    NotPrintable,
    /// A NUL, raw or `%00`.
    Nul,
    /// A `#`: a fragment is never sent.
    Fragment,
    /// A `\` in the path, raw or `%5C`.
    Backslash,
    /// An encoded `/` (`%2F`) in the path.
    EncodedSlash,
    /// A `.` or `..` segment spelled with `%2E`.
    EncodedDot,
    /// A `%` without two hex digits after it.
    BadEscape,
    /// An empty segment (`//`) in the path.
    EmptySegment,
    /// A `;` in the path, raw or `%3B`: segment parameters (`/..;/`).
    Parameter,
}

impl Refusal {
    /// The reason, in words, for the `--debug` trace.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::NotOrigin => "the target does not start with `/`",
            Refusal::NotPrintable => "the target holds a byte outside printable ASCII",
            Refusal::Nul => "the target holds a NUL",
            Refusal::Fragment => "the target holds a `#`",
            Refusal::Backslash => "the path holds a `\\` or `%5C`",
            Refusal::EncodedSlash => "the path holds an encoded `/` (`%2F`)",
            Refusal::EncodedDot => "the path holds a dot segment spelled with `%2E`",
            Refusal::BadEscape => "the target holds a `%` without two hex digits",
            Refusal::EmptySegment => "the path holds an empty segment (`//`)",
            Refusal::Parameter => "the path holds a `;` or `%3B`",
        }
    }
}

/// A request target, normalized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Normal<'a> {
    /// The path: starting with `/`, dot segments removed, unreserved
    /// characters decoded, other escapes in upper case.
    pub path: String,
    /// The query, after `?`, as given (`None` without a `?`).
    pub query: Option<&'a str>,
}

impl Normal<'_> {
    /// The target as the adapter sends it: the path, then `?` and the
    /// query if there is one.
    pub fn target(&self) -> String {
        let mut out = self.path.clone();
        if let Some(query) = self.query {
            out.push('?');
            out.push_str(query);
        }
        out
    }
}

/// Normalizes a request's `path-with-query`, or says why it is refused.
/// The query is checked only for bytes no server reads one way (NUL,
/// controls, `#`, malformed escapes) and is otherwise kept as it is: no
/// rule matches it and it never changes the path.
pub fn normalize(target: &str) -> Result<Normal<'_>, Refusal> {
    check_bytes(target)?;
    let (raw, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let rest = raw.strip_prefix('/').ok_or(Refusal::NotOrigin)?;
    if raw.contains('\\') {
        return Err(Refusal::Backslash);
    }
    if raw.contains(';') {
        return Err(Refusal::Parameter);
    }
    let mut segments: Vec<String> = Vec::new();
    let count = rest.split('/').count();
    for (i, raw_segment) in rest.split('/').enumerate() {
        let last = i + 1 == count;
        if raw_segment.is_empty() && !last {
            return Err(Refusal::EmptySegment);
        }
        let segment = decode_segment(raw_segment)?;
        let dot = segment == "." || segment == "..";
        if dot && segment != raw_segment {
            return Err(Refusal::EncodedDot);
        }
        match segment.as_str() {
            "." => {}
            ".." => {
                segments.pop();
            }
            _ => {
                segments.push(segment);
                continue;
            }
        }
        if last {
            // `/a/.` and `/a/b/..` are `/a/` (RFC 3986, 5.2.4).
            segments.push(String::new());
        }
    }
    let mut path = String::with_capacity(raw.len());
    for segment in &segments {
        path.push('/');
        path.push_str(segment);
    }
    if path.is_empty() {
        path.push('/');
    }
    Ok(Normal { path, query })
}

/// NUL, controls, space, DEL, non-ASCII and `#` anywhere; `%` without two
/// hex digits, or `%00`, anywhere.
fn check_bytes(target: &str) -> Result<(), Refusal> {
    let bytes = target.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            0 => return Err(Refusal::Nul),
            b'#' => return Err(Refusal::Fragment),
            b'%' => match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(0), Some(0)) => return Err(Refusal::Nul),
                (Some(_), Some(_)) => {}
                _ => return Err(Refusal::BadEscape),
            },
            0x21..=0x7e => {}
            _ => return Err(Refusal::NotPrintable),
        }
    }
    Ok(())
}

fn hex(b: Option<&u8>) -> Option<u8> {
    (*b? as char).to_digit(16).map(|d| d as u8)
}

/// One segment with unreserved characters decoded and other escapes in
/// upper case; an encoded `/` or `\` is refused.
fn decode_segment(segment: &str) -> Result<String, Refusal> {
    let bytes = segment.as_bytes();
    let mut out = String::with_capacity(segment.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i] as char);
            i += 1;
            continue;
        }
        // `check_bytes` saw two hex digits here.
        let (hi, lo) = (hex(bytes.get(i + 1)), hex(bytes.get(i + 2)));
        let value = (hi.ok_or(Refusal::BadEscape)? << 4) | lo.ok_or(Refusal::BadEscape)?;
        match value {
            b'/' => return Err(Refusal::EncodedSlash),
            b'\\' => return Err(Refusal::Backslash),
            b';' => return Err(Refusal::Parameter),
            b if unreserved(b) => out.push(b as char),
            b => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
        i += 3;
    }
    Ok(out)
}

/// RFC 3986's unreserved characters: letters, digits, `-`, `.`, `_`, `~`.
pub fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Whether the normalized `path` matches the rule path `pattern`, as the
/// library writes it: empty for every path; ending in `/` for that prefix
/// on segment boundaries (`/v1/` matches `/v1/` and `/v1/items`, not `/v1`
/// or `/v1x`); otherwise that path exactly. A `*` segment matches one
/// non-empty segment.
pub fn matches(pattern: &str, path: &str) -> bool {
    if pattern.is_empty() {
        return true;
    }
    let (body, prefix) = match pattern.strip_suffix('/') {
        Some(body) => (body, true),
        None => (pattern, false),
    };
    let mut got = path.split('/').skip(1);
    for want in body.split('/').skip(1) {
        match got.next() {
            Some(seg) if seg == want || (want == "*" && !seg.is_empty()) => {}
            _ => return false,
        }
    }
    got.next().is_some() == prefix
}

/// Whether `method` is among a rule's `methods` (names separated by
/// commas; empty for every method). Methods are compared as written:
/// HTTP method names are case-sensitive.
pub fn method_granted(methods: &str, method: &str) -> bool {
    methods.is_empty() || methods.split(',').any(|m| m == method)
}
