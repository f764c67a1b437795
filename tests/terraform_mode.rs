//! The binary driven exactly as Terraform's `data "external"` drives it, against the
//! WorkOS Vault dev server on loopback.

use std::time::Duration;

use crate::support::*;
use serde_json::json;

const CRED_KEYS: [&str; 4] = ["public_key", "secret_key", "relay_id", "sentry_dsn"];

fn q(server: &DevServer, extra: serde_json::Value) -> serde_json::Value {
    let mut q = json!({"api_key": CANARY_KEY, "api_base": server.base_url()});
    for (k, v) in extra.as_object().unwrap() {
        q[k] = v.clone();
    }
    q
}

/// Non-strict: exit 0, same keys, empty credentials, the status, one warning line.
/// Strict: exit 1, nothing on stdout, the line on stderr.
fn assert_degrades(query: serde_json::Value, env: &[(&str, &str)], status: &str) -> (Run, Run) {
    let soft = terraform(&query, env);
    assert_eq!(soft.code, Some(0), "{soft:?}");
    let m = soft.terraform_map();
    assert_eq!(m.len(), 9, "{m:?}");
    for k in CRED_KEYS {
        assert_eq!(m[k], "", "{k} must be empty for {status}");
    }
    assert_eq!(m["status"], status);
    assert!(!m["reason"].is_empty());
    assert!(
        soft.stderr.contains(&format!("warning: {status}: ")),
        "{}",
        soft.stderr
    );
    assert_no_leak(&soft.stderr, None);
    assert_no_leak(&m["reason"], None);

    let mut strict = query.clone();
    strict["strict"] = json!("true");
    let hard = terraform(&strict, env);
    assert_eq!(hard.code, Some(1), "{hard:?}");
    assert_eq!(hard.stdout, "");
    assert!(
        hard.stderr.contains(&format!("error: {status}: ")),
        "{}",
        hard.stderr
    );
    assert_no_leak(&hard.stderr, None);
    (soft, hard)
}

#[test]
fn found_returns_every_key_as_strings_and_sends_the_right_request() {
    let s = server();
    let c = seed(&s, NAME);
    let run = terraform(&q(&s, json!({})), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let m = run.terraform_map();
    assert_eq!(m["public_key"], c.public_key);
    assert_eq!(m["secret_key"], c.secret_key.expose());
    assert_eq!(m["relay_id"], c.relay_id);
    assert_eq!(m["sentry_dsn"], "https://abc@o1.ingest.sentry.io/42");
    assert_eq!(m["status"], "found");
    assert_eq!(m["reason"], "");
    assert_eq!(m["version_id"].len(), 32, "{m:?}");
    assert!(m["updated_at"].ends_with('Z'));
    assert_no_leak(&run.stderr, Some(&c));

    let reqs = s.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, "/vault/v1/kv/name/runlayer-sentry-credentials");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {CANARY_KEY}").as_str())
    );
    assert_eq!(
        r.header("user-agent"),
        Some(concat!("vault-fetch-relay/", env!("CARGO_PKG_VERSION")))
    );
}

#[test]
fn environment_variables_are_the_fallback() {
    let s = server();
    let c = seed(&s, "from-env");
    let base = s.base_url();
    let run = terraform(
        &json!({}),
        &[
            ("WORKOS_API_KEY", CANARY_KEY),
            ("WORKOS_API_BASE", &base),
            ("WORKOS_VAULT_SECRET_NAME", "from-env"),
        ],
    );
    assert_eq!(run.terraform_map()["relay_id"], c.relay_id);
    // The query wins over the environment.
    let run = terraform(
        &json!({"secret_name": "from-env", "api_base": base}),
        &[
            ("WORKOS_API_KEY", CANARY_KEY),
            ("WORKOS_VAULT_SECRET_NAME", "other"),
        ],
    );
    assert_eq!(run.terraform_map()["status"], "found");
}

#[test]
fn names_are_percent_encoded_as_one_segment() {
    let s = server();
    let c = seed(&s, "a/b c");
    let run = terraform(&q(&s, json!({"secret_name": "a/b c"})), &[]);
    assert_eq!(run.terraform_map()["relay_id"], c.relay_id);
    assert_eq!(s.requests()[0].path, "/vault/v1/kv/name/a%2Fb%20c");
}

