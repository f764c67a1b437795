//! The command line as README and `--help` describe it: one-line usage errors with
//! suggestions, options refused where they do not apply, the API key precedence and
//! the source each message names, the variable aliases, the per-mode rules table
//! (README "One rule per question"), progress lines, -q, colour, completions, the
//! man page and `check --format json`. Every run is the real binary against the dev
//! server on loopback.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::*;
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(60);

fn run(c: Command) -> Run {
    run_with(c, "", LIMIT)
}

/// The binary with the server's base and the good key in the environment.
fn at(s: &DevServer, args: &[&str]) -> Command {
    let mut c = cmd(args);
    c.env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", s.base_url());
    c
}

fn check_json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}"))
}

fn one_error_line(r: &Run) -> &str {
    assert_eq!(r.code, Some(1), "{r:?}");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {:?}", r.stderr);
    assert!(
        lines[0].starts_with("vault-fetch-relay: error: "),
        "{}",
        lines[0]
    );
    lines[0]
}

fn readme() -> String {
    fs::read_to_string(repo().join("README.md")).unwrap()
}

#[test]
fn usage_errors_are_one_line_exit_1_and_suggest_the_right_word() {
    for (args, want) in [
        (&["chek"][..], "a similar subcommand exists: 'check'"),
        (
            &["check", "--stirct"],
            "a similar argument exists: '--strict'",
        ),
        (
            &["check", "--format", "yaml"],
            "possible values: text, json",
        ),
        (&["--strict", "check"], "--strict goes after the subcommand"),
        (
            &["dev-server", "--strict"],
            "unexpected argument '--strict'",
        ),
        (
            &["dev-server", "--ca-file", "x.pem"],
            "unexpected argument '--ca-file'",
        ),
        (
            &["demo", "--api-base", "http://127.0.0.1:1"],
            "unexpected argument '--api-base'",
        ),
        (
            &["completions"],
            "required arguments were not provided: <SHELL>",
        ),
        (&["init", "-v", "-q"], "cannot be used with"),
    ] {
        let r = run(cmd(args));
        let line = one_error_line(&r);
        assert!(line.contains(want), "{args:?}: {line}");
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
    // An API key pasted as an argument is not quoted back onto stderr (CI logs).
    let key = "sk_test_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
    for args in [
        &["check", key][..],
        &[key][..],
        &["check", "--format", key][..],
        &["exec", "--interval", key, "--", "true"][..],
    ] {
        let r = run(cmd(args));
        let line = one_error_line(&r);
        assert!(line.contains("(not shown"), "{args:?}: {line}");
        assert!(
            !line.contains(&key[..12]),
            "{args:?} echoed the key: {line}"
        );
    }
    // The environment does not turn options into "required" ones on the usage line.
    let mut c = cmd(&["dev-server", "--tls-cert", "x.pem"]);
    c.env("WORKOS_API_BASE", "http://127.0.0.1:1")
        .env("SSL_CERT_FILE", "/nonexistent.pem");
    let r = run(c);
    let line = one_error_line(&r);
    assert!(line.contains("--tls-key"), "{line}");
    assert!(
        !line.contains("--api-base") && !line.contains("--ca-file"),
        "{line}"
    );
    assert!(
        line.contains("see 'vault-fetch-relay dev-server --help'"),
        "{line}"
    );
    // An invalid value (clap prints no usage line for it) points at the subcommand's
    // help too, where the accepted values are.
    for (args, help) in [
        (&["exec", "--interval", "abc", "--", "true"][..], "exec"),
        (&["check", "--format", "yaml"][..], "check"),
        (&["env", "--format", "x"][..], "env"),
    ] {
        let r = run(cmd(args));
        let line = one_error_line(&r);
        assert!(
            line.contains(&format!("see 'vault-fetch-relay {help} --help'")),
            "{args:?}: {line}"
        );
    }
}

/// Every kind of usage error, line for line as users have seen it: the line is built
/// from clap's error kind and context (not from clap's rendered text), so a clap release
/// that rewords its output cannot change it, and this pins what it must stay.
#[test]
fn usage_error_lines_keep_their_exact_wording() {
    /// argv, environment, the whole stderr line.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], String);
    let p = "vault-fetch-relay: error: ";
    let cases: &[Case] = &[
        (&["--bogus"], &[], format!("{p}unexpected argument '--bogus' found; see 'vault-fetch-relay --help'")),
        (&["exec", "--intervall", "5m", "--", "true"], &[], format!("{p}unexpected argument '--intervall' found (a similar argument exists: '--interval') (to pass '--intervall' as a value, use '-- --intervall'); see 'vault-fetch-relay exec --help'")),
        (&["install", "--dir", "x"], &[], format!("{p}unexpected argument '--dir' found (to pass '--dir' as a value, use '-- --dir'); see 'vault-fetch-relay install --help'")),
        (&["check", "--format"], &[], format!("{p}a value is required for '--format <FORMAT>' but none was supplied [possible values: text, json]; see 'vault-fetch-relay check --help'")),
        (&["env", "-o"], &[], format!("{p}a value is required for '--output <FILE>' but none was supplied; see 'vault-fetch-relay env --help'")),
        (&["check", "--format", "jsn"], &[], format!("{p}invalid value 'jsn' for '--format <FORMAT>' [possible values: text, json] (a similar value exists: 'json'); see 'vault-fetch-relay check --help'")),
        (&["completions", "fsh"], &[], format!("{p}invalid value 'fsh' for '<SHELL>' [possible values: bash, elvish, fish, powershell, zsh] (a similar value exists: 'fish'); see 'vault-fetch-relay completions --help'")),
        (&["exec", "--interval", "5x", "--", "true"], &[], format!("{p}invalid value '5x' for '--interval <DURATION>': \"5x\" is not a duration; use e.g. 300, 90s, 5m or 1h; see 'vault-fetch-relay exec --help'")),
        (&["exec", "--", "true"], &[("VAULT_FETCH_GRACE", "25h")], format!("{p}invalid value '25h' for '--grace <DURATION>': \"25h\" is out of range (0 to 24 h); see 'vault-fetch-relay exec --help'")),
        (&["dev-server", "--port", "70000"], &[], format!("{p}invalid value '70000' for '--port <PORT>': 70000 is not in 0..=65535; see 'vault-fetch-relay dev-server --help'")),
        (&["inti"], &[], format!("{p}unrecognized subcommand 'inti' (some similar subcommands exist: 'install', 'init'); see 'vault-fetch-relay --help'")),
        (&["frobnicate"], &[], format!("{p}unrecognized subcommand 'frobnicate'; see 'vault-fetch-relay --help'")),
        (&["help", "exec", "extra"], &[], format!("{p}unrecognized subcommand 'extra'; see 'vault-fetch-relay exec --help'")),
        (&["-v", "-q"], &[], format!("{p}the argument '--verbose...' cannot be used with '--quiet'; see 'vault-fetch-relay --help'")),
        (&["check", "-q", "--verbose"], &[], format!("{p}the argument '--quiet' cannot be used with '--verbose...'; see 'vault-fetch-relay check --help'")),
        (&["check", "--format", "json", "--format", "text"], &[], format!("{p}the argument '--format <FORMAT>' cannot be used multiple times; see 'vault-fetch-relay check --help'")),
        (&["--verbose=3"], &[], format!("{p}unexpected value '3' for '--verbose...' found; no more were expected; see 'vault-fetch-relay --help'")),
        (&["install"], &[], format!("{p}the following required arguments were not provided: <DIR>; see 'vault-fetch-relay install --help'")),
        (&["dev-server", "--tls-cert", "x"], &[], format!("{p}the following required arguments were not provided: --tls-key <FILE>; see 'vault-fetch-relay dev-server --help'")),
        (&["exec", "--once", "--grace", "1s", "--", "true"], &[], format!("{p}--grace is not used with exec --once, which fetches once and replaces itself with the command (nothing is watched or restarted); drop --grace or --once (VAULT_FETCH_GRACE may stay set); see 'vault-fetch-relay --help'")),
        (&["-v", "--secret-name", "n", "check"], &[], format!("{p}--secret-name goes after the subcommand: vault-fetch-relay check --secret-name ...; see 'vault-fetch-relay --help'")),
        (&["init", "sk_test_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"], &[], format!("{p}unexpected argument '(not shown: not an argument name)' found; see 'vault-fetch-relay init --help'")),
        // Colour on stderr colours the word "error" only; the rest is the same text.
        (&["inti"], &[("CLICOLOR_FORCE", "1")], "vault-fetch-relay: \x1b[1;31merror\x1b[0m: unrecognized subcommand 'inti' (some similar subcommands exist: 'install', 'init'); see 'vault-fetch-relay --help'".to_string()),
    ];
    for (args, env, want) in cases {
        let mut c = cmd(args);
        c.envs(env.iter().copied());
        let r = run(c);
        assert_eq!(r.code, Some(1), "{args:?}: {r:?}");
        assert_eq!(r.stderr, format!("{want}\n"), "{args:?}");
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
}

/// A word the user typed is hidden in a usage error only when it has the shape of a
/// secret (a WorkOS key, a relay key, a URL with userinfo); anything else is shown as
/// typed, control characters escaped, so the user sees what was wrong on one line.
#[test]
fn usage_errors_hide_what_looks_like_a_key_and_show_the_rest() {
    let relay_public = "9dwuYYP1NMLHqGQmtLt2SQcbpmHYqxJ6fbvi83nmnDU";
    let relay_legacy = format!("{relay_public}{relay_public}");
    assert_eq!((relay_public.len(), relay_legacy.len()), (43, 86));
    for secret in [
        "sk_test_short",
        "sk_live_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        relay_public,
        &relay_legacy,
        "https://user:hunter2@relay.example.com/",
        "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1",
    ] {
        for args in [
            &["check", secret][..],
            &[secret][..],
            &["check", "--format", secret][..],
            &["exec", "--interval", secret, "--", "true"][..],
        ] {
            let r = run(cmd(args));
            let line = one_error_line(&r);
            assert!(line.contains("(not shown"), "{args:?}: {line}");
            for part in ["sk_", "hunter2", "0123456789abcdef", &relay_public[..12]] {
                assert!(!line.contains(part), "{args:?} echoed {part}: {line}");
            }
        }
    }
    // Not a secret's shape: shown as typed (before, anything over 32 bytes or with a
    // byte outside [A-Za-z0-9._-] was hidden, so "/tmp/x" or "5 x" read "(not shown)").
    for (args, want) in [
        (
            &["check", "/tmp/relay/config.yml"][..],
            "unexpected argument '/tmp/relay/config.yml' found",
        ),
        (
            &["check", "--format", "json,text"][..],
            "invalid value 'json,text' for '--format <FORMAT>'",
        ),
        (
            &["exec", "--interval", "5 x", "--", "true"][..],
            "invalid value '5 x' for '--interval <DURATION>': \"5 x\" is not a duration",
        ),
        (
            &[
                "exec",
                "--interval",
                "a_rather_long_but_harmless_duration_text",
                "--",
                "true",
            ][..],
            "invalid value 'a_rather_long_but_harmless_duration_text'",
        ),
        (
            &["init", "http://relay.example.com/?a=b"][..],
            "unexpected argument 'http://relay.example.com/?a=b' found",
        ),
        // A newline or ESC in the value is written as an escape: still one line.
        (
            &["exec", "--grace", "1\n2", "--", "true"][..],
            "invalid value '1\\n2' for '--grace <DURATION>'",
        ),
        (
            &["check", "--format", "\x1b[31mjson"][..],
            "invalid value '\\u{1b}[31mjson'",
        ),
    ] {
        let r = run(cmd(args));
        let line = one_error_line(&r);
        assert!(line.contains(want), "{args:?}: {line}");
        assert!(!line.contains("not shown"), "{args:?}: {line}");
    }
}

#[test]
fn help_lists_every_variable_read_exit_codes_and_grouped_options() {
    use vault_fetch_relay::{OTHER_VARS, SETTING_VARS};
    let help = run(cmd(&["--help"]));
    assert_eq!(help.code, Some(0));
    let readme = readme();
    for var in SETTING_VARS.iter().chain(OTHER_VARS.iter()) {
        assert!(help.stdout.contains(var), "--help lacks {var}");
        assert!(readme.contains(var), "README lacks {var}");
    }
    // Every query key the Terraform mode accepts (as its refusal lists them) is in
    // --help, and so is every key it prints.
    let refused = run_with(cmd(&[]), r#"{"no_such_key":"x"}"#, Duration::from_secs(30));
    let keys = refused
        .stderr
        .split("valid keys are ")
        .nth(1)
        .unwrap_or_else(|| panic!("{}", refused.stderr));
    for key in keys.trim().split(", ") {
        assert!(
            help.stdout.contains(key),
            "--help lacks the query key {key}"
        );
    }
    for key in ["version_id", "updated_at", "version_number", "reason"] {
        assert!(
            help.stdout.contains(key),
            "--help lacks the output key {key}"
        );
    }
    let check = run(cmd(&["check", "--help"])).stdout;
    for code in [
        "0  found and valid",
        "1  usage or configuration error",
        "2  not found",
        "3  auth problem",
        "4  unavailable",
        "5  invalid secret",
    ] {
        assert!(check.contains(code), "check --help lacks {code:?}");
    }
    assert!(check.contains("Fetch options:") && check.contains("Global options:"));
    let dev = run(cmd(&["dev-server", "--help"])).stdout;
    assert!(
        dev.contains("Create the object named by --secret-name"),
        "{dev}"
    );
    assert!(
        !dev.contains("Fetch options") && !dev.contains("--strict"),
        "{dev}"
    );
    // The precedence is stated in --help as in README.
    let order = "the Terraform query's api_key (default mode only), --api-key-file,\nVAULT_FETCH_API_KEY_FILE, WORKOS_API_KEY_FILE, WORKOS_API_KEY";
    assert!(help.stdout.contains(order), "{}", help.stdout);
    assert!(readme.contains("query `api_key`, `--api-key-file`, `VAULT_FETCH_API_KEY_FILE`, `WORKOS_API_KEY_FILE`, `WORKOS_API_KEY`"));
}

#[test]
fn the_api_key_source_follows_the_documented_order_and_messages_name_it() {
    let s = server();
    seed(&s, NAME);
    let dir = tempfile::tempdir().unwrap();
    let good = write_temp(dir.path(), "good", &format!("{CANARY_KEY}\n"));
    let bad = write_temp(dir.path(), "bad", "sk_test_wrong\n");
    let empty = write_temp(dir.path(), "empty", "\n");
    let p = |p: &Path| p.to_str().unwrap().to_string();
    let check = |flag: Option<&Path>, env: &[(&str, String)]| {
        let mut args = vec!["check".to_string(), "--format".into(), "json".into()];
        if let Some(f) = flag {
            args.extend(["--api-key-file".into(), p(f)]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut c = cmd(&args);
        c.env("WORKOS_API_BASE", s.base_url());
        for (k, v) in env {
            c.env(k, v);
        }
        let r = run(c);
        let v = check_json(&r);
        (
            v["status"].as_str().unwrap().to_string(),
            v["reason"].as_str().unwrap_or("").to_string(),
        )
    };
    let bad_env = ("WORKOS_API_KEY", "sk_test_wrong".to_string());
    // The flag's file wins over WORKOS_API_KEY.
    assert_eq!(
        check(Some(&good), std::slice::from_ref(&bad_env)).0,
        "found"
    );
    // The flag wins over both file variables; the 401 names the flag.
    let (status, reason) = check(
        Some(&bad),
        &[
            ("VAULT_FETCH_API_KEY_FILE", p(&good)),
            ("WORKOS_API_KEY_FILE", p(&good)),
        ],
    );
    assert_eq!(status, "unauthorized");
    assert!(
        reason.contains(&format!("--api-key-file {}", p(&bad))),
        "{reason}"
    );
    // VAULT_FETCH_API_KEY_FILE wins over WORKOS_API_KEY_FILE.
    let (status, reason) = check(
        None,
        &[
            ("VAULT_FETCH_API_KEY_FILE", p(&bad)),
            ("WORKOS_API_KEY_FILE", p(&good)),
        ],
    );
    assert_eq!(status, "unauthorized");
    assert!(reason.contains("VAULT_FETCH_API_KEY_FILE"), "{reason}");
    let (status, reason) = check(
        None,
        &[
            ("WORKOS_API_KEY_FILE", p(&bad)),
            ("WORKOS_API_KEY", CANARY_KEY.into()),
        ],
    );
    assert_eq!(status, "unauthorized");
    assert!(reason.contains("WORKOS_API_KEY_FILE"), "{reason}");
    // WORKOS_API_KEY alone: named as such.
    let (status, reason) = check(None, std::slice::from_ref(&bad_env));
    assert_eq!(status, "unauthorized");
    assert!(
        reason.contains("check that WORKOS_API_KEY holds"),
        "{reason}"
    );
    // A source given but empty is named, not skipped.
    let (status, reason) = check(Some(&empty), &[("WORKOS_API_KEY", CANARY_KEY.into())]);
    assert_eq!(status, "no_api_key");
    assert!(
        reason.contains(&format!("--api-key-file {} is empty", p(&empty))),
        "{reason}"
    );
    // No source at all: the CLI's words, not Terraform's.
    let (status, reason) = check(None, &[]);
    assert_eq!(status, "no_api_key");
    assert!(
        reason.contains("--api-key-file") && !reason.contains("Terraform"),
        "{reason}"
    );

    // The Terraform query wins over the flag and the environment.
    let mut c = cmd(&["--api-key-file", &p(&bad)]);
    c.env("WORKOS_API_KEY", "sk_test_wrong");
    let q = json!({"api_key": CANARY_KEY, "api_base": s.base_url()});
    let r = run_with(c, &q.to_string(), LIMIT);
    assert_eq!(r.terraform_map()["status"], "found", "{r:?}");
    // Without a key, Terraform mode speaks of the query.
    let r = run_with(
        cmd(&[]),
        &json!({"api_base": s.base_url()}).to_string(),
        LIMIT,
    );
    assert!(
        r.terraform_map()["reason"].contains("api_key in the Terraform query"),
        "{r:?}"
    );
}

#[test]
fn vault_fetch_variables_win_over_their_aliases_and_flags_over_both() {
    let s = server();
    seed(&s, NAME);
    let status = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = cmd(args);
        c.env("WORKOS_API_KEY", CANARY_KEY);
        for (k, v) in env {
            c.env(k, v);
        }
        check_json(&run(c))["status"].as_str().unwrap().to_string()
    };
    let base = s.base_url();
    let json = ["check", "--format", "json"];
    let closed = format!("http://127.0.0.1:{}", closed_port());
    assert_eq!(status(&json, &[("WORKOS_API_BASE", &base)]), "found");
    assert_eq!(
        status(
            &json,
            &[
                ("VAULT_FETCH_API_BASE", &base),
                ("WORKOS_API_BASE", &closed),
                ("VAULT_FETCH_TIMEOUT_SECONDS", "1")
            ]
        ),
        "found"
    );
    let named = |flag: Option<&str>, primary: &str, alias: &str| {
        let mut args = json.to_vec();
        if let Some(f) = flag {
            args.extend(["--secret-name", f]);
        }
        status(
            &args,
            &[
                ("WORKOS_API_BASE", &base),
                ("VAULT_FETCH_SECRET_NAME", primary),
                ("WORKOS_VAULT_SECRET_NAME", alias),
            ],
        )
    };
    assert_eq!(named(None, NAME, "other"), "found");
    assert_eq!(named(None, "other", NAME), "not_found");
    assert_eq!(named(None, "", NAME), "found", "an empty variable is unset");
    assert_eq!(named(Some(NAME), "other", "other"), "found");

    // init's directory: VAULT_FETCH_CREDENTIALS_DIR over CREDENTIALS_DIR.
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let mut c = at(&s, &["init"]);
    c.env("VAULT_FETCH_CREDENTIALS_DIR", &a)
        .env("CREDENTIALS_DIR", &b);
    assert_eq!(run(c).code, Some(0));
    assert!(a.join("credentials.json").exists() && !b.exists());
    let mut c = at(&s, &["init"]);
    c.env("CREDENTIALS_DIR", &b);
    assert_eq!(run(c).code, Some(0));
    assert!(b.join("credentials.json").exists());

    // The Terraform query wins over flags.
    let c = cmd(&["--secret-name", "other", "--api-base", &closed]);
    let q = json!({"api_key": CANARY_KEY, "api_base": base, "secret_name": NAME});
    assert_eq!(
        run_with(c, &q.to_string(), LIMIT).terraform_map()["status"],
        "found"
    );
}

#[test]
fn unknown_query_keys_are_refused_and_the_seed_query_still_works() {
    let s = server();
    seed(&s, NAME);
    let q = json!({"api_key": CANARY_KEY, "api_base": s.base_url(), "secret_nmae": "x"});
    let r = run_with(cmd(&[]), &q.to_string(), LIMIT);
    let line = one_error_line(&r);
    assert!(
        line.contains("\"secret_nmae\"")
            && line
                .contains("valid keys are api_key, secret_name, api_base, strict, timeout_seconds"),
        "{line}"
    );
    assert_eq!(s.request_count(), 0);
    let mut c = cmd(&[]);
    c.env("WORKOS_API_BASE", s.base_url());
    let r = run_with(c, &json!({"api_key": CANARY_KEY}).to_string(), LIMIT);
    assert_eq!(r.terraform_map()["status"], "found");
}

#[test]
fn a_wrong_api_base_stops_every_mode_and_says_so() {
    let s = server();
    seed(&s, NAME);
    let wrong = format!("{}/v1", s.base_url());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("values.yaml");
    let relay = dir.path().join("relay");
    for args in [
        vec!["check"],
        vec!["helm-values", "-o", out.to_str().unwrap()],
        vec!["env", "-o", out.to_str().unwrap()],
        vec!["init", "--dir", relay.to_str().unwrap()],
    ] {
        let mut c = at(&s, &args);
        c.env("WORKOS_API_BASE", &wrong);
        let r = run(c);
        assert_eq!(r.code, Some(1), "{args:?}: {r:?}");
        let text = format!("{}{}", r.stdout, r.stderr);
        assert!(
            text.contains("wrong_api_base") && text.contains("check the api base"),
            "{args:?}: {text}"
        );
        assert!(text.contains("--api-base / VAULT_FETCH_API_BASE"), "{text}");
    }
    assert!(
        !out.exists() && !relay.exists(),
        "a failing run writes nothing"
    );
    let q = json!({"api_key": CANARY_KEY, "api_base": wrong});
    let r = run_with(cmd(&[]), &q.to_string(), LIMIT);
    let line = one_error_line(&r);
    assert!(
        line.contains("wrong_api_base") && line.contains("the query key api_base"),
        "{line}"
    );
    assert!(r.stdout.is_empty());
}

/// README "One rule per question", each rule in every mode that writes.
#[test]
fn every_mode_follows_the_same_rules() {
    let s = server();
    seed(&s, NAME);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    struct Target {
        args: Vec<String>,
        written: Vec<std::path::PathBuf>,
    }
    let targets = |tag: &str| -> Vec<Target> {
        let values = root.join(tag).join("deep/values.yaml");
        let env = root.join(tag).join("deep/relay.env");
        let relay = root.join(tag).join("deep/relay");
        vec![
            Target {
                args: vec![
                    "helm-values".into(),
                    "-o".into(),
                    values.display().to_string(),
                ],
                written: vec![values],
            },
            Target {
                args: vec!["env".into(), "-o".into(), env.display().to_string()],
                written: vec![env],
            },
            Target {
                args: vec!["init".into(), "--dir".into(), relay.display().to_string()],
                written: vec![relay.join("config.yml")],
            },
        ]
    };
    let go = |t: &Target, extra: &[&str], env: &[(&str, &str)]| {
        let mut args: Vec<&str> = t.args.iter().map(String::as_str).collect();
        args.extend(extra);
        let mut c = at(&s, &args);
        for (k, v) in env {
            c.env(k, v);
        }
        run(c)
    };
    // Found: missing parents are created, the file is named on stderr; -q drops the line.
    for t in targets("found") {
        let r = go(&t, &[], &[]);
        assert_eq!(r.code, Some(0), "{r:?}");
        for f in &t.written {
            assert!(f.exists(), "{f:?}");
            assert!(
                r.stderr.starts_with("vault-fetch-relay: wrote ")
                    && r.stderr.contains(&f.display().to_string()),
                "{}",
                r.stderr
            );
        }
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        let r = go(&t, &["-q"], &[]);
        assert_eq!((r.code, r.stderr.as_str()), (Some(0), ""));
    }
    // No API key: degrade like any other status (exit 0, a warning, proxy output);
    // strict: exit 1 and nothing written.
    for t in targets("nokey") {
        let r = go(&t, &[], &[("WORKOS_API_KEY", "")]);
        assert_eq!(r.code, Some(0), "{r:?}");
        assert!(r.stderr.contains("warning: no_api_key: "), "{}", r.stderr);
        assert!(t.written.iter().all(|f| f.exists()));
    }
    for t in targets("nokey-strict") {
        let r = go(&t, &["--strict"], &[("WORKOS_API_KEY", "")]);
        assert_eq!(r.code, Some(1));
        assert!(r.stderr.contains("error: no_api_key: "), "{}", r.stderr);
        assert!(
            t.written.iter().all(|f| !f.exists()),
            "strict wrote {:?}",
            t.written
        );
    }
    // Secret missing with --strict: exit 1, one error line, nothing written (an
    // existing file is left as it was).
    for t in targets("strict") {
        for f in &t.written {
            fs::create_dir_all(f.parent().unwrap()).unwrap();
            fs::write(f, "old\n").unwrap();
        }
        let r = go(&t, &["--strict", "--secret-name", "missing"], &[]);
        assert_eq!(r.code, Some(1));
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        for f in &t.written {
            assert_eq!(fs::read_to_string(f).unwrap(), "old\n", "{f:?}");
        }
    }
    assert_eq!(
        run(at(&s, &["check", "--secret-name", "missing"])).code,
        Some(2)
    );
    let mut c = at(&s, &["check"]);
    c.env("WORKOS_API_KEY", "");
    assert_eq!(run(c).code, Some(3));
    // A destination that cannot be written is refused before any request is sent.
    let before = s.request_count();
    let a_file = write_temp(root, "a-file", "x");
    for args in [
        vec!["helm-values", "-o", root.to_str().unwrap()],
        vec!["env", "-o", root.to_str().unwrap()],
        vec!["helm-values", "-o", &format!("{}/x.yaml", a_file.display())],
        vec!["init", "--dir", a_file.to_str().unwrap()],
    ] {
        let r = run(at(&s, &args));
        one_error_line(&r);
    }
    assert_eq!(
        s.request_count(),
        before,
        "a request was sent before the destination was checked"
    );
}

#[test]
fn retries_are_announced_at_v_silenced_by_q_and_never_in_terraform_mode() {
    let s = server();
    seed(&s, NAME);
    let storm = || vec![Fault::status(503, r#"{"message":"busy"}"#); 2];
    s.push_faults(storm());
    let r = run(at(&s, &["check", "-v"]));
    assert_eq!(r.code, Some(0), "{r:?}");
    let retries: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("; retry "))
        .collect();
    assert_eq!(retries.len(), 2, "{}", r.stderr);
    assert!(
        retries[0].contains("attempt 1/4 failed: HTTP 503: busy; retry 2/4 in "),
        "{}",
        retries[0]
    );
    assert!(r.stdout.contains("(3 attempts)"), "{}", r.stdout);
    // Not a terminal, no -v: quiet progress.
    s.push_faults(storm());
    let r = run(at(&s, &["check"]));
    assert!(!r.stderr.contains("retry"), "{}", r.stderr);
    let r = run(at(&s, &["env", "-q", "-v"]));
    assert_eq!(r.code, Some(1), "-q and -v conflict");
    s.push_faults(storm());
    let mut c = at(&s, &["helm-values", "-q", "-o", "-"]);
    c.env("WORKOS_VAULT_SECRET_NAME", "missing");
    let r = run(c);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (Some(0), ""),
        "-q keeps only errors"
    );
    s.push_faults(storm());
    let q = json!({"api_key": CANARY_KEY, "api_base": s.base_url()});
    let r = run_with(cmd(&["-v"]), &q.to_string(), LIMIT);
    assert_eq!(r.terraform_map()["status"], "found");
    assert!(!r.stderr.contains("retry"), "{}", r.stderr);
}

#[test]
fn a_run_the_deadline_ends_counts_the_request_it_sent() {
    let s = server();
    seed(&s, NAME);
    s.push_faults(vec![Fault::Hang; 2]);
    let r = run(at(
        &s,
        &["check", "--format", "json", "--timeout-seconds", "1"],
    ));
    let v = check_json(&r);
    assert_eq!(v["status"], "unavailable");
    assert_eq!(v["attempts"], s.request_count() as u64, "{v}");
    assert_eq!(v["attempts"], 1);
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("--timeout-seconds / VAULT_FETCH_TIMEOUT_SECONDS"),
        "{v}"
    );
}

#[test]
fn check_json_has_stable_fields_and_its_exit_code() {
    let s = server();
    seed(&s, NAME);
    let r = run(at(&s, &["check", "--format", "json"]));
    let v = check_json(&r);
    assert_eq!(r.code, Some(0));
    for field in [
        "api_base",
        "secret_name",
        "status",
        "reason",
        "relay_id",
        "public_key_fingerprint",
        "key_pair",
        "sentry_dsn_present",
        "version_id",
        "updated_at",
        "request_id",
        "latency_ms",
        "attempts",
        "exit_code",
    ] {
        assert!(v.get(field).is_some(), "{field} missing: {v}");
        assert!(
            readme().contains(&format!("`{field}`")),
            "README does not document {field}"
        );
    }
    assert_eq!(
        (
            v["status"].as_str(),
            v["key_pair"].as_str(),
            v["exit_code"].as_i64()
        ),
        (Some("found"), Some("valid"), Some(0))
    );
    let r = run(at(
        &s,
        &["check", "--format", "json", "--secret-name", "missing"],
    ));
    assert_eq!(
        (r.code, check_json(&r)["exit_code"].as_i64()),
        (Some(2), Some(2))
    );
}

#[test]
fn colour_follows_no_color_and_clicolor_force() {
    let s = server();
    let with = |env: &[(&str, &str)]| {
        let mut c = at(&s, &["check", "--strict"]);
        for (k, v) in env {
            c.env(k, v);
        }
        run(c).stdout
    };
    assert!(!with(&[]).contains('\x1b'), "no colour into a pipe");
    assert!(with(&[("CLICOLOR_FORCE", "1")]).contains("\x1b[1;31mnot_found\x1b[0m"));
    // As in anstream (clap's and cargo's terminal layer), CLICOLOR_FORCE wins over NO_COLOR.
    assert!(with(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'));
    assert!(!with(&[("CLICOLOR_FORCE", "0")]).contains('\x1b'));
    let mut c = at(&s, &["env", "--strict"]);
    c.env("CLICOLOR_FORCE", "1");
    assert!(run(c)
        .stderr
        .starts_with("vault-fetch-relay: \x1b[1;31merror\x1b[0m: not_found: "));
}

#[test]
fn completions_and_the_man_page_come_from_the_clap_definition() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let r = run(cmd(&["completions", shell]));
        assert_eq!(r.code, Some(0), "{shell}: {r:?}");
        for word in [
            "helm-values",
            "api-key-file",
            "completions",
            "exec",
            "install",
        ] {
            assert!(r.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    let r = run(cmd(&["man"]));
    assert_eq!(r.code, Some(0));
    assert!(
        r.stdout.contains(".TH vault-fetch-relay 1"),
        "{}",
        &r.stdout[..200.min(r.stdout.len())]
    );
    assert!(r.stdout.contains("helm\\-values"));
    // One page: every subcommand's options are in it, and it points at no
    // vault-fetch-relay-exec(1)-style page that nobody ships.
    for (section, option) in [
        ("EXEC", "\\-\\-interval"),
        ("INSTALL", "DIR"),
        ("HELM-VALUES", "\\-\\-set\\-path"),
        ("INIT", "\\-\\-config\\-template"),
    ] {
        let heading = format!(".SH \"VAULT-FETCH-RELAY {section}\"");
        let at = r
            .stdout
            .find(&heading)
            .unwrap_or_else(|| panic!("no {heading}"));
        let body = &r.stdout[at + heading.len()..];
        let body = &body[..body.find(".SH ").unwrap_or(body.len())];
        assert!(body.contains(option), "{heading} lacks {option}");
    }
    assert!(
        !r.stdout.contains("relay\\-exec(1)"),
        "dangling page reference"
    );
}

#[test]
fn readme_and_examples_name_paths_that_exist() {
    let readme = readme();
    assert!(!readme.contains("./chart"));
    assert!(readme.contains("helm upgrade --install relay examples/helm/relay"));
    assert!(repo().join("examples/helm/relay/Chart.yaml").exists());
    let examples = fs::read_to_string(repo().join("examples/README.md")).unwrap();
    for line in examples.lines().filter(|l| l.contains("helm ")) {
        assert!(
            !line.trim_start().starts_with("helm "),
            "plain helm: {line}"
        );
    }
}

/// On a terminal (a pty from util-linux `script`), retries are announced without -v
/// and the status is coloured; NO_COLOR turns the colour off.
#[test]
fn a_terminal_gets_retry_lines_and_colour() {
    let script = Path::new("/usr/bin/script");
    if !script.exists() {
        note_skip("the terminal test needs util-linux `script` for a pty");
        return;
    }
    let s = server();
    seed(&s, NAME);
    let on_tty = |extra_env: &[(&str, &str)]| {
        s.push_faults(vec![Fault::status(503, r#"{"message":"busy"}"#); 1]);
        let mut c = Command::new(script);
        c.args([
            "-qec",
            &format!("{} check --secret-name missing", bin()),
            "/dev/null",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", s.base_url());
        for (k, v) in extra_env {
            c.env(k, v);
        }
        run(c)
    };
    let r = on_tty(&[]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stdout
            .contains("attempt 1/4 failed: HTTP 503: busy; retry 2/4 in "),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("\x1b[1;31mnot_found\x1b[0m"),
        "{}",
        r.stdout
    );
    for off in [("NO_COLOR", "1"), ("TERM", "dumb"), ("CLICOLOR", "0")] {
        let r = on_tty(&[off]);
        assert!(!r.stdout.contains('\x1b'), "{off:?}: {}", r.stdout);
        assert!(r.stdout.contains("retry 2/4"));
    }
}
