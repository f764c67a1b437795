//! `deployment-event` end to end: the real binary against a capturing Sentry ingest on loopback
//! (this file's own small HTTP server, scripted answer by answer), the WorkOS Vault dev server for
//! the DSN read, Sentry's Python SDK envelope parser on every envelope captured, and, where
//! RELAY_BIN names one, the real relay in proxy mode in between.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::support::*;

const LIMIT: Duration = Duration::from_secs(60);
/// A DSN public key in Sentry's shape (32 hex digits: relay refuses other keys).
pub const KEY: &str = "5e4d3c2b1a0f5e4d3c2b1a0f5e4d3c2b";

/// One scripted answer of the ingest.
#[derive(Clone)]
pub enum Reply {
    /// 200 with `{"id": <the envelope's event id>}`, as relay answers.
    Accept,
    Status(u16, Vec<(&'static str, String)>, String),
    /// Read the request, never answer.
    Hang,
}

/// What the ingest received: the request line's path, headers (lower-case names), body.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A capturing Sentry ingest on 127.0.0.1: answers each request with the next scripted reply
/// (`Accept` once the script is used up) and keeps every request.
pub struct Ingest {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Ingest {
    pub fn start(script: Vec<Reply>) -> Ingest {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.into_iter()));
        let log = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, script) = (Arc::clone(&log), Arc::clone(&script));
                std::thread::spawn(move || serve(stream, &log, &script));
            }
        });
        Ingest { port, received }
    }

    /// `http://KEY@127.0.0.1:PORT{path}` where path ends with the project id.
    pub fn dsn(&self, path: &str) -> String {
        format!("http://{KEY}@127.0.0.1:{}{path}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The requests to envelope endpoints, waiting up to `wait` for at least `n` of them.
    pub fn envelopes(&self, n: usize, wait: Duration) -> Vec<Received> {
        let until = Instant::now() + wait;
        loop {
            let got: Vec<Received> = self
                .received()
                .into_iter()
                .filter(|r| r.path.ends_with("/envelope/"))
                .collect();
            if got.len() >= n || Instant::now() > until {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn serve(stream: TcpStream, log: &Mutex<Vec<Received>>, script: &Mutex<std::vec::IntoIter<Reply>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    // One request per connection (answered with Connection: close).
    {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let event_id = body
            .split(|b| *b == b'\n')
            .next()
            .and_then(|h| serde_json::from_slice::<Value>(h).ok())
            .and_then(|h| h["event_id"].as_str().map(String::from))
            .unwrap_or_default();
        log.lock().unwrap().push(Received {
            path: path.clone(),
            headers,
            body,
            at: Instant::now(),
        });
        let reply = if path.contains("/envelope/") {
            script.lock().unwrap().next().unwrap_or(Reply::Accept)
        } else {
            // Anything else relay may ask its upstream (a health check): an empty JSON object.
            Reply::Status(200, vec![], "{}".into())
        };
        let (status, extra, text) = match reply {
            Reply::Accept => (200, vec![], json!({"id": event_id}).to_string()),
            Reply::Status(s, h, b) => (s, h, b),
            Reply::Hang => {
                std::thread::sleep(Duration::from_secs(120));
                return;
            }
        };
        let mut head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            text.len()
        );
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let _ = writer.write_all(format!("{head}\r\n{text}").as_bytes());
    }
}

/// An envelope split as relay splits it (relay-server `Envelope::parse_bytes` / `Item::parse`):
/// header line, item header line, exactly `length` bytes, then `\n`. Panics on anything else.
pub fn parse_strictly(bytes: &[u8]) -> (Value, Value, Value) {
    let nl = |b: &[u8]| b.iter().position(|c| *c == b'\n').expect("a line");
    let first = nl(bytes);
    let header: Value = serde_json::from_slice(&bytes[..first]).expect("envelope header JSON");
    let rest = &bytes[first + 1..];
    let second = nl(rest);
    let item: Value = serde_json::from_slice(&rest[..second]).expect("item header JSON");
    let len = item["length"].as_u64().expect("item length") as usize;
    let payload = &rest[second + 1..];
    assert!(payload.len() > len, "payload shorter than its length");
    assert_eq!(payload[len], b'\n', "missing newline after the payload");
    assert_eq!(payload.len(), len + 1, "one item, then the end");
    let event: Value = serde_json::from_slice(&payload[..len]).expect("payload JSON");
    (header, item, event)
}

/// Every envelope read by Sentry's Python SDK (`tests/sdk/read_envelopes.py`): its view of each,
/// or None (a skip noted) when the SDK is not installed and not required.
pub fn sdk_read(envelopes: &[Vec<u8>]) -> Option<Vec<Value>> {
    let py = python_with("sentry_sdk")?;
    let dir = tempfile::tempdir().unwrap();
    let mut c = Command::new(py);
    c.arg(repo().join("tests/sdk/read_envelopes.py"));
    for (i, e) in envelopes.iter().enumerate() {
        let p = dir.path().join(format!("{i}.envelope"));
        std::fs::write(&p, e).unwrap();
        c.arg(p);
    }
    let out = output(&mut c);
    assert!(
        out.status.success(),
        "Sentry's SDK could not read an envelope: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(v.as_array().unwrap().clone())
}

/// `deployment-event ARGS` with `env`, a clean environment, RUST_LOG=trace.
pub fn event_run(args: &[&str], env: &[(&str, &str)]) -> Run {
    event_run_in(args, env, None)
}

fn event_run_in(args: &[&str], env: &[(&str, &str)], tmp: Option<&Path>) -> Run {
    let mut all = vec!["deployment-event"];
    all.extend_from_slice(args);
    let mut c = cmd(&all);
    c.env("RUST_LOG", "trace");
    let scratch = tempfile::tempdir().unwrap();
    c.env("TMPDIR", tmp.unwrap_or(scratch.path()));
    for (k, v) in env {
        c.env(k, v);
    }
    run_with(c, "", LIMIT)
}

/// The usual inputs of one deployment.
fn basic<'a>(customer: &'a str, status: &'a str) -> Vec<&'a str> {
    vec![
        "--deployment-type",
        "eks",
        "--customer-id",
        customer,
        "--infra-version",
        "2.1.0",
        "--status",
        status,
    ]
}

fn stderr_lines(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| l.starts_with("vault-fetch-relay:"))
        .collect()
}

/// The fields Runlayer's capture-deployment-completion.sh sends (written from its shape), for one
/// deployment's inputs: (JSON pointer, value). `None` means present, any value of that JSON type.
fn script_fields(
    customer: &str,
    kind: &str,
    version: &str,
    environment: &str,
    status: &str,
    error: &str,
) -> Vec<(&'static str, Value)> {
    let trace_status = if status == "success" {
        "ok"
    } else {
        "internal_error"
    };
    vec![
        ("/type", json!("transaction")),
        ("/transaction", json!("deployment.completion")),
        ("/transaction_info/source", json!("custom")),
        ("/platform", json!("other")),
        ("/contexts/trace/op", json!("deployment")),
        ("/contexts/trace/status", json!(trace_status)),
        ("/contexts/deployment/type", json!(kind)),
        ("/contexts/deployment/customer_id", json!(customer)),
        ("/contexts/deployment/environment", json!(environment)),
        ("/contexts/deployment/status", json!(status)),
        ("/contexts/deployment/infra_version", json!(version)),
        ("/tags/customer_id", json!(customer)),
        ("/tags/deployment_type", json!(kind)),
        ("/tags/environment", json!(environment)),
        ("/tags/event_type", json!("deployment_completion")),
        ("/tags/deployment_status", json!(status)),
        ("/tags/infra_version", json!(version)),
        ("/extra/deployment_metadata/deployment_type", json!(kind)),
        ("/extra/deployment_metadata/customer_id", json!(customer)),
        ("/extra/deployment_metadata/infra_version", json!(version)),
        ("/extra/deployment_metadata/environment", json!(environment)),
        ("/extra/deployment_metadata/status", json!(status)),
        ("/extra/deployment_metadata/error_message", json!(error)),
        ("/spans", json!([])),
    ]
}

/// The fields that are this run's own: ids, times, user and host, in the script's places.
fn assert_run_fields(event: &Value, header: &Value) {
    let hex = |p: &str, n: usize| {
        let s = event
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{p} in {event}"));
        assert!(
            s.len() == n
                && s.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "{p}: {s}"
        );
    };
    hex("/event_id", 32);
    hex("/contexts/trace/trace_id", 32);
    hex("/contexts/trace/span_id", 16);
    assert_eq!(header["event_id"], event["event_id"]);
    assert!(
        header["sent_at"].as_str().is_some_and(|s| s.ends_with('Z')),
        "{header}"
    );
    for p in ["/timestamp", "/start_timestamp"] {
        assert!(
            event.pointer(p).is_some_and(Value::is_f64),
            "{p} in {event}"
        );
    }
    assert!(event["start_timestamp"].as_f64() <= event["timestamp"].as_f64());
    let user = &event["tags"]["initiated_by"];
    assert!(user.as_str().is_some_and(|u| !u.is_empty()));
    assert_eq!(&event["contexts"]["deployment"]["operator"], user);
    assert_eq!(&event["extra"]["deployment_metadata"]["user"], user);
    let host = &event["contexts"]["deployment"]["hostname"];
    assert!(host.as_str().is_some_and(|h| !h.is_empty()));
    assert_eq!(&event["extra"]["deployment_metadata"]["hostname"], host);
    let ts = &event["contexts"]["deployment"]["timestamp"];
    assert!(
        ts.as_str()
            .is_some_and(|t| t.ends_with('Z') && t.contains('.')),
        "microseconds, UTC: {ts}"
    );
    assert_eq!(&event["extra"]["deployment_metadata"]["timestamp"], ts);
}

fn assert_fields(event: &Value, fields: &[(&'static str, Value)]) {
    for (pointer, want) in fields {
        assert_eq!(
            event.pointer(pointer),
            Some(want),
            "{pointer} in {}",
            serde_json::to_string_pretty(event).unwrap()
        );
    }
}

#[test]
fn sends_the_scripts_transaction_field_for_field() {
    let ingest = Ingest::start(vec![]);
    let dsn = ingest.dsn("/sentry/prefix/42");
    let mut args = basic("acme-corp", "failure");
    args.extend([
        "--error-message",
        "helm upgrade failed with exit code 1",
        "--environment",
        "staging",
    ]);
    let run = event_run(&args, &[("SENTRY_DSN", &dsn)]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let got = ingest.envelopes(1, Duration::ZERO);
    assert_eq!(got.len(), 1, "one request");
    let r = &got[0];
    assert_eq!(
        r.path, "/sentry/prefix/api/42/envelope/",
        "the path prefix is kept"
    );
    let auth = r.header("x-sentry-auth").expect("X-Sentry-Auth");
    assert!(auth.starts_with("Sentry "), "{auth}");
    for part in [
        format!("sentry_key={KEY}"),
        "sentry_version=7".into(),
        "sentry_client=vault-fetch-relay/".into(),
    ] {
        assert!(auth.contains(&part), "{auth} lacks {part}");
    }
    assert_eq!(
        r.header("content-type"),
        Some("application/x-sentry-envelope")
    );
    let (header, item, event) = parse_strictly(&r.body);
    assert_eq!(item["type"], "transaction");
    assert_eq!(
        run.stdout,
        format!("{}\n", event["event_id"].as_str().unwrap()),
        "the event id, one line"
    );
    assert_fields(
        &event,
        &script_fields(
            "acme-corp",
            "eks",
            "2.1.0",
            "staging",
            "failure",
            "helm upgrade failed with exit code 1",
        ),
    );
    assert_run_fields(&event, &header);
    assert_eq!(
        event["measurements"],
        json!({}),
        "no start known: no duration"
    );
    assert_eq!(event["start_timestamp"], event["timestamp"]);
    if let Some(sdk) = sdk_read(std::slice::from_ref(&r.body)) {
        assert_eq!(
            sdk[0]["items"][0]["event"], event,
            "the SDK reads the same event"
        );
        assert_eq!(sdk[0]["headers"]["event_id"], event["event_id"]);
    }
}

#[test]
fn a_start_gives_the_duration_flag_recorded_or_the_scripts_own() {
    let ingest = Ingest::start(vec![]);
    let dsn = ingest.dsn("/7");
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // --started-at, epoch seconds and RFC 3339.
    let started = (secs - 90).to_string();
    let mut args = basic("flag-co", "success");
    args.extend(["--started-at", &started]);
    let run = event_run(&args, &[("SENTRY_DSN", &dsn)]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let mut args = basic("flag-co", "success");
    args.extend(["--started-at", "2020-01-01T00:00:00+01:00"]);
    assert_eq!(event_run(&args, &[("SENTRY_DSN", &dsn)]).code, Some(0));
    // Recorded by a first call, read by the second (same TMPDIR: one CI workspace), then gone.
    let tmp = tempfile::tempdir().unwrap();
    let record = event_run_in(
        &[
            "--deployment-type",
            "eks",
            "--customer-id",
            "rec \"co\"",
            "--record-start",
        ],
        &[],
        Some(tmp.path()),
    );
    assert_eq!(record.code, Some(0), "{}", record.text());
    assert!(ingest.received().len() == 2, "recording sends nothing");
    std::thread::sleep(Duration::from_millis(1100));
    for _ in 0..2 {
        let run = event_run_in(
            &basic("rec \"co\"", "success"),
            &[("SENTRY_DSN", &dsn)],
            Some(tmp.path()),
        );
        assert_eq!(run.code, Some(0), "{}", run.text());
    }
    // The script's start file for this customer (a unique name in the shared /tmp directory).
    let customer = format!("script-co-{}-{}", std::process::id(), secs);
    let dir = Path::new("/tmp/runlayer-deployments");
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join(format!(
        "{customer}-eks-{}-{}.json",
        secs - 30,
        std::process::id()
    ));
    std::fs::write(
        &file,
        json!({"deployment_id": "x", "started_at_epoch": secs - 30, "customer_id": customer, "deployment_type": "eks", "started_at": "ignored"}).to_string(),
    )
    .unwrap();
    let run = event_run(&basic(&customer, "success"), &[("SENTRY_DSN", &dsn)]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(
        !file.exists(),
        "the script's start file is removed once read"
    );

    let events: Vec<Value> = ingest
        .envelopes(5, LIMIT)
        .iter()
        .map(|r| parse_strictly(&r.body).2)
        .collect();
    assert_eq!(events.len(), 5);
    let duration = |e: &Value| e["measurements"]["duration"]["value"].as_u64();
    let d0 = duration(&events[0]).expect("a duration");
    assert!((90_000..100_000).contains(&d0), "{d0}");
    assert_eq!(events[0]["measurements"]["duration"]["unit"], "millisecond");
    assert_eq!(events[0]["extra"]["deployment_metadata"]["duration_ms"], d0);
    assert_eq!(
        events[0]["start_timestamp"].as_f64(),
        Some((secs - 90) as f64)
    );
    let meta = &events[0]["extra"]["deployment_metadata"];
    assert_eq!(meta["finished_at"], meta["timestamp"]);
    assert!(meta["started_at"]
        .as_str()
        .is_some_and(|s| s.ends_with('Z')));
    assert_eq!(events[1]["start_timestamp"].as_f64(), Some(1_577_833_200.0));
    let recorded = duration(&events[2]).expect("the recorded start");
    assert!((1_000..30_000).contains(&recorded), "{recorded}");
    assert_eq!(duration(&events[3]), None, "a recorded start is read once");
    let script = duration(&events[4]).expect("the script's start");
    assert!((30_000..40_000).contains(&script), "{script}");
    let bodies: Vec<Vec<u8>> = ingest
        .envelopes(5, Duration::ZERO)
        .into_iter()
        .map(|r| r.body)
        .collect();
    if let Some(sdk) = sdk_read(&bodies) {
        assert_eq!(sdk.len(), 5);
    }
}

#[test]
fn hostile_text_in_every_field_is_sent_exactly_or_refused_in_one_line() {
    let ingest = Ingest::start(vec![]);
    let dsn = ingest.dsn("/1");
    let long = "x".repeat(10 * 1024);
    let traps: [(&str, &str); 5] = [
        ("quotes", "a \"quoted\" 'value' \\ {}"),
        ("newline", "line one\nline two"),
        ("U+2028", "one\u{2028}two"),
        ("non-ASCII", "ünïcødé ✓ 🎉 日本"),
        ("10 KiB", &long),
    ];
    let mut sent = Vec::new();
    for field in [
        "--customer-id",
        "--infra-version",
        "--environment",
        "--error-message",
    ] {
        for (what, text) in traps {
            let mut inputs = vec![
                ("--customer-id", "acme"),
                ("--infra-version", "2.1.0"),
                ("--environment", "production"),
                ("--error-message", "boom"),
            ];
            for i in inputs.iter_mut() {
                if i.0 == field {
                    i.1 = text;
                }
            }
            let mut args = vec!["--deployment-type", "ecs", "--status", "failure"];
            for (k, v) in &inputs {
                args.extend([*k, *v]);
            }
            let before = ingest.received().len();
            let run = event_run(&args, &[("SENTRY_DSN", &dsn)]);
            // One-line fields become tags: a line break, or more than 200 characters (64 for the
            // environment), is refused; everything else goes through byte for byte.
            let refused =
                field != "--error-message" && matches!(what, "newline" | "U+2028" | "10 KiB");
            if refused {
                assert_eq!(run.code, Some(1), "{field} {what}: {}", run.text());
                let lines = stderr_lines(&run);
                assert_eq!(lines.len(), 1, "{field} {what}: one line: {}", run.stderr);
                assert!(
                    lines[0].contains(field.split(' ').next().unwrap()),
                    "{field} {what}: {}",
                    lines[0]
                );
                assert_eq!(
                    ingest.received().len(),
                    before,
                    "{field} {what}: nothing sent"
                );
                assert!(run.stdout.is_empty());
                continue;
            }
            assert_eq!(run.code, Some(0), "{field} {what}: {}", run.text());
            let got = ingest.envelopes(before + 1, Duration::ZERO);
            let body = got.last().unwrap().body.clone();
            let (_, _, event) = parse_strictly(&body);
            let value = |f: &str| inputs.iter().find(|(k, _)| *k == f).unwrap().1;
            let expected = script_fields(
                value("--customer-id"),
                "ecs",
                value("--infra-version"),
                value("--environment"),
                "failure",
                value("--error-message"),
            );
            assert_fields(&event, &expected);
            sent.push(body);
        }
    }
    assert_eq!(
        sent.len(),
        4 * 5 - 3 * 3,
        "quotes and non-ASCII everywhere, all five in the message"
    );
    if let Some(sdk) = sdk_read(&sent) {
        for (raw, seen) in sent.iter().zip(&sdk) {
            assert_eq!(seen["items"][0]["event"], parse_strictly(raw).2);
        }
    }
}

#[test]
fn malformed_dsns_are_usage_errors_that_send_nothing_and_show_no_user_part() {
    let ingest = Ingest::start(vec![]);
    let port = ingest.port;
    let cases = [
        (format!("http://127.0.0.1:{port}/1"), "no public key"),
        (format!("http://{KEY}@127.0.0.1:{port}/"), "project id"),
        (format!("http://{KEY}@127.0.0.1:{port}/api"), "project id"),
        (format!("http://{KEY}@sentry.example.com/1"), "plain http"),
        (
            format!("http://{KEY}:hunter2secret@sentry.example.com/1"),
            "plain http",
        ),
    ];
    for (dsn, why) in &cases {
        for (flag, env) in [(true, false), (false, true)] {
            let mut args = basic("acme", "success");
            let envs: Vec<(&str, &str)> = if env {
                vec![("SENTRY_DSN", dsn)]
            } else {
                vec![]
            };
            if flag {
                args.extend(["--dsn", dsn]);
            }
            let run = event_run(&args, &envs);
            assert_eq!(run.code, Some(1), "{dsn}: {}", run.text());
            let lines = stderr_lines(&run);
            assert_eq!(lines.len(), 1, "{}", run.stderr);
            let named = if flag { "--dsn" } else { "SENTRY_DSN" };
            assert!(
                lines[0].contains(named) && lines[0].contains(why),
                "{dsn}: {}",
                lines[0]
            );
            assert!(
                !run.text().contains(KEY) && !run.text().contains("hunter2"),
                "{}",
                run.text()
            );
        }
    }
    assert!(ingest.received().is_empty(), "nothing sent");
    // A secret part is dropped: the event goes with the public key alone.
    let dsn = format!("http://{KEY}:hunter2secret@127.0.0.1:{port}/5");
    let run = event_run(&basic("acme", "success"), &[("SENTRY_DSN", &dsn)]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let got = ingest.envelopes(1, Duration::ZERO);
    assert_eq!(got.len(), 1);
    let wire = format!(
        "{:?}{}",
        got[0].headers,
        String::from_utf8_lossy(&got[0].body)
    );
    assert!(
        !wire.contains("hunter2") && !run.text().contains("hunter2"),
        "{wire}"
    );
    assert!(got[0]
        .header("x-sentry-auth")
        .unwrap()
        .contains(&format!("sentry_key={KEY},")));
}

/// Sentry's answers: each case is (script, strict, exit code, requests, words in the one stderr line).
#[test]
fn sentry_refusals_throttling_and_outages_warn_once_or_fail_with_strict() {
    let rl = |v: &str| vec![("X-Sentry-Rate-Limits", v.to_string())];
    let ra = |v: &str| vec![("Retry-After", v.to_string())];
    // (name, script, strict, exit code, requests, words in the one stderr line)
    type Case = (&'static str, Vec<Reply>, u64, i32, usize, &'static str);
    let cases: Vec<Case> = vec![
        (
            "413",
            vec![Reply::Status(413, vec![], "".into())],
            0,
            0,
            1,
            "HTTP 413",
        ),
        (
            "413 strict",
            vec![Reply::Status(413, vec![], "".into())],
            1,
            1,
            1,
            "HTTP 413",
        ),
        (
            "400 with relay's causes",
            vec![Reply::Status(
                400,
                vec![],
                r#"{"detail":"invalid envelope","causes":["missing newline"]}"#.into(),
            )],
            0,
            0,
            1,
            "invalid envelope: missing newline",
        ),
        (
            "403 key disabled",
            vec![Reply::Status(
                403,
                vec![],
                r#"{"detail":"event submission rejected with_reason: ProjectId"}"#.into(),
            )],
            0,
            0,
            1,
            "HTTP 403",
        ),
        (
            "429 Retry-After 1, then taken",
            vec![Reply::Status(429, ra("1"), "".into())],
            0,
            0,
            2,
            "",
        ),
        (
            "429 transaction limit 1 s, then taken",
            vec![Reply::Status(429, rl("1:transaction:key"), "".into())],
            0,
            0,
            2,
            "",
        ),
        (
            "429 limit on every category, then taken",
            vec![Reply::Status(429, rl("1::organization"), "".into())],
            0,
            0,
            2,
            "",
        ),
        (
            "429 limit on errors only: Retry-After decides",
            vec![Reply::Status(
                429,
                [rl("3600:error:key"), ra("1")].concat(),
                "".into(),
            )],
            0,
            0,
            2,
            "",
        ),
        (
            "429 limit past the deadline",
            vec![Reply::Status(
                429,
                rl("3600:transaction;error:organization:usage_exceeded"),
                "".into(),
            )],
            0,
            0,
            1,
            "usage_exceeded",
        ),
        (
            "429 Retry-After past the deadline, strict",
            vec![Reply::Status(429, ra("3600"), "".into())],
            1,
            1,
            1,
            "past the run's deadline",
        ),
        (
            "503 storm",
            vec![Reply::Status(503, vec![], "busy".into()); 4],
            0,
            0,
            4,
            "HTTP 503",
        ),
        (
            "502 then taken",
            vec![Reply::Status(502, vec![], "".into())],
            0,
            0,
            2,
            "",
        ),
        (
            "302 redirect",
            vec![Reply::Status(
                302,
                vec![("Location", "https://elsewhere.example/x".into())],
                "".into(),
            )],
            0,
            0,
            1,
            "redirect to elsewhere.example was not followed",
        ),
        ("hang", vec![Reply::Hang], 0, 0, 1, "did not reach Sentry"),
    ];
    let mut bodies = Vec::new();
    for (name, script, strict, code, requests, words) in cases {
        let ingest = Ingest::start(script);
        let mut args = basic("acme", "success");
        args.extend(["--timeout-seconds", "6"]);
        if strict == 1 {
            args.push("--strict");
        }
        let started = Instant::now();
        let run = event_run(&args, &[("SENTRY_DSN", &ingest.dsn("/3"))]);
        let took = started.elapsed();
        assert_eq!(run.code, Some(code), "{name}: {}", run.text());
        assert!(
            took < Duration::from_secs(10),
            "{name}: bounded by the deadline: {took:?}"
        );
        let got = ingest.envelopes(requests, Duration::ZERO);
        assert_eq!(got.len(), requests, "{name}: requests");
        if words.is_empty() {
            assert_eq!(run.stdout.len(), 33, "{name}: the event id: {}", run.text());
            assert!(
                stderr_lines(&run)
                    .iter()
                    .all(|l| !l.contains("warning") && !l.contains("error")),
                "{name}: {}",
                run.stderr
            );
            if name.contains("1 s") {
                assert!(
                    got[1].at - got[0].at >= Duration::from_secs(1),
                    "{name}: waited as asked"
                );
            }
        } else {
            let lines: Vec<&str> = stderr_lines(&run)
                .into_iter()
                .filter(|l| l.contains("warning") || l.contains("error:"))
                .collect();
            assert_eq!(lines.len(), 1, "{name}: one line: {}", run.stderr);
            let want = if code == 0 { "warning:" } else { "error:" };
            assert!(
                lines[0].contains(want) && lines[0].contains(words),
                "{name}: {}",
                lines[0]
            );
            assert!(run.stdout.is_empty(), "{name}: no event id");
        }
        // Every attempt sent the same, whole envelope.
        for r in &got {
            assert_eq!(r.body, got[0].body, "{name}");
            parse_strictly(&r.body);
        }
        bodies.push(got[0].body.clone());
    }
    if let Some(sdk) = sdk_read(&bodies) {
        assert_eq!(sdk.len(), bodies.len());
    }
}

/// The DSN from the vault (one read by name): found, found in a secret whose relay keys are
/// broken (sent, with a warning about the keys), missing (warning, nothing sent; strict: exit 1),
/// the secret without a DSN, and wrong_api_base (exit 1). No API key at all with a DSN given: sent.
#[test]
fn the_dsn_comes_from_the_vault_when_not_given() {
    let ingest = Ingest::start(vec![]);
    let dsn = ingest.dsn("/9");
    let s = server();
    let good = RelayCredentials::generate(Some(dsn.clone())).unwrap();
    s.set_value(NAME, &good.to_vault_value()).unwrap();
    let base = s.base_url();
    let vault = [
        ("WORKOS_API_KEY", CANARY_KEY),
        ("WORKOS_API_BASE", base.as_str()),
    ];
    let run = event_run(&basic("vault-co", "success"), &vault);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(
        stderr_lines(&run).iter().all(|l| !l.contains("warning")),
        "{}",
        run.stderr
    );
    assert_eq!(ingest.envelopes(1, Duration::ZERO).len(), 1);
    let reads = s.requests();
    assert_eq!(reads.len(), 1, "one read");
    assert!(
        reads[0]
            .path
            .ends_with(&format!("/vault/v1/kv/name/{NAME}")),
        "{:?}",
        reads[0].path
    );

    // Broken relay keys, good DSN.
    s.set_value(
        NAME,
        &json!({"id": "not-a-uuid", "public_key": "x", "secret_key": "y", "sentry_dsn": dsn})
            .to_string(),
    )
    .unwrap();
    let run = event_run(&basic("vault-co", "success"), &vault);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let warnings: Vec<&str> = stderr_lines(&run)
        .into_iter()
        .filter(|l| l.contains("warning"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(
        warnings[0].contains("invalid_secret") && warnings[0].contains("sentry_dsn is used"),
        "{}",
        warnings[0]
    );
    assert_eq!(ingest.envelopes(2, Duration::ZERO).len(), 2, "sent anyway");

    // A DSN in the secret that is not usable: a warning, nothing sent.
    s.set_value(
        NAME,
        &RelayCredentials::generate(Some("http://k@sentry.example.com/1".into()))
            .unwrap()
            .to_vault_value(),
    )
    .unwrap();
    let run = event_run(&basic("vault-co", "success"), &vault);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(
        run.stderr.contains("sentry_dsn that is not usable") && run.stderr.contains("plain http"),
        "{}",
        run.stderr
    );
    // No DSN in the secret.
    s.set_value(
        NAME,
        &RelayCredentials::generate(None).unwrap().to_vault_value(),
    )
    .unwrap();
    let run = event_run(&basic("vault-co", "success"), &vault);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stderr.contains("holds no sentry_dsn"), "{}", run.stderr);
    // Missing secret: warning; strict: one error line, exit 1.
    assert!(s.remove(NAME));
    let run = event_run(&basic("vault-co", "success"), &vault);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(
        run.stderr.contains("warning: no Sentry DSN") && run.stderr.contains("not_found"),
        "{}",
        run.stderr
    );
    let mut strict = basic("vault-co", "success");
    strict.push("--strict");
    let run = event_run(&strict, &vault);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert_eq!(
        stderr_lines(&run)
            .iter()
            .filter(|l| l.contains("error:"))
            .count(),
        1,
        "{}",
        run.stderr
    );
    // No API key: the same warning, naming the missing key.
    let run = event_run(
        &basic("vault-co", "success"),
        &[("WORKOS_API_BASE", base.as_str())],
    );
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stderr.contains("no_api_key"), "{}", run.stderr);
    // wrong_api_base: exit 1, strict or not.
    let wrong = format!("{base}/v1");
    let run = event_run(
        &basic("vault-co", "success"),
        &[("WORKOS_API_KEY", CANARY_KEY), ("WORKOS_API_BASE", &wrong)],
    );
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stderr.contains("wrong_api_base"), "{}", run.stderr);
    assert_eq!(
        ingest.envelopes(2, Duration::ZERO).len(),
        2,
        "nothing more sent"
    );

    // No API key anywhere, the DSN given: sent, and the vault is never asked.
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let run = event_run(
        &basic("vault-co", "success"),
        &[("SENTRY_DSN", &dsn), ("WORKOS_API_BASE", &closed)],
    );
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert_eq!(ingest.envelopes(3, Duration::ZERO).len(), 3);
}

/// The dev server's own Sentry ingest (crates/devserver, `{prefix}/api/{project}/envelope/`), the
/// one the docs' examples send to, receives what `deployment-event` sends: the event whose id is
/// printed, with the DSN's key, path prefix and project, and the transaction; it logs one line per
/// event naming only ids. A key it does not serve is refused as Sentry refuses it (403): a warning
/// and nothing recorded, `--strict` exit 1.
#[test]
fn the_dev_servers_sentry_ingest_receives_the_event() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let process =
        DevServerProcess::start_logging(&["--dsn-key", KEY], Stdio::from(log.reopen().unwrap()));
    let host = process.base.trim_start_matches("http://").to_string();
    let dsn = format!("http://{KEY}@{host}/sentry/42");
    let run = event_run(&basic("ingest-co", "success"), &[("SENTRY_DSN", &dsn)]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let id = run.stdout.trim().to_string();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{}",
        run.stdout
    );

    let other = format!("http://{}@{host}/42", "0".repeat(32));
    let run = event_run(&basic("ingest-co", "success"), &[("SENTRY_DSN", &other)]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let warning = stderr_lines(&run).join("\n");
    assert!(
        warning.contains("warning:")
            && warning.contains("HTTP 403: event submission rejected with_reason: ProjectId"),
        "{}",
        run.stderr
    );
    let mut strict = basic("ingest-co", "success");
    strict.push("--strict");
    let run = event_run(&strict, &[("SENTRY_DSN", &other)]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    drop(process);

    let log = std::fs::read_to_string(log.path()).unwrap();
    let events: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("dev-server: event "))
        .collect();
    assert_eq!(
        events,
        [format!(
            "dev-server: event {id} (transaction deployment.completion) for project 42"
        )],
        "{log}"
    );
    assert!(
        log.contains("POST /sentry/api/42/envelope/ 200")
            && log.contains("POST /api/42/envelope/ 403"),
        "{log}"
    );
    assert!(!log.contains(KEY) && !log.contains("ingest-co"), "{log}");

    // In process, the recorded event: what the product sent, field by field where it matters here.
    let s = server();
    s.upstream().add_dsn_key(KEY);
    let dsn = format!(
        "{}/7",
        s.base_url().replace("http://", &format!("http://{KEY}@"))
    );
    let run = event_run(&basic("ingest-co", "failure"), &[("SENTRY_DSN", &dsn)]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let got = s.upstream().events();
    assert_eq!(got.len(), 1, "{got:?}");
    let e = &got[0];
    assert_eq!(run.stdout.trim(), e.event_id);
    assert_eq!(
        (
            e.project_id,
            e.path_prefix.as_str(),
            e.public_key.as_str(),
            e.item_type.as_str()
        ),
        (7, "", KEY, "transaction")
    );
    assert!(
        e.client
            .as_deref()
            .is_some_and(|c| c.starts_with("vault-fetch-relay/")),
        "{e:?}"
    );
    assert_eq!(e.envelope_header["event_id"], json!(e.event_id));
    assert_fields(
        &e.payload,
        &script_fields("ingest-co", "eks", "2.1.0", "production", "failure", ""),
    );
}

/// relay itself, in proxy mode, takes every envelope we send and forwards it to its upstream (the
/// ingest here). relay parses envelopes strictly (item lengths in bytes, newlines) and refuses
/// project keys that are not 32 hex digits. No relay binary is in the registries this suite
/// installs from: RELAY_BIN names one, else a skip is noted (the GitHub workflow sets it and
/// VFR_REQUIRE_RELAY=1).
#[test]
fn relay_in_proxy_mode_accepts_and_forwards_every_envelope() {
    let Some(relay) = relay_bin("send deployment events through relay in proxy mode") else {
        return;
    };
    let upstream = Ingest::start(vec![]);
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    std::fs::write(
        dir.path().join("config.yml"),
        format!(
            "relay:\n  mode: proxy\n  upstream: \"http://127.0.0.1:{}/\"\n  host: 127.0.0.1\n  port: {port}\nlogging:\n  level: info\n",
            upstream.port
        ),
    )
    .unwrap();
    let mut child = hermetic(&mut Command::new(relay))
        .args(["run", "--config"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start relay");
    let until = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    let dsn = format!("http://{KEY}@127.0.0.1:{port}/42");
    let long = "e".repeat(10 * 1024);
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let started = (secs - 60).to_string();
    let cases: Vec<Vec<&str>> = vec![
        basic("acme", "success"),
        [
            basic("acme \"corp\" ünïcødé 日本", "failure"),
            vec!["--error-message", "line one\nline two\u{2028}\"quoted\" ✓"],
        ]
        .concat(),
        [
            basic("acme", "failure"),
            vec!["--error-message", &long, "--started-at", &started],
        ]
        .concat(),
    ];
    let mut ids = Vec::new();
    for args in &cases {
        let run = event_run(args, &[("SENTRY_DSN", &dsn)]);
        assert_eq!(run.code, Some(0), "{}", run.text());
        assert!(
            !run.stderr.contains("warning"),
            "relay took it: {}",
            run.stderr
        );
        ids.push(run.stdout.trim().to_string());
    }
    let forwarded = upstream.envelopes(cases.len(), Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    let mut seen = Vec::new();
    for r in &forwarded {
        assert_eq!(r.path, "/api/42/envelope/", "{:?}", r.path);
        let (_, _, event) = parse_strictly(&r.body);
        seen.push(event["event_id"].as_str().unwrap_or_default().to_string());
    }
    for id in &ids {
        assert!(seen.contains(id), "relay forwarded {seen:?}, not {id}");
    }
}

/// A run that exits 1 writes nothing: a recorded start survives a send that failed under
/// --strict, and the retry still reports the deployment's duration.
#[test]
fn a_failed_strict_send_leaves_the_recorded_start_for_the_retry() {
    let ingest = Ingest::start(vec![]);
    let tmp = tempfile::tempdir().unwrap();
    let record = event_run_in(
        &[
            "--deployment-type",
            "eks",
            "--customer-id",
            "retry-co",
            "--record-start",
        ],
        &[],
        Some(tmp.path()),
    );
    assert_eq!(record.code, Some(0), "{}", record.text());
    let dead = format!(
        "http://0123456789abcdef0123456789abcdef@127.0.0.1:{}/7",
        closed_port()
    );
    let mut args = basic("retry-co", "success");
    args.extend(["--strict", "--timeout-seconds", "2"]);
    let failed = event_run_in(&args, &[("SENTRY_DSN", &dead)], Some(tmp.path()));
    assert_eq!(failed.code, Some(1), "{}", failed.text());
    let retry = event_run_in(
        &basic("retry-co", "success"),
        &[("SENTRY_DSN", &ingest.dsn("/7"))],
        Some(tmp.path()),
    );
    assert_eq!(retry.code, Some(0), "{}", retry.text());
    let events = ingest.envelopes(1, LIMIT);
    let event = parse_strictly(&events[0].body).2;
    assert!(
        event["measurements"]["duration"]["value"]
            .as_u64()
            .is_some(),
        "the retry lost the recorded start: {event}"
    );
}
