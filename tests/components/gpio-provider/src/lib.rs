//! Provides `ocre:gpio/pins` in software, as a plug for `gpio-app`: pins
//! are bits of a word, and each change is logged to stdout (through WASI,
//! which the adapter virtualizes like the app's own).
wit_bindgen::generate!({ path: "../gpio-wit", world: "provider" });

use std::sync::atomic::{AtomicU64, Ordering};

static PINS: AtomicU64 = AtomicU64::new(0);

struct Provider;

impl exports::ocre::gpio::pins::Guest for Provider {
    fn set(pin: u32, high: bool) {
        let bit = 1u64 << (pin % 64);
        match high {
            true => PINS.fetch_or(bit, Ordering::SeqCst),
            false => PINS.fetch_and(!bit, Ordering::SeqCst),
        };
        println!("provider: pin {pin} set {}", if high { "high" } else { "low" });
    }

    fn get(pin: u32) -> bool {
        PINS.load(Ordering::SeqCst) & (1u64 << (pin % 64)) != 0
    }

    fn label(pin: u32) -> String {
        format!("GPIO{pin}")
    }
}

export!(Provider);
