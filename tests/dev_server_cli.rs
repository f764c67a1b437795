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
    let server = DevServerProcess::start(&["--seed", "--secret-name", "team/relay creds"]);
    let (base, key) = (&server.base, &server.key);
    let run = terraform(
        &json!({"api_key": key, "api_base": base, "secret_name": "team/relay creds"}),
        &[],
    );
    drop(server);
    assert_eq!(run.terraform_map()["status"], "found", "{}", run.stderr);
}

/// `--from-file` reads like every other file input: a FIFO or /dev/zero is refused at
/// once (before, /dev/zero grew to 1.5 GB in 2 s and a FIFO blocked forever), and a
/// file over the cap is refused with its size limit.
#[test]
fn from_file_refuses_what_is_not_a_small_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("seed.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 2 * 1024 * 1024]).unwrap();
    for (path, want) in [
        ("/dev/zero", "not a regular file"),
        (fifo.to_str().unwrap(), "not a regular file"),
        (big.to_str().unwrap(), "larger than"),
    ] {
        let started = Instant::now();
        let run = run_with(
            cmd(&["dev-server", "--from-file", path]),
            "",
            Duration::from_secs(20),
        );
        assert_eq!(run.code, Some(1), "{path}: {run:?}");
        assert!(run.stderr.contains(want), "{path}: {}", run.stderr);
        assert!(run.stderr.contains("--from-file"), "{path}: {}", run.stderr);
        assert!(started.elapsed() < Duration::from_secs(5), "{path}");
    }
}

/// A refused `--rate-limit` shows the value that was wrong, where it stands, and leaves
/// the example around it whole (issue 27 item 6: "e.g. 600(not shown...)").
#[test]
fn a_refused_rate_limit_shows_its_value_and_an_intact_example() {
    let p = "vault-fetch-relay: error: invalid value";
    let see = "see 'vault-fetch-relay dev-server --help'";
    for (value, want) in [
        ("0/60s", format!("{p} '0/60s' for '--rate-limit <N/PERIOD>': \"0/60s\": N must be 1 to 1000000 and PERIOD more than 0, e.g. 6000/60s; {see}")),
        ("/60s", format!("{p} '/60s' for '--rate-limit <N/PERIOD>': \"/60s\" is not a rate limit; use N/PERIOD, e.g. 6000/60s; {see}")),
        ("10/60x", format!("{p} '10/60x' for '--rate-limit <N/PERIOD>': \"10/60x\" is not a rate limit; use N/PERIOD, e.g. 6000/60s; {see}")),
        ("6000/60s0", format!("{p} '6000/60s0' for '--rate-limit <N/PERIOD>': \"6000/60s0\" is not a rate limit; use N/PERIOD, e.g. 6000/60s; {see}")),
    ] {
        let r = run_with(
            cmd(&["dev-server", &format!("--rate-limit={value}")]),
            "",
            Duration::from_secs(30),
        );
        assert_eq!(r.code, Some(1), "{value}: {r:?}");
        assert_eq!(r.stderr, format!("{want}\n"), "{value}");
    }
    // A key given there is still hidden, in the quote and in the parser's reason.
    let key = "sk_test_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
    let r = run_with(
        cmd(&["dev-server", "--rate-limit", key]),
        "",
        Duration::from_secs(30),
    );
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(!r.stderr.contains("sk_test"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("is not a rate limit; use N/PERIOD, e.g. 6000/60s;"),
        "{}",
        r.stderr
    );
}
