//! The dev server's Sentry upstream side, held to `sentry_relay`: requests a client
//! built on sentry_relay signs are accepted by it, our own preflight is accepted by
//! it, and its scripted faults (refuse, different key, disabled project, 5xx, hang)
//! give the documented outcomes. Where a relay binary is given (RELAY_BIN), relay in
//! managed mode registers against it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use crate::upstream::{check_json, seeded, DSN_KEY, LIMIT};
use serde_json::Value;
use vfr_devserver::UpstreamFault;

/// `check --upstream` at the dev server's own upstream side.
fn check(s: &DevServer, extra: &[&str]) -> (Run, Value) {
    check_json(s, &s.base_url(), extra)
}

#[test]
fn sentry_relay_signed_requests_are_accepted_by_the_stand_in() {
    let Some(py) = python_with("sentry_relay") else {
        return;
    };
    let (s, c) = seeded();
    s.upstream().trust(&c.public_key);
    s.upstream().add_dsn_key(DSN_KEY);
    let mut client = Command::new(py);
    client
        .arg(repo().join("tests/sdk/sentry_relay_client.py"))
        .env("UPSTREAM", s.base_url())
        .env("RELAY_ID", &c.relay_id)
        .env("RELAY_PUBLIC_KEY", &c.public_key)
        .env("RELAY_SECRET_KEY", c.secret_key.expose())
        .env("DSN_KEY", DSN_KEY);
    let run = run_tool(client);
    assert!(run.success(), "{}", run.text());
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["tampered"], 400,
        "a body the signature does not cover is refused: {v}"
    );
    assert_eq!(
        (
            v["challenge"].as_u64(),
            v["response"].as_u64(),
            v["project_configs"].as_u64()
        ),
        (Some(200), Some(200), Some(200)),
        "{v}"
    );
    assert_eq!(v["configs"]["configs"][DSN_KEY]["disabled"], false, "{v}");
    assert_eq!(
        s.upstream().registered(&c.relay_id).as_deref(),
        Some(c.public_key.as_str())
    );
    // The same relay, registered with sentry_relay's signatures, passes our preflight.
    let (run, v) = check(&s, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(v["upstream"]["project"], "served");
}

