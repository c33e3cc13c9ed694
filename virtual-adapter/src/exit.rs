//! `wasi:cli/exit`: the host's exit, or a trap when exit is denied (the
//! component ends either way; denied, the host sees a trap, not a status).

use crate::exports::wasi::cli::exit;
use crate::state::config;
use crate::wasi::cli::exit as host;
use crate::{denied, Adapter};
use wasi_virt_layout::{allow, Call};

impl exit::Guest for Adapter {
    fn exit(status: Result<(), ()>) {
        trace!(Call::Exit, if status.is_ok() { "ok" } else { "err" });
        served(status.is_err());
        if !config().allows(allow::EXIT) {
            denied(Call::Exit);
        }
        host::exit(status);
    }

    fn exit_with_code(status_code: u8) {
        trace!(Call::ExitWithCode, status_code);
        served(status_code != 0);
        if !config().allows(allow::EXIT) {
            denied(Call::ExitWithCode);
        }
        host::exit_with_code(status_code);
    }
}

/// A command served per request that exits answers its request first
/// (500 if it `failed`), then ends: the host's exit is never asked.
fn served(failed: bool) {
    if crate::state::serving() {
        use wasi_virt_layout::{SERVE_ANSWER_FAILED, SERVE_ANSWER_OK};
        let () = crate::serve::ask(if failed {
            SERVE_ANSWER_FAILED
        } else {
            SERVE_ANSWER_OK
        });
        core::arch::wasm32::unreachable();
    }
}
