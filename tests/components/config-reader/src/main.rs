//! Prints `wasi:config/store.get` for each key in `CONFIG_KEYS` (comma
//! separated, baked in by the case's policy), then `get-all`, sorted.
wit_bindgen::generate!({
    path: ["../../../wit/deps/config", "wit"],
    world: "test:config-reader/config-reader",
    generate_all,
});

use wasi::config::store;

fn main() {
    let keys = std::env::var("CONFIG_KEYS").unwrap_or_default();
    for key in keys.split(',').filter(|k| !k.is_empty()) {
        match store::get(key) {
            Ok(Some(v)) => println!("get {key}: {v}"),
            Ok(None) => println!("get {key}: none"),
            Err(e) => println!("get {key}: error {e:?}"),
        }
    }
    match store::get_all() {
        Ok(mut all) => {
            all.sort();
            for (k, v) in all {
                println!("all {k}={v}");
            }
        }
        Err(e) => println!("get-all: error {e:?}"),
    }
}
