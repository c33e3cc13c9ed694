use super::*;
use crate::inspect::catalog::Catalog;
use crate::inspect::inspect_with;

/// An Atym program: GPIO, a timer and messages from `env`, sockets and a
/// clock from `wasi_snapshot_preview1`; `$unused` is never called.
const ATYM_APP: &str = r#"
(module
  (import "env" "ocre_gpio_init" (func $gpio (result i32)))
  (import "env" "ocre_timer_create" (func $timer (param i32) (result i32)))
  (import "env" "ocre_subscribe_message" (func $sub (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_open" (func $open (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (table 1 funcref)
  (elem (i32.const 0) $handler)
  (func $handler (drop (call $sub (i32.const 0))))
  (func (export "_start")
    (drop (call $gpio))
    (drop (call $open (i32.const 0) (i32.const 0) (i32.const 0)))
    (drop (call $clock (i32.const 0) (i64.const 0) (i32.const 0)))
    (call_indirect (i32.const 0)))
  (func $unused (drop (call $timer (i32.const 0)))))
"#;

/// A WasmEdge program: it runs a host program and connects a socket.
const WASMEDGE_APP: &str = r#"
(module
  (import "wasmedge_process" "wasmedge_process_set_prog_name" (func $prog (param i32 i32)))
  (import "wasmedge_process" "wasmedge_process_run" (func $run (result i32)))
  (import "wasi_snapshot_preview1" "sock_connect" (func $connect (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $prog (i32.const 0) (i32.const 2))
    (drop (call $run))
    (drop (call $connect (i32.const 0) (i32.const 0) (i32.const 0)))))
"#;

fn run(app: &str, catalog: (&str, &str), declared: &[&str], strict: bool) -> CheckReport {
    let mut c = Catalog::builtin();
    c.add(catalog.0, catalog.1).unwrap();
    let bytes = wat::parse_str(app).unwrap();
    let inspection = inspect_with(&bytes, &c).unwrap();
    assert_eq!(inspection.kind, InputKind::CoreModule);
    let declared: Vec<Declared> = declared
        .iter()
        .map(|d| c.parse_declared(d).unwrap())
        .collect();
    check(&inspection, &declared, strict, false)
}

fn offending(report: &CheckReport) -> Vec<(&str, Option<&str>)> {
    report
        .offending
        .iter()
        .map(|o| (o.function.as_str(), o.needs.as_deref()))
        .collect()
}

const ATYM: (&str, &str) = ("atym.toml", include_str!("../../../catalogs/atym.toml"));
const WASMEDGE: (&str, &str) = (
    "wasmedge.toml",
    include_str!("../../../catalogs/wasmedge.toml"),
);

#[test]
fn the_atym_catalog_checks_an_atym_program() {
    let all = ["networking", "ocre_gpio", "ocre_messaging"];
    let report = run(ATYM_APP, ATYM, &all, false);
    assert!(report.passed, "{report}");
    // The timer is imported but never called: only --strict counts it.
    let strict = run(ATYM_APP, ATYM, &all, true);
    assert_eq!(
        offending(&strict),
        [("ocre_timer_create", Some("ocre_timers"))]
    );
    assert!(!strict.offending[0].reachable);
    let narrow = run(ATYM_APP, ATYM, &["ocre_gpio"], false);
    assert_eq!(
        offending(&narrow),
        [
            ("sock_open", Some("networking")),
            ("clock_time_get", Some("networking")),
            ("ocre_subscribe_message", Some("ocre_messaging")),
        ]
    );
    let failure = narrow.failure().unwrap();
    assert!(
        failure.contains("  env needs `ocre_messaging`: ocre_subscribe_message"),
        "{failure}"
    );
}

#[test]
fn the_wasmedge_catalog_checks_a_wasmedge_program() {
    let report = run(WASMEDGE_APP, WASMEDGE, &["process", "networking"], false);
    assert!(report.passed, "{report}");
    let report = run(WASMEDGE_APP, WASMEDGE, &["networking"], false);
    assert_eq!(
        offending(&report),
        [
            ("wasmedge_process_set_prog_name", Some("process")),
            ("wasmedge_process_run", Some("process")),
        ]
    );
}

#[test]
fn an_import_in_no_catalog_fails_until_skipped() {
    // Without the Atym catalog, `env` is unknown whatever is declared.
    let bytes = wat::parse_str(ATYM_APP).unwrap();
    let inspection = inspect_with(&bytes, &Catalog::builtin()).unwrap();
    let declared = [Permission::parse_declared("networking").unwrap()];
    let report = check(&inspection, &declared, false, false);
    assert!(!report.passed);
    assert!(report
        .offending
        .iter()
        .any(|o| o.function == "ocre_gpio_init" && o.needs.is_none()));
    let skipped = check(&inspection, &declared, false, true);
    assert!(skipped.passed && !skipped.checked);
}

#[test]
fn a_function_referenced_with_ref_func_is_reached() {
    // `$handler` is never called directly: the export takes a reference to
    // it (as a callback registered with the host would be), and that is
    // enough to reach what it calls. `$dead` is referenced by nothing.
    let app = r#"
(module
  (import "env" "ocre_gpio_init" (func $gpio (result i32)))
  (import "env" "ocre_timer_create" (func $timer (param i32) (result i32)))
  (elem declare func $handler)
  (func $handler (drop (call $gpio)))
  (func $dead (drop (call $timer (i32.const 0))))
  (func (export "register") (result funcref) (ref.func $handler)))
"#;
    let report = run(app, ATYM, &[], false);
    assert_eq!(offending(&report), [("ocre_gpio_init", Some("ocre_gpio"))]);
}
