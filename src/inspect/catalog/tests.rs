use super::*;

const GPIO: &str = r#"
[[permission]]
name = "ocre_gpio"
description = "GPIO pins"
core = [{ module = "env", functions = ["ocre_gpio_*"] }]
interfaces = ["ocre:gpio/*"]
"#;

fn need(name: &str) -> Need {
    Need::Permission(Permission::named(name))
}

fn error(catalog: &mut Catalog, file: &str, text: &str) -> String {
    format!("{:#}", catalog.add(file, text).unwrap_err())
}

#[test]
fn a_file_adds_to_the_builtin_catalog() {
    let mut catalog = Catalog::builtin();
    assert_eq!(catalog.of_core("env", "ocre_gpio_init"), Need::Unknown);
    catalog.add("gpio.toml", GPIO).unwrap();
    assert_eq!(catalog.of_core("env", "ocre_gpio_init"), need("ocre_gpio"));
    assert_eq!(catalog.of_core("env", "ocre_timer_create"), Need::Unknown);
    assert_eq!(catalog.of_core("other", "ocre_gpio_init"), Need::Unknown);
    assert_eq!(
        catalog.of_interface("ocre:gpio/pins@1.0.0"),
        need("ocre_gpio")
    );
    // The built-in catalog still answers the rest.
    assert_eq!(
        catalog.of_core(PREVIEW1, "fd_write"),
        Need::Permission(Permission::of_preview1("fd_write").unwrap())
    );
    assert_eq!(catalog.of_core(PREVIEW1, "sched_yield"), Need::Nothing);
    assert_eq!(catalog.of_interface("wasi:io/streams@0.2.6"), Need::Nothing);
    assert_eq!(catalog.of_interface("wasi:cli/stdout@0.2.6"), need("stdio"));
}

#[test]
fn a_file_takes_precedence_over_the_builtin_catalog() {
    let mut catalog = Catalog::builtin();
    assert_eq!(catalog.of_core(PREVIEW1, "clock_time_get"), need("clocks"));
    let text = r#"
[[permission]]
name = "networking"
core = [{ module = "wasi_snapshot_preview1", functions = ["sock_*", "clock_time_get"] }]
"#;
    catalog.add("net.toml", text).unwrap();
    assert_eq!(
        catalog.of_core(PREVIEW1, "clock_time_get"),
        need("networking")
    );
    assert_eq!(catalog.of_core(PREVIEW1, "clock_res_get"), need("clocks"));
}

#[test]
fn declared_permissions_include_the_files() {
    let mut catalog = Catalog::builtin();
    assert!(catalog.parse_declared("ocre_gpio").is_err());
    catalog.add("gpio.toml", GPIO).unwrap();
    let declared = catalog.parse_declared("ocre_gpio").unwrap();
    assert!(declared.covers(&Permission::named("ocre_gpio")));
    assert!(catalog.parse_declared("stdio").is_ok());
    let wrong = format!("{:#}", catalog.parse_declared("ocre_gpoi").unwrap_err());
    assert!(
        wrong.ends_with("; or one of the catalog files' permissions: ocre_gpio"),
        "{wrong}"
    );
}

#[test]
fn a_permission_defined_twice_names_both_places() {
    let mut catalog = Catalog::builtin();
    catalog.add("a.toml", GPIO).unwrap();
    let text = "\n\n[[permission]]\nname = \"ocre_gpio\"\n";
    let e = error(&mut catalog, "b.toml", text);
    assert!(
        e.contains("`b.toml` line 4: the permission `ocre_gpio` is defined twice (first at `a.toml` line 3)"),
        "{e}"
    );
}

#[test]
fn an_import_under_two_permissions_names_both_places() {
    let mut catalog = Catalog::builtin();
    catalog.add("a.toml", GPIO).unwrap();
    let text = "[[permission]]\nname = \"pins\"\ncore = [{ module = \"env\", functions = [\n  \"ocre_gpio_init\"] }]\n";
    let e = error(&mut catalog, "b.toml", text);
    assert!(
        e.starts_with("`b.toml` line 4: `env` `ocre_gpio_init` of permission `pins`"),
        "{e}"
    );
    assert!(
        e.contains("`ocre_gpio_*` of permission `ocre_gpio` (`a.toml` line 5)"),
        "{e}"
    );
    let text = "[[permission]]\nname = \"pins\"\ninterfaces = [\"ocre:gpio/pins\"]\n";
    let e = error(&mut catalog, "c.toml", text);
    assert!(
        e.starts_with("`c.toml` line 3: `ocre:gpio/pins` of permission `pins`"),
        "{e}"
    );
    // Another module, or a prefix that cannot meet, is no clash.
    let text = "[[permission]]\nname = \"timers\"\ncore = [{ module = \"env\", functions = [\"ocre_timer_*\"] }, { module = \"m\", functions = [\"ocre_gpio_init\"] }]\n";
    catalog.add("d.toml", text).unwrap();
}

