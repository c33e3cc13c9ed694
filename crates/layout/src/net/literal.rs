//! How a host name that a guest gives is read: as the host reads it
//! ([`host_literal`]), and as rules compare it ([`name_key`]).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What a host name given by a guest is, read the way the host reads it
/// (the URL standard's host parser, which `wasi:sockets` hosts use for
/// lookups and HTTP clients for authorities).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Literal<'a> {
    /// An address, in any of the forms a host accepts: `127.0.0.1`,
    /// `127.1`, `0x7f.0.0.1`, `2130706433`, `[::1]`, and bare `::1`.
    Ip(IpAddr),
    /// A plain ASCII name, as [`name_key`] gives it (`Example.COM.` is
    /// `Example.COM`, which rules compare ignoring case).
    Name(&'a str),
    /// A name the host would map before looking it up (non-ASCII,
    /// percent-encoded, or characters outside letters, digits, `-`,
    /// `_` and `.`):
    /// only a `*` rule matches it, and the host decides what it is.
    Opaque,
    /// Not a host at all (`1.2.3.4.5`, `0x100000000`, `[1::2::3]`): the host
    /// refuses it too.
    Invalid,
}

/// Reads `name` as the host would; see [`Literal`].
pub fn host_literal(name: &str) -> Literal<'_> {
    if name.is_empty() {
        return Literal::Invalid;
    }
    if name.contains('%') {
        // The host percent-decodes first (`%31%32%37.0.0.1` is 127.0.0.1);
        // what it decodes to is its to decide, under a `*` rule alone.
        return Literal::Opaque;
    }
    if let Some(inner) = name.strip_prefix('[') {
        return match inner.strip_suffix(']').map(str::parse::<Ipv6Addr>) {
            Some(Ok(ip)) => Literal::Ip(IpAddr::V6(ip)),
            _ => Literal::Invalid,
        };
    }
    if let Ok(ip) = name.parse::<Ipv6Addr>() {
        return Literal::Ip(IpAddr::V6(ip));
    }
    if ends_in_number(name) {
        return match ipv4_any_form(name) {
            Some(ip) => Literal::Ip(IpAddr::V4(ip)),
            None => Literal::Invalid,
        };
    }
    match name_key(name) {
        Some(key) => Literal::Name(key),
        None => Literal::Opaque,
    }
}

/// A name as rules compare it: `name` without one trailing dot, if it is
/// plain ASCII (letters, digits, `-`, `_`) in non-empty labels; `None`
/// otherwise. Case is kept: rules compare names ignoring it.
pub fn name_key(name: &str) -> Option<&str> {
    let key = name.strip_suffix('.').unwrap_or(name);
    let plain = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    let ok = !key.is_empty()
        && key
            .split('.')
            .all(|label| !label.is_empty() && label.bytes().all(plain));
    ok.then_some(key)
}

/// The URL standard's "ends in a number": the last label (ignoring one
/// empty last label) is all digits, or `0x` and hex digits.
fn ends_in_number(name: &str) -> bool {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let last = trimmed.rsplit('.').next().unwrap_or("");
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    match last.strip_prefix("0x").or_else(|| last.strip_prefix("0X")) {
        Some(hex) => hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => false,
    }
}

/// The URL standard's IPv4 parser: one to four parts, each decimal, octal
/// (leading `0`) or hex (`0x`); all but the last below 256, the last filling
/// the remaining bytes.
fn ipv4_any_form(name: &str) -> Option<Ipv4Addr> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let mut parts = [0u64; 4];
    let mut count = 0;
    for part in trimmed.split('.') {
        if count == 4 {
            return None;
        }
        parts[count] = ipv4_number(part)?;
        count += 1;
    }
    let (last, head) = (parts[count - 1], &parts[..count - 1]);
    if head.iter().any(|p| *p > 255) || last >= 256u64.pow(5 - count as u32) {
        return None;
    }
    let mut value = last;
    for (i, p) in head.iter().enumerate() {
        value += p << (8 * (3 - i));
    }
    Some(Ipv4Addr::from(u32::try_from(value).ok()?))
}

fn ipv4_number(part: &str) -> Option<u64> {
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    if digits.is_empty() {
        // `0x` alone is zero; an empty part is no number.
        return (radix == 16).then_some(0);
    }
    if !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return None;
    }
    // Longer than any u32 in any radix: too large, whatever its value.
    if digits.len() > 32 {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}
