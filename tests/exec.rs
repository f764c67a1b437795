//! `exec`: the supervisor with real child processes against the dev server. The child
//! is a small shell script that records its environment, its pid and every signal it
//! gets, so each test can say exactly how many times it was started and with what.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;

/// The recording child. Env knobs: EXIT_CODE (exit at once), EXIT_SIGNAL (kill itself),
/// SLOW_STOP (seconds to take after SIGTERM), ORPHAN (leave a short-lived orphan).
const CHILD: &str = r#"#!/bin/sh
d="$REC"
env > "$d/env.$$"
echo "$$" >> "$d/starts"
on() { echo "$1" >> "$d/signals.$$"; }
trap 'on HUP' HUP
trap 'on USR1' USR1
trap 'on INT; exit 130' INT
trap 'on TERM; if [ -n "$SLOW_STOP" ]; then sleep "$SLOW_STOP"; fi; exit 143' TERM
if [ -n "$EXIT_CODE" ]; then exit "$EXIT_CODE"; fi
if [ -n "$EXIT_SIGNAL" ]; then kill -"$EXIT_SIGNAL" $$; fi
if [ -n "$ORPHAN" ]; then sh -c 'sleep 0.4 & echo $! > "$REC/orphan"'; fi
while :; do sleep 0.02; done
"#;

/// Every wait in these tests gives up after this long.
const PATIENCE: Duration = Duration::from_secs(10);
const INTERVAL: &str = "0.2s";

struct Rig {
    dir: tempfile::TempDir,
    server: DevServer,
}

