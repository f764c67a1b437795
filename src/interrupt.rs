//! SIGINT/SIGTERM/SIGHUP while files are being written: the write in progress
//! finishes, then the process exits. Killed half-way, a run would leave a directory in
//! a state nobody planned (and a temp file holding the secret key).

use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

/// Held by whoever is changing files on disk; a signal waits for it.
static WRITING: Mutex<()> = Mutex::new(());

/// Exit code after a signal: 128 + SIGTERM, what a shell and Kubernetes expect.
pub const EXIT_SIGNALLED: i32 = 143;

/// Hold while a set of files is changed; a signal that arrives meanwhile takes effect
/// when the guard is dropped.
pub fn hold() -> MutexGuard<'static, ()> {
    WRITING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Install (once per process) a handler that exits on SIGINT/SIGTERM/SIGHUP, but
/// only between writes. A front end with its own signal policy (a supervisor) installs
/// its own handler instead and takes [`hold`] before it exits.
pub fn exit_between_writes() -> anyhow::Result<()> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            ctrlc::set_handler(|| {
                let _writes_done = hold();
                crate::console::say(
                    "vault-fetch-relay: stopped by a signal; files on disk are complete",
                );
                std::process::exit(EXIT_SIGNALLED);
            })
            .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("cannot install the signal handler: {e}"))
}
