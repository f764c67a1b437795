//! `check --upstream`: the Sentry preflight judged by a Python upstream built on
//! `sentry_relay` (tests/sdk/sentry_upstream.py), the functions Sentry's own endpoints
//! call. Every refusal Sentry gives, the unreachable cases (refused port, a hang, TLS
//! failure) and bad input, each through the real binary with a time bound.

use std::io::{BufRead, BufReader};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::{json, Value};

pub const LIMIT: Duration = Duration::from_secs(60);
pub const DSN_KEY: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";

/// The Python upstream, killed when dropped.
pub struct PyUpstream {
    child: Child,
    pub port: u16,
    pub wire_log: PathBuf,
    _dir: tempfile::TempDir,
}

impl PyUpstream {
    /// Start one with `config` (see the script's header), or None when python with
    /// sentry_relay is missing and not required (a skip is recorded).
    pub fn start(mut config: Value) -> Option<PyUpstream> {
        let py = python_with("sentry_relay")?;
        let dir = tempfile::tempdir().unwrap();
        let wire_log = dir.path().join("wire.jsonl");
        config["wire_log"] = json!(wire_log);
        let path = dir.path().join("config.json");
        std::fs::write(&path, config.to_string()).unwrap();
        let mut child = Command::new(py)
            .arg(repo().join("tests/sdk/sentry_upstream.py"))
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the Python upstream");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let Ok(port) = line.trim().parse() else {
            let _ = child.kill();
            panic!("the Python upstream did not start: {line:?}");
        };
        Some(PyUpstream {
            child,
            port,
            wire_log,
            _dir: dir,
        })
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Every request it received: path, headers, body.
    pub fn wire(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.wire_log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for PyUpstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Credentials whose DSN names DSN_KEY, stored in a fresh dev server.
pub fn seeded() -> (DevServer, RelayCredentials) {
    let s = server();
    let c = RelayCredentials::generate(Some(format!("https://{DSN_KEY}@o1.ingest.sentry.io/42")))
        .unwrap();
    s.set_value(NAME, &c.to_vault_value()).unwrap();
    (s, c)
}

/// An upstream that trusts `c` for the DSN's project.
pub fn trusting(c: &RelayCredentials) -> Value {
    json!({"open_registration": true, "projects": {DSN_KEY: [c.public_key]}})
}

/// `check --format json --upstream URL` against the dev server, with `extra` arguments.
fn check_cmd(s: &DevServer, upstream: &str, extra: &[&str]) -> Command {
    let mut args = vec!["check", "--format", "json", "--upstream", upstream];
    args.extend_from_slice(extra);
    let mut c = cmd(&args);
    c.env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", s.base_url());
    c
}

/// `check` against the dev server and `upstream`, logging everything (RUST_LOG=trace).
pub fn check(s: &DevServer, upstream: &str, extra: &[&str]) -> Run {
    let mut c = check_cmd(s, upstream, extra);
    c.env("RUST_LOG", "trace");
    run_with(c, "", LIMIT)
}

/// `check` against the dev server and `upstream`: the run and its JSON, whose `exit_code`
/// must be the process's.
pub fn check_json(s: &DevServer, upstream: &str, extra: &[&str]) -> (Run, Value) {
    let run = run_with(check_cmd(s, upstream, extra), "", LIMIT);
    let v = json_of(&run);
    assert_eq!(
        v["exit_code"].as_i64(),
        run.code.map(i64::from),
        "{}",
        run.text()
    );
    (run, v)
}

/// One raw HTTP/1.1 POST on loopback: the status and the body.
pub fn post(port: u16, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    s.write_all(format!("{head}\r\n{body}").as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

fn json_of(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.text()))
}

/// The JSON `exit_code` is the process's, and nothing secret was printed.
fn consistent(run: &Run, c: &RelayCredentials) -> Value {
    let v = json_of(run);
    assert_eq!(
        v["exit_code"].as_i64(),
        run.code.map(i64::from),
        "{}",
        run.text()
    );
    assert_no_leak(&run.text(), Some(c));
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    v
}

fn steps(v: &Value) -> Vec<(String, String)> {
    v["upstream"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn sentry_accepts_our_signed_registration_and_serves_the_project() {
    let (s, c) = seeded();
    let Some(up) = PyUpstream::start(trusting(&c)) else {
        return;
    };
    let run = check(&s, &up.url("http"), &[]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let v = consistent(&run, &c);
    assert_eq!(v["upstream"]["result"], "accepted");
    assert_eq!(v["upstream"]["project"], "served");
    assert_eq!(
        steps(&v),
        [
            ("register_challenge".into(), "accepted".into()),
            ("register_response".into(), "accepted".into()),
            ("project_config".into(), "accepted".into())
        ]
    );
    // What went on the wire: signed by the relay id, never the secret key.
    let wire = up.wire();
    assert_eq!(wire.len(), 3, "{wire:?}");
    for r in &wire {
        assert_eq!(r["headers"]["x-sentry-relay-id"], json!(c.relay_id));
        assert!(r["headers"]["x-sentry-relay-signature"].is_string());
        assert_no_leak(&r.to_string(), Some(&c));
    }
    assert_eq!(
        serde_json::from_str::<Value>(wire[2]["body"].as_str().unwrap()).unwrap(),
        json!({"publicKeys": [DSN_KEY], "fullConfig": false})
    );
    // The judge judges: the same signature over a body changed by one byte is refused.
    let tampered = wire[0]["body"]
        .as_str()
        .unwrap()
        .replace("\"version\":\"", "\"version\":\"1");
    let (status, answer) = post(
        up.port,
        "/api/0/relays/register/challenge/",
        &[
            (
                "X-Sentry-Relay-Id",
                wire[0]["headers"]["x-sentry-relay-id"].as_str().unwrap(),
            ),
            (
                "X-Sentry-Relay-Signature",
                wire[0]["headers"]["x-sentry-relay-signature"]
                    .as_str()
                    .unwrap(),
            ),
        ],
        &tampered,
    );
    assert_eq!(status, 400, "{answer}");
    // Registration is idempotent for the same id and key, as relay restarts need.
    assert_eq!(check(&s, &up.url("http"), &[]).code, Some(0));
    // The text report says the same, step by step.
    let mut text = cmd(&["check", "--upstream", &up.url("http")]);
    text.env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", s.base_url());
    let run = run_with(text, "", LIMIT);
    assert_eq!(run.code, Some(0), "{}", run.text());
    for row in [
        "challenge:   accepted",
        "response:    accepted",
        "project:     accepted: served",
        "preflight:   accepted",
    ] {
        assert!(run.stdout.contains(row), "{row}: {}", run.stdout);
    }
}

#[test]
fn relay_upstream_url_is_read_like_the_flag_and_a_dsn_flag_wins() {
    let (s, c) = seeded();
    let other = "fedcba9876543210fedcba9876543210";
    let Some(up) = PyUpstream::start(json!({"projects": {other: [c.public_key]}})) else {
        return;
    };
    let mut command = cmd(&[
        "check",
        "--format",
        "json",
        "--dsn",
        &format!("https://{other}@o1.ingest.sentry.io/9"),
    ]);
    command
        .env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", s.base_url())
        .env("RELAY_UPSTREAM_URL", up.url("http"));
    let run = run_with(command, "", LIMIT);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let v = consistent(&run, &c);
    assert_eq!(v["upstream"]["project"], "served");
    // Without the --dsn the secret's DSN is asked for, and this upstream does not serve it.
    let run = check(&s, &up.url("http"), &[]);
    assert_eq!(run.code, Some(6), "{}", run.text());
}

/// Each refusal Sentry gives: exit 6, the cause, Sentry's own words and the fix.
#[test]
fn every_refusal_names_its_cause_and_fix() {
    let (s, c) = seeded();
    let other = RelayCredentials::generate(None).unwrap();
    let cases = [
        (
            json!({"registered": {c.relay_id.clone(): other.public_key}, "projects": {DSN_KEY: [c.public_key]}}),
            vec![],
            "different_key",
            "Attempted to register agent with a different public key",
            "new relay id",
        ),
        (
            json!({"open_registration": false, "allowed": [other.public_key]}),
            vec![],
            "not_allowed",
            "Relay is not allowed to register",
            "trusted relays",
        ),
        (
            json!({"min_version": "99.0.0", "projects": {DSN_KEY: [c.public_key]}}),
            vec![],
            "version",
            "Relay version no longer supported",
            "--relay-version",
        ),
        (
            json!({"projects": {DSN_KEY: [other.public_key]}}),
            vec![],
            "project_not_served",
            "disabled",
            "trusted relays",
        ),
    ];
    for (config, extra, cause, sentry_words, fix) in cases {
        let Some(up) = PyUpstream::start(config) else {
            return;
        };
        let run = check(&s, &up.url("http"), &extra);
        assert_eq!(run.code, Some(6), "{cause}: {}", run.text());
        let v = consistent(&run, &c);
        assert_eq!(v["status"], "found");
        assert_eq!(v["upstream"]["result"], "refused", "{cause}");
        assert_eq!(v["upstream"]["cause"], cause);
        let reason = v["upstream"]["reason"].as_str().unwrap();
        assert!(
            reason.contains(sentry_words) && reason.contains(fix),
            "{cause}: {reason}"
        );
        assert!(!reason.contains('\n'));
    }
    // The version fix works: announce a version the upstream supports.
    let Some(up) =
        PyUpstream::start(json!({"min_version": "99.0.0", "projects": {DSN_KEY: [c.public_key]}}))
    else {
        return;
    };
    let run = check(&s, &up.url("http"), &["--relay-version", "99.1.0"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let wire = up.wire();
    assert!(
        wire[0]["body"]
            .as_str()
            .unwrap()
            .contains("\"version\":\"99.1.0\""),
        "{wire:?}"
    );
}

/// A listener that accepts and never answers.
fn hanging() -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        l.set_nonblocking(true).unwrap();
        let mut held = Vec::new();
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if let Ok((s, _)) = l.accept() {
                held.push(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    (port, t)
}

#[test]
fn unreachable_upstreams_exit_7_within_the_deadline() {
    let (s, c) = seeded();
    // A refused port: retried, then unreachable.
    let run = check(&s, &format!("http://127.0.0.1:{}", closed_port()), &[]);
    assert_eq!(run.code, Some(7), "{}", run.text());
    let v = consistent(&run, &c);
    assert_eq!(v["upstream"]["result"], "unreachable");
    assert!(
        v["upstream"]["reason"]
            .as_str()
            .unwrap()
            .contains("connection failed"),
        "{v}"
    );
    // A hang: the run's deadline ends it.
    let (port, _t) = hanging();
    let started = Instant::now();
    let run = check(
        &s,
        &format!("http://127.0.0.1:{port}"),
        &["--timeout-seconds", "3"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(run.code, Some(7), "{}", run.text());
    consistent(&run, &c);
    // TLS: a certificate from a CA we were not told to trust, then the same with --ca-file.
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(false, &["localhost"]);
    let cert = write_temp(dir.path(), "cert.pem", &pki.identity.cert_chain_pem);
    let key = write_temp(dir.path(), "key.pem", &pki.identity.key_pem);
    let ca = write_temp(dir.path(), "ca.pem", &pki.ca_pem);
    let mut config = trusting(&c);
    config["tls_cert"] = json!(cert);
    config["tls_key"] = json!(key);
    let Some(up) = PyUpstream::start(config) else {
        return;
    };
    let run = check(&s, &up.url("https"), &[]);
    assert_eq!(run.code, Some(7), "{}", run.text());
    let v = consistent(&run, &c);
    assert!(
        v["upstream"]["reason"].as_str().unwrap().contains("TLS"),
        "{v}"
    );
    let run = check(&s, &up.url("https"), &["--ca-file", ca.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
}

#[test]
fn bad_upstream_input_is_one_line_naming_the_setting() {
    let (s, c) = seeded();
    for (url, words) in [
        ("not a url", "--upstream"),
        ("http://sentry.example.com", "plain http"),
        ("https://sentry.example.com/api/0/", "path"),
    ] {
        let run = check(&s, url, &[]);
        assert_eq!(run.code, Some(1), "{url}: {}", run.text());
        assert!(
            run.stdout.is_empty(),
            "{url}: nothing is checked: {}",
            run.stdout
        );
        assert_eq!(
            run.stderr.trim().lines().count(),
            1,
            "{url}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(words), "{url}: {}", run.stderr);
        assert_eq!(
            s.request_count(),
            0,
            "{url}: a bad destination sends nothing"
        );
    }
    let run = check(&s, "https://sentry.example.com", &["--dsn", "not-a-dsn"]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stderr.contains("--dsn"), "{}", run.stderr);
    // Answers that are not Sentry's: a configuration error (exit 1), said once.
    for (mode, words) in [
        ("redirect", "redirect to elsewhere.example was not followed"),
        ("huge", "larger than 256 KiB"),
        ("not_json", "not JSON"),
    ] {
        let Some(up) = PyUpstream::start(json!({"mode": mode})) else {
            return;
        };
        let run = check(&s, &up.url("http"), &[]);
        assert_eq!(run.code, Some(1), "{mode}: {}", run.text());
        let v = consistent(&run, &c);
        assert_eq!(v["upstream"]["result"], "not_sentry", "{mode}");
        let reason = v["upstream"]["reason"].as_str().unwrap();
        assert!(
            reason.contains(words) && reason.contains("--upstream"),
            "{mode}: {reason}"
        );
        assert_eq!(up.wire().len(), 1, "{mode}: not retried, not followed");
    }
}

/// No preflight without credentials: the fetch's own exit stands.
#[test]
fn the_preflight_runs_only_on_found_credentials() {
    let s = server();
    let Some(up) = PyUpstream::start(json!({})) else {
        return;
    };
    let run = check(&s, &up.url("http"), &[]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(json_of(&run)["upstream"].is_null());
    assert!(up.wire().is_empty());
}
