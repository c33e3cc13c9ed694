//! A progress line on stderr for a run that takes longer than about a
//! second, when stderr is a terminal and `--quiet` is not given: what the
//! run is doing, and how much of the output it has written (the files of a
//! large `--mount` are read while the output is written). Nothing is drawn
//! otherwise, so piped and scripted runs see exactly the summary.
//!
//! The line is drawn by a watcher thread, which sleeps until the run has
//! taken the delay, and is cleared before the summary is printed.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a run goes on before its progress is shown.
const DELAY: Duration = Duration::from_secs(1);

/// Set to a number of milliseconds: the delay before the line is shown (for
/// the CLI's tests, which run it under a pseudo-terminal). The line is still
/// drawn only on a terminal.
const DELAY_VARIABLE: &str = "WASI_VIRT_PROGRESS_AFTER_MS";

/// The progress of one run.
pub struct Progress {
    shared: Arc<Shared>,
    watcher: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    written: AtomicU64,
    done: Mutex<bool>,
    wake: Condvar,
}

impl Progress {
    /// Starts watching a run; `quiet` shows nothing.
    pub fn start(quiet: bool) -> Progress {
        let shared = Arc::new(Shared::default());
        let watcher = match delay() {
            Some(delay) if !quiet => {
                let watched = shared.clone();
                // Where no thread can be started, the run simply shows no
                // progress.
                std::thread::Builder::new()
                    .spawn(move || watch(&watched, delay))
                    .ok()
            }
            _ => None,
        };
        Progress { shared, watcher }
    }

    /// `inner`, counting what is written through it.
    pub fn counting<'a>(&'a self, inner: &'a mut dyn Write) -> Counting<'a> {
        Counting {
            inner,
            written: &self.shared.written,
        }
    }

    /// Ends the run's progress, clearing its line if one was drawn.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        *self.shared.done.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.shared.wake.notify_all();
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
    }
}

impl Drop for Progress {
    /// A failed run clears its line too, before its error is printed.
    fn drop(&mut self) {
        self.stop();
    }
}

/// The delay before the line is shown, if it is to be shown at all.
fn delay() -> Option<Duration> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let set = std::env::var(DELAY_VARIABLE)
        .ok()
        .and_then(|v| v.parse().ok());
    Some(set.map_or(DELAY, Duration::from_millis))
}

/// Waits out `delay`, then draws the line until the run is done.
fn watch(shared: &Shared, delay: Duration) {
    let done = shared.done.lock().unwrap_or_else(|p| p.into_inner());
    let (done, _) = shared
        .wake
        .wait_timeout_while(done, delay, |done| !*done)
        .unwrap_or_else(|p| p.into_inner());
    if *done {
        return;
    }
    drop(done);
    let bar = indicatif::ProgressBar::with_draw_target(None, draw_target());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let mut done = shared.done.lock().unwrap_or_else(|p| p.into_inner());
    while !*done {
        bar.set_message(message(shared.written.load(Ordering::Relaxed)));
        bar.tick();
        done = shared
            .wake
            .wait_timeout(done, Duration::from_millis(100))
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
    bar.finish_and_clear();
}

/// Where the line is drawn: stderr, if it is a terminal.
fn draw_target() -> indicatif::ProgressDrawTarget {
    indicatif::ProgressDrawTarget::stderr_with_hz(10)
}

/// What the run is doing, in words.
fn message(written: u64) -> String {
    match written {
        0 => "virtualizing".to_string(),
        n => format!("writing the output: {}", indicatif::HumanBytes(n)),
    }
}

/// A writer that counts the bytes that pass through it.
pub struct Counting<'a> {
    inner: &'a mut dyn Write,
    written: &'a AtomicU64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
