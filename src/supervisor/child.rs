//! The child process: how it is started (environment changes, the parent-death
//! signal), how its end is read, and what a failed start means as an exit code.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::secret::Secret;

/// Everything needed to start the child once. No `Debug`: `args` may carry a secret
/// (`relay run --secret-key ...`), and the values are `Secret`s.
#[derive(Clone)]
pub struct Launch {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Removed from the inherited environment before `set_env` is applied.
    pub remove_env: Vec<&'static str>,
    pub set_env: Vec<(&'static str, Secret)>,
    /// For the log line: what kind of start this is (never a secret).
    pub description: String,
}

impl Launch {
    /// The program's name for logs. Arguments are never logged: `relay run` takes
    /// `--secret-key`.
    pub fn name(&self) -> String {
        std::path::Path::new(&self.program)
            .file_name()
            .unwrap_or(self.program.as_os_str())
            .to_string_lossy()
            .into_owned()
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        for key in &self.remove_env {
            cmd.env_remove(key);
        }
        for (key, value) in &self.set_env {
            cmd.env(key, value.expose());
        }
        cmd
    }
}

/// The child could not be started. `code` follows the shell: 127 not found, 126 found
/// but not executable.
#[derive(Debug)]
pub struct SpawnError {
    pub code: u8,
    pub message: String,
}

fn spawn_error(launch: &Launch, e: io::Error) -> SpawnError {
    let name = launch.program.to_string_lossy();
    match e.kind() {
        io::ErrorKind::NotFound => SpawnError {
            code: 127,
            message: format!(
                "cannot run {name}: command not found; check the path after `--` (or PATH)"
            ),
        },
        io::ErrorKind::PermissionDenied => SpawnError {
            code: 126,
            message: format!(
                "cannot run {name}: permission denied; the file must be executable (chmod +x) and on an exec-allowed mount"
            ),
        },
        _ => SpawnError {
            code: 126,
            message: format!("cannot run {name}: {e}"),
        },
    }
}

/// Start the child. It gets SIGKILL when the thread that started it ends (the kernel's
/// parent-death signal), so a supervisor killed with SIGKILL does not leave it running:
/// call this from the main thread only.
pub fn spawn(launch: &Launch) -> Result<libc::pid_t, SpawnError> {
    let mut cmd = launch.command();
    let parent = unsafe { libc::getpid() };
    // Runs in the child between fork and exec: only async-signal-safe calls.
    unsafe {
        cmd.pre_exec(move || {
            // We block the forwarded signals (they are read from a signalfd); a blocked mask
            // survives exec, and a program that does not reset it (most do not) would never
            // see SIGTERM.
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            let rc = libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) == -1
            {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect: then nobody would kill
            // us later, so do not start at all.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    match cmd.spawn() {
        // std's `Child` is dropped without waiting: the supervisor reaps with waitpid(-1),
        // which also collects orphaned grandchildren.
        Ok(child) => Ok(child.id() as libc::pid_t),
        Err(e) => Err(spawn_error(launch, e)),
    }
}

/// Replace this process with the child (`exec --once`): nothing of ours stays behind.
/// Returns only on failure.
pub fn exec(launch: &Launch) -> SpawnError {
    let e = launch.command().exec();
    spawn_error(launch, e)
}

/// How a process ended, as a shell reports it: its code, or 128 + the signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus(pub libc::c_int);

impl ExitStatus {
    pub fn code(self) -> u8 {
        let s = self.0;
        if libc::WIFEXITED(s) {
            libc::WEXITSTATUS(s) as u8
        } else if libc::WIFSIGNALED(s) {
            (128 + libc::WTERMSIG(s)).min(255) as u8
        } else {
            1
        }
    }

    pub fn describe(self) -> String {
        let s = self.0;
        if libc::WIFSIGNALED(s) {
            format!(
                "was ended by {} (exit code {})",
                signal_name(libc::WTERMSIG(s)),
                self.code()
            )
        } else {
            format!("exited with code {}", self.code())
        }
    }
}

fn signal_name(sig: libc::c_int) -> String {
    match super::signals::name(sig) {
        "signal" => format!("signal {sig}"),
        known => known.to_string(),
    }
}

/// Collect every child that has ended (ours and orphans we adopted as subreaper);
/// returns the status of `ours` if it was among them.
pub fn reap(ours: Option<libc::pid_t>) -> Option<ExitStatus> {
    let mut found = None;
    loop {
        let mut status = 0;
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return found;
        }
        if Some(pid) == ours {
            found = Some(ExitStatus(status));
        }
    }
}
