//! A library component whose exports read `wasi:cli/environment`.
wit_bindgen::generate!({ path: "wit", world: "lib-export", generate_all });

struct Lib;

impl Guest for Lib {
    fn lookup(name: String) -> Option<String> {
        std::env::var(name).ok()
    }

    fn arguments() -> Vec<String> {
        std::env::args().collect()
    }

    fn cwd() -> Option<String> {
        wasi::cli::environment::initial_cwd()
    }
}

export!(Lib);
