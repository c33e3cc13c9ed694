//! A model of how HTTP servers read a request target, written apart from
//! `crates/layout/src/net/http_path.rs` so that each checks the other:
//! the layout's tests (`crates/layout/tests/net.rs`) and the `http_paths` fuzz target
//! (`fuzz/fuzz_targets/http_paths.rs`) compare the adapter's decision with
//! it.
//!
//! - [`refused`]: the targets docs/network.md says are refused.
//! - [`normal`]: the path every server agrees on: unreserved escapes
//!   decoded, then dot segments removed by RFC 3986's own loop (5.2.4).
//! - [`readings`]: what servers that read paths in other ways see of a
//!   path the adapter sent: escapes all decoded, `;` parameters cut off,
//!   runs of `/` merged, and all three, each before removing dot segments.
//! - [`granted`]: a rule's path pattern against one reading.

#![allow(dead_code)] // each user takes what it needs

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn escape_at(bytes: &[u8], i: usize) -> Option<u8> {
    let (hi, lo) = (hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?);
    Some(hi * 16 + lo)
}

fn path_part(target: &str) -> &str {
    target.split('?').next().unwrap_or("")
}

/// Whether the adapter must refuse `target`.
pub fn refused(target: &str) -> bool {
    let bytes = target.as_bytes();
    let bad_byte = bytes
        .iter()
        .any(|&b| !(0x21..=0x7e).contains(&b) || b == b'#');
    let escapes: Vec<Option<u8>> = (0..bytes.len())
        .filter(|&i| bytes[i] == b'%')
        .map(|i| escape_at(bytes, i))
        .collect();
    let bad_escape = escapes.iter().any(|e| matches!(e, None | Some(0)));
    if bad_byte || bad_escape {
        return true;
    }
    let path = path_part(target);
    if !path.starts_with('/') {
        return true;
    }
    let upper = path.to_ascii_uppercase();
    let forbidden = ["\\", ";", "%2F", "%5C", "%3B", "//"];
    if forbidden.iter().any(|f| upper.contains(f)) {
        return true;
    }
    // A segment that is `.` or `..` only once decoded.
    path.split('/').any(|segment| {
        let decoded = decode_all(segment);
        (decoded == "." || decoded == "..") && decoded != segment
    })
}

/// Every escape decoded (bytes that are not UTF-8 become U+FFFD).
pub fn decode_all(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], escape_at(bytes, i)) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Unreserved escapes decoded, the rest in upper case.
pub fn decode_unreserved(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], escape_at(bytes, i)) {
            (b'%', Some(b)) if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => {
                out.push(b as char);
                i += 3;
            }
            (b'%', Some(_)) => {
                out.push_str(&text[i..i + 3].to_ascii_uppercase());
                i += 3;
            }
            (b, _) => {
                out.push(b as char);
                i += 1;
            }
        }
    }
    out
}

/// RFC 3986, 5.2.4, step by step: an input buffer and an output buffer.
pub fn remove_dot_segments(path: &str) -> String {
    let mut input = path.to_string();
    let mut output = String::new();
    while !input.is_empty() {
        if let Some(rest) = input
            .strip_prefix("../")
            .or_else(|| input.strip_prefix("./"))
        {
            input = rest.to_string();
        } else if input.starts_with("/./") {
            input.replace_range(..3, "/");
        } else if input == "/." {
            input = "/".to_string();
        } else if input.starts_with("/../") || input == "/.." {
            input.replace_range(..3, "");
            if input.is_empty() {
                input = "/".to_string();
            }
            let cut = output.rfind('/').unwrap_or(0);
            output.truncate(cut);
        } else if input == "." || input == ".." {
            input.clear();
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            output.push_str(&input[..end]);
            input.replace_range(..end, "");
        }
    }
    output
}

/// The path of `target` that servers agree on.
pub fn normal(target: &str) -> String {
    remove_dot_segments(&decode_unreserved(path_part(target)))
}

/// What servers that read a path in other ways see of `sent`.
pub fn readings(sent: &str) -> Vec<String> {
    let strip = |p: &str| -> String {
        let segments: Vec<&str> = p
            .split('/')
            .map(|s| s.split(';').next().unwrap_or(""))
            .collect();
        segments.join("/")
    };
    let merge = |p: &str| -> String {
        let mut out = String::new();
        for c in p.chars() {
            if !(c == '/' && out.ends_with('/')) {
                out.push(c);
            }
        }
        out
    };
    let decoded = decode_all(sent);
    [
        sent.to_string(),
        decoded.clone(),
        strip(sent),
        merge(sent),
        merge(&strip(&decoded)),
    ]
    .iter()
    .map(|p| remove_dot_segments(p))
    .collect()
}

/// Whether the pattern `pattern` (as the library writes it) grants the
/// reading `path`; `decoded` for a reading with every escape decoded,
/// which the pattern is compared in decoded too.
pub fn granted(pattern: &str, path: &str, decoded: bool) -> bool {
    if pattern.is_empty() {
        return true;
    }
    let read = |s: &str| {
        if decoded && s != "*" {
            decode_all(s)
        } else {
            s.to_string()
        }
    };
    let want: Vec<String> = pattern.split('/').skip(1).map(read).collect();
    let got: Vec<&str> = path.split('/').skip(1).collect();
    let (fixed, prefix) = match want.split_last() {
        Some((last, fixed)) if last.is_empty() => (fixed, true),
        _ => (&want[..], false),
    };
    let long_enough = if prefix {
        got.len() > fixed.len()
    } else {
        got.len() == fixed.len()
    };
    long_enough
        && fixed
            .iter()
            .zip(&got)
            .all(|(w, g)| w == g || (w == "*" && !g.is_empty()))
}
