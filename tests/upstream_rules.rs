//! Issue 27: the preflight's rules, black-box through the binary against the dev
//! server's Sentry stand-in (its fault script answers the step a test names; the other
//! steps get the stand-in's real answers).
//!
//! - Every shape of a project-config answer is classified the way relay 26.9.0 reads it
//!   (relay-server `services/projects/source/upstream.rs`): a config is served, a key
//!   under `pending` is pending, `{"disabled": true}`, `null` and a missing key are
//!   disabled (exit 6), and a value relay cannot parse is not Sentry's answer (exit 1).
//! - The upstream asked is the one relay will use, and the one config.yml names: every
//!   combination of `--upstream`, `VAULT_FETCH_UPSTREAM_URL`, `RELAY_UPSTREAM_URL`, a
//!   template's `relay.upstream` and the default.
//! - U+2028 / U+2029 in Sentry's text never split a line of stderr or a row of `check`.
//! - Upstream URLs relay accepts (`/?`, `/#frag`) are accepted.
//! - One 401 "Challenge expired" gets one fresh challenge, as relay registers again.

use std::fs;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use vfr_devserver::UpstreamFault;

use crate::support::*;
use crate::upstream::{check_json, seeded, DSN_KEY, LIMIT};

/// Every line break a reader may split on: LF, CR, NEL, LS, PS (and VT, FF).
fn unicode_lines(text: &str) -> Vec<&str> {
    text.split([
        '\n', '\r', '\u{85}', '\u{2028}', '\u{2029}', '\u{b}', '\u{c}',
    ])
    .filter(|l| !l.is_empty())
    .collect()
}

/// A dev server holding credentials whose DSN names DSN_KEY, and whose upstream side
/// trusts them for that project.
fn trusted() -> (DevServer, RelayCredentials) {
    let (s, c) = seeded();
    trust(&s, &c);
    (s, c)
}

fn trust(s: &DevServer, c: &RelayCredentials) {
    s.upstream().trust(&c.public_key);
    s.upstream().add_dsn_key(DSN_KEY);
}

/// The stand-in answers the next `n` upstream requests itself, then applies `fault`.
fn after(s: &DevServer, n: usize, fault: Fault) {
    for _ in 0..n {
        s.upstream()
            .push_fault(UpstreamFault::Http(Fault::Delay(Duration::ZERO)));
    }
    s.upstream().push_fault(UpstreamFault::Http(fault));
}

/// Requests the upstream side of `s` received.
fn upstream_requests(s: &DevServer) -> Vec<String> {
    s.requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/0/relays/"))
        .map(|r| r.path)
        .collect()
}

fn with_keys(mut c: Command, s: &DevServer) -> Command {
    c.env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", s.base_url());
    c
}