#[test]
fn our_preflight_meets_every_refusal_of_the_stand_in() {
    let (s, c) = seeded();
    let up = s.upstream();
    up.add_dsn_key(DSN_KEY);
    // Registration is open, but the organization does not trust the relay yet.
    let (run, v) = check(&s, &[]);
    assert_eq!(run.code, Some(6), "{}", run.text());
    assert_eq!(v["upstream"]["cause"], "project_not_served");
    up.trust(&c.public_key);
    let (run, v) = check(&s, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(v["upstream"]["project"], "served");
    // A rotation that kept the id: the id is registered with the old key.
    let rotated =
        vault_fetch_relay::credentials::RelayCredentials::generate(c.sentry_dsn.clone()).unwrap();
    let mut kept_id = rotated.clone();
    kept_id.relay_id = c.relay_id.clone();
    s.set_value(NAME, &kept_id.to_vault_value()).unwrap();
    up.trust(&kept_id.public_key);
    let (run, v) = check(&s, &[]);
    assert_eq!(run.code, Some(6), "{}", run.text());
    assert_eq!(v["upstream"]["cause"], "different_key");
    // The fix the hint names: a new relay id for the new key.
    s.set_value(NAME, &rotated.to_vault_value()).unwrap();
    up.trust(&rotated.public_key);
    let (run, _) = check(&s, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    // Closed registration: only trusted relays may register.
    up.set_closed(true);
    up.distrust(&rotated.public_key);
    let (run, v) = check(&s, &[]);
    assert_eq!(run.code, Some(6), "{}", run.text());
    assert_eq!(v["upstream"]["cause"], "not_allowed");
    up.trust(&rotated.public_key);
    assert_eq!(check(&s, &[]).0.code, Some(0));
}

#[test]
fn scripted_upstream_faults_leave_the_workos_side_alone() {
    let (s, c) = seeded();
    let up = s.upstream();
    up.trust(&c.public_key);
    up.add_dsn_key(DSN_KEY);
    for (fault, code, cause) in [
        (UpstreamFault::Refuse, 6, "not_allowed"),
        (UpstreamFault::DifferentKey, 6, "different_key"),
        (UpstreamFault::DisabledProject, 6, "project_not_served"),
    ] {
        up.push_fault(fault);
        let (run, v) = check(&s, &[]);
        assert_eq!(run.code, Some(code), "{cause}: {}", run.text());
        assert_eq!(
            v["status"], "found",
            "the WorkOS read took no upstream fault"
        );
        assert_eq!(v["upstream"]["cause"], cause);
    }
    // 5xx on every attempt: retried by the one policy, then unreachable.
    for _ in 0..4 {
        up.push_fault(UpstreamFault::Http(Fault::status(
            503,
            r#"{"detail":"busy"}"#,
        )));
    }
    let (run, v) = check(&s, &[]);
    assert_eq!(run.code, Some(7), "{}", run.text());
    assert_eq!(v["upstream"]["attempts"], 4, "{v}");
    // One 502, then the real answer: a retry hides it, and -v announces it as the
    // WorkOS fetch's retries are.
    up.push_fault(UpstreamFault::Http(Fault::status(502, "")));
    let (run, _) = check(&s, &["-v"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(
        run.stderr
            .contains("vault-fetch-relay: upstream attempt 1/4 failed: HTTP 502"),
        "{}",
        run.stderr
    );
    // A hang: the run's deadline ends it.
    up.push_fault(UpstreamFault::Http(Fault::Hang));
    let started = Instant::now();
    let (run, _) = check(&s, &["--timeout-seconds", "3"]);
    assert_eq!(run.code, Some(7), "{}", run.text());
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

/// relay itself, in managed mode, registers against the stand-in. No relay binary is in
/// the registries this suite installs from: RELAY_BIN names one, else a skip is noted.
#[test]
fn relay_in_managed_mode_registers_with_the_stand_in() {
    let Some(relay) = relay_bin("run relay against the dev server's upstream side") else {
        return;
    };
    let (s, c) = seeded();
    s.upstream().trust(&c.public_key);
    let dir = tempfile::tempdir().unwrap();
    let relay_dir = dir.path().join("relay");
    let mut init = cmd(&[
        "init",
        "--dir",
        relay_dir.to_str().unwrap(),
        "--upstream",
        &s.base_url(),
    ]);
    init.env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", s.base_url());
    let run = run_with(init, "", LIMIT);
    assert!(run.success(), "{}", run.text());
    let mut child = hermetic(&mut Command::new(relay))
        .args(["run", "--config"])
        .arg(&relay_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start relay");
    let until = Instant::now() + Duration::from_secs(60);
    while s.upstream().registered(&c.relay_id).is_none() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        s.upstream().registered(&c.relay_id).as_deref(),
        Some(c.public_key.as_str())
    );
}

/// `dev-server --seed --dsn-key KEY --closed-registration` trusts the seeded relay: it may
/// register although registration is closed, and the DSN key's project is served to it.
#[test]
fn dev_server_flags_seed_the_upstream_side() {
    let server =
        DevServerProcess::start(&["--seed", "--dsn-key", DSN_KEY, "--closed-registration"]);
    let (base, key) = (server.base.clone(), server.key.clone());
    let dsn = format!("https://{DSN_KEY}@127.0.0.1/1");
    let mut check = cmd(&[
        "check",
        "--format",
        "json",
        "--upstream",
        &base,
        "--dsn",
        &dsn,
    ]);
    check
        .env("WORKOS_API_KEY", &key)
        .env("WORKOS_API_BASE", &base);
    let seeded = run_with(check, "", LIMIT);
    drop(server);
    assert_eq!(seeded.code, Some(0), "{}", seeded.text());
    let v: Value = serde_json::from_str(&seeded.stdout).unwrap();
    assert_eq!(v["upstream"]["project"], "served", "{v}");
}
