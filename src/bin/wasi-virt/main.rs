//! The `wasi-virt` command line: `wasi-virt [COMPONENT] -o OUT [OPTIONS]`
//! virtualizes (`virtualize.rs`); subcommands get a file of their own.
//!
//! Every failure prints `error: ...` and its `Caused by:` chain, exits
//! non-zero, and leaves no output behind. A panic is a bug: it prints an
//! internal-error line that asks for a report, and exits non-zero too.

mod flags;
mod inspect;
mod virtualize;

use anyhow::{Context, Result};
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;

/// The last panic's message and location, for the internal-error line.
static PANIC: Mutex<Option<String>> = Mutex::new(None);

fn main() -> ExitCode {
    // `wasi-virt inspect ...` is a subcommand; anything else virtualizes
    // (a component file named `inspect` is `./inspect`).
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match args.get(1) {
        Some(sub) if sub == "inspect" => Command::Inspect(inspect::Inspect::parse_from(&args[1..])),
        _ => Command::Virtualize(Box::new(virtualize::Virtualize::parse_from(&args))),
    };
    // The hook records a panic instead of printing it, so that a panic the
    // library turns into an error is not shown twice; one that reaches here
    // is printed below.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown cause");
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut last) = PANIC.lock() {
            *last = Some(format!("{message}{at}"));
        }
    }));
    match std::panic::catch_unwind(|| cli.run()) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprint!("{}", error_report(&e));
            ExitCode::FAILURE
        }
        Err(_) => {
            let why = PANIC.lock().ok().and_then(|mut p| p.take());
            eprintln!(
                "error: internal error: wasi-virt panicked ({}); this is a bug, please report it \
                 with the command line and its input files. Nothing was written.",
                why.as_deref().unwrap_or("unknown cause")
            );
            ExitCode::from(101)
        }
    }
}

enum Command {
    Virtualize(Box<virtualize::Virtualize>),
    Inspect(inspect::Inspect),
}

impl Command {
    fn run(&self) -> Result<()> {
        match self {
            Command::Virtualize(v) => v.run(),
            Command::Inspect(i) => i.run(),
        }
    }
}

/// Prints `text` to stdout; a reader that has gone away (`| head`) is no
/// failure.
fn print_ignoring_closed(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("failed to print to stdout"),
    }
}

/// `error: ...` and the `Caused by:` chain, numbered when it has more than
/// one cause. No backtrace, whatever the environment says: the words are for
/// the person who ran the command.
fn error_report(e: &anyhow::Error) -> String {
    let mut out = format!("error: {e}\n");
    let causes: Vec<String> = e.chain().skip(1).map(ToString::to_string).collect();
    if !causes.is_empty() {
        out.push_str("\nCaused by:\n");
    }
    for (i, cause) in causes.iter().enumerate() {
        match causes.len() {
            1 => out.push_str(&format!("    {cause}\n")),
            _ => out.push_str(&format!("    {i}: {cause}\n")),
        }
    }
    out
}
