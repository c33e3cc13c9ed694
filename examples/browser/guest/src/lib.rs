//! The browser example's guest: `greet` reads two environment variables and
//! a file with plain std, so wasi-virt can bake both into the component.
wit_bindgen::generate!({ path: "wit", world: "guest" });

struct Greeter;

impl Guest for Greeter {
    fn greet() -> String {
        let greeting = std::env::var("GREETING").unwrap_or_else(|_| "Hello".into());
        let name = std::env::var("NAME").unwrap_or_else(|_| "world".into());
        let motd = match std::fs::read_to_string("/etc/motd") {
            Ok(text) => text,
            Err(error) => format!("(no /etc/motd: {error})"),
        };
        format!("{greeting}, {name}!\n{motd}")
    }
}

export!(Greeter);