#[test]
fn a_malformed_file_is_an_error_with_its_line() {
    let mut catalog = Catalog::builtin();
    let e = error(
        &mut catalog,
        "bad.toml",
        "[[permission]]\nname = \"x\"\ncore = 3\n",
    );
    assert!(e.starts_with("the catalog `bad.toml` is malformed"), "{e}");
    assert!(e.contains("line 3"), "{e}");
    let e = error(&mut catalog, "bad.toml", "[[permission]]\nname = \"a b\"\n");
    assert!(
        e.starts_with("`bad.toml` line 2: `a b` cannot name a permission"),
        "{e}"
    );
    let e = error(
        &mut catalog,
        "bad.toml",
        "[[permission]]\nname = \"unknown\"\n",
    );
    assert!(e.contains("cannot name a permission"), "{e}");
    let text =
        "[[permission]]\nname = \"x\"\ncore = [{ module = \"env\", functions = [\"a*b\"] }]\n";
    let e = error(&mut catalog, "bad.toml", text);
    assert!(
        e.starts_with("`bad.toml` line 3: `a*b` is no function pattern"),
        "{e}"
    );
    let text = "[[permission]]\nname = \"x\"\ninterfaces = [\"ocre:gpio/pins@1.0.0\"]\n";
    let e = error(&mut catalog, "bad.toml", text);
    assert!(
        e.starts_with("`bad.toml` line 3: `ocre:gpio/pins@1.0.0` is no interface pattern"),
        "{e}"
    );
}

#[test]
fn patterns_overlap_when_one_name_can_match_both() {
    assert!(overlap("a_*", "a_b"));
    assert!(overlap("a_b", "a_*"));
    assert!(overlap("a_*", "a_b*"));
    assert!(overlap("*", "x"));
    assert!(!overlap("a_*", "b_*"));
    assert!(!overlap("a_b", "a_c"));
}

/// The catalogs shipped in `catalogs/`, each with the functions it must
/// cover: `(module, function, permission)`.
#[test]
fn the_shipped_catalogs_cover_their_platforms_functions() {
    let atym = [
        ("wasi_snapshot_preview1", "sock_open", "networking"),
        ("wasi_snapshot_preview1", "sock_recv_from", "networking"),
        (
            "wasi_snapshot_preview1",
            "sock_set_reuse_addr",
            "networking",
        ),
        ("wasi_snapshot_preview1", "clock_time_get", "networking"),
        ("wasi_snapshot_preview1", "poll_oneoff", "networking"),
        ("wasi_snapshot_preview1", "proc_exit", "networking"),
        ("wasi_snapshot_preview1", "fd_write", "stdio"),
        ("env", "ocre_gpio_init", "ocre_gpio"),
        ("env", "ocre_gpio_pin_set", "ocre_gpio"),
        ("env", "ocre_timer_create", "ocre_timers"),
        ("env", "ocre_sensors_init", "ocre_sensors"),
        ("env", "ocre_msg_system_init", "ocre_messaging"),
        ("env", "ocre_publish_message", "ocre_messaging"),
        ("env", "ocre_subscribe_message", "ocre_messaging"),
    ];
    let wasmedge = [
        (
            "wasmedge_process",
            "wasmedge_process_set_prog_name",
            "process",
        ),
        ("wasmedge_process", "wasmedge_process_run", "process"),
        ("wasmedge_process", "wasmedge_process_get_stderr", "process"),
        ("wasi_snapshot_preview1", "sock_getaddrinfo", "networking"),
        ("wasi_snapshot_preview1", "clock_time_get", "clocks"),
    ];
    let shipped = [
        (
            "atym.toml",
            include_str!("../../../catalogs/atym.toml"),
            &atym[..],
        ),
        (
            "wasmedge.toml",
            include_str!("../../../catalogs/wasmedge.toml"),
            &wasmedge[..],
        ),
    ];
    for (file, text, table) in shipped {
        let mut catalog = Catalog::builtin();
        catalog.add(file, text).unwrap();
        for (module, function, permission) in table {
            assert_eq!(
                catalog.of_core(module, function),
                need(permission),
                "{file}: {function}"
            );
        }
        assert_eq!(
            catalog.of_core("env", "ocre_unlisted"),
            Need::Unknown,
            "{file}"
        );
    }
}
