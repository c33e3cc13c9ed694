//! A command that imports `ocre:gpio/pins` (not WASI) beside std's WASI.
//! Its arguments say what to do: `hello` prints without touching a pin;
//! `set N` drives pin N high, then prints what `get` and `label` say.
wit_bindgen::generate!({ path: "../gpio-wit", world: "app" });

use ocre::gpio::pins;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["hello"] => println!("hello without pins"),
        ["set", n] => {
            let pin: u32 = n.parse().expect("a pin number");
            pins::set(pin, true);
            println!("pin {pin} is {}", if pins::get(pin) { "high" } else { "low" });
            println!("pin {pin} is labelled {}", pins::label(pin));
        }
        other => {
            eprintln!("usage: gpio-app hello | set N (got {other:?})");
            std::process::exit(2);
        }
    }
}
