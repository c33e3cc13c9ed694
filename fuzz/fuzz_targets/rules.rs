//! The network rule grammar (`src/policy/network.rs`) over arbitrary text: every
//! input is refused with an error or parsed, never a panic; a parsed rule's
//! canonical text parses back to the same rule, and is its own canonical
//! text. The guest-name reader (`host_literal`) takes any text too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasi_virt::{Inbound, Outbound, Resolve};
use wasi_virt_layout::net::{host_literal, name_key};

fn round_trip<T>(text: &str)
where
    T: std::str::FromStr + std::fmt::Display + PartialEq + std::fmt::Debug,
{
    let Ok(rule) = text.parse::<T>() else {
        return;
    };
    let canonical = rule.to_string();
    let again: T = match canonical.parse() {
        Ok(again) => again,
        Err(_) => panic!("`{text}` parsed, but its canonical `{canonical}` did not"),
    };
    assert_eq!(again, rule, "`{text}` -> `{canonical}` -> another rule");
    assert_eq!(again.to_string(), canonical, "canonical text is not stable");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    round_trip::<Outbound>(text);
    round_trip::<Inbound>(text);
    round_trip::<Resolve>(text);
    let _ = Outbound::parse_list(text);
    let _ = Inbound::parse_list(text);
    let _ = Resolve::parse_list(text);
    let _ = host_literal(text);
    let _ = name_key(text);
});
