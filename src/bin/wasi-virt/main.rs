//! The `wasi-virt` command line: one subcommand per file, and virtualizing
//! (`virtualize.rs`) when none is named, so that `wasi-virt app.wasm -o
//! out.wasm` is `wasi-virt virtualize app.wasm -o out.wasm`.
//!
//! A new subcommand is a file here (its `#[derive(Args)]` struct and its
//! `run`), its `mod` line, and a variant of [`Command`] with its arm in
//! [`Command::run`].
//!
//! Every failure prints `error: ...` and its `Caused by:` chain, exits
//! non-zero, and leaves no output behind. A panic is a bug: it prints an
//! internal-error line that asks for a report, and exits non-zero too.

mod atomic_write;
mod check;
mod completions;
mod flags;
mod inspect;
mod man;
#[cfg(not(target_os = "wasi"))]
mod progress;
mod virtualize;

/// Built for WASI, the CLI draws no progress line: it has no thread to draw
/// it with.
#[cfg(target_os = "wasi")]
mod progress {
    pub struct Progress;

    impl Progress {
        pub fn start(_quiet: bool) -> Progress {
            Progress
        }

        pub fn counting<'a>(
            &'a self,
            inner: &'a mut dyn std::io::Write,
        ) -> &'a mut dyn std::io::Write {
            inner
        }

        pub fn finish(self) {}
    }
}

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;

// The command line. Its help text is the `virtualize` subcommand's,
// flattened in with its flags: with no subcommand named, `wasi-virt`
// virtualizes. (Plain comments here: a doc comment would replace that text.)
//
// A subcommand's name counts only as the first argument: after an argument
// of the top level (`args_conflicts_with_subcommands`), a word is the
// component file. So a component file named `inspect` is `./inspect`,
// `wasi-virt virtualize inspect`, or `inspect` after a flag. `help` is no
// subcommand (`disable_help_subcommand`): the subcommands' names are the
// only words a component file cannot be called as the first argument.
#[derive(Parser, Debug)]
#[command(
    name = "wasi-virt",
    version,
    propagate_version = true,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    disable_help_subcommand = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    // The flags of `virtualize`, given with no subcommand.
    #[command(flatten)]
    virtualize: virtualize::Virtualize,
}

#[derive(Subcommand, Debug)]
enum Command {
    // The short about, for the list of subcommands; the long one is the
    // struct's.
    #[command(about = "Virtualize WASI for a WebAssembly component (the default)")]
    Virtualize(Box<virtualize::Virtualize>),
    Inspect(inspect::Inspect),
    Check(check::Check),
    Completions(completions::Completions),
    Man(man::Man),
}

impl Command {
    fn run(&self) -> Result<ExitCode> {
        let done = match self {
            Command::Virtualize(v) => v.run(),
            Command::Inspect(i) => i.run(),
            Command::Check(c) => return c.run(),
            Command::Completions(c) => c.run(),
            Command::Man(m) => m.run(),
        };
        done.map(|()| ExitCode::SUCCESS)
    }

    /// The exit code of an error: 2 for `check`, whose 1 says that the
    /// check failed (docs/catalogs.md), 1 for the others.
    fn error_code(&self) -> ExitCode {
        match self {
            Command::Check(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}

/// The last panic's message and location, for the internal-error line.
static PANIC: Mutex<Option<String>> = Mutex::new(None);

fn main() -> ExitCode {
    #[cfg(target_os = "wasi")]
    enter_host_cwd();
    let cli = Cli::try_parse().unwrap_or_else(|e| stray_word(e).exit());
    let command = cli
        .command
        .unwrap_or_else(|| Command::Virtualize(Box::new(cli.virtualize)));
    record_panics();
    match std::panic::catch_unwind(|| command.run()) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprint!("{}", error_report(&e));
            command.error_code()
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

/// Built for WASI, the CLI starts in `/` whatever directory its host ran it
/// in: WASI 0.2 gives a component the host's working directory only as
/// `wasi:cli/environment.initial-cwd`, which std does not read. A host that
/// preopens the root may say where it runs in `PWD` (npm/bin/wasi-virt.js
/// does), so that relative paths name what they name for the native CLI.
/// A `PWD` the component cannot reach leaves it in `/`, as without one.
#[cfg(target_os = "wasi")]
fn enter_host_cwd() {
    if let Some(dir) = std::env::var_os("PWD") {
        let _ = std::env::set_current_dir(dir);
    }
}

/// With `args_conflicts_with_subcommands`, clap reports a word left over
/// after the top level's arguments (`wasi-virt app.wasm out.wasm`, `-o`
/// forgotten) as a subcommand that cannot be used with them. Unless the
/// word names a subcommand, it is an unexpected argument, in clap's words
/// for one.
fn stray_word(e: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let mut cli = Cli::command();
    let word = match e.get(ContextKind::InvalidSubcommand) {
        Some(ContextValue::String(word)) if cli.find_subcommand(word).is_none() => word.clone(),
        _ => return e,
    };
    if e.kind() != ErrorKind::ArgumentConflict {
        return e;
    }
    let usage = cli.render_usage();
    let mut unexpected = clap::Error::new(ErrorKind::UnknownArgument).with_cmd(&cli);
    unexpected.insert(ContextKind::InvalidArg, ContextValue::String(word));
    unexpected.insert(ContextKind::Usage, ContextValue::StyledStr(usage));
    unexpected
}

/// Has a panic recorded in [`PANIC`] instead of printed, so that a panic
/// the library turns into an error is not shown twice; one that reaches
/// `main` is printed there.
fn record_panics() {
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
