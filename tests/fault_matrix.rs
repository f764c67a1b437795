//! The failure matrix: every network and server fault we know of, each run through the
//! real binary in Terraform mode (stdin query) and init mode (`init --dir`), strict and
//! non-strict, against the dev server's fault script on loopback.
//!
//! For every run it checks the status, the exit code, the wall time against the bound
//! the case documents, the exact number of requests the server saw, and that nothing
//! panicked. The same case list renders docs/reference.md's "Failure behaviour" section; a test keeps the
//! committed file equal to it (`VFR_UPDATE_DOCS=1` rewrites it).
//!
//! Runs are independent (one server each), so they run on a pool of threads: most of
//! the time is spent waiting on backoff and deadlines, not on the CPU.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::json;

/// Deadline given to runs whose fault hangs: short, so the suite stays fast.
const HANG_DEADLINE_S: u64 = 4;
/// Deadline for every other run: long enough that the full retry schedule fits.
const DEADLINE_S: u64 = 10;
/// Slack for process start-up and a loaded machine (runs share two cores).
const MARGIN: Duration = Duration::from_millis(1500);
/// Worst case of the three backoff waits (0.5 + 1 + 2 s) and best case (0.25 + 0.5 + 1 s).
const BACKOFF_MAX: Duration = Duration::from_millis(3500);
const BACKOFF_MIN: Duration = Duration::from_millis(1750);
/// Threads running cases at once.
const WORKERS: usize = 20;

/// Where the binary is pointed.
#[derive(Clone, Copy)]
enum Target {
    /// The plain-HTTP dev server. `seed` stores valid credentials (so one request too
    /// many would come back `found`); `faults` are queued before the run.
    Http {
        seed: bool,
        faults: fn() -> Vec<Fault>,
    },
    /// A loopback port nothing listens on.
    Refused,
    /// The dev server over TLS with a certificate the client must refuse.
    Tls(TlsFault),
    /// A `.invalid` host (RFC 6761: never resolves), run in an empty network namespace.
    Dns,
}

#[derive(Clone, Copy)]
enum TlsFault {
    UnknownCa,
    WrongHost,
    Expired,
}

/// What ends the run, and so how long it may take.
#[derive(Clone, Copy)]
enum Bound {
    /// One answer, no waiting; the text says why nothing is retried.
    Immediate(&'static str),
    /// The full retry schedule: 4 attempts, 3 backoff waits.
    Backoff,
    /// Four attempts with the server's `Retry-After: n` honoured three times.
    RetryAfter(u64),
    /// Nothing answers: the run's deadline ends it.
    Deadline,
}

impl Bound {
    fn deadline_s(self) -> u64 {
        match self {
            Bound::Deadline => HANG_DEADLINE_S,
            _ => DEADLINE_S,
        }
    }

    /// (shortest, longest) acceptable wall time.
    fn window(self) -> (Duration, Duration) {
        match self {
            Bound::Immediate(_) => (Duration::ZERO, Duration::from_secs(1) + MARGIN),
            Bound::Backoff => (BACKOFF_MIN, BACKOFF_MAX + MARGIN),
            // Each wait is the server's plus up to as much again (spread, never sooner).
            Bound::RetryAfter(n) => (
                Duration::from_secs(3 * n),
                Duration::from_secs(6 * n) + MARGIN,
            ),
            Bound::Deadline => {
                let d = Duration::from_secs(HANG_DEADLINE_S);
                (d - Duration::from_millis(300), d + MARGIN)
            }
        }
    }

