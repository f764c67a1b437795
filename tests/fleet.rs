//! A fleet on one API key: the dev server's WorkOS-like rate limit, and a herd of `init` runs
//! that must each end found or in the documented degraded state (proxy mode), nothing partial.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use vfr_devserver::{DevServer, DevServerConfig, KeyCounts, RateLimit};

use crate::support::*;

fn limited_server(limit: u32, period: Duration) -> DevServer {
    let mut config = DevServerConfig::loopback(CANARY_KEY);
    config.rate_limit = Some(RateLimit { limit, period });
    let s = DevServer::start(config).expect("start the dev server");
    seed(&s, NAME);
    s
}

/// One GET by name with `key`: (status, lowercased head, body).
fn get(s: &DevServer, key: &str) -> (u16, String, String) {
    let mut c = TcpStream::connect(s.addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = format!(
        "GET /vault/v1/kv/name/{NAME} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n"
    );
    c.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    c.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

#[test]
fn over_the_limit_the_dev_server_answers_429_the_way_workos_does_per_key() {
    let s = limited_server(3, Duration::from_secs(30));
    for _ in 0..3 {
        assert_eq!(get(&s, CANARY_KEY).0, 200);
    }
    let (status, head, body) = get(&s, CANARY_KEY);
    assert_eq!(status, 429, "{head}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["message"].as_str(), v["code"].as_str()),
        (Some("Too many requests."), Some("rate_limit_exceeded"))
    );
    let wait: u64 = header(&head, "retry-after")
        .expect("Retry-After on every 429")
        .parse()
        .expect("whole seconds");
    assert!((1..=30).contains(&wait), "{wait}");
    assert!(header(&head, "x-request-id").is_some(), "{head}");
    // Another key has its own budget (here: a key the server rejects, still counted as its own).
    assert_eq!(get(&s, "sk_test_other").0, 401);
    assert_eq!(
        s.rate_counts(CANARY_KEY),
        KeyCounts {
            admitted: 3,
            limited: 1
        }
    );
    assert_eq!(s.rate_counts("sk_test_other").admitted, 1);
}

/// The 429 says when the oldest request leaves the window, on the server's real clock
/// (1.5 s left, rounded up). That a slot then frees as the window slides is the limiter's
/// unit test (`admits_n_per_sliding_window_per_key_and_says_when_a_slot_frees`, on an
/// injected clock); this test used to repeat it with a 1.6 s sleep.
#[test]
fn a_429_says_when_the_oldest_request_leaves_the_window() {
    let s = limited_server(2, Duration::from_millis(1500));
    assert_eq!(get(&s, CANARY_KEY).0, 200);
    assert_eq!(get(&s, CANARY_KEY).0, 200);
    let (status, head, _) = get(&s, CANARY_KEY);
    assert_eq!(status, 429);
    assert_eq!(header(&head, "retry-after"), Some("2"), "{head}");
}

#[test]
fn the_cli_flag_is_checked_before_anything_starts() {
    let run = run_tool(cmd(&["dev-server", "--rate-limit", "6000"]));
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(
        run.stderr.contains("--rate-limit") && run.stderr.contains("N/PERIOD"),
        "{}",
        run.stderr
    );
}

/// Start `n` `init` runs at once against `s`, each into its own directory under `root`.
fn herd(s: &DevServer, root: &Path, n: usize, timeout_s: &str) -> Vec<Child> {
    (0..n)
        .map(|i| {
            let mut c = cmd(&[
                "init",
                "--dir",
                root.join(format!("r{i}")).to_str().unwrap(),
                "--timeout-seconds",
                timeout_s,
            ]);
            c.env("WORKOS_API_BASE", s.base_url())
                .env("WORKOS_API_KEY", CANARY_KEY)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            c.spawn().expect("spawn init")
        })
        .collect()
}

/// Wait for every run (bounded), then classify what each left on disk.
fn outcomes(children: Vec<Child>, root: &Path, limit: Duration) -> (usize, usize) {
    let end = Instant::now() + limit;
    let (mut found, mut degraded) = (0, 0);
    for (i, mut child) in children.into_iter().enumerate() {
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if Instant::now() > end {
                let _ = child.kill();
                panic!("init run {i} still running after {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(0), "run {i}: {stderr}");
        assert_no_leak(&stderr, None);
        let dir = root.join(format!("r{i}"));
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let config = fs::read_to_string(dir.join("config.yml")).unwrap();
        if names == ["config.yml", "credentials.json"] {
            assert!(config.contains("mode: managed"), "run {i}: {config}");
            let creds: serde_json::Value =
                serde_json::from_str(&fs::read_to_string(dir.join("credentials.json")).unwrap())
                    .unwrap();
            assert!(creds["secret_key"].is_string(), "run {i}");
            found += 1;
        } else {
            // The documented degraded state: proxy mode, no credentials file, one warning.
            assert_eq!(names, ["config.yml"], "run {i}: nothing partial on disk");
            assert!(config.contains("mode: proxy"), "run {i}: {config}");
            assert!(stderr.contains("unavailable"), "run {i}: {stderr}");
            degraded += 1;
        }
    }
    (found, degraded)
}

#[test]
fn a_herd_over_the_limit_ends_found_or_in_proxy_mode_and_never_retries_past_the_deadline() {
    // 30 runs on 18 per minute: 10,000 pods on WorkOS's 6,000. The refused ones are told to
    // come back in about a minute, past their 5 s deadline: one request each, then proxy mode.
    let s = limited_server(18, Duration::from_secs(60));
    let root = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let children = herd(&s, root.path(), 30, "5");
    let (found, degraded) = outcomes(children, root.path(), Duration::from_secs(60));
    assert_eq!((found, degraded), (18, 12));
    assert_eq!(
        s.rate_counts(CANARY_KEY),
        KeyCounts {
            admitted: 18,
            limited: 12
        }
    );
    assert_eq!(s.request_count(), 30, "no retry was taken");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_herd_whose_deadline_outlasts_the_window_waits_for_it_and_every_run_is_found() {
    // 12 runs on 6 per 2 s with a 15 s deadline: the refused half honour Retry-After, come
    // back spread over the refill, and get in.
    let s = limited_server(6, Duration::from_secs(2));
    let root = tempfile::tempdir().unwrap();
    let children = herd(&s, root.path(), 12, "15");
    let (found, degraded) = outcomes(children, root.path(), Duration::from_secs(60));
    assert_eq!((found, degraded), (12, 0));
    let counts = s.rate_counts(CANARY_KEY);
    assert_eq!(counts.admitted, 12);
    assert!(counts.limited >= 6, "{counts:?}");
    // No run came back sooner than it was told: the refused ones retried at most 3 times.
    assert!(counts.limited <= 6 * 3, "{counts:?}");
}