#[test]
fn not_found_degrades_and_names_the_request_id() {
    let s = server();
    let (soft, _) = assert_degrades(q(&s, json!({})), &[], "not_found");
    assert!(soft.stderr.contains("request id req_"), "{}", soft.stderr);
    assert_eq!(s.request_count(), 2, "404 is never retried");
}

#[test]
fn no_api_key_degrades_without_any_request() {
    let s = server();
    assert_degrades(json!({"api_base": s.base_url()}), &[], "no_api_key");
    assert_eq!(s.request_count(), 0);
}

#[test]
fn a_wrong_key_is_unauthorized_not_missing() {
    let s = server();
    seed(&s, NAME);
    let mut query = q(&s, json!({}));
    query["api_key"] = json!("sk_test_wrongkey");
    let (soft, _) = assert_degrades(query, &[], "unauthorized");
    assert!(soft.stderr.contains("HTTP 401"), "{}", soft.stderr);
    assert_eq!(s.request_count(), 2, "401 is never retried");
}

#[test]
fn forbidden_is_its_own_status() {
    let s = server();
    s.push_faults([
        Fault::status(403, r#"{"message":"Forbidden","code":"forbidden"}"#),
        Fault::status(403, r#"{"message":"Forbidden","code":"forbidden"}"#),
    ]);
    assert_degrades(q(&s, json!({})), &[], "forbidden");
    assert_eq!(s.request_count(), 2);
}

#[test]
fn invalid_values_are_never_returned_as_credentials() {
    let s = server();
    let c = seed(&s, NAME);
    let other = RelayCredentials::generate(None).unwrap();
    let mut mismatched = c.clone();
    mismatched.public_key = other.public_key;
    for (value, why) in [
        ("not json".to_string(), "not JSON"),
        (r#"{"id":"x"}"#.to_string(), "missing"),
        (mismatched.to_vault_value(), "does not belong"),
    ] {
        s.set_value(NAME, &value).unwrap();
        let (soft, _) = assert_degrades(q(&s, json!({})), &[], "invalid_secret");
        assert!(soft.stderr.contains(why), "{}", soft.stderr);
        assert_no_leak(&soft.stderr, Some(&c));
    }
}

#[test]
fn a_500_then_200_is_retried_to_success() {
    let s = server();
    let c = seed(&s, NAME);
    s.push_fault(Fault::status(500, r#"{"message":"boom"}"#));
    let run = terraform(&q(&s, json!({})), &[]);
    assert_eq!(run.terraform_map()["relay_id"], c.relay_id);
    assert_eq!(s.request_count(), 2);
}

#[test]
fn a_429_with_retry_after_waits_then_succeeds() {
    let s = server();
    seed(&s, NAME);
    s.push_fault(Fault::Respond {
        status: 429,
        headers: vec![("Retry-After".into(), "1".into())],
        body: r#"{"message":"Too many requests.","code":"rate_limit_exceeded"}"#.into(),
    });
    let run = terraform(&q(&s, json!({})), &[]);
    assert_eq!(run.terraform_map()["status"], "found");
    assert_eq!(s.request_count(), 2);
    assert!(
        run.elapsed >= Duration::from_secs(1),
        "Retry-After was not honoured: {:?}",
        run.elapsed
    );
}

#[test]
fn a_503_storm_is_unavailable_after_four_attempts() {
    let s = server();
    seed(&s, NAME);
    s.push_faults((0..4).map(|_| Fault::status(503, "<html>bad gateway</html>")));
    let run = terraform(&q(&s, json!({})), &[]);
    let m = run.terraform_map();
    assert_eq!(m["status"], "unavailable");
    assert!(
        m["reason"].contains("gave up after 4 attempts"),
        "{}",
        m["reason"]
    );
    assert_eq!(s.request_count(), 4);
}

#[test]
fn a_hanging_server_cannot_outlast_the_deadline() {
    let s = server();
    seed(&s, NAME);
    s.push_faults((0..8).map(|_| Fault::Hang));
    for strict in ["false", "true"] {
        let run = terraform(
            &q(&s, json!({"timeout_seconds": "2", "strict": strict})),
            &[],
        );
        assert!(
            run.elapsed < Duration::from_millis(3000),
            "took {:?}",
            run.elapsed
        );
        if strict == "true" {
            assert_eq!(run.code, Some(1));
            assert!(run.stderr.contains("unavailable"), "{}", run.stderr);
        } else {
            assert_eq!(run.terraform_map()["status"], "unavailable");
        }
    }
}

#[test]
fn redirects_are_not_followed() {
    let s = server();
    s.push_fault(Fault::Respond {
        status: 302,
        headers: vec![("Location".into(), "https://evil.example/steal".into())],
        body: String::new(),
    });
    let run = terraform(&q(&s, json!({})), &[]);
    let m = run.terraform_map();
    assert_eq!(m["status"], "unavailable");
    assert!(
        m["reason"].contains("evil.example") && m["reason"].contains("not followed"),
        "{}",
        m["reason"]
    );
    assert_eq!(s.request_count(), 1);
}

#[test]
fn a_custom_ca_from_ssl_cert_file_is_trusted() {
    let pki = pki(false, &["localhost"]);
    let s = tls_server(pki.identity);
    let c = seed(&s, NAME);
    assert!(s.base_url().starts_with("https://"));
    // Without the CA: a TLS error, reported as unavailable, not retried.
    let run = terraform(&q(&s, json!({})), &[]);
    let m = run.terraform_map();
    assert_eq!(m["status"], "unavailable");
    assert!(
        m["reason"].contains("TLS") && m["reason"].contains("SSL_CERT_FILE"),
        "{}",
        m["reason"]
    );
    assert_eq!(s.connection_count(), 1, "TLS errors are not retried");
    assert_eq!(
        s.request_count(),
        0,
        "no request goes over an untrusted connection"
    );

    let dir = tempfile::tempdir().unwrap();
    let ca = write_temp(dir.path(), "ca.pem", &pki.ca_pem);
    let run = terraform(
        &q(&s, json!({})),
        &[("SSL_CERT_FILE", ca.to_str().unwrap())],
    );
    assert_eq!(run.terraform_map()["relay_id"], c.relay_id);
    let run = run_with(
        {
            let mut c = cmd(&["--ca-file", ca.to_str().unwrap()]);
            c.env("WORKOS_API_KEY", CANARY_KEY)
                .env("WORKOS_API_BASE", s.base_url());
            c
        },
        "{}",
        Duration::from_secs(30),
    );
    assert_eq!(run.terraform_map()["status"], "found");
}

#[test]
fn a_proxy_setting_does_not_capture_loopback() {
    let s = server();
    seed(&s, NAME);
    let run = terraform(
        &q(&s, json!({})),
        &[
            ("HTTPS_PROXY", "http://127.0.0.1:9"),
            ("HTTP_PROXY", "http://127.0.0.1:9"),
            ("ALL_PROXY", "http://127.0.0.1:9"),
        ],
    );
    assert_eq!(run.terraform_map()["status"], "found");
}

#[test]
fn bad_queries_and_settings_fail_with_one_line() {
    let s = server();
    let base = s.base_url();
    for (stdin, want) in [
        ("", "stdin is empty"),
        ("not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        (r#"{"api_key": 1}"#, "\"api_key\" must be a string"),
        (r#"{"timeout_seconds": "soon"}"#, "timeout_seconds"),
        (r#"{"api_base": "http://example.com"}"#, "use https"),
    ] {
        let mut c = cmd(&[]);
        c.env("WORKOS_API_BASE", &base);
        let run = run_with(c, stdin, Duration::from_secs(20));
        assert_eq!(run.code, Some(1), "{stdin}: {run:?}");
        assert_eq!(run.stdout, "");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains(want), "{stdin}: {}", run.stderr);
    }
    assert_eq!(s.request_count(), 0);
}

#[test]
fn help_and_version_work() {
    let run = run_with(cmd(&["--help"]), "", Duration::from_secs(10));
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.contains("data \"external\""), "{}", run.stdout);
    assert!(run.stdout.contains("Environment"));
    let run = run_with(cmd(&["check", "--help"]), "", Duration::from_secs(10));
    assert!(
        run.stdout.contains("Exit codes:\n  0  found and valid"),
        "{}",
        run.stdout
    );
    let run = run_with(cmd(&["--version"]), "", Duration::from_secs(10));
    assert_eq!(
        run.stdout.trim(),
        concat!("vault-fetch-relay ", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_api_key_echoed_in_a_redirect_host_is_withheld_in_any_case() {
    let s = server();
    s.push_fault(Fault::Respond {
        status: 302,
        headers: vec![(
            "Location".into(),
            format!("https://{CANARY_KEY}.evil.example/x"),
        )],
        body: String::new(),
    });
    let run = terraform(&q(&s, json!({})), &[]);
    let m = run.terraform_map();
    assert_eq!(m["status"], "unavailable");
    let lower = CANARY_KEY.to_lowercase();
    assert!(m["reason"].contains("withheld"), "{}", m["reason"]);
    assert!(
        !m["reason"].to_lowercase().contains(&lower),
        "{}",
        m["reason"]
    );
    assert!(
        !run.stderr.to_lowercase().contains(&lower),
        "{}",
        run.stderr
    );
}

#[test]
fn an_api_key_echoed_in_the_request_id_is_withheld() {
    let s = server();
    s.push_fault(Fault::Respond {
        status: 404,
        headers: vec![("X-Request-ID".into(), format!("Bearer {CANARY_KEY}"))],
        body: r#"{"error":"Object not found"}"#.into(),
    });
    let run = terraform(&q(&s, json!({})), &[]);
    let m = run.terraform_map();
    assert_eq!(m["status"], "not_found");
    assert_no_leak(&m["reason"], None);
    assert_no_leak(&run.stderr, None);
    assert!(m["reason"].contains("withheld"), "{}", m["reason"]);
}

#[test]
fn an_enormous_retry_after_degrades_instead_of_crashing() {
    let s = server();
    s.push_fault(Fault::Respond {
        status: 429,
        headers: vec![("Retry-After".into(), u64::MAX.to_string())],
        body: r#"{"message":"Too many requests."}"#.into(),
    });
    let run = terraform(&q(&s, json!({})), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let m = run.terraform_map();
    assert_eq!(m["status"], "unavailable");
    assert!(
        m["reason"].contains("past the run's deadline"),
        "{}",
        m["reason"]
    );
    assert_eq!(s.request_count(), 1);
}

#[test]
fn an_empty_strict_in_the_query_keeps_the_environments_choice() {
    let s = server();
    let query = json!({"api_key": CANARY_KEY, "api_base": s.base_url(), "strict": ""});
    let run = terraform(&query, &[("VAULT_FETCH_STRICT", "true")]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("error: not_found"), "{}", run.stderr);
}

#[test]
fn a_key_that_cannot_be_a_header_is_refused_without_echo() {
    let s = server();
    let query = json!({"api_key": format!("{CANARY_KEY}\u{1}"), "api_base": s.base_url()});
    let run = terraform(&query, &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("HTTP header"), "{}", run.stderr);
    assert_no_leak(&run.stderr, None);
    assert_eq!(s.request_count(), 0);
}

#[test]
fn an_unexpected_success_status_never_quotes_the_object() {
    let s = server();
    let c = RelayCredentials::generate(None).unwrap();
    let body = json!({"value": c.to_vault_value(), "id": "x", "name": NAME}).to_string();
    for status in [201, 203, 206] {
        s.push_fault(Fault::status(status, body.clone()));
        let run = terraform(&q(&s, json!({})), &[]);
        let m = run.terraform_map();
        assert_eq!(m["status"], "unavailable");
        assert!(
            m["reason"].contains(&format!("unexpected HTTP {status}")),
            "{}",
            m["reason"]
        );
        assert_no_leak(&m["reason"], Some(&c));
        assert_no_leak(&run.stderr, Some(&c));
    }
    // An error body quoting a key is redacted too.
    s.push_fault(Fault::status(
        400,
        format!(r#"{{"message":"bad {}"}}"#, c.secret_key.expose()),
    ));
    let run = terraform(&q(&s, json!({})), &[]);
    assert_no_leak(&run.terraform_map()["reason"], Some(&c));
}

#[test]
fn environment_values_are_read_the_way_people_write_them() {
    let s = server();
    let base = s.base_url();
    // Any usual spelling of "on" makes the run strict; empty or "off" spellings do not.
    for (value, code) in [
        ("1", 1),
        ("True", 1),
        ("yes", 1),
        ("", 0),
        ("false", 0),
        ("0", 0),
    ] {
        let run = terraform(
            &json!({}),
            &[
                ("WORKOS_API_KEY", CANARY_KEY),
                ("WORKOS_API_BASE", &base),
                ("VAULT_FETCH_STRICT", value),
                // Empty paths mean "not set", not a usage error.
                ("SSL_CERT_FILE", ""),
                ("WORKOS_API_KEY_FILE", ""),
            ],
        );
        assert_eq!(
            run.code,
            Some(code),
            "VAULT_FETCH_STRICT={value:?}: {run:?}"
        );
    }
    // Usage errors exit 1, never 2 (which `check` uses for "not found").
    let run = run_with(
        cmd(&["check", "--no-such-flag"]),
        "",
        Duration::from_secs(10),
    );
    assert_eq!(run.code, Some(1), "{run:?}");
}

#[test]
fn a_caller_that_never_closes_stdin_cannot_hold_the_run() {
    use std::io::Write;
    use std::process::Stdio;
    let mut c = cmd(&["--timeout-seconds", "1"]);
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"{\"api_key\":").unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("still reading stdin after 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    assert_eq!(status.code(), Some(1));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("stdin was not closed"), "{err}");
}

/// The run's one deadline counts from its start, reading the query included: a caller slow to
/// write it leaves the fetch only what remains (the fetch used to get a whole deadline of its
/// own after the read, so such a run took up to twice --timeout-seconds).
#[test]
fn a_slow_query_and_a_hanging_vault_end_within_the_timeout() {
    // Accepts connections (the kernel's backlog) and never answers.
    let hang = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", hang.local_addr().unwrap().port());
    let mut c = cmd(&["--timeout-seconds", "3"]);
    c.env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", &base);
    let run = run_with_stdin_after(c, "{}", Duration::from_secs(2), Duration::from_secs(15));
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(
        run.stdout.contains(r#""status":"unavailable""#),
        "{}",
        run.text()
    );
    assert!(
        run.elapsed < Duration::from_millis(3900),
        "the run took {:?} with --timeout-seconds 3",
        run.elapsed
    );
}

/// `outcome_only`: the same read and the same "found" (valid credentials), printed without a credential
/// value; a refused key is `unauthorized` there too, never `not_found`.
#[test]
fn outcome_only_reports_the_read_without_credentials() {
    let s = server();
    let c = seed(&s, NAME);
    let full = terraform(&q(&s, json!({})), &[]).terraform_map();
    let run = terraform(&q(&s, json!({"outcome_only": "true"})), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let m = run.terraform_map();
    assert_eq!(
        m.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "reason",
            "status",
            "updated_at",
            "version_id",
            "version_number"
        ]
    );
    assert_eq!(m["status"], "found");
    for k in ["version_id", "updated_at", "version_number"] {
        assert_eq!(m[k], full[k], "{k} is the same in both reads");
    }
    let micros: u64 = m["version_number"].parse().expect("a number");
    assert!(micros > 1_700_000_000_000_000, "{micros}");
    for secret in [
        c.secret_key.expose(),
        c.public_key.as_str(),
        c.relay_id.as_str(),
    ] {
        assert!(!run.stdout.contains(secret), "{}", run.stdout);
    }
    assert_no_leak(&run.stdout, Some(&c));

    // A new vault version has a larger version_number.
    std::thread::sleep(Duration::from_millis(2));
    seed(&s, NAME);
    let next = terraform(&q(&s, json!({"outcome_only": "true"})), &[]).terraform_map();
    assert!(next["version_number"].parse::<u64>().unwrap() > micros);
    assert_ne!(next["version_id"], m["version_id"]);

    let mut wrong = q(&s, json!({"outcome_only": "true"}));
    wrong["api_key"] = json!("sk_test_wrongkey");
    let refused = terraform(&wrong, &[]).terraform_map();
    assert_eq!(refused["status"], "unauthorized");
    assert!(!refused["reason"].is_empty());

    // An invalid secret is not "found" in the outcome either.
    s.set_value(
        NAME,
        r#"{"id":"not-a-uuid","public_key":"x","secret_key":"y"}"#,
    )
    .unwrap();
    let invalid = terraform(&q(&s, json!({"outcome_only": "true"})), &[]).terraform_map();
    assert_eq!(invalid["status"], "invalid_secret");
}