/// Item 1: one row per shape of the answer for the DSN's key.
#[test]
fn project_config_answers_are_read_the_way_relay_reads_them() {
    let config = json!({
        "disabled": false,
        "slug": "p",
        "publicKeys": [{"publicKey": DSN_KEY, "isEnabled": true}],
        "config": {},
    });
    let mut extra = config.clone();
    extra["somethingNewer"] = json!({"x": [1, 2]});
    // (answer, project, exit, result, cause)
    let rows: Vec<(Value, &str, i32, &str, Value)> = vec![
        (
            json!({"configs": {DSN_KEY: config}}),
            "served",
            0,
            "accepted",
            Value::Null,
        ),
        (
            json!({"configs": {DSN_KEY: extra}, "unknownTopLevel": true}),
            "served",
            0,
            "accepted",
            Value::Null,
        ),
        (
            json!({"configs": {DSN_KEY: {}}}),
            "served",
            0,
            "accepted",
            Value::Null,
        ),
        (
            json!({"configs": {}, "pending": [DSN_KEY]}),
            "pending",
            0,
            "accepted",
            Value::Null,
        ),
        (
            json!({"configs": {DSN_KEY: {"disabled": true}}}),
            "disabled",
            6,
            "refused",
            json!("project_not_served"),
        ),
        (
            json!({"configs": {DSN_KEY: null}}),
            "disabled",
            6,
            "refused",
            json!("project_not_served"),
        ),
        (
            json!({"configs": {}}),
            "disabled",
            6,
            "refused",
            json!("project_not_served"),
        ),
        (
            json!({}),
            "disabled",
            6,
            "refused",
            json!("project_not_served"),
        ),
        (
            json!({"configs": {DSN_KEY: 5}}),
            "not_checked",
            1,
            "not_sentry",
            Value::Null,
        ),
        (
            json!({"configs": {DSN_KEY: {"disabled": "yes"}}}),
            "not_checked",
            1,
            "not_sentry",
            Value::Null,
        ),
        (
            json!({"configs": {DSN_KEY: "served"}}),
            "not_checked",
            1,
            "not_sentry",
            Value::Null,
        ),
        (
            json!({"configs": 5}),
            "not_checked",
            1,
            "not_sentry",
            Value::Null,
        ),
    ];
    let mut problems = Vec::new();
    for (answer, project, code, result, cause) in rows {
        let (s, c) = trusted();
        after(&s, 2, Fault::status(200, answer.to_string()));
        let (run, v) = check_json(&s, &s.base_url(), &[]);
        let u = &v["upstream"];
        let got = (
            u["project"].as_str().unwrap_or_default().to_string(),
            run.code,
            u["result"].as_str().unwrap_or_default().to_string(),
            u["cause"].clone(),
        );
        let want = (project.to_string(), Some(code), result.to_string(), cause);
        if got != want {
            problems.push(format!(
                "{answer}: got {got:?}, want {want:?}: {}",
                run.text()
            ));
        }
        if upstream_requests(&s).len() != 3 {
            problems.push(format!("{answer}: {:?}", upstream_requests(&s)));
        }
        assert_no_leak(&run.text(), Some(&c));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Item 1 through `init --verify-upstream`: an answer relay reads as disabled writes
/// proxy mode (exit 0, or 1 with --strict), never managed mode, and never a
/// configuration error.
#[test]
fn init_writes_proxy_mode_for_a_project_relay_reads_as_disabled() {
    for answer in [json!({"configs": {DSN_KEY: null}}), json!({"configs": {}})] {
        for strict in [false, true] {
            let (s, _) = trusted();
            after(&s, 2, Fault::status(200, answer.to_string()));
            let dir = tempfile::tempdir().unwrap();
            let relay = dir.path().join("relay");
            let base = s.base_url();
            let mut args = vec![
                "init",
                "--verify-upstream",
                "--upstream",
                &base,
                "--dir",
                relay.to_str().unwrap(),
            ];
            if strict {
                args.push("--strict");
            }
            let run = run_with(with_keys(cmd(&args), &s), "", LIMIT);
            let label = format!("{answer} strict={strict}");
            assert_eq!(
                run.code,
                Some(if strict { 1 } else { 0 }),
                "{label}: {}",
                run.text()
            );
            assert!(
                run.stderr.contains("upstream_refused"),
                "{label}: {}",
                run.stderr
            );
            assert!(!relay.join("credentials.json").exists(), "{label}");
            if strict {
                assert!(!relay.exists(), "{label}: a failing run writes nothing");
            } else {
                let yml = fs::read_to_string(relay.join("config.yml")).unwrap();
                assert_eq!(relay_of(&yml)["mode"], "proxy", "{label}: {yml}");
            }
        }
    }
}

/// The `relay:` section of a config.yml, read by relay's YAML library.
fn relay_of(yml: &str) -> serde_yaml::Value {
    let doc: serde_yaml::Value = serde_yaml::from_str(yml).unwrap();
    doc["relay"].clone()
}

/// How one `init` (or `exec --once --dir`) ended: exit, config.yml's upstream (None when
/// nothing was written), and how many preflight requests each stand-in received.
#[derive(Debug, PartialEq)]
struct Outcome {
    code: Option<i32>,
    written: Option<String>,
    /// WorkOS reads.
    fetched: usize,
    asked_a: usize,
    asked_b: usize,
}

/// Item 2: two upstreams, A (the dev server holding the secret) and B (another stand-in),
/// both trusting the relay.
struct Rig {
    a: DevServer,
    b: DevServer,
    dir: tempfile::TempDir,
}

impl Rig {
    fn new() -> Rig {
        let (a, c) = trusted();
        let b = server();
        trust(&b, &c);
        Rig {
            a,
            b,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn a(&self) -> String {
        self.a.base_url()
    }

    fn b(&self) -> String {
        self.b.base_url()
    }

    /// A template whose relay.upstream is `upstream` (none when `None`).
    fn template(&self, upstream: Option<&str>) -> String {
        let path = self.dir.path().join(format!("t{}.yml", rand_suffix()));
        let body = match upstream {
            Some(u) => format!("relay:\n  mode: managed\n  upstream: {u}\n  port: 3001\n"),
            None => "relay:\n  mode: managed\n  port: 3001\n".to_string(),
        };
        fs::write(&path, body).unwrap();
        path.to_str().unwrap().to_string()
    }

    /// Run `sub` (`init` or `exec`) with `args` and `env`; what it wrote and asked.
    fn run(&self, sub: &str, verify: bool, args: &[&str], env: &[(&str, &str)]) -> (Outcome, Run) {
        let relay = self.dir.path().join(format!("relay{}", rand_suffix()));
        let relay_s = relay.to_str().unwrap().to_string();
        let mut all: Vec<&str> = match sub {
            "init" => vec!["init", "--dir", &relay_s],
            _ => vec!["exec", "--once", "--dir", &relay_s],
        };
        if verify {
            all.push("--verify-upstream");
        }
        all.extend_from_slice(args);
        if sub == "exec" {
            all.extend(["--", "true"]);
        }
        let mut c = with_keys(cmd(&all), &self.a);
        for (k, v) in env {
            c.env(k, v);
        }
        let before = (
            upstream_requests(&self.a).len(),
            upstream_requests(&self.b).len(),
            self.a.request_count(),
        );
        let run = run_with(c, "", LIMIT);
        let written = fs::read_to_string(relay.join("config.yml"))
            .ok()
            .map(|yml| {
                relay_of(&yml)["upstream"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string()
            });
        let asked_a = upstream_requests(&self.a).len() - before.0;
        let outcome = Outcome {
            code: run.code,
            written,
            fetched: self.a.request_count() - before.2 - asked_a,
            asked_a,
            asked_b: upstream_requests(&self.b).len() - before.1,
        };
        (outcome, run)
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// `http://127.0.0.1:P` as relay's config.yml holds it after a round trip.
fn slash(url: &str) -> String {
    format!("{}/", url.trim_end_matches('/'))
}

/// Item 2: every combination, by the config.yml written and the upstream asked.
#[test]
fn the_upstream_asked_is_the_one_relay_will_use() {
    let rig = Rig::new();
    let (a, b) = (rig.a(), rig.b());
    let ta = rig.template(Some(&a));
    let none = rig.template(None);
    let ok = |written: Option<&str>, asked_a, asked_b| Outcome {
        code: Some(0),
        written: written.map(String::from),
        fetched: 1,
        asked_a,
        asked_b,
    };
    let refused = || Outcome {
        code: Some(1),
        written: None,
        fetched: 0,
        asked_a: 0,
        asked_b: 0,
    };
    let (ua, ub) = (slash(&a), slash(&b));
    type Case<'a> = (
        &'a str,
        &'a str,
        bool,
        Vec<&'a str>,
        Vec<(&'a str, &'a str)>,
        Outcome,
    );
    let cases: Vec<Case> = vec![
        // No template: config.yml gets the upstream asked.
        (
            "default",
            "init",
            false,
            vec![],
            vec![],
            ok(Some("https://sentry.io/"), 0, 0),
        ),
        (
            "flag",
            "init",
            true,
            vec!["--upstream", &b],
            vec![],
            ok(Some(&ub), 0, 3),
        ),
        (
            "our variable",
            "init",
            true,
            vec![],
            vec![("VAULT_FETCH_UPSTREAM_URL", &b)],
            ok(Some(&ub), 0, 3),
        ),
        (
            "relay's variable",
            "init",
            true,
            vec![],
            vec![("RELAY_UPSTREAM_URL", &b)],
            ok(Some(&ub), 0, 3),
        ),
        // RELAY_UPSTREAM_URL overrides config.yml in relay: a different flag could never apply.
        (
            "flag and a different RELAY_UPSTREAM_URL",
            "init",
            true,
            vec!["--upstream", &b],
            vec![("RELAY_UPSTREAM_URL", &a)],
            refused(),
        ),
        (
            "our variable and a different RELAY_UPSTREAM_URL",
            "init",
            false,
            vec![],
            vec![("VAULT_FETCH_UPSTREAM_URL", &b), ("RELAY_UPSTREAM_URL", &a)],
            refused(),
        ),
        (
            "flag equal to RELAY_UPSTREAM_URL",
            "init",
            true,
            vec!["--upstream", &ub],
            vec![("RELAY_UPSTREAM_URL", &b)],
            ok(Some(&ub), 0, 3),
        ),
        // A template: its relay.upstream is what relay uses; only the mode changes.
        (
            "template",
            "init",
            true,
            vec!["--config-template", &ta],
            vec![],
            ok(Some(&a), 3, 0),
        ),
        (
            "template and a different flag",
            "init",
            true,
            vec!["--config-template", &ta, "--upstream", &b],
            vec![],
            refused(),
        ),
        (
            "template and a different flag, no verify",
            "init",
            false,
            vec!["--config-template", &ta, "--upstream", &b],
            vec![],
            refused(),
        ),
        (
            "template and a different VAULT_FETCH_UPSTREAM_URL",
            "init",
            true,
            vec!["--config-template", &ta],
            vec![("VAULT_FETCH_UPSTREAM_URL", &b)],
            refused(),
        ),
        (
            "template and the same flag",
            "init",
            true,
            vec!["--config-template", &ta, "--upstream", &ua],
            vec![],
            ok(Some(&a), 3, 0),
        ),
        (
            "template and RELAY_UPSTREAM_URL",
            "init",
            true,
            vec!["--config-template", &ta],
            vec![("RELAY_UPSTREAM_URL", &b)],
            ok(Some(&a), 0, 3),
        ),
        (
            "template, RELAY_UPSTREAM_URL and the same flag",
            "init",
            true,
            vec!["--config-template", &ta, "--upstream", &b],
            vec![("RELAY_UPSTREAM_URL", &b)],
            ok(Some(&a), 0, 3),
        ),
        (
            "template, RELAY_UPSTREAM_URL and the template's value as flag",
            "init",
            true,
            vec!["--config-template", &ta, "--upstream", &a],
            vec![("RELAY_UPSTREAM_URL", &b)],
            refused(),
        ),
        // A template without relay.upstream: relay's default, https://sentry.io/.
        (
            "template without an upstream and a flag",
            "init",
            false,
            vec!["--config-template", &none, "--upstream", &b],
            vec![],
            refused(),
        ),
        (
            "template without an upstream",
            "init",
            false,
            vec!["--config-template", &none],
            vec![],
            ok(Some("-"), 0, 0),
        ),
        // exec --once --dir writes the same files by the same rule.
        (
            "exec: flag",
            "exec",
            true,
            vec!["--upstream", &b],
            vec![],
            ok(Some(&ub), 0, 3),
        ),
        (
            "exec: template and a different flag",
            "exec",
            true,
            vec!["--config-template", &ta, "--upstream", &b],
            vec![],
            refused(),
        ),
        (
            "exec: template and RELAY_UPSTREAM_URL",
            "exec",
            true,
            vec!["--config-template", &ta],
            vec![("RELAY_UPSTREAM_URL", &b)],
            ok(Some(&a), 0, 3),
        ),
    ];
    let mut problems = Vec::new();
    for (name, sub, verify, args, env, want) in cases {
        let (got, run) = rig.run(sub, verify, &args, &env);
        if got != want {
            problems.push(format!(
                "{name}: got {got:?}, want {want:?}: {}",
                run.stderr
            ));
            continue;
        }
        if want.code == Some(1) {
            // One line naming the settings involved, before any request.
            let lines = unicode_lines(run.stderr.trim());
            if lines.len() != 1 || !run.stderr.contains("upstream") {
                problems.push(format!("{name}: not one line: {}", run.stderr));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Item 3: LS and PS in Sentry's detail leave init's warning one line, and check's report
/// its 15 rows, for a reader that splits on every Unicode line break.
#[test]
fn unicode_line_breaks_in_sentry_text_never_split_a_line() {
    for brk in ["\u{2028}", "\u{2029}", "\u{85}", "\r\n"] {
        let detail = format!("denied{brk}injected: 1{brk}relay: {{mode: managed}}");
        let body = json!({ "detail": detail }).to_string();
        // init: refused at the challenge, one warning line, proxy mode.
        let (s, _) = trusted();
        s.upstream()
            .push_fault(UpstreamFault::Http(Fault::status(403, body.clone())));
        let dir = tempfile::tempdir().unwrap();
        let relay = dir.path().join("relay");
        let base = s.base_url();
        let run = run_with(
            with_keys(
                cmd(&[
                    "init",
                    "--verify-upstream",
                    "--upstream",
                    &base,
                    "--dir",
                    relay.to_str().unwrap(),
                ]),
                &s,
            ),
            "",
            LIMIT,
        );
        assert_eq!(run.code, Some(0), "{brk:?}: {}", run.text());
        let lines = unicode_lines(&run.stderr);
        assert_eq!(lines.len(), 1, "{brk:?}: {lines:?}");
        assert!(lines[0].contains("warning: upstream_refused"), "{lines:?}");
        assert!(
            lines[0].contains("denied") && lines[0].contains("injected: 1"),
            "{brk:?}: {lines:?}"
        );
        let yml = fs::read_to_string(relay.join("config.yml")).unwrap();
        assert_eq!(relay_of(&yml)["mode"], "proxy");
        // check: the same refusal, 15 rows, each a label and its value.
        let (s, _) = trusted();
        s.upstream()
            .push_fault(UpstreamFault::Http(Fault::status(403, body.clone())));
        let base = s.base_url();
        let run = run_with(
            with_keys(cmd(&["check", "--upstream", &base]), &s),
            "",
            LIMIT,
        );
        assert_eq!(run.code, Some(6), "{brk:?}: {}", run.text());
        let rows = unicode_lines(&run.stdout);
        assert_eq!(rows.len(), 15, "{brk:?}: {rows:#?}");
        assert!(
            rows.iter().all(|r| r
                .split_once(": ")
                .is_some_and(|(k, _)| !k.contains("injected"))),
            "{brk:?}: {rows:#?}"
        );
        assert_eq!(unicode_lines(&run.stderr).len(), 0, "{}", run.stderr);
        // JSON: the detail is one line too.
        let (s, _) = trusted();
        s.upstream()
            .push_fault(UpstreamFault::Http(Fault::status(403, body)));
        let (_, v) = check_json(&s, &s.base_url(), &[]);
        for text in [
            v["upstream"]["reason"].as_str().unwrap(),
            v["upstream"]["steps"][0]["detail"].as_str().unwrap(),
        ] {
            assert_eq!(unicode_lines(text).len(), 1, "{brk:?}: {text:?}");
        }
    }
}

/// Item 4: relay's parser takes an empty query and ignores a fragment; so do we. A query
/// with content, a path, and user info stay refused.
#[test]
fn upstream_urls_relay_accepts_are_accepted() {
    let (s, _) = trusted();
    let base = s.base_url();
    for url in [
        format!("{base}/?"),
        format!("{base}/#frag"),
        format!("{base}?#x"),
    ] {
        let (run, v) = check_json(&s, &url, &[]);
        assert_eq!(run.code, Some(0), "{url}: {}", run.text());
        assert_eq!(v["upstream"]["project"], "served", "{url}");
        // init writes what relay reads: scheme, host and port.
        let dir = tempfile::tempdir().unwrap();
        let relay = dir.path().join("relay");
        let run = run_with(
            with_keys(
                cmd(&["init", "--upstream", &url, "--dir", relay.to_str().unwrap()]),
                &s,
            ),
            "",
            LIMIT,
        );
        assert_eq!(run.code, Some(0), "{url}: {}", run.text());
        let yml = fs::read_to_string(relay.join("config.yml")).unwrap();
        assert_eq!(
            relay_of(&yml)["upstream"].as_str(),
            Some(slash(&base).as_str()),
            "{yml}"
        );
    }
    let before = s.request_count();
    for url in [
        format!("{base}/?x=1"),
        format!("{base}/api/"),
        format!("{base}/?#").replace("http://", "http://u@"),
    ] {
        let run = run_with(
            with_keys(cmd(&["check", "--upstream", &url]), &s),
            "",
            LIMIT,
        );
        assert_eq!(run.code, Some(1), "{url}: {}", run.text());
        assert_eq!(unicode_lines(run.stderr.trim()).len(), 1, "{}", run.stderr);
    }
    assert_eq!(s.request_count(), before, "refused before any request");
}

/// Also considered in issue 27: one 401 "Challenge expired" gets one fresh challenge, as
/// relay registers again; two in a row are a refusal (cause `expired`).
#[test]
fn an_expired_challenge_is_asked_again_once() {
    let expired = || Fault::status(401, r#"{"detail":"Challenge expired"}"#);
    let (s, _) = trusted();
    after(&s, 1, expired());
    let (run, v) = check_json(&s, &s.base_url(), &[]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(v["upstream"]["project"], "served");
    let asked = upstream_requests(&s);
    assert_eq!(asked.len(), 5, "{asked:?}");
    assert_eq!(v["upstream"]["attempts"], 5, "{v}");

    let (s, _) = trusted();
    after(&s, 1, expired());
    after(&s, 1, expired());
    let (run, v) = check_json(&s, &s.base_url(), &[]);
    assert_eq!(run.code, Some(6), "{}", run.text());
    assert_eq!(v["upstream"]["cause"], "expired", "{v}");
    assert_eq!(upstream_requests(&s).len(), 4);
}
