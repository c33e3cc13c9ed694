//! HTTP rule paths against request targets, both arbitrary: the rule's
//! path is parsed by the grammar (`src/policy/network.rs`), the target normalized
//! and matched as the adapter does (`crates/layout/src/net/http_path.rs`),
//! and both checked against the model of how servers read a target
//! (`crates/layout/tests/http_model`): the adapter refuses exactly what the
//! model refuses, its path is the model's, and a granted target is granted
//! under every server reading of what the adapter sends. A rule's own path
//! (without wildcards) is granted by the rule.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasi_virt::Outbound;
use wasi_virt_layout::net::http_path;

#[path = "../../crates/layout/tests/http_model.rs"]
mod http_model;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (rule_path, target) = text.split_once('\n').unwrap_or((text, "/"));
    let pattern = match format!("http://h.example{rule_path}").parse::<Outbound>() {
        Ok(rule) => rule.0.path,
        Err(_) => return check_target("", target),
    };
    if !pattern.contains('*') && !pattern.is_empty() {
        let own = http_path::normalize(&pattern).expect("a rule's path is a valid target");
        assert_eq!(own.path, pattern, "a rule's path is normalized");
        assert!(http_path::matches(&pattern, &pattern), "`{pattern}` grants itself");
    }
    check_target(&pattern, target);
});

fn check_target(pattern: &str, target: &str) {
    let normal = match http_path::normalize(target) {
        Err(_) => {
            assert!(http_model::refused(target), "`{target}` refused, the model takes it");
            return;
        }
        Ok(normal) => normal,
    };
    assert!(!http_model::refused(target), "`{target}` taken, the model refuses it");
    assert_eq!(normal.path, http_model::normal(target), "`{target}`");
    assert_eq!(
        http_path::matches(pattern, &normal.path),
        http_model::granted(pattern, &normal.path, false),
        "`{pattern}` against `{}`",
        normal.path
    );
    if !http_path::matches(pattern, &normal.path) {
        return;
    }
    let sent = normal.target();
    let path = sent.split('?').next().unwrap_or("");
    for (i, reading) in http_model::readings(path).iter().enumerate() {
        let decoded = i == 1 || i == 4;
        assert!(
            http_model::granted(pattern, reading, decoded),
            "`{target}` sent as `{sent}` is read as `{reading}`, outside `{pattern}`"
        );
    }
}
