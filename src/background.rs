//! Work done beside a run's main path, off the path its output waits on:
//! parsing the WIT, validating the component's function bodies, finding
//! what its code can reach, re-encoding it for composition.
//!
//! The work goes to one queue, done in the order it was asked for by as
//! many threads as the machine has cores, but one: the caller's thread is
//! the other. On two cores that is one worker, so the work the output
//! needs first (the WIT) is never slowed by work it needs last (the
//! report's), as it was with a thread for each.
//!
//! A caller that needs a result whose work has not started does it
//! itself, at once, instead of waiting behind other callers' work; where
//! no thread can be started (wasm32-wasip2), that is how all of it is done.

use std::collections::VecDeque;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

/// Work once started elsewhere: a panic's payload in place of the answer.
type Outcome<T> = std::thread::Result<T>;

/// The work and, once done, what it answered.
struct Slot<T> {
    state: Mutex<State<T>>,
    done: Condvar,
}

enum State<T> {
    Waiting(Box<dyn FnOnce() -> T + Send>),
    Running,
    Done(Outcome<T>),
    Taken,
}

/// What a worker runs: a slot, whatever its answer's type.
trait Run: Send + Sync {
    fn run(&self);
}

impl<T: Send> Run for Slot<T> {
    fn run(&self) {
        let work = {
            let mut state = self.state.lock().unwrap();
            match std::mem::replace(&mut *state, State::Running) {
                State::Waiting(work) => work,
                // Its caller took it first.
                other => {
                    *state = other;
                    return;
                }
            }
        };
        let outcome = catch_unwind(AssertUnwindSafe(work));
        *self.state.lock().unwrap() = State::Done(outcome);
        self.done.notify_all();
    }
}

/// Work asked for: [`Pending::join`] answers what it answered.
pub struct Pending<T>(Arc<Slot<T>>);

impl<T: Send + 'static> Pending<T> {
    /// Nothing to do: answers `value`.
    pub fn done(value: T) -> Pending<T> {
        Pending(Arc::new(Slot {
            state: Mutex::new(State::Done(Ok(value))),
            done: Condvar::new(),
        }))
    }

    /// Queues `work`.
    pub fn start(work: impl FnOnce() -> T + Send + 'static) -> Pending<T> {
        let slot = Arc::new(Slot {
            state: Mutex::new(State::Waiting(Box::new(work))),
            done: Condvar::new(),
        });
        if let Some(queue) = queue() {
            queue.push(slot.clone());
        }
        Pending(slot)
    }

    /// What the work answered: done here if no worker has started it, else
    /// once the worker is done. A panic in it goes on as if it were here.
    pub fn join(self) -> T {
        let mut state = self.0.state.lock().unwrap();
        loop {
            match std::mem::replace(&mut *state, State::Taken) {
                State::Waiting(work) => {
                    drop(state);
                    return work();
                }
                State::Done(outcome) => return outcome.unwrap_or_else(|p| resume_unwind(p)),
                running => {
                    *state = running;
                    state = self.0.done.wait(state).unwrap();
                }
            }
        }
    }
}

/// The queue, and its workers started on first use; `None` where no thread
/// can be started.
fn queue() -> Option<&'static Queue> {
    static QUEUE: OnceLock<Option<Queue>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let queue = Queue {
                work: Arc::new((Mutex::new(VecDeque::new()), Condvar::new())),
            };
            let started = (0..cores.saturating_sub(1).max(1))
                .filter(|_| {
                    let work = queue.work.clone();
                    std::thread::Builder::new()
                        .name("wasi-virt".into())
                        .spawn(move || serve(&work))
                        .is_ok()
                })
                .count();
            (started > 0).then_some(queue)
        })
        .as_ref()
}

type Shared = Arc<(Mutex<VecDeque<Arc<dyn Run>>>, Condvar)>;

struct Queue {
    work: Shared,
}

impl Queue {
    fn push(&self, slot: Arc<dyn Run>) {
        let (work, ready) = &*self.work;
        work.lock().unwrap().push_back(slot);
        ready.notify_one();
    }
}

/// A worker: runs what is queued, oldest first, for as long as the process
/// lives.
fn serve(work: &Shared) {
    let (queue, ready) = &**work;
    loop {
        let next = {
            let mut queue = queue.lock().unwrap();
            loop {
                match queue.pop_front() {
                    Some(next) => break next,
                    None => queue = ready.wait(queue).unwrap(),
                }
            }
        };
        next.run();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_any_order_of_join() {
        let pending: Vec<_> = (0..20u64).map(|i| Pending::start(move || i * i)).collect();
        let answers: Vec<u64> = pending.into_iter().rev().map(Pending::join).collect();
        assert_eq!(answers, (0..20u64).rev().map(|i| i * i).collect::<Vec<_>>());
    }

    #[test]
    fn a_panic_goes_on_in_the_caller() {
        let pending = Pending::start(|| -> u32 { panic!("inside") });
        let caught = catch_unwind(AssertUnwindSafe(|| pending.join())).unwrap_err();
        assert_eq!(caught.downcast_ref::<&str>(), Some(&"inside"));
    }
}