    fn describe(self) -> String {
        match self {
            Bound::Immediate(why) => why.into(),
            Bound::Backoff => "retry schedule: 3 backoffs, at most 3.5 s".into(),
            Bound::RetryAfter(n) => format!("Retry-After {n} s, honoured 3 times"),
            Bound::Deadline => "the run deadline (timeout_seconds)".into(),
        }
    }
}

struct Case {
    fault: &'static str,
    target: Target,
    status: &'static str,
    requests: usize,
    bound: Bound,
}

const ONE_ANSWER: &str = "one answer, not retried";

/// Exit codes (non-strict, strict) for a status: a wrong api base is a configuration
/// error and fails either way; every other status degrades unless strict.
fn exit_codes(status: &str) -> (i32, i32) {
    match status {
        "wrong_api_base" => (1, 1),
        _ => (0, 1),
    }
}

const fn http(faults: fn() -> Vec<Fault>) -> Target {
    Target::Http { seed: true, faults }
}

fn times(n: usize, f: Fault) -> Vec<Fault> {
    vec![f; n]
}

/// A raw HTTP/1.1 200 response with these body bytes and this Content-Length.
fn raw_200(body: &[u8], content_length: usize) -> Fault {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-ID: req_raw\r\nContent-Length: {content_length}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    Fault::Raw(bytes)
}

/// A 200 whose head has an obs-fold line (RFC 9112 §5.2: a client may refuse it; our
/// HTTP layer does not unfold, so it must refuse it once, not retry it).
fn folded_200() -> Fault {
    let body = r#"{"id":"x","name":"n","value":"v"}"#;
    Fault::Raw(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Folded: first\r\n  second\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// A 200 with `Transfer-Encoding: chunked` whose first chunk size is not hexadecimal.
fn broken_chunked_200() -> Fault {
    Fault::Raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{\"id\":\"x\"}\r\n0\r\n\r\n".to_vec(),
    )
}

const CUT_JSON: &str =
    r#"{"id":"a1b2c3d4","name":"runlayer-sentry-credentials","value":"{\"public_ke"#;

fn status_storm(status: u16) -> Vec<Fault> {
    times(
        6,
        Fault::status(
            status,
            format!("<html><body>{status} from a proxy</body></html>"),
        ),
    )
}

fn too_many(retry_after: Option<&str>) -> Vec<Fault> {
    times(
        6,
        Fault::Respond {
            status: 429,
            headers: retry_after
                .map(|v| vec![("Retry-After".to_string(), v.to_string())])
                .unwrap_or_default(),
            body: r#"{"message":"Too many requests.","code":"rate_limit_exceeded"}"#.into(),
        },
    )
}

fn cases() -> Vec<Case> {
    use Bound::*;
    vec![
        Case {
            fault: "connection refused",
            target: Target::Refused,
            status: "unavailable",
            requests: 0,
            bound: Backoff,
        },
        Case {
            fault: "DNS name does not resolve (`.invalid`)",
            target: Target::Dns,
            status: "unavailable",
            requests: 0,
            bound: Backoff,
        },
        Case {
            fault: "accepts, never answers",
            target: http(|| times(6, Fault::Hang)),
            status: "unavailable",
            requests: 1,
            bound: Deadline,
        },
        Case {
            fault: "headers, then the body stalls",
            target: http(|| {
                times(
                    6,
                    Fault::HeadersThenStall {
                        status: 200,
                        content_length: 400,
                    },
                )
            }),
            status: "unavailable",
            requests: 1,
            bound: Deadline,
        },
        Case {
            fault: "connection reset mid-body",
            target: http(|| {
                times(
                    6,
                    Fault::ResetMidBody {
                        status: 200,
                        body_prefix: CUT_JSON.into(),
                        content_length: 400,
                    },
                )
            }),
            status: "unavailable",
            requests: 4,
            bound: Backoff,
        },
        Case {
            fault: "200, truncated JSON (Content-Length matches)",
            target: http(|| times(6, raw_200(CUT_JSON.as_bytes(), CUT_JSON.len()))),
            status: "unavailable",
            requests: 1,
            bound: Immediate(ONE_ANSWER),
        },
        Case {
            fault: "200, Content-Length larger than the bytes sent",
            target: http(|| times(6, raw_200(CUT_JSON.as_bytes(), CUT_JSON.len() + 100))),
            status: "unavailable",
            requests: 4,
            bound: Backoff,
        },
        Case {
            fault: "200 with two different `Content-Length` values",
            target: http(|| times(6, Fault::ContentLength(vec!["533".into(), "40".into()]))),
            status: "unavailable",
            requests: 1,
            bound: Immediate("framing that cannot be trusted: fails, not retried"),
        },
        Case {
            fault: "200, `Content-Length: +533` (not a decimal number)",
            target: http(|| times(6, Fault::ContentLength(vec!["+533".into()]))),
            status: "unavailable",
            requests: 1,
            bound: Immediate("framing that cannot be trusted: fails, not retried"),
        },
        Case {
            fault: "200 with a header folded over two lines (obs-fold)",
            target: http(|| times(6, folded_200())),
            status: "unavailable",
            requests: 1,
            bound: Immediate("framing that cannot be trusted: fails, not retried"),
        },
        Case {
            fault: "200, chunked body with a chunk size that is not hex",
            target: http(|| times(6, broken_chunked_200())),
            status: "unavailable",
            requests: 1,
            bound: Immediate("framing that cannot be trusted: fails, not retried"),
        },
        Case {
            fault: "200, body is not UTF-8",
            target: http(|| {
                let body = b"{\"id\":\"x\",\"name\":\"n\",\"value\":\"\xff\xfe\xc3\x28\"}";
                times(6, raw_200(body, body.len()))
            }),
            status: "unavailable",
            requests: 1,
            bound: Immediate(ONE_ANSWER),
        },
        Case {
            fault: "200 with an HTML page",
            target: http(|| {
                times(
                    6,
                    Fault::Respond {
                        status: 200,
                        headers: vec![("Content-Type".into(), "text/html".into())],
                        body: "<!doctype html><html><body>Sign in to the proxy</body></html>"
                            .into(),
                    },
                )
            }),
            status: "unavailable",
            requests: 1,
            bound: Immediate(ONE_ANSWER),
        },
        Case {
            fault: "200 JSON missing the object's fields",
            target: http(|| times(6, Fault::status(200, r#"{"id":"x"}"#))),
            status: "unavailable",
            requests: 1,
            bound: Immediate(ONE_ANSWER),
        },
        Case {
            fault: "200, the stored value lacks `secret_key`",
            target: http(|| {
                let value =
                    json!({"id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "public_key": "x"});
                let body = json!({"id": "o1", "name": NAME, "value": value.to_string(), "metadata": {"version_id": null}});
                times(6, Fault::status(200, body.to_string()))
            }),
            status: "invalid_secret",
            requests: 1,
            bound: Immediate(ONE_ANSWER),
        },
        Case {
            fault: "200, body larger than the 1 MiB cap",
            target: http(|| {
                let body = format!(
                    r#"{{"id":"x","name":"n","value":"{}"}}"#,
                    "a".repeat(1024 * 1024)
                );
                times(6, Fault::status(200, body))
            }),
            status: "unavailable",
            requests: 1,
            bound: Immediate(ONE_ANSWER),
        },
        Case {
            fault: "429 storm, no Retry-After",
            target: http(|| too_many(None)),
            status: "unavailable",
            requests: 4,
            bound: Backoff,
        },
        Case {
            fault: "429 storm, `Retry-After: 1`",
            target: http(|| too_many(Some("1"))),
            status: "unavailable",
            requests: 4,
            bound: RetryAfter(1),
        },
        Case {
            fault: "429, `Retry-After: 3600` (past the deadline)",
            target: http(|| too_many(Some("3600"))),
            status: "unavailable",
            requests: 1,
            bound: Immediate("Retry-After past the deadline: ends at once"),
        },
        Case {
            fault: "500 storm",
            target: http(|| status_storm(500)),
            status: "unavailable",
            requests: 4,
            bound: Backoff,
        },
        Case {
            fault: "502 storm",
            target: http(|| status_storm(502)),
            status: "unavailable",
            requests: 4,
            bound: Backoff,
        },
        Case {
            fault: "503 storm",
            target: http(|| status_storm(503)),
            status: "unavailable",
            requests: 4,
            bound: Backoff,
        },
        Case {
            fault: "504 storm",
            target: http(|| status_storm(504)),
            status: "unavailable",
            requests: 4,
            bound: Backoff,
        },
        Case {
            fault: "401 (API key rejected)",
            target: http(|| {
                times(
                    6,
                    Fault::status(401, r#"{"message":"Unauthorized","code":"unauthorized"}"#),
                )
            }),
            status: "unauthorized",
            requests: 1,
            bound: Immediate(ONE_ANSWER),
        },
        Case {
            fault: "403 (no Vault permission)",
            target: http(|| {
                times(
                    6,
                    Fault::status(403, r#"{"message":"Forbidden","code":"forbidden"}"#),
                )
            }),
            status: "forbidden",
            requests: 1,
            bound: Immediate(ONE_ANSWER),
        },
        Case {
            fault: "404 (no such secret)",
            target: Target::Http {
                seed: false,
                faults: Vec::new,
            },
            status: "not_found",
            requests: 1,
            bound: Immediate(ONE_ANSWER),
        },
        Case {
            fault: "404 that is not WorkOS Vault's (wrong api base, e.g. a `/v1` suffix)",
            target: http(|| {
                times(
                    6,
                    Fault::status(404, r#"{"code":"not_found","message":"Not Found"}"#),
                )
            }),
            status: "wrong_api_base",
            requests: 1,
            bound: Immediate(ONE_ANSWER),
        },
        Case {
            fault: "302 redirect to another host",
            target: http(|| {
                times(
                    6,
                    Fault::Respond {
                        status: 302,
                        headers: vec![(
                            "Location".into(),
                            "https://elsewhere.invalid/vault/v1/kv/name/x".into(),
                        )],
                        body: String::new(),
                    },
                )
            }),
            status: "unavailable",
            requests: 1,
            bound: Immediate(ONE_ANSWER),
        },
        Case {
            fault: "TLS: certificate from an unknown CA",
            target: Target::Tls(TlsFault::UnknownCa),
            status: "unavailable",
            requests: 0,
            bound: Immediate("TLS handshake refused, not retried"),
        },
        Case {
            fault: "TLS: certificate for another hostname",
            target: Target::Tls(TlsFault::WrongHost),
            status: "unavailable",
            requests: 0,
            bound: Immediate("TLS handshake refused, not retried"),
        },
        Case {
            fault: "TLS: expired certificate",
            target: Target::Tls(TlsFault::Expired),
            status: "unavailable",
            requests: 0,
            bound: Immediate("TLS handshake refused, not retried"),
        },
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Terraform,
    Init,
}

/// One run's setting: the server (if any), the base URL, extra environment.
struct Prepared {
    server: Option<DevServer>,
    base: String,
    env: Vec<(String, String)>,
    netns: bool,
    dir: tempfile::TempDir,
}

fn prepare(target: Target) -> Prepared {
    let dir = tempfile::tempdir().unwrap();
    let mut env = Vec::new();
    let (server, base, netns) = match target {
        Target::Http { seed: s, faults } => {
            let server = crate::support::server();
            if s {
                seed(&server, NAME);
            }
            server.push_faults(faults());
            let base = server.base_url();
            (Some(server), base, false)
        }
        Target::Refused => (None, format!("http://127.0.0.1:{}", closed_port()), false),
        Target::Dns => (None, "https://vault-fetch-relay.invalid".into(), true),
        Target::Tls(kind) => {
            let (pki, trust) = match kind {
                TlsFault::UnknownCa => (pki(false, &["localhost"]), false),
                TlsFault::WrongHost => (pki(false, &["vault.example.com"]), true),
                TlsFault::Expired => (pki(true, &["localhost"]), true),
            };
            if trust {
                let ca = write_temp(dir.path(), "ca.pem", &pki.ca_pem);
                env.push(("SSL_CERT_FILE".into(), ca.to_str().unwrap().into()));
            }
            let server = tls_server(pki.identity);
            seed(&server, NAME);
            let base = server.base_url();
            (Some(server), base, false)
        }
    };
    Prepared {
        server,
        base,
        env,
        netns,
        dir,
    }
}

/// What one run measured; `error` lists every broken expectation.
struct Outcome {
    elapsed: Duration,
    requests: usize,
    errors: Vec<String>,
}

fn run_one(case: &Case, mode: Mode, strict: bool) -> Outcome {
    let p = prepare(case.target);
    let deadline = case.bound.deadline_s();
    let base_cmd = |args: &[&str]| -> Command {
        let mut c = if p.netns { cmd_netns(args) } else { cmd(args) };
        for (k, v) in &p.env {
            c.env(k, v);
        }
        c
    };
    let limit = Duration::from_secs(deadline + 20);
    let mut errors = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            errors.push(what);
        }
    };
    let relay_dir = p.dir.path().join("relay");
    let run = match mode {
        Mode::Terraform => {
            let query = json!({
                "api_key": CANARY_KEY,
                "api_base": p.base,
                "timeout_seconds": deadline.to_string(),
                "strict": strict.to_string(),
            });
            run_with(base_cmd(&[]), &query.to_string(), limit)
        }
        Mode::Init => {
            // A stale credentials.json from an earlier run must not survive a failure.
            std::fs::create_dir_all(&relay_dir).unwrap();
            let stale = RelayCredentials::generate(None).unwrap();
            std::fs::write(relay_dir.join("credentials.json"), stale.to_vault_value()).unwrap();
            let mut args = vec!["init", "--dir", relay_dir.to_str().unwrap()];
            if strict {
                args.push("--strict");
            }
            let mut c = base_cmd(&args);
            c.env("WORKOS_API_KEY", CANARY_KEY)
                .env("WORKOS_API_BASE", &p.base)
                .env("VAULT_FETCH_TIMEOUT_SECONDS", deadline.to_string());
            run_with(c, "", limit)
        }
    };
    let requests = p.server.as_ref().map_or(0, |s| s.request_count());
    let status = case.status;
    let want_code = match exit_codes(status) {
        (soft, _) if !strict => soft,
        (_, hard) => hard,
    };
    let failed = want_code != 0;
    check(
        run.code == Some(want_code),
        format!("exit code {:?}, want {want_code}", run.code),
    );
    check(
        !run.stderr.contains("panicked"),
        format!("panicked: {}", run.stderr),
    );
    let level = if failed { "error" } else { "warning" };
    let line = format!("vault-fetch-relay: {level}: {status}: ");
    check(
        run.stderr.contains(&line),
        format!("stderr lacks {line:?}: {}", run.stderr.trim()),
    );
    match mode {
        Mode::Terraform if failed => {
            check(
                run.stdout.is_empty(),
                format!("strict run printed {:?}", run.stdout),
            );
        }
        Mode::Terraform => match serde_json::from_str::<serde_json::Value>(&run.stdout) {
            Ok(v) => {
                check(
                    v["status"] == status,
                    format!("terraform status {}, want {status}", v["status"]),
                );
                check(
                    v["secret_key"] == "" && v["relay_id"] == "",
                    format!("credentials in a failed run: {v}"),
                );
            }
            Err(e) => check(false, format!("stdout is not JSON ({e}): {:?}", run.stdout)),
        },
        // A failing run writes nothing: the directory is as the earlier run left it.
        Mode::Init if failed => {
            check(
                relay_dir.join("credentials.json").exists()
                    && !relay_dir.join("config.yml").exists(),
                "a failing init run changed its directory".into(),
            );
        }
        Mode::Init => {
            check(
                !relay_dir.join("credentials.json").exists(),
                "credentials.json exists after a degraded run".into(),
            );
            let config = std::fs::read_to_string(relay_dir.join("config.yml")).unwrap_or_default();
            let mode = yaml_rust2::YamlLoader::load_from_str(&config)
                .ok()
                .and_then(|d| {
                    d.first()
                        .and_then(|y| y["relay"]["mode"].as_str().map(String::from))
                });
            check(
                mode.as_deref() == Some("proxy"),
                format!("config.yml mode {mode:?}, want proxy: {config:?}"),
            );
        }
    }
    check(
        requests == case.requests,
        format!("server saw {requests} requests, want {}", case.requests),
    );
    let (lo, hi) = case.bound.window();
    check(
        run.elapsed >= lo && run.elapsed <= hi,
        format!(
            "took {:?}, want {lo:?}..={hi:?} ({})",
            run.elapsed,
            case.bound.describe()
        ),
    );
    check(
        run.elapsed < Duration::from_secs(deadline) + MARGIN,
        format!("took {:?}, past the {deadline} s deadline", run.elapsed),
    );
    Outcome {
        elapsed: run.elapsed,
        requests,
        errors,
    }
}

#[test]
fn every_fault_degrades_as_documented_within_its_bound() {
    let cases = cases();
    let skip_dns = !netns_available();
    if skip_dns {
        note_skip("the DNS fault case needs `unshare -n` (an empty network namespace) so no query leaves the machine");
    }
    let mut jobs = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if skip_dns && matches!(case.target, Target::Dns) {
            continue;
        }
        for mode in [Mode::Terraform, Mode::Init] {
            for strict in [false, true] {
                jobs.push((i, mode, strict));
            }
        }
    }
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                let j = next.fetch_add(1, Ordering::SeqCst);
                let Some(&(i, mode, strict)) = jobs.get(j) else {
                    break;
                };
                let outcome = catch_unwind(AssertUnwindSafe(|| run_one(&cases[i], mode, strict)))
                    .unwrap_or_else(|p| Outcome {
                        elapsed: Duration::ZERO,
                        requests: 0,
                        errors: vec![format!(
                            "the run panicked: {}",
                            p.downcast_ref::<String>()
                                .cloned()
                                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default()
                        )],
                    });
                results.lock().unwrap().push((i, mode, strict, outcome));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, mode, strict, _)| (*i, *mode == Mode::Init, *strict));

    // The measured matrix, for the log (`--nocapture`).
    eprintln!(
        "{:<48} {:<15} {:>4}  {:>24}  {:>24}",
        "fault", "status", "reqs", "terraform soft/strict", "init soft/strict"
    );
    for (i, case) in cases.iter().enumerate() {
        let row: Vec<&(usize, Mode, bool, Outcome)> = results.iter().filter(|r| r.0 == i).collect();
        if row.is_empty() {
            continue;
        }
        let t = |m: Mode, s: bool| {
            row.iter()
                .find(|r| r.1 == m && r.2 == s)
                .map_or("-".to_string(), |r| {
                    format!("{:.2}s", r.3.elapsed.as_secs_f64())
                })
        };
        let reqs: Vec<String> = row.iter().map(|r| r.3.requests.to_string()).collect();
        eprintln!(
            "{:<48} {:<15} {:>4}  {:>11} /{:>11}  {:>11} /{:>11}",
            case.fault,
            case.status,
            reqs.join(","),
            t(Mode::Terraform, false),
            t(Mode::Terraform, true),
            t(Mode::Init, false),
            t(Mode::Init, true)
        );
    }
    eprintln!(
        "{} runs in {:.1} s",
        results.len(),
        started.elapsed().as_secs_f64()
    );

    let failures: Vec<String> = results
        .iter()
        .filter(|r| !r.3.errors.is_empty())
        .map(|(i, mode, strict, o)| {
            format!(
                "{} [{mode:?}{}]: {}",
                cases[*i].fault,
                if *strict { ", strict" } else { "" },
                o.errors.join("; ")
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} runs broke an expectation:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
}

/// The documentation table, rendered from the case list.
fn failure_behaviour_doc() -> String {
    let mut out = String::from(
        "## Failure behaviour\n\n\
         <!-- Generated by tests/fault_matrix.rs from its case list; do not edit by hand.\n     Regenerate with: VFR_UPDATE_DOCS=1 cargo test --test tests -- fault_matrix::readme -->\n\n\
         Every row is a test case, run through the real binary in Terraform mode and in\n\
         `init` mode, non-strict and strict. Without credentials, Terraform mode prints\n\
         the usual keys with empty credential values and the `status`; `init` writes\n\
         `config.yml` with `mode: proxy`, removes any stale `credentials.json` and prints\n\
         one warning line naming the status. Exit codes are the same in both modes: 0\n\
         by default, 1 with `strict`, and 1 either way for `wrong_api_base` (a\n\
         configuration error: the pipeline stops). A run that exits 1 prints no result\n\
         and writes no file; its one stderr line is an `error:`. *Requests* is what\n\
         the server received: retries\n\
         happen only for connection errors, timeouts, 408, 429 and 500/502/503/504\n\
         (4 attempts at most), and TLS failures end before a request is sent.\n\n\
         | Fault | `status` | Exit (non-strict / strict) | Requests | Bounded by |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for c in cases() {
        let (soft, hard) = exit_codes(c.status);
        out.push_str(&format!(
            "| {} | `{}` | {soft} / {hard} | {} | {} |\n",
            c.fault,
            c.status,
            c.requests,
            c.bound.describe()
        ));
    }
    out.push_str(&format!(
        "\nThe run deadline is `timeout_seconds` / `VAULT_FETCH_TIMEOUT_SECONDS` (default\n\
         30 s; the matrix uses {HANG_DEADLINE_S} s for the hanging cases). A `Retry-After`\n\
         wait that would end past the deadline is not taken: the run ends at once. The\n\
         DNS case runs in an empty network namespace, so its lookup fails without any\n\
         packet leaving the machine.\n"
    ));
    out
}

const DOC_START: &str = "<!-- failure-behaviour:start -->\n";
const DOC_END: &str = "<!-- failure-behaviour:end -->";

/// docs/reference.md's "Failure behaviour" section is this case list rendered; it must not drift.
#[test]
fn readme_failure_table_matches_the_case_list() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (Some(start), Some(end)) = (readme.find(DOC_START), readme.find(DOC_END)) else {
        panic!("docs/reference.md lacks the {DOC_START:?} ... {DOC_END:?} markers");
    };
    let have = &readme[start + DOC_START.len()..end];
    let want = failure_behaviour_doc();
    if std::env::var("VFR_UPDATE_DOCS").as_deref() == Ok("1") {
        let updated = format!(
            "{}{want}{}",
            &readme[..start + DOC_START.len()],
            &readme[end..]
        );
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert!(
        have == want,
        "docs/reference.md's failure table is out of date with the fault matrix; run VFR_UPDATE_DOCS=1 cargo test --test tests -- fault_matrix::readme"
    );
}

/// RFC 9112 §6.3: every invalid Content-Length is a framing error (before: the first of
/// two values won, and `-1`, `abc`, `0x10` read the body to the close and came back
/// `found`). RFC 9110 §15.2: interim 1xx responses before the answer are skipped
/// (before: "unexpected HTTP 100").
#[test]
fn framing_is_checked_and_interim_responses_are_skipped() {
    let run = |faults: Vec<Fault>| {
        let s = crate::support::server();
        let c = seed(&s, NAME);
        s.push_faults(faults);
        let query =
            json!({"api_key": CANARY_KEY, "api_base": s.base_url(), "timeout_seconds": "5"});
        let run = run_with(cmd(&[]), &query.to_string(), Duration::from_secs(20));
        (run, s.request_count(), c)
    };
    for bad in [
        vec!["533", "40"],
        vec!["-1"],
        vec!["abc"],
        vec!["+533"],
        vec!["0x10"],
        vec!["1e3"],
        vec![""],
        vec!["99999999999999999999999"],
    ] {
        let values = bad.iter().map(|v| v.to_string()).collect();
        let (run, requests, _) = run(vec![Fault::ContentLength(values)]);
        let m = run.terraform_map();
        assert_eq!(m["status"], "unavailable", "{bad:?}: {m:?}");
        assert!(
            m["reason"].contains("Content-Length"),
            "{bad:?}: {}",
            m["reason"]
        );
        assert_eq!(requests, 1, "{bad:?}: framing errors are not retried");
    }
    // Valid framings still work: one value, a list of equal values, repeated lines.
    for good in [vec!["{len}"], vec!["{len}, {len}"], vec!["{len}", "{len}"]] {
        let values = good.iter().map(|v| v.to_string()).collect();
        let (run, _, c) = run(vec![Fault::ContentLength(values)]);
        let m = run.terraform_map();
        assert_eq!(m["status"], "found", "{good:?}: {m:?}");
        assert_eq!(m["relay_id"], c.relay_id);
    }
    for interim in [vec![100], vec![103], vec![100, 102, 103]] {
        let (run, requests, c) = run(vec![Fault::InterimThen(interim.clone())]);
        let m = run.terraform_map();
        assert_eq!(m["status"], "found", "{interim:?}: {m:?} {}", run.stderr);
        assert_eq!(m["relay_id"], c.relay_id);
        assert_eq!(requests, 1);
    }
    // A connection that drops after an interim response is a drop, retried like any
    // other, not a framing error that ends the run.
    let (run, requests, c) = run(vec![Fault::Raw(b"HTTP/1.1 100 Continue\r\n\r\n".to_vec())]);
    let m = run.terraform_map();
    assert_eq!(m["status"], "found", "{m:?} {}", run.stderr);
    assert_eq!(m["relay_id"], c.relay_id);
    assert_eq!(requests, 2);
}

/// A response head over the client's 16 KiB limit is refused at once (the same head would
/// come again), not read into a stalled buffer and retried.
#[test]
fn an_oversized_response_head_is_refused_unretried() {
    let s = crate::support::server();
    seed(&s, NAME);
    let head = format!(
        "HTTP/1.1 200 OK\r\nX-Padding: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "p".repeat(20 * 1024)
    );
    s.push_faults(vec![Fault::Raw(head.into_bytes())]);
    let query = json!({"api_key": CANARY_KEY, "api_base": s.base_url(), "timeout_seconds": "5"});
    let run = run_with(cmd(&[]), &query.to_string(), Duration::from_secs(20));
    let m = run.terraform_map();
    assert_eq!(m["status"], "unavailable", "{m:?}");
    assert!(
        m["reason"].contains("head is larger than 16 KiB"),
        "{}",
        m["reason"]
    );
    assert_eq!(s.request_count(), 1);
}

/// Issue 27, item 7: a head that does not parse as HTTP (an obs-fold line) and a broken
/// chunked body end the fetch and the upstream preflight at once, in one line naming
/// what was seen; the server sees one request, never four.
#[test]
fn unparsable_answers_end_the_run_unretried_naming_what_was_seen() {
    for (fault, seen) in [
        (folded_200 as fn() -> Fault, "folded"),
        (broken_chunked_200, "chunk"),
    ] {
        // The WorkOS read, in Terraform mode.
        let s = crate::support::server();
        seed(&s, NAME);
        s.push_faults(times(6, fault()));
        let query =
            json!({"api_key": CANARY_KEY, "api_base": s.base_url(), "timeout_seconds": "8"});
        let run = run_with(cmd(&[]), &query.to_string(), Duration::from_secs(30));
        let m = run.terraform_map();
        assert_eq!(m["status"], "unavailable", "{seen}: {m:?}");
        assert!(m["reason"].contains(seen), "{seen}: {}", m["reason"]);
        assert!(!m["reason"].contains("TLS port"), "{seen}: {}", m["reason"]);
        assert_eq!(s.request_count(), 1, "{seen}: not retried");
        assert!(
            run.elapsed < Duration::from_secs(3),
            "{seen}: {:?}",
            run.elapsed
        );
        // The upstream preflight: the first step's answer.
        let s = crate::support::server();
        seed(&s, NAME);
        for _ in 0..6 {
            s.upstream()
                .push_fault(vfr_devserver::UpstreamFault::Http(fault()));
        }
        let base = s.base_url();
        let mut c = cmd(&["check", "--format", "json", "--upstream", &base]);
        c.env("WORKOS_API_KEY", CANARY_KEY)
            .env("WORKOS_API_BASE", s.base_url());
        let run = run_with(c, "", Duration::from_secs(30));
        let v: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{seen}: not JSON ({e}): {}", run.text()));
        assert_eq!(run.code, Some(1), "{seen}: {}", run.text());
        assert_eq!(v["upstream"]["result"], "not_sentry", "{seen}: {v}");
        assert_eq!(v["upstream"]["attempts"], 1, "{seen}: {v}");
        let reason = v["upstream"]["reason"].as_str().unwrap();
        assert!(reason.contains(seen), "{seen}: {reason}");
        let upstream_requests = s
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/api/0/relays/"))
            .count();
        assert_eq!(upstream_requests, 1, "{seen}: not retried");
    }
}