impl Rig {
    fn new() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("child.sh");
        fs::write(&script, CHILD).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        fs::create_dir(dir.path().join("rec")).unwrap();
        Rig {
            dir,
            server: server(),
        }
    }

    fn rec(&self) -> PathBuf {
        self.dir.path().join("rec")
    }

    fn script(&self) -> String {
        self.dir
            .path()
            .join("child.sh")
            .to_str()
            .unwrap()
            .to_string()
    }

    /// `exec` against the dev server, fast polling allowed (loopback only), the script
    /// as the command unless `command` is given. The interval is set by its variable,
    /// which `--once` accepts (its flag it refuses).
    fn cmd(&self, flags: &[&str], command: Option<&[&str]>) -> Command {
        let mut args = vec!["exec"];
        args.extend_from_slice(flags);
        args.push("--");
        let script = self.script();
        match command {
            Some(c) => args.extend_from_slice(c),
            None => args.push(&script),
        }
        let mut c = cmd(&args);
        c.env("WORKOS_API_BASE", self.server.base_url())
            .env("WORKOS_API_KEY", CANARY_KEY)
            .env("VAULT_FETCH_DEV_INTERVAL_FLOOR", "0.05")
            .env("VAULT_FETCH_INTERVAL", INTERVAL)
            .env("REC", self.rec());
        c
    }

    fn starts(&self) -> Vec<u32> {
        fs::read_to_string(self.rec().join("starts"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    fn env_of(&self, pid: u32) -> BTreeMap<String, String> {
        fs::read_to_string(self.rec().join(format!("env.{pid}")))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn signals_of(&self, pid: u32) -> Vec<String> {
        fs::read_to_string(self.rec().join(format!("signals.{pid}")))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Wait for the n-th start and return its pid (its environment is written by then).
    fn wait_start(&self, n: usize) -> u32 {
        wait_for(&format!("start number {n}"), || {
            let s = self.starts();
            (s.len() >= n && !self.env_of(s[n - 1]).is_empty()).then(|| s[n - 1])
        })
    }

    /// Rotate the way an operator does: WorkOS `PUT /vault/v1/kv/{id}` with version_check.
    fn rotate(&self, value: &str) {
        let base = self.server.base_url();
        let auth = format!("Bearer {CANARY_KEY}");
        let body = ureq::get(&format!("{base}/vault/v1/kv/name/{NAME}"))
            .header("Authorization", &auth)
            .call()
            .expect("read the object")
            .body_mut()
            .read_to_string()
            .unwrap();
        let current: serde_json::Value = serde_json::from_str(&body).unwrap();
        let id = current["id"].as_str().unwrap();
        let version = current["metadata"]["version_id"].as_str().unwrap();
        let mut resp = ureq::put(&format!("{base}/vault/v1/kv/{id}"))
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .send(serde_json::json!({"value": value, "version_check": version}).to_string())
            .expect("PUT /vault/v1/kv/{id}");
        assert_eq!(resp.status(), 201);
        let updated: serde_json::Value =
            serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
        assert_ne!(updated["metadata"]["version_id"].as_str(), Some(version));
    }
}

fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(started.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `exec` with its stderr collected line by line.
struct Supervised {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Supervised {
    fn start(mut c: Command) -> Supervised {
        let mut child = c
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn exec");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Supervised { child, stderr }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn wait_log(&self, needle: &str, count: usize) {
        wait_for(&format!("{count} x {needle:?} in the log"), || {
            (self.stderr().matches(needle).count() >= count).then_some(())
        });
    }

    fn signal(&self, sig: i32) {
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// Wait for exec to exit; its exit code.
    fn wait_exit(&mut self) -> i32 {
        let status = wait_for("exec to exit", || self.child.try_wait().unwrap());
        use std::os::unix::process::ExitStatusExt;
        status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn alive(pid: u32) -> bool {
    // A zombie no longer runs: count it as gone.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn parent_of(pid: u32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Zombie children of `pid`, from /proc.
fn zombies_of(pid: i32) -> Vec<u32> {
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| {
                s.rsplit_once(')').is_some_and(|(_, rest)| {
                    let f: Vec<&str> = rest.split_whitespace().collect();
                    f.first() == Some(&"Z") && f.get(1) == Some(&pid.to_string().as_str())
                })
            })
        })
        .collect()
}

fn assert_managed_with(env: &BTreeMap<String, String>, c: &RelayCredentials) {
    assert_eq!(env.get("RELAY_MODE").map(String::as_str), Some("managed"));
    assert_eq!(env.get("RELAY_ID"), Some(&c.relay_id));
    assert_eq!(env.get("RELAY_PUBLIC_KEY"), Some(&c.public_key));
    assert_eq!(
        env.get("RELAY_SECRET_KEY").map(String::as_str),
        Some(c.secret_key.expose())
    );
    assert_eq!(env.get("SENTRY_DSN"), c.sentry_dsn.as_ref());
}

fn fresh_credentials() -> RelayCredentials {
    RelayCredentials::generate(Some("https://new@o1.ingest.sentry.io/9".into())).unwrap()
}

#[test]
fn starts_the_child_with_credentials_in_its_environment_and_passes_its_exit_code_on() {
    let rig = Rig::new();
    let c = seed(&rig.server, NAME);
    let mut c_cmd = rig.cmd(&[], None);
    // Inherited stale credentials and the API key file variable must not reach the child.
    c_cmd
        .env("EXIT_CODE", "7")
        .env("RELAY_SECRET_KEY", "stale")
        .env("RELAY_ID", "stale")
        .env("WORKOS_API_KEY_FILE", "")
        .env("VAULT_FETCH_API_KEY_FILE", "");
    let mut sup = Supervised::start(c_cmd);
    assert_eq!(sup.wait_exit(), 7, "{}", sup.stderr());
    let pid = rig.wait_start(1);
    let env = rig.env_of(pid);
    assert_managed_with(&env, &c);
    assert!(
        !env.contains_key("WORKOS_API_KEY"),
        "the API key reached the child"
    );
    assert!(!env.contains_key("WORKOS_API_KEY_FILE"));
    assert!(!env.contains_key("VAULT_FETCH_API_KEY_FILE"));
    assert_eq!(
        env.get("REC"),
        Some(&rig.rec().to_str().unwrap().to_string())
    );
    assert_eq!(
        rig.starts().len(),
        1,
        "no restart after the child's own exit"
    );
    let log = sup.stderr();
    assert!(log.contains("exited with code 7"), "{log}");
    assert_no_leak(&log, Some(&c));
}

#[test]
fn a_child_ended_by_a_signal_gives_128_plus_the_signal() {
    let rig = Rig::new();
    seed(&rig.server, NAME);
    let mut c = rig.cmd(&[], None);
    c.env("EXIT_SIGNAL", "KILL");
    let mut sup = Supervised::start(c);
    assert_eq!(sup.wait_exit(), 137, "{}", sup.stderr());
    assert!(sup.stderr().contains("SIGKILL"), "{}", sup.stderr());
}

#[test]
fn once_replaces_itself_with_the_child() {
    let rig = Rig::new();
    let c = seed(&rig.server, NAME);
    let mut c_cmd = rig.cmd(&["--once"], None);
    c_cmd.env("EXIT_CODE", "3");
    let mut sup = Supervised::start(c_cmd);
    let exec_pid = sup.pid() as u32;
    assert_eq!(sup.wait_exit(), 3);
    let pid = rig.wait_start(1);
    assert_eq!(pid, exec_pid, "--once must exec in place, not fork");
    assert_managed_with(&rig.env_of(pid), &c);
}

#[test]
fn degraded_start_then_the_secret_appears_restarts_once_into_managed_mode() {
    let rig = Rig::new();
    let mut c = rig.cmd(&[], None);
    c.env("RELAY_ID", "stale-inherited");
    let sup = Supervised::start(c);
    let first = rig.wait_start(1);
    let env = rig.env_of(first);
    assert_eq!(env.get("RELAY_MODE").map(String::as_str), Some("proxy"));
    for var in ["RELAY_ID", "RELAY_PUBLIC_KEY", "RELAY_SECRET_KEY"] {
        assert!(!env.contains_key(var), "{var} in a proxy-mode child");
    }
    sup.wait_log("stays in proxy mode", 1);

    let creds = seed(&rig.server, NAME);
    let second = rig.wait_start(2);
    assert_managed_with(&rig.env_of(second), &creds);
    assert_eq!(
        rig.signals_of(first),
        ["TERM"],
        "the old child is stopped with SIGTERM"
    );
    assert!(!alive(first));
    // Steady again: several more polls, no more restarts.
    sup.wait_log("unchanged", 3);
    assert_eq!(rig.starts().len(), 2);
    let log = sup.stderr();
    assert!(log.contains("credentials are now available"), "{log}");
    assert_eq!(log.matches("restarting ").count(), 1, "{log}");
    assert_no_leak(&log, Some(&creds));
}

#[test]
fn a_rotation_restarts_the_child_exactly_once_with_the_new_values() {
    let rig = Rig::new();
    let old = seed(&rig.server, NAME);
    let sup = Supervised::start(rig.cmd(&[], None));
    let first = rig.wait_start(1);
    assert_managed_with(&rig.env_of(first), &old);

    let new = fresh_credentials();
    rig.rotate(&new.to_vault_value());
    let second = rig.wait_start(2);
    assert_managed_with(&rig.env_of(second), &new);
    assert_eq!(rig.signals_of(first), ["TERM"]);
    sup.wait_log("unchanged", 3);
    assert_eq!(rig.starts().len(), 2, "{}", sup.stderr());
    let log = sup.stderr();
    assert!(log.contains("the credentials changed"), "{log}");
    assert_no_leak(&log, Some(&old));
    assert_no_leak(&log, Some(&new));
}

#[test]
fn an_invalid_new_secret_or_an_outage_never_touches_the_child() {
    let rig = Rig::new();
    let good = seed(&rig.server, NAME);
    let sup = Supervised::start(rig.cmd(&["--timeout-seconds", "1"], None));
    let pid = rig.wait_start(1);

    rig.server
        .set_value(NAME, r#"{"id": "not-a-uuid"}"#)
        .unwrap();
    sup.wait_log("invalid_secret", 2);
    // An outage: every request answered 503 (retries included) for a while.
    let outage_started = sup.stderr().matches("unavailable").count();
    rig.server
        .push_faults((0..12).map(|_| Fault::status(503, r#"{"message":"down"}"#)));
    sup.wait_log("unavailable", outage_started + 1);
    // Back with the same values as before (a new version): still nothing to restart.
    rig.server.set_value(NAME, &good.to_vault_value()).unwrap();
    let unchanged_before = sup.stderr().matches("unchanged").count();
    sup.wait_log("unchanged", unchanged_before + 1);

    assert_eq!(rig.starts(), [pid], "{}", sup.stderr());
    assert!(rig.signals_of(pid).is_empty(), "the child got a signal");
    assert!(alive(pid));
    assert_no_leak(&sup.stderr(), Some(&good));
}

#[test]
fn signals_are_forwarded_and_sigterm_ends_both_with_the_childs_code() {
    let rig = Rig::new();
    seed(&rig.server, NAME);
    let mut sup = Supervised::start(rig.cmd(&[], None));
    let pid = rig.wait_start(1);
    sup.signal(libc::SIGHUP);
    wait_for("HUP at the child", || {
        (rig.signals_of(pid) == ["HUP"]).then_some(())
    });
    sup.signal(libc::SIGUSR1);
    wait_for("USR1 at the child", || {
        (rig.signals_of(pid) == ["HUP", "USR1"]).then_some(())
    });
    assert!(alive(pid));
    sup.signal(libc::SIGTERM);
    assert_eq!(sup.wait_exit(), 143, "{}", sup.stderr());
    assert_eq!(rig.signals_of(pid), ["HUP", "USR1", "TERM"]);
    assert_eq!(rig.starts().len(), 1);
}

/// Blocked-signal masks survive exec; a plain program (unlike a shell) does not reset its own.
fn blocked_signals(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("SigBlk:")).unwrap();
    u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
}

#[test]
fn a_plain_program_child_starts_with_no_signal_blocked_and_sigterm_reaches_it() {
    let rig = Rig::new();
    seed(&rig.server, NAME);
    let mut sup = Supervised::start(rig.cmd(&[], Some(&["sleep", "30"])));
    sup.wait_log("started sleep", 1);
    let child = wait_for("the sleep child", || {
        fs::read_to_string(format!("/proc/{}/task/{}/children", sup.pid(), sup.pid()))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u32>().ok())
    });
    assert_eq!(
        blocked_signals(child),
        0,
        "the child inherited a blocked mask"
    );
    sup.signal(libc::SIGTERM);
    assert_eq!(sup.wait_exit(), 143, "{}", sup.stderr());
}

#[test]
fn sigint_is_forwarded_too() {
    let rig = Rig::new();
    seed(&rig.server, NAME);
    let mut sup = Supervised::start(rig.cmd(&[], None));
    let pid = rig.wait_start(1);
    sup.signal(libc::SIGINT);
    assert_eq!(sup.wait_exit(), 130, "{}", sup.stderr());
    assert_eq!(rig.signals_of(pid), ["INT"]);
}

#[test]
fn orphans_are_adopted_and_reaped() {
    let rig = Rig::new();
    seed(&rig.server, NAME);
    let mut c = rig.cmd(&[], None);
    c.env("ORPHAN", "1");
    let sup = Supervised::start(c);
    rig.wait_start(1);
    let orphan: u32 = wait_for("the orphan's pid", || {
        fs::read_to_string(rig.rec().join("orphan"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    });
    if let Some(parent) = parent_of(orphan) {
        // Still running: it was re-parented to exec (a subreaper), not to the host's init.
        assert_eq!(parent, sup.pid(), "the orphan's parent");
    }
    wait_for("the orphan to end", || (!alive(orphan)).then_some(()));
    wait_for("no zombie children of exec", || {
        zombies_of(sup.pid()).is_empty().then_some(())
    });
}

#[test]
fn when_exec_is_killed_the_child_does_not_survive() {
    let rig = Rig::new();
    seed(&rig.server, NAME);
    let mut sup = Supervised::start(rig.cmd(&[], None));
    let pid = rig.wait_start(1);
    sup.signal(libc::SIGKILL);
    assert_eq!(sup.wait_exit(), 137);
    wait_for("the child to die with exec", || (!alive(pid)).then_some(()));
}

#[test]
fn sigterm_during_a_restart_stops_without_starting_the_new_child() {
    let rig = Rig::new();
    seed(&rig.server, NAME);
    let mut c = rig.cmd(&["--grace", "5s"], None);
    c.env("SLOW_STOP", "1");
    let mut sup = Supervised::start(c);
    let pid = rig.wait_start(1);
    rig.rotate(&fresh_credentials().to_vault_value());
    // The restart has begun: the old child got SIGTERM and takes a second to stop.
    wait_for("the restart's SIGTERM", || {
        (rig.signals_of(pid) == ["TERM"]).then_some(())
    });
    sup.signal(libc::SIGTERM);
    assert_eq!(sup.wait_exit(), 143, "{}", sup.stderr());
    assert_eq!(
        rig.starts(),
        [pid],
        "a new child was started: {}",
        sup.stderr()
    );
    assert!(
        sup.stderr().contains("during a restart"),
        "{}",
        sup.stderr()
    );
}

#[test]
fn a_child_ignoring_sigterm_on_restart_is_killed_after_the_grace_period() {
    let rig = Rig::new();
    seed(&rig.server, NAME);
    let mut c = rig.cmd(&["--grace", "0.3s"], None);
    c.env("SLOW_STOP", "30");
    let sup = Supervised::start(c);
    let first = rig.wait_start(1);
    let new = fresh_credentials();
    rig.rotate(&new.to_vault_value());
    let second = rig.wait_start(2);
    assert_managed_with(&rig.env_of(second), &new);
    assert!(!alive(first));
    assert!(sup.stderr().contains("sent SIGKILL"), "{}", sup.stderr());
}

#[test]
fn dir_mode_writes_relays_files_and_keeps_secrets_out_of_the_environment() {
    let rig = Rig::new();
    let old = seed(&rig.server, NAME);
    let relay_dir = rig.dir.path().join("relay");
    let dir_arg = relay_dir.to_str().unwrap().to_string();
    let mut c = rig.cmd(&["--dir", &dir_arg], None);
    c.env("RELAY_MODE", "managed")
        .env("RELAY_SECRET_KEY", "stale");
    let sup = Supervised::start(c);
    let first = rig.wait_start(1);
    let env = rig.env_of(first);
    for var in [
        "RELAY_MODE",
        "RELAY_ID",
        "RELAY_PUBLIC_KEY",
        "RELAY_SECRET_KEY",
        "WORKOS_API_KEY",
    ] {
        assert!(
            !env.contains_key(var),
            "{var} in the child's environment with --dir"
        );
    }
    let read_creds = |dir: &Path| -> serde_json::Value {
        serde_json::from_str(&fs::read_to_string(dir.join("credentials.json")).unwrap()).unwrap()
    };
    assert_eq!(
        read_creds(&relay_dir)["secret_key"],
        old.secret_key.expose()
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(relay_dir.join("credentials.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(fs::read_to_string(relay_dir.join("config.yml"))
        .unwrap()
        .contains("mode: managed"));

    let new = fresh_credentials();
    rig.rotate(&new.to_vault_value());
    rig.wait_start(2);
    assert_eq!(
        read_creds(&relay_dir)["secret_key"],
        new.secret_key.expose()
    );
    sup.wait_log("unchanged", 2);
    assert_eq!(rig.starts().len(), 2);
    assert_no_leak(&sup.stderr(), Some(&new));
}

#[test]
fn strict_without_credentials_starts_nothing_and_exits_1() {
    let rig = Rig::new();
    let mut sup = Supervised::start(rig.cmd(&["--strict"], None));
    assert_eq!(sup.wait_exit(), 1);
    assert!(rig.starts().is_empty());
    assert!(
        sup.stderr().contains("error: not_found"),
        "{}",
        sup.stderr()
    );
}

fn run_exec(mut c: Command) -> Run {
    c.env_remove("REC");
    run_with(c, "", Duration::from_secs(30))
}

#[test]
fn bad_input_gets_one_line_and_the_documented_code() {
    let rig = Rig::new();
    seed(&rig.server, NAME);

    let r = run_exec(rig.cmd(&[], Some(&["/nonexistent/relay", "run"])));
    assert_eq!(r.code, Some(127), "{}", r.text());
    assert!(r.stderr.contains("command not found"), "{}", r.stderr);
    assert_eq!(
        r.stderr
            .lines()
            .filter(|l| l.contains("cannot run"))
            .count(),
        1
    );

    let plain = rig.dir.path().join("not-executable");
    fs::write(&plain, "#!/bin/sh\n").unwrap();
    let r = run_exec(rig.cmd(&[], Some(&[plain.to_str().unwrap()])));
    assert_eq!(r.code, Some(126), "{}", r.text());
    assert!(r.stderr.contains("permission denied"), "{}", r.stderr);

    let r = run_exec(rig.cmd(&["--once"], Some(&["/nonexistent/relay"])));
    assert_eq!(r.code, Some(127), "{}", r.text());

    // Nothing after `--`.
    let mut c = cmd(&["exec", "--"]);
    c.env("WORKOS_API_KEY", CANARY_KEY);
    let r = run_exec(c);
    assert_eq!(r.code, Some(1), "{}", r.text());
    assert!(r.stderr.contains("after `--`"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);

    // Below the floor against WorkOS itself: refused before any request.
    let mut c = cmd(&["exec", "--interval", "10s", "--", "true"]);
    c.env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", "https://api.workos.com");
    let r = run_exec(c);
    assert_eq!(r.code, Some(1), "{}", r.text());
    assert!(
        r.stderr.contains("30 s") && r.stderr.contains("6,000"),
        "{}",
        r.stderr
    );
    // Set by its variable, the message names that too.
    let mut c = cmd(&["exec", "--", "true"]);
    c.env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", "https://api.workos.com")
        .env("VAULT_FETCH_INTERVAL", "10s");
    let r = run_exec(c);
    assert_eq!(r.code, Some(1), "{}", r.text());
    assert!(r.stderr.contains("VAULT_FETCH_INTERVAL"), "{}", r.stderr);
    // The dev-server knob does not lower the floor for a non-loopback API base.
    let mut c = cmd(&["exec", "--interval", "10s", "--", "true"]);
    c.env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", "https://api.workos.com")
        .env("VAULT_FETCH_DEV_INTERVAL_FLOOR", "0.1");
    let r = run_exec(c);
    assert_eq!(r.code, Some(1), "{}", r.text());
    assert!(r.stderr.contains("loopback"), "{}", r.stderr);
    // And a loopback base without the knob keeps the floor.
    let mut c = rig.cmd(&[], Some(&["true"]));
    c.env_remove("VAULT_FETCH_DEV_INTERVAL_FLOOR");
    let r = run_exec(c);
    assert_eq!(r.code, Some(1), "{}", r.text());
    assert!(r.stderr.contains("below the floor"), "{}", r.stderr);

    let r = run_exec(rig.cmd(&["--grace", "soon"], Some(&["true"])));
    assert_eq!(r.code, Some(1), "{}", r.text());
}

#[test]
fn install_copies_the_executable_atomically_with_mode_0755() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_tool({
        let mut c = cmd(&["install", dir.path().to_str().unwrap()]);
        c.stdin(Stdio::null());
        c
    });
    assert!(r.success(), "{}", r.text());
    let installed = dir.path().join("vault-fetch-relay");
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(&installed).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o755);
    assert_eq!(meta.len(), fs::metadata(bin()).unwrap().len());
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != "vault-fetch-relay")
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    let out = output(Command::new(&installed).arg("--version"));
    assert!(out.status.success());
    assert!(r.stderr.contains("installed"), "{}", r.stderr);
    // Again over the existing copy (an init container restarted): still fine; -q keeps
    // stderr for errors only.
    let r = run_tool(cmd(&["install", "-q", dir.path().to_str().unwrap()]));
    assert!(r.success(), "{}", r.text());
    assert_eq!(r.stderr, "", "-q must silence the installed line");

    let r = run_tool(cmd(&["install", "/nonexistent/dir"]));
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("not a directory"), "{}", r.stderr);
}

#[test]
fn retries_are_announced_with_v_as_in_every_cli_mode() {
    let rig = Rig::new();
    let creds = seed(&rig.server, NAME);
    rig.server
        .push_fault(Fault::status(503, r#"{"message":"busy"}"#));
    let r = run_exec(rig.cmd(&["-v"], Some(&["true"])));
    assert_eq!(r.code, Some(0), "{}", r.text());
    assert!(
        r.stderr.contains("HTTP 503") && r.stderr.contains("retry 2/4"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("mode managed"), "{}", r.stderr);
    assert_no_leak(&r.text(), Some(&creds));
}

#[test]
fn quiet_keeps_only_errors() {
    let rig = Rig::new();
    // Degraded (a warning) and the child's own exit: nothing on stderr with -q.
    let r = run_exec(rig.cmd(&["-q"], Some(&["true"])));
    assert_eq!(r.code, Some(0), "{}", r.text());
    assert_eq!(r.stderr, "", "-q must silence exec's lines");
    seed(&rig.server, NAME);
    let r = run_exec(rig.cmd(
        &[
            "-q",
            "--dir",
            rig.dir.path().join("relay").to_str().unwrap(),
        ],
        Some(&["true"]),
    ));
    assert_eq!(r.code, Some(0), "{}", r.text());
    assert_eq!(r.stderr, "", "-q must silence exec's lines");
    // An error still shows, as one line.
    let r = run_exec(rig.cmd(&["-q"], Some(&["/nonexistent/relay"])));
    assert_eq!(r.code, Some(127), "{}", r.text());
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("error: exec: cannot run"), "{}", r.stderr);
}

#[test]
fn config_template_and_upstream_without_dir_are_refused_before_any_request() {
    let rig = Rig::new();
    seed(&rig.server, NAME);
    let template = write_temp(rig.dir.path(), "config.yml", "relay:\n  mode: managed\n");
    let template = template.to_str().unwrap();
    let runs = [
        run_exec(rig.cmd(&["--config-template", template], Some(&["true"]))),
        run_exec({
            let mut c = rig.cmd(&[], Some(&["true"]));
            c.env("RELAY_CONFIG_TEMPLATE", template);
            c
        }),
        run_exec(rig.cmd(&["--upstream", "https://sentry.example/"], Some(&["true"]))),
    ];
    for r in runs {
        assert_eq!(r.code, Some(1), "{}", r.text());
        assert!(r.stderr.contains("--dir"), "{}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
    assert_eq!(rig.server.request_count(), 0, "refused before the fetch");
    // relay reads RELAY_UPSTREAM_URL itself: passed on, not refused.
    let mut c = rig.cmd(&[], Some(&["true"]));
    c.env("RELAY_UPSTREAM_URL", "https://sentry.example/");
    let r = run_exec(c);
    assert_eq!(r.code, Some(0), "{}", r.text());
}

/// Whether `pid` ignores `sig` (its SigIgn mask in /proc).
fn ignores(pid: u32, sig: i32) -> bool {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .unwrap_or(0);
    mask & (1 << (sig - 1)) != 0
}

/// `c`, started with `sig` ignored the way nohup or a non-interactive shell's background
/// job does it: a shell sets the ignore, then execs the command (which inherits it).
fn started_ignoring(c: &Command, sig: &str) -> Command {
    let mut w = Command::new("/bin/sh");
    w.arg("-c")
        .arg(format!("trap '' {sig}; exec \"$0\" \"$@\""))
        .arg(c.get_program())
        .args(c.get_args())
        .env_clear();
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            w.env(k, v);
        }
    }
    hermetic(&mut w);
    w
}

#[test]
fn a_signal_ignored_when_exec_starts_stays_ignored_for_exec_and_the_child() {
    // README, exec: as under nohup, exec behaves as if it were not there: the signal is
    // not forwarded, and the child inherits the ignore.
    let rig = Rig::new();
    seed(&rig.server, NAME);
    let mut sup = Supervised::start(started_ignoring(&rig.cmd(&[], None), "HUP"));
    let pid = rig.wait_start(1);
    assert!(
        ignores(sup.pid() as u32, libc::SIGHUP),
        "exec leaves it ignored"
    );
    assert!(ignores(pid, libc::SIGHUP), "the child inherits the ignore");
    assert!(!ignores(pid, libc::SIGTERM) && !ignores(pid, libc::SIGINT));
    sup.signal(libc::SIGHUP);
    // USR1 is forwarded as usual: once the child has it, a forwarded HUP would be there.
    sup.signal(libc::SIGUSR1);
    wait_for("the child to get SIGUSR1", || {
        (!rig.signals_of(pid).is_empty()).then_some(())
    });
    assert_eq!(rig.signals_of(pid), ["USR1"], "{}", sup.stderr());
    assert!(
        sup.child.try_wait().unwrap().is_none(),
        "exec keeps running"
    );
    assert!(alive(pid), "the child keeps running");
    // The signals it did not ignore are forwarded as always.
    sup.signal(libc::SIGTERM);
    assert_eq!(sup.wait_exit(), 143, "{}", sup.stderr());
    assert_eq!(rig.signals_of(pid), ["USR1", "TERM"]);

    // --once --dir installs a handler for its write; the command still inherits the ignore.
    let out = rig.dir.path().join("sigign");
    let script = format!("grep '^SigIgn:' /proc/$$/status > {}", out.display());
    let dir = rig.dir.path().join("relay");
    let c = rig.cmd(
        &["--once", "--dir", dir.to_str().unwrap()],
        Some(&["/bin/sh", "-c", &script]),
    );
    let r = run_exec(started_ignoring(&c, "HUP"));
    assert_eq!(r.code, Some(0), "{}", r.text());
    let mask = fs::read_to_string(&out).unwrap();
    let mask = u64::from_str_radix(mask.trim_start_matches("SigIgn:").trim(), 16).unwrap();
    assert_ne!(
        mask & (1 << (libc::SIGHUP - 1)),
        0,
        "SIGHUP stays ignored: {mask:x}"
    );
    assert_eq!(
        mask & (1 << (libc::SIGTERM - 1)),
        0,
        "SIGTERM is not: {mask:x}"
    );
}

#[test]
fn v_prints_the_found_line_once() {
    let rig = Rig::new();
    seed(&rig.server, NAME);
    let r = run_exec(rig.cmd(&["-v", "--once"], Some(&["true"])));
    assert_eq!(r.code, Some(0), "{}", r.text());
    assert_eq!(
        r.stderr.matches("found relay credentials").count(),
        1,
        "{}",
        r.stderr
    );
}

#[test]
fn once_refuses_the_watch_flags_but_not_their_variables() {
    let rig = Rig::new();
    seed(&rig.server, NAME);
    for flag in ["--interval", "--grace"] {
        let r = run_exec(rig.cmd(&["--once", flag, "40s"], Some(&["true"])));
        assert_eq!(r.code, Some(1), "{}", r.text());
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.contains(flag) && r.stderr.contains("--once"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(rig.server.request_count(), 0, "refused before any request");
    // The variables (a chart sets them for every mode) are accepted.
    let mut c = rig.cmd(&["--once"], Some(&["true"]));
    c.env("VAULT_FETCH_GRACE", "40s");
    let r = run_exec(c);
    assert_eq!(r.code, Some(0), "{}", r.text());
}

/// How many preflights the dev server's upstream side has seen (one challenge each).
fn preflights(s: &DevServer) -> usize {
    s.requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/0/relays/register/challenge/"))
        .count()
}

/// The dev server's own upstream side, trusting `c` for its DSN's project.
fn trust(s: &DevServer, c: &RelayCredentials) {
    s.upstream().trust(&c.public_key);
    let dsn = c.sentry_dsn.as_deref().unwrap();
    let key = dsn.split("//").nth(1).unwrap().split('@').next().unwrap();
    s.upstream().add_dsn_key(key);
}

/// `--verify-upstream`: a rotation upstream refuses never replaces the child's credentials
/// (one warning line however many polls ask again), and once the operator trusts the new
/// key in Sentry the child restarts exactly once into it.
#[test]
fn verify_upstream_keeps_the_child_on_credentials_upstream_accepts() {
    let rig = Rig::new();
    let old = seed(&rig.server, NAME);
    trust(&rig.server, &old);
    let mut c = rig.cmd(&["--verify-upstream"], None);
    c.env("RELAY_UPSTREAM_URL", rig.server.base_url());
    let sup = Supervised::start(c);
    let first = rig.wait_start(1);
    assert_managed_with(&rig.env_of(first), &old);
    sup.wait_log("accepted the registration", 1);

    let new = fresh_credentials();
    rig.rotate(&new.to_vault_value());
    let asked = preflights(&rig.server);
    wait_for("four more preflights of the new credentials", || {
        (preflights(&rig.server) >= asked + 4).then_some(())
    });
    assert_eq!(rig.starts(), [first], "{}", sup.stderr());
    assert!(rig.signals_of(first).is_empty(), "the child got a signal");
    let log = sup.stderr();
    assert_eq!(log.matches("upstream_refused").count(), 1, "{log}");
    assert!(
        log.contains("the child keeps the credentials it has"),
        "{log}"
    );

    trust(&rig.server, &new);
    let second = rig.wait_start(2);
    assert_managed_with(&rig.env_of(second), &new);
    sup.wait_log("unchanged", 3);
    assert_eq!(rig.starts().len(), 2, "{}", sup.stderr());
    assert_no_leak(&sup.stderr(), Some(&old));
    assert_no_leak(&sup.stderr(), Some(&new));
}

/// A first start upstream refuses runs relay in proxy mode (one warning) and upgrades to
/// managed once upstream accepts; with --strict nothing starts and exec exits 1.
#[test]
fn verify_upstream_refused_first_start_is_proxy_mode_or_with_strict_a_failure() {
    let rig = Rig::new();
    let creds = seed(&rig.server, NAME);
    let mut strict = rig.cmd(&["--verify-upstream", "--strict"], None);
    strict.env("RELAY_UPSTREAM_URL", rig.server.base_url());
    let run = run_exec(strict);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(
        run.stderr.contains("error: upstream_refused: "),
        "{}",
        run.stderr
    );
    assert!(rig.starts().is_empty());

    let mut c = rig.cmd(&["--verify-upstream"], None);
    c.env("RELAY_UPSTREAM_URL", rig.server.base_url());
    let sup = Supervised::start(c);
    let first = rig.wait_start(1);
    assert_eq!(
        rig.env_of(first).get("RELAY_MODE").map(String::as_str),
        Some("proxy")
    );
    let asked = preflights(&rig.server);
    wait_for("three more preflights", || {
        (preflights(&rig.server) >= asked + 3).then_some(())
    });
    assert_eq!(rig.starts(), [first]);
    assert_eq!(
        sup.stderr().matches("upstream_refused").count(),
        1,
        "{}",
        sup.stderr()
    );

    trust(&rig.server, &creds);
    let second = rig.wait_start(2);
    assert_managed_with(&rig.env_of(second), &creds);
    sup.wait_log("unchanged", 2);
    assert_eq!(rig.starts().len(), 2, "{}", sup.stderr());
}

/// An unreachable upstream does not block a first start (relay retries upstream itself),
/// and at a rotation it keeps the credentials the child runs with.
#[test]
fn verify_upstream_unreachable_starts_managed_and_keeps_the_child_at_rotation() {
    let rig = Rig::new();
    let old = seed(&rig.server, NAME);
    let mut c = rig.cmd(&["--verify-upstream", "--timeout-seconds", "1"], None);
    c.env(
        "RELAY_UPSTREAM_URL",
        format!("http://127.0.0.1:{}", closed_port()),
    );
    let sup = Supervised::start(c);
    let first = rig.wait_start(1);
    assert_managed_with(&rig.env_of(first), &old);
    sup.wait_log("is unreachable", 1);
    assert!(
        sup.stderr().contains("using the credentials anyway"),
        "{}",
        sup.stderr()
    );

    rig.rotate(&fresh_credentials().to_vault_value());
    sup.wait_log("the child keeps the credentials it has; asking again", 2);
    assert_eq!(rig.starts(), [first], "{}", sup.stderr());
    assert!(rig.signals_of(first).is_empty());
}

/// One preflight gate inside the poll's one deadline: a poll whose fetch and preflight
/// both stall ends within --timeout-seconds (the preflight of a restart used to get a
/// fresh deadline after the fetch, so such a poll took up to twice as long).
#[test]
fn a_poll_whose_fetch_and_preflight_both_stall_ends_within_the_timeout() {
    use vfr_devserver::UpstreamFault;
    let rig = Rig::new();
    // Not trusted upstream: proxy mode, and every poll fetches and asks upstream again.
    seed(&rig.server, NAME);
    let mut c = rig.cmd(&["--verify-upstream", "--timeout-seconds", "3"], None);
    c.env("RELAY_UPSTREAM_URL", rig.server.base_url())
        .env("VAULT_FETCH_INTERVAL", "1s");
    let sup = Supervised::start(c);
    rig.wait_start(1);
    sup.wait_log("upstream_refused", 1);
    // The next poll: the fetch answers after 2.5 s, then the challenge never does.
    rig.server
        .push_fault(Fault::Delay(Duration::from_millis(2500)));
    rig.server
        .upstream()
        .push_fault(UpstreamFault::Http(Fault::Hang));
    let before = rig.server.request_count();
    wait_for("the next poll's fetch", || {
        (rig.server.request_count() > before).then_some(())
    });
    let poll_started = Instant::now();
    sup.wait_log("is unreachable", 1);
    let took = poll_started.elapsed();
    assert!(
        took < Duration::from_millis(4200),
        "the poll took {took:?} with --timeout-seconds 3: {}",
        sup.stderr()
    );
    assert!(
        took >= Duration::from_millis(2500),
        "the fetch's delay was not applied ({took:?})"
    );
    assert!(
        sup.stderr()
            .contains("the child stays in proxy mode; asking again at the next poll"),
        "{}",
        sup.stderr()
    );
    assert_eq!(rig.starts().len(), 1, "{}", sup.stderr());
}

/// `init --verify-upstream`: accepted -> managed files; refused -> proxy files and one
/// warning (exit 0), or with --strict exit 1 and nothing written.
#[test]
fn init_verify_upstream_writes_managed_only_for_credentials_upstream_accepts() {
    let s = server();
    let creds = seed(&s, NAME);
    let dir = tempfile::tempdir().unwrap();
    let init = |strict: bool, sub: &str| {
        let relay = dir.path().join(sub);
        let mut args = vec!["init", "--verify-upstream", "--upstream"];
        let base = s.base_url();
        args.push(&base);
        let relay_s = relay.to_str().unwrap().to_string();
        args.extend(["--dir", &relay_s]);
        if strict {
            args.push("--strict");
        }
        let mut c = cmd(&args);
        c.env("WORKOS_API_KEY", CANARY_KEY)
            .env("WORKOS_API_BASE", s.base_url());
        (run_exec(c), relay)
    };
    let (run, relay) = init(true, "strict");
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(
        run.stderr.contains("upstream_refused") && run.stderr.contains("trusted relays"),
        "{}",
        run.stderr
    );
    assert!(!relay.exists(), "a failing run writes nothing");
    let (run, relay) = init(false, "refused");
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(
        run.stderr.matches("warning: upstream_refused: ").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(!relay.join("credentials.json").exists());
    assert!(fs::read_to_string(relay.join("config.yml"))
        .unwrap()
        .contains("proxy"));
    trust(&s, &creds);
    let (run, relay) = init(false, "accepted");
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(relay.join("credentials.json").exists(), "{}", run.text());
    assert!(fs::read_to_string(relay.join("config.yml"))
        .unwrap()
        .contains("managed"));
    assert_no_leak(&run.text(), Some(&creds));
}

/// With a config template and no --upstream / RELAY_UPSTREAM_URL, `--verify-upstream`
/// asks the template's own `relay.upstream` (the one relay will use), not sentry.io.
#[test]
fn verify_upstream_asks_the_upstream_a_config_template_sets() {
    let s = server();
    let creds = seed(&s, NAME);
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("config.yml");
    fs::write(
        &template,
        format!(
            "relay:\n  mode: managed\n  upstream: {}\n  port: 3001\n",
            s.base_url()
        ),
    )
    .unwrap();
    let init = |sub: &str| {
        let relay = dir.path().join(sub);
        let mut c = cmd(&[
            "init",
            "--verify-upstream",
            "--config-template",
            template.to_str().unwrap(),
            "--dir",
            relay.to_str().unwrap(),
        ]);
        c.env("WORKOS_API_KEY", CANARY_KEY)
            .env("WORKOS_API_BASE", s.base_url());
        (run_exec(c), relay)
    };
    // Not trusted there yet: refused by the template's upstream (sentry.io would have been
    // unreachable from here, which starts managed), so proxy mode.
    let (run, relay) = init("refused");
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stderr.contains("upstream_refused"), "{}", run.stderr);
    assert!(!relay.join("credentials.json").exists(), "{}", run.text());
    assert!(preflights(&s) >= 1, "the template's upstream was asked");
    trust(&s, &creds);
    let (run, relay) = init("accepted");
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(relay.join("credentials.json").exists(), "{}", run.text());
    assert!(fs::read_to_string(relay.join("config.yml"))
        .unwrap()
        .contains("mode: managed"));
}
