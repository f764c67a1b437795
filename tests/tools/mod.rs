//! Shared by the deployment-file tests: temp dirs, bounded child processes, optional external tools.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Every child process is killed after this long.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(120);

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "vfr-{tag}-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub struct Output {
    pub success: bool,
    /// stdout, then stderr.
    pub text: String,
    pub stdout: String,
}

/// Runs `cmd` with its output in files under `scratch` (no pipe deadlocks); kills it after CHILD_TIMEOUT.
pub fn run(mut cmd: Command, scratch: &Path) -> Output {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let out_path = scratch.join(format!("child-{n}.out"));
    let err_path = scratch.join(format!("child-{n}.err"));
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).expect("stdout file"))
        .stderr(fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break Some(status);
        }
        if started.elapsed() > CHILD_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = fs::read_to_string(&out_path).unwrap_or_default();
    let mut text = stdout.clone();
    text.push_str(&fs::read_to_string(&err_path).unwrap_or_default());
    if status.is_none() {
        text.push_str(&format!("\n(killed after {}s)", CHILD_TIMEOUT.as_secs()));
    }
    Output {
        success: status.is_some_and(|s| s.success()),
        text,
        stdout,
    }
}

/// True when `program version` runs. Otherwise prints "skipped: ..." and returns false, or panics when
/// the environment variable `require_var` is 1 (VFR_REQUIRE_TOOLS for what scripts/test installs,
/// VFR_REQUIRE_TERRAFORM for terraform, which no package registry here provides).
pub fn tool_available(program: &Path, what: &str, require_var: &str) -> bool {
    let found = Command::new(program)
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var(require_var).as_deref() != Ok("1"),
            "{what} ({}) is not available and {require_var}=1",
            program.display()
        );
        println!("skipped: {what} is not installed ({})", program.display());
    }
    found
}
