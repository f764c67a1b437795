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
            // A signal ignored when we started (nohup's SIGHUP, a background job's
            // SIGINT) stays ignored: the handler would otherwise replace the ignore,
            // and `exec --once` would hand the command a default disposition.
            let ignored: Vec<libc::c_int> = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP]
                .into_iter()
                .filter(|&sig| is_ignored(sig))
                .collect();
            let installed = ctrlc::set_handler(|| {
                let _writes_done = hold();
                crate::console::say(
                    "vault-fetch-relay: stopped by a signal; files on disk are complete",
                );
                std::process::exit(EXIT_SIGNALLED);
            });
            for sig in ignored {
                unsafe { libc::signal(sig, libc::SIG_IGN) };
            }
            installed.map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("cannot install the signal handler: {e}"))
}

/// Whether `sig` is ignored (`SIG_IGN`) now. Read before we install anything, it says
/// whether whoever started us chose to ignore it (nohup, a non-interactive shell's
/// background job); the rule is to respect that, in every mode (README, exec).
pub fn is_ignored(sig: libc::c_int) -> bool {
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}
