//! Shared test support: run the real binary with a time bound, start the WorkOS Vault
//! dev server (the product's own, with fault scripting), make TLS material.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use vault_fetch_relay::credentials::RelayCredentials;
pub use vfr_devserver::{DevServer, DevServerConfig, Fault, TlsIdentity};

pub const CANARY_KEY: &str = "sk_test_CANARYapikey0123456789abcdef";
pub const NAME: &str = "runlayer-sentry-credentials";

/// Strings that break naive YAML writers: YAML 1.1 booleans and nulls, numbers,
/// indicators, quotes, escapes, line breaks of every kind, template syntax.
pub const YAML_TRAPS: &[&str] = &[
    "yes",
    "No",
    "on",
    "OFF",
    "null",
    "~",
    "true",
    "0123",
    "1e3",
    "0x1F",
    ".inf",
    "-.5",
    "+1",
    "*ref",
    "&anchor",
    "!tag",
    "- item",
    "? key",
    "a: b",
    "a #b",
    "#c",
    "'single'",
    "\"double\"",
    "back\\slash",
    "tab\there",
    "new\nline",
    "cr\rlf",
    "trailing ",
    " leading",
    "ünïcødé",
    "emoji 🎉",
    "bell\u{7}",
    "del\u{7f}",
    "nel\u{85}",
    "ls\u{2028}ps\u{2029}",
    "{flow: map}",
    "[list]",
    "%directive",
    "@at",
    "`tick",
    "|",
    ">",
    "---",
    "...",
    "<<",
    "{{ .Values.evil }}",
    "https://k@o1.ingest.sentry.io/2?x=1&y=%20",
];

/// Every external tool (terraform, helm, python) is killed after this long.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(120);

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run an external tool with no input, bounded by CHILD_TIMEOUT.
pub fn run_tool(c: Command) -> Run {
    run_with(c, "", CHILD_TIMEOUT)
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vault-fetch-relay")
}

/// What a finished run produced.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// stdout, then stderr: for failure messages.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// stdout parsed exactly as Terraform does: one JSON object of string values.
    pub fn terraform_map(&self) -> BTreeMap<String, String> {
        let v: serde_json::Value = serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {:?}\nstderr: {}",
                self.stdout, self.stderr
            )
        });
        let obj = v.as_object().expect("stdout must be a JSON object");
        obj.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str()
                        .unwrap_or_else(|| panic!("{k} is not a string"))
                        .to_string(),
                )
            })
            .collect()
    }
}

/// Make `c` start the same whatever the suite was started from. A suite launched under
/// nohup, or as a background job of a non-interactive shell, has SIGHUP/SIGINT ignored,
/// and an ignored signal stays ignored across exec: a child of ours would never see the
/// signal a test sends (and a shell child may not even trap it). So the child gets the
/// default disposition of every signal, an empty signal mask, umask 022 (a test that
/// needs another sets it itself, as atomic_kill's `umask 000` does) and stdin from
/// /dev/null unless the test gives one (no TTY: a test never reads a terminal).
pub fn hermetic(c: &mut Command) -> &mut Command {
    c.stdin(Stdio::null());
    // Runs between fork and exec: only async-signal-safe calls.
    unsafe {
        c.pre_exec(|| {
            // The standard signals and the real-time ones (libc keeps 32 and 33 for
            // itself); SIGKILL and SIGSTOP cannot be changed.
            for sig in (1..32).chain(libc::SIGRTMIN()..=libc::SIGRTMAX()) {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    libc::signal(sig, libc::SIG_DFL);
                }
            }
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            libc::umask(0o022);
            Ok(())
        });
    }
    c
}

/// A command for the binary with a clean environment (nothing from the machine's
/// WORKOS_*, SSL_CERT_FILE or proxies leaks in), started [`hermetic`]ally.
pub fn cmd(args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    hermetic(&mut c);
    c
}

/// Run with `stdin`, killing the child after `limit`.
pub fn run_with(c: Command, stdin: &str, limit: Duration) -> Run {
    run_with_stdout(c, stdin, limit, Stdio::piped())
}

/// [`run_with`], with the child's stdout going to `stdout` (read into
/// `Run::stdout` only when it is `Stdio::piped()`).
pub fn run_with_stdout(c: Command, stdin: &str, limit: Duration, stdout: Stdio) -> Run {
    run_writing_late(c, stdin, Duration::ZERO, limit, stdout)
}

/// `run_with`, writing stdin only `delay` after the start (a caller slow to write its query).
pub fn run_with_stdin_after(c: Command, stdin: &str, delay: Duration, limit: Duration) -> Run {
    run_writing_late(c, stdin, delay, limit, Stdio::piped())
}

fn run_writing_late(
    mut c: Command,
    stdin: &str,
    delay: Duration,
    limit: Duration,
    stdout: Stdio,
) -> Run {
    let started = Instant::now();
    let mut child = hermetic(&mut c)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the binary");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_string();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(delay);
        let _ = input.write_all(data.as_bytes());
    });
    let out = child.stdout.take();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut out) = out {
            let _ = out.read_to_string(&mut s);
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{:?} ran longer than {limit:?} and was killed",
                c.get_program()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    let _ = writer.join();
    Run {
        code: status.code(),
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
        elapsed,
    }
}

