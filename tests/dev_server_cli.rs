//! `vault-fetch-relay dev-server` as a user runs it: a child process that prints the
//! exports, serves the seeded secret to the other modes, logs one line per request
//! without secrets, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::json;

#[test]
fn dev_server_seeds_serves_logs_and_stops_on_sigterm() {
    let mut child = cmd(&["dev-server", "--seed"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut exports = Vec::new();
    while exports.len() < 2 {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "dev-server closed stdout early"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "dev-server did not print its exports"
        );
        exports.push(line.trim_end().to_string());
    }
    let var = |name: &str| {
        exports
            .iter()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("no {name} in {exports:?}"))
            .to_string()
    };
    let base = var("WORKOS_API_BASE");
    let key = var("WORKOS_API_KEY");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert!(key.starts_with("sk_test_"), "{key}");

    // The other modes, pointed at it through the printed exports.
    let run = terraform(&json!({"api_key": key, "api_base": base}), &[]);
    let m = run.terraform_map();
    assert_eq!(m["status"], "found", "{}", run.stderr);
    let wrong = terraform(&json!({"api_key": "sk_test_other", "api_base": base}), &[]);
    assert_eq!(wrong.terraform_map()["status"], "unauthorized");

    // SIGTERM: a clean stop with exit 0 (kill(1) sends TERM by default).
    let status = Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "dev-server ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(exit.code(), Some(0), "{exit:?}");
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(
        log.contains("GET /vault/v1/kv/name/runlayer-sentry-credentials 200"),
        "{log}"
    );
    assert!(log.contains(" 401"), "{log}");
    assert!(!log.contains(&key), "the API key must not be logged: {log}");
    assert!(
        !log.contains(&m["secret_key"]),
        "the secret key must not be logged: {log}"
    );
}

#[test]
fn seed_follows_the_secret_name_setting() {
    let mut child = cmd(&["dev-server", "--seed", "--secret-name", "team/relay creds"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = vec![String::new(), String::new()];
    for l in &mut lines {
        assert!(stdout.read_line(l).unwrap() > 0);
    }
    let get = |p: &str| {
        lines
            .iter()
            .find_map(|l| l.trim_end().strip_prefix(p).map(String::from))
            .unwrap()
    };
    let (base, key) = (
        get("export WORKOS_API_BASE="),
        get("export WORKOS_API_KEY="),
    );
    let run = terraform(
        &json!({"api_key": key, "api_base": base, "secret_name": "team/relay creds"}),
        &[],
    );
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(run.terraform_map()["status"], "found", "{}", run.stderr);
}