/// `c`'s output, with `input` on its stdin, started [`hermetic`]ally and killed after
/// CHILD_TIMEOUT (a judge that hangs fails its test instead of stalling the suite).
/// Bytes, not text: some judges print NUL-separated values.
pub fn output_with(c: &mut Command, input: &[u8]) -> std::process::Output {
    let started = Instant::now();
    let mut child = hermetic(c)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", c.get_program()));
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let out_t = read(Box::new(child.stdout.take().unwrap()));
    let err_t = read(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > CHILD_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{:?} ran longer than {CHILD_TIMEOUT:?} and was killed",
                c.get_program()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = writer.join();
    std::process::Output {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

/// [`output_with`] and no input: `Command::output`, bounded.
pub fn output(c: &mut Command) -> std::process::Output {
    output_with(c, b"")
}

/// Terraform's way: the query as compact JSON on stdin.
pub fn terraform(query: &serde_json::Value, env: &[(&str, &str)]) -> Run {
    let mut c = cmd(&[]);
    c.env("RUST_LOG", "trace");
    for (k, v) in env {
        c.env(k, v);
    }
    run_with(c, &query.to_string(), Duration::from_secs(60))
}

pub fn server() -> DevServer {
    DevServer::start(DevServerConfig::loopback(CANARY_KEY)).expect("start the dev server")
}

/// Valid credentials with a DSN, stored under `name`.
pub fn seed(server: &DevServer, name: &str) -> RelayCredentials {
    let c = RelayCredentials::generate(Some("https://abc@o1.ingest.sentry.io/42".into())).unwrap();
    server.set_value(name, &c.to_vault_value()).unwrap();
    c
}

/// Assert no secret appears in text that is not meant to hold one.
pub fn assert_no_leak(text: &str, creds: Option<&RelayCredentials>) {
    assert!(!text.contains(CANARY_KEY), "API key leaked: {text}");
    assert!(
        !text.contains(&CANARY_KEY[8..]),
        "API key fragment leaked: {text}"
    );
    if let Some(c) = creds {
        assert!(
            !text.contains(c.secret_key.expose()),
            "secret key leaked: {text}"
        );
    }
}

/// A test CA and a server certificate for localhost/127.0.0.1 signed by it.
pub struct TestPki {
    pub ca_pem: String,
    pub identity: TlsIdentity,
}

pub fn pki(expired: bool, hostnames: &[&str]) -> TestPki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "vault-fetch-relay test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let mut leaf =
        CertificateParams::new(hostnames.iter().map(|h| h.to_string()).collect::<Vec<_>>())
            .unwrap();
    if hostnames.contains(&"localhost") {
        leaf.subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    }
    if expired {
        leaf.not_before = rcgen::date_time_ymd(2020, 1, 1);
        leaf.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
    TestPki {
        ca_pem: ca_cert.pem(),
        identity: TlsIdentity {
            cert_chain_pem: leaf_cert.pem(),
            key_pem: leaf_key.serialize_pem(),
        },
    }
}

pub fn tls_server(identity: TlsIdentity) -> DevServer {
    let mut cfg = DevServerConfig::loopback(CANARY_KEY);
    cfg.tls = Some(identity);
    DevServer::start(cfg).expect("start the TLS dev server")
}

pub fn write_temp(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

/// The Python interpreter with the independent judges (workos, sentry_relay, yaml,
/// dotenv), or None (printing why) when it is absent and not required.
pub fn python_with(module: &str) -> Option<PathBuf> {
    let py = std::env::var_os("VFR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/python"));
    let ok = Command::new(&py)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    require_or_skip(
        ok,
        &py,
        &format!("python module {module}"),
        "VFR_REQUIRE_TOOLS",
    )
    .then_some(py)
}

/// helm: $VFR_HELM, else what scripts/install-helm.sh installs, else `helm` on PATH.
pub fn helm() -> Option<PathBuf> {
    let local = repo().join(".tools/bin/helm");
    let h = std::env::var_os("VFR_HELM")
        .map(PathBuf::from)
        .unwrap_or(if local.is_file() {
            local
        } else {
            PathBuf::from("helm")
        });
    tool_available(&h, "helm", "VFR_REQUIRE_TOOLS").then_some(h)
}

/// actionlint (and the shellcheck it runs on `run:` scripts) from the .venv that scripts/test installs
/// from tests/requirements.txt: $VFR_ACTIONLINT, else .venv/bin/actionlint.
pub fn actionlint() -> Option<(PathBuf, PathBuf)> {
    let a = std::env::var_os("VFR_ACTIONLINT")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/actionlint"));
    let shellcheck = a.with_file_name("shellcheck");
    let ok = [(&a, "-version"), (&shellcheck, "--version")]
        .iter()
        .all(|(p, flag)| {
            Command::new(p)
                .arg(flag)
                .output()
                .is_ok_and(|o| o.status.success())
        });
    require_or_skip(ok, &a, "actionlint and shellcheck", "VFR_REQUIRE_TOOLS")
        .then_some((a, shellcheck))
}

/// True when `program version` runs. Otherwise prints "skipped: ..." and returns
/// false, or panics when the environment variable `require_var` is 1
/// (VFR_REQUIRE_TOOLS for what scripts/test installs, VFR_REQUIRE_TERRAFORM for
/// terraform, which no package registry reachable here provides).
pub fn tool_available(program: &Path, what: &str, require_var: &str) -> bool {
    let ok = Command::new(program)
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    require_or_skip(ok, program, what, require_var)
}

fn require_or_skip(ok: bool, path: &Path, what: &str, require_var: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var(require_var).as_deref() == Ok("1") {
        panic!(
            "{what} is missing at {} and {require_var}=1; run the README test command (bash scripts/test) to install it",
            path.display()
        );
    }
    note_skip(&format!("{what} is not available at {}", path.display()));
    false
}

/// Say that (part of) a test was skipped. libtest hides a passing test's output, so
/// the note also goes to $VFR_SKIP_LOG as "TEST<tab>WHY": scripts/test lists the notes
/// and counts each test that wrote one once, as skipped rather than passed. The test is
/// named by its thread, which libtest names after it.
pub fn note_skip(why: &str) {
    println!("skipped: {why}");
    if let Some(log) = std::env::var_os("VFR_SKIP_LOG") {
        use std::io::Write;
        let thread = std::thread::current();
        let test = thread.name().unwrap_or("(a test's helper thread)");
        let why = why.replace(['\t', '\n'], " ");
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(f, "{test}\t{why}");
        }
    }
}

/// The relay executable RELAY_BIN names, or `None` after noting a skip ("relay binary: set
/// RELAY_BIN to a relay executable to {purpose}"). No registry this suite installs from serves
/// relay; the GitHub workflow downloads its release binary and sets VFR_REQUIRE_RELAY=1, which
/// makes a missing one a failure.
pub fn relay_bin(purpose: &str) -> Option<std::ffi::OsString> {
    let relay = std::env::var_os("RELAY_BIN").filter(|v| !v.is_empty());
    if relay.is_none() {
        assert_ne!(
            std::env::var("VFR_REQUIRE_RELAY").as_deref(),
            Ok("1"),
            "RELAY_BIN is unset and VFR_REQUIRE_RELAY=1: point RELAY_BIN at a relay executable"
        );
        note_skip(&format!(
            "relay binary: set RELAY_BIN to a relay executable to {purpose}"
        ));
    }
    relay
}

/// Whether `unshare -n` works here (root or user namespaces): a child run inside an
/// empty network namespace cannot send a single packet, DNS queries included.
pub fn netns_available() -> bool {
    static OK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OK.get_or_init(|| {
        Command::new("unshare")
            .args(["-n", "--", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    })
}

/// Like [`cmd`], but the binary runs in a fresh, empty network namespace (no
/// interfaces up, not even loopback): used for DNS failures so no query leaves.
pub fn cmd_netns(args: &[&str]) -> Command {
    let mut c = Command::new("unshare");
    c.args(["-n", "--", bin()])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    hermetic(&mut c);
    c
}

/// A port on 127.0.0.1 that nothing listens on (bound, then closed).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    l.local_addr().unwrap().port()
}

/// `vault-fetch-relay dev-server ARGS` as a user runs it, up once it has printed its
/// two exports (within 20 s, or the test fails); killed when dropped.
pub struct DevServerProcess {
    pub child: std::process::Child,
    pub base: String,
    pub key: String,
}

impl DevServerProcess {
    pub fn start(args: &[&str]) -> DevServerProcess {
        Self::start_logging(args, Stdio::null())
    }

    /// `start`, with the server's log (stderr) going to `log`.
    pub fn start_logging(args: &[&str], log: Stdio) -> DevServerProcess {
        use std::io::{BufRead, BufReader};
        let mut all = vec!["dev-server"];
        all.extend_from_slice(args);
        let mut child = cmd(&all)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start dev-server");
        let stdout = child.stdout.take().expect("piped stdout");
        // A reader thread, so a server that never prints cannot hold the test.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let until = Instant::now() + Duration::from_secs(20);
        let (mut base, mut key) = (None, None);
        while base.is_none() || key.is_none() {
            let left = until.saturating_duration_since(Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                let _ = child.kill();
                panic!("dev-server printed no exports within 20 s");
            };
            if let Some(v) = line.strip_prefix("export WORKOS_API_BASE=") {
                base = Some(v.to_string());
            } else if let Some(v) = line.strip_prefix("export WORKOS_API_KEY=") {
                key = Some(v.to_string());
            }
        }
        DevServerProcess {
            child,
            base: base.unwrap_or_default(),
            key: key.unwrap_or_default(),
        }
    }
}

impl Drop for DevServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
