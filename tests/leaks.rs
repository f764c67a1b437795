//! Secret-leak audit. Every mode (and a set of faults, including servers that echo the
//! request back) runs with a canary API key, canary credentials and `RUST_LOG=trace`.
//! The canaries may appear only where they belong: the secret key on stdout of the
//! Terraform and env modes and in the files meant to hold it; the API key nowhere but
//! the key file we gave (and never in the environment `exec` gives its child). Not in stderr, not in any other file left in the run's
//! directories (cwd, HOME, TMPDIR), not in any child's argv. And the Authorization
//! header goes to the API base host only: redirects to another server are not followed.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::json;
use vault_fetch_relay::secret::Secret;

/// The canaries of one run.
struct Canaries {
    api_key: &'static str,
    creds: RelayCredentials,
}

impl Canaries {
    fn new() -> Self {
        Canaries {
            api_key: CANARY_KEY,
            creds: RelayCredentials::generate(Some("https://pub@o1.ingest.sentry.io/7".into()))
                .unwrap(),
        }
    }

    fn secret(&self) -> &str {
        self.creds.secret_key.expose()
    }

    /// Which canaries `text` holds, whole or in part (any 12 consecutive characters,
    /// in any letter case): the API key and the relay secret key.
    fn found_in(&self, text: &[u8]) -> Vec<&'static str> {
        let text = String::from_utf8_lossy(text).to_lowercase();
        let holds_part = |canary: &str| {
            let canary = canary.to_lowercase();
            let chars: Vec<char> = canary.chars().collect();
            chars
                .windows(12)
                .any(|w| text.contains(&w.iter().collect::<String>()))
        };
        let mut hits = Vec::new();
        if holds_part(self.api_key) {
            hits.push("API key");
        }
        if holds_part(self.secret()) {
            hits.push("relay secret key");
        }
        hits
    }
}

/// A scratch area that is the whole world of one run: cwd, HOME and TMPDIR live in it.
struct World {
    root: tempfile::TempDir,
}

impl World {
    fn new() -> Self {
        let w = World {
            root: tempfile::tempdir().unwrap(),
        };
        for d in ["cwd", "home", "tmp", "out"] {
            fs::create_dir_all(w.root.path().join(d)).unwrap();
        }
        w
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = cmd(args);
        c.current_dir(self.path("cwd"))
            .env("HOME", self.path("home"))
            .env("TMPDIR", self.path("tmp"))
            .env("RUST_LOG", "trace");
        c
    }

    fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                let t = fs::symlink_metadata(&p).unwrap().file_type();
                if t.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.root.path(), &mut out);
        out.sort();
        out
    }
}

/// One audited run: what it is allowed to hold where.
struct Audit<'a> {
    name: String,
    canaries: &'a Canaries,
    /// stdout may hold the relay secret key (Terraform, env to stdout).
    stdout_may_hold_secret: bool,
    /// Files (relative to the world) that may hold the relay secret key.
    secret_files: Vec<String>,
    /// Files that may hold the API key (the key file we wrote).
    key_files: Vec<String>,
}

impl Audit<'_> {
    fn check(&self, world: &World, run: &Run, problems: &mut Vec<String>) {
        let name = &self.name;
        if run.stderr.contains("panicked") {
            problems.push(format!("{name}: panicked: {}", run.stderr));
        }
        for hit in self.canaries.found_in(run.stderr.as_bytes()) {
            problems.push(format!("{name}: {hit} in stderr"));
        }
        for hit in self.canaries.found_in(run.stdout.as_bytes()) {
            if !(hit == "relay secret key" && self.stdout_may_hold_secret) {
                problems.push(format!("{name}: {hit} on stdout"));
            }
        }
        let secret_ok: BTreeSet<PathBuf> =
            self.secret_files.iter().map(|f| world.path(f)).collect();
        let key_ok: BTreeSet<PathBuf> = self.key_files.iter().map(|f| world.path(f)).collect();
        for file in world.files() {
            let Ok(bytes) = fs::read(&file) else { continue };
            for hit in self.canaries.found_in(&bytes) {
                let allowed = match hit {
                    "API key" => key_ok.contains(&file),
                    _ => secret_ok.contains(&file),
                };
                if !allowed {
                    problems.push(format!("{name}: {hit} in file {}", file.display()));
                }
            }
        }
        // The intended files really hold the secret: proves the search would see it.
        for f in &secret_ok {
            let bytes = fs::read(f).unwrap_or_default();
            if !String::from_utf8_lossy(&bytes).contains(self.canaries.secret()) {
                problems.push(format!("{name}: {} should hold the secret", f.display()));
            }
        }
        if self.stdout_may_hold_secret && !run.stdout.contains(self.canaries.secret()) {
            problems.push(format!("{name}: stdout should hold the secret: {run:?}"));
        }
    }
}

fn seeded(c: &Canaries) -> DevServer {
    let s = server();
    s.set_value(NAME, &c.creds.to_vault_value()).unwrap();
    s
}

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn every_mode_keeps_its_canaries_where_they_belong() {
    let c = Canaries::new();
    let s = seeded(&c);
    let mut problems = Vec::new();

    struct ModeRun {
        name: &'static str,
        args: &'static [&'static str],
        stdin: Option<&'static str>,
        stdout_secret: bool,
        secret_files: &'static [&'static str],
        /// The API key comes from WORKOS_API_KEY_FILE instead of WORKOS_API_KEY.
        key_file: bool,
    }
    let runs = [
        ModeRun {
            name: "terraform",
            args: &[],
            stdin: Some("query"),
            stdout_secret: true,
            secret_files: &[],
            key_file: false,
        },
        ModeRun {
            name: "helm-values -o",
            args: &["helm-values", "-o", "@out/values.yaml"],
            stdin: None,
            stdout_secret: false,
            secret_files: &["out/values.yaml"],
            key_file: false,
        },
        ModeRun {
            name: "helm-values --layout anysource -o",
            args: &[
                "helm-values",
                "--layout",
                "anysource",
                "-o",
                "@out/values.yaml",
            ],
            stdin: None,
            stdout_secret: false,
            secret_files: &["out/values.yaml"],
            key_file: false,
        },
        ModeRun {
            name: "helm-values (temp file)",
            args: &["helm-values"],
            stdin: None,
            stdout_secret: false,
            secret_files: &["@tmp-printed"],
            key_file: false,
        },
        ModeRun {
            name: "init",
            args: &["init", "--dir", "@out/relay"],
            stdin: None,
            stdout_secret: false,
            secret_files: &["out/relay/credentials.json"],
            key_file: false,
        },
        ModeRun {
            name: "init with WORKOS_API_KEY_FILE",
            args: &["init", "--dir", "@out/relay"],
            stdin: None,
            stdout_secret: false,
            secret_files: &["out/relay/credentials.json"],
            key_file: true,
        },
        ModeRun {
            name: "env",
            args: &["env"],
            stdin: None,
            stdout_secret: true,
            secret_files: &[],
            key_file: false,
        },
        ModeRun {
            name: "env --format shell",
            args: &["env", "--format", "shell"],
            stdin: None,
            stdout_secret: true,
            secret_files: &[],
            key_file: false,
        },
        ModeRun {
            name: "env -o",
            args: &["env", "-o", "@out/relay.env"],
            stdin: None,
            stdout_secret: false,
            secret_files: &["out/relay.env"],
            key_file: false,
        },
        // exec: the secret belongs in the child's environment (env mode) or relay's
        // files (--dir), the API key nowhere the child can see.
        ModeRun {
            name: "exec",
            args: &[
                "exec",
                "--",
                "/bin/sh",
                "-c",
                "env > \"$0\"",
                "@out/child.env",
            ],
            stdin: None,
            stdout_secret: false,
            secret_files: &["out/child.env"],
            key_file: false,
        },
        ModeRun {
            name: "exec --once with WORKOS_API_KEY_FILE",
            args: &[
                "exec",
                "--once",
                "--",
                "/bin/sh",
                "-c",
                "env > \"$0\"",
                "@out/child.env",
            ],
            stdin: None,
            stdout_secret: false,
            secret_files: &["out/child.env"],
            key_file: true,
        },
        ModeRun {
            name: "exec --dir",
            args: &[
                "exec",
                "--dir",
                "@out/relay",
                "--",
                "/bin/sh",
                "-c",
                "env > \"$0\"",
                "@out/child.env",
            ],
            stdin: None,
            stdout_secret: false,
            secret_files: &["out/relay/credentials.json"],
            key_file: false,
        },
        ModeRun {
            name: "check",
            args: &["check"],
            stdin: None,
            stdout_secret: false,
            secret_files: &[],
            key_file: false,
        },
    ];
    for r in runs {
        let world = World::new();
        let args: Vec<String> = r
            .args
            .iter()
            .map(|a| match a.strip_prefix('@') {
                Some(rel) => world.path(rel).to_str().unwrap().to_string(),
                None => a.to_string(),
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut command = world.cmd(&args);
        command.env("WORKOS_API_BASE", s.base_url());
        let mut key_files = Vec::new();
        if r.key_file {
            fs::write(world.path("home/api-key"), format!("{}\n", c.api_key)).unwrap();
            command.env("WORKOS_API_KEY_FILE", world.path("home/api-key"));
            key_files.push("home/api-key".to_string());
        } else if r.stdin.is_none() {
            command.env("WORKOS_API_KEY", c.api_key);
        }
        let stdin = match r.stdin {
            Some(_) => json!({"api_key": c.api_key}).to_string(),
            None => String::new(),
        };
        let run = run_with(command, &stdin, LIMIT);
        if run.code != Some(0) {
            problems.push(format!("{}: exit {:?}: {}", r.name, run.code, run.stderr));
            continue;
        }
        let mut secret_files: Vec<String> = r.secret_files.iter().map(|f| f.to_string()).collect();
        if secret_files.iter().any(|f| f == "@tmp-printed") {
            // The printed path must be a fresh file under our TMPDIR.
            let printed = PathBuf::from(run.stdout.trim());
            let rel = printed
                .strip_prefix(world.root.path())
                .map(|p| p.to_str().unwrap().to_string());
            match rel {
                Ok(rel) if rel.starts_with("tmp/") => secret_files = vec![rel],
                _ => problems.push(format!("{}: printed {printed:?}, not under TMPDIR", r.name)),
            }
        }
        Audit {
            name: r.name.to_string(),
            canaries: &c,
            stdout_may_hold_secret: r.stdout_secret,
            secret_files,
            key_files,
        }
        .check(&world, &run, &mut problems);
    }
    assert!(problems.is_empty(), "leaks:\n{}", problems.join("\n"));
}

/// Faults, among them servers that echo the key back, in Terraform mode (its
/// `reason` ends up in Terraform state) and init mode (its stderr in pod logs).
#[test]
fn faults_and_echoing_servers_leak_nothing() {
    let c = Canaries::new();
    // What a server that reflects the request sends back. (It cannot know the relay
    // secret; that one is only in the stored value.)
    let echo = format!(
        "Authorization: Bearer {} was rejected (key {})",
        c.api_key, c.api_key
    );
    let other = RelayCredentials::generate(None).unwrap();
    let mut mismatched = c.creds.clone();
    mismatched.public_key = other.public_key.clone();
    let mut secret_as_id =
        serde_json::from_str::<serde_json::Value>(&c.creds.to_vault_value()).unwrap();
    secret_as_id["id"] = json!(c.secret());
    let mut secret_not_string =
        serde_json::from_str::<serde_json::Value>(&c.creds.to_vault_value()).unwrap();
    secret_not_string["secret_key"] = json!([c.secret()]);

    type Setup = Box<dyn Fn(&DevServer) + Send + Sync>;
    let json_echo = json!({"message": echo}).to_string();
    let cases: Vec<(&str, Setup)> = vec![
        ("401 echoing the key", {
            let b = json_echo.clone();
            Box::new(move |s| s.push_fault(Fault::status(401, b.clone())))
        }),
        ("403 echoing the key", {
            let b = json_echo.clone();
            Box::new(move |s| s.push_fault(Fault::status(403, b.clone())))
        }),
        ("404 page echoing the key", {
            let b = format!("<html>{echo}</html>");
            Box::new(move |s| s.push_fault(Fault::status(404, b.clone())))
        }),
        ("500 storm echoing the key", {
            let b = format!("<html>{echo}</html>");
            Box::new(move |s| s.push_faults(vec![Fault::status(500, b.clone()); 4]))
        }),
        ("429 echoing the key, Retry-After past the deadline", {
            let b = json_echo.clone();
            Box::new(move |s| {
                s.push_fault(Fault::Respond {
                    status: 429,
                    headers: vec![("Retry-After".into(), "3600".into())],
                    body: b.clone(),
                })
            })
        }),
        ("200 HTML echoing the key", {
            let b = format!("<html>{echo}</html>");
            Box::new(move |s| s.push_fault(Fault::status(200, b.clone())))
        }),
        ("200 with a non-string value holding the secret", {
            let b =
                json!({"id": "o", "name": NAME, "value": {"secret_key": c.secret()}}).to_string();
            Box::new(move |s| s.push_fault(Fault::status(200, b.clone())))
        }),
        ("truncated JSON cut inside the secret", {
            let full =
                json!({"id": "o", "name": NAME, "value": c.creds.to_vault_value()}).to_string();
            let cut = full[..full.find(c.secret()).unwrap() + 20].to_string();
            Box::new(move |s| s.push_fault(Fault::status(200, cut.clone())))
        }),
        ("redirect whose Location carries the key", {
            let loc = format!("https://evil.example/steal?k={}", c.api_key);
            Box::new(move |s| {
                s.push_fault(Fault::Respond {
                    status: 302,
                    headers: vec![("Location".into(), loc.clone())],
                    body: String::new(),
                })
            })
        }),
        ("key pair that does not match", {
            let v = mismatched.to_vault_value();
            Box::new(move |s| {
                s.set_value(NAME, &v).unwrap();
            })
        }),
        ("secret key stored as the id", {
            let v = secret_as_id.to_string();
            Box::new(move |s| {
                s.set_value(NAME, &v).unwrap();
            })
        }),
        ("secret key stored as an array", {
            let v = secret_not_string.to_string();
            Box::new(move |s| {
                s.set_value(NAME, &v).unwrap();
            })
        }),
        ("server hangs until the deadline", {
            Box::new(|s| s.push_faults(vec![Fault::Hang; 2]))
        }),
        ("reset mid-body inside the secret", {
            let full =
                json!({"id": "o", "name": NAME, "value": c.creds.to_vault_value()}).to_string();
            let prefix = full[..full.find(c.secret()).unwrap() + 20].to_string();
            Box::new(move |s| {
                s.push_faults(vec![
                    Fault::ResetMidBody {
                        status: 200,
                        body_prefix: prefix.clone(),
                        content_length: full.len(),
                    };
                    4
                ])
            })
        }),
    ];

    let mut problems = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|(name, setup)| {
                let c = &c;
                scope.spawn(move || {
                    let mut problems = Vec::new();
                    for mode in ["terraform", "init"] {
                        let s = seeded(c);
                        setup(&s);
                        let world = World::new();
                        let relay = world.path("out/relay");
                        let run = if mode == "terraform" {
                            let q = json!({"api_key": c.api_key, "api_base": s.base_url(), "timeout_seconds": "3"});
                            run_with(world.cmd(&[]), &q.to_string(), LIMIT)
                        } else {
                            let mut cmd = world.cmd(&["init", "--dir", relay.to_str().unwrap()]);
                            cmd.env("WORKOS_API_KEY", c.api_key)
                                .env("WORKOS_API_BASE", s.base_url())
                                .env("VAULT_FETCH_TIMEOUT_SECONDS", "3");
                            run_with(cmd, "", LIMIT)
                        };
                        // A 404 that is not WorkOS Vault's is a wrong api base: the one
                        // case that fails instead of degrading.
                        let (want_code, want_line) = if name.starts_with("404") {
                            (1, "error: wrong_api_base: ")
                        } else {
                            (0, "warning: ")
                        };
                        let name = format!("{name} [{mode}]");
                        if run.code != Some(want_code) {
                            problems.push(format!("{name}: exit {:?}: {}", run.code, run.stderr));
                        }
                        if !run.stderr.contains(want_line) {
                            problems.push(format!("{name}: expected {want_line:?}: {}", run.stderr));
                        }
                        Audit {
                            name,
                            canaries: c,
                            stdout_may_hold_secret: false,
                            secret_files: Vec::new(),
                            key_files: Vec::new(),
                        }
                        .check(&world, &run, &mut problems);
                    }
                    problems
                })
            })
            .collect();
        for h in handles {
            problems.extend(h.join().unwrap());
        }
    });
    assert!(problems.is_empty(), "leaks:\n{}", problems.join("\n"));
}

/// The Authorization header never follows a redirect: the second server sees nothing.
#[test]
fn the_api_key_goes_to_the_api_base_host_only() {
    let c = Canaries::new();
    let first = seeded(&c);
    let second = seeded(&c);
    let target = format!("{}/vault/v1/kv/name/{NAME}", second.base_url());
    // Also a redirect to a host name for the same address: still another origin.
    let by_name = target.replace("127.0.0.1", "localhost");
    let redirects = [
        (301, &target),
        (302, &target),
        (303, &target),
        (307, &target),
        (308, &target),
        (302, &by_name),
    ];
    for (status, location) in redirects {
        first.push_fault(Fault::Respond {
            status,
            headers: vec![("Location".into(), location.clone())],
            body: String::new(),
        });
        let q = json!({"api_key": c.api_key, "api_base": first.base_url(), "timeout_seconds": "5"});
        let run = terraform(&q, &[]);
        let m = run.terraform_map();
        assert_eq!(m["status"], "unavailable", "{status}: {run:?}");
        assert!(m["reason"].contains("not followed"), "{}", m["reason"]);
        assert_eq!(m["secret_key"], "");
    }
    assert_eq!(
        second.request_count(),
        0,
        "a redirect was followed: {:?}",
        second.requests()
    );
    let seen = first.requests();
    assert_eq!(seen.len(), redirects.len());
    for r in &seen {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {}", c.api_key).as_str())
        );
    }
}

/// Children of `pid` (from /proc), with their argv.
fn children_argv(pid: u32) -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Some(child) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // Field 4 (ppid) follows the ")" that ends the command name.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            if let Ok(argv) = fs::read(format!("/proc/{child}/cmdline")) {
                out.push((child, argv));
            }
        }
    }
    out
}

/// `demo` is the only mode that spawns processes. Its output masks the secrets it
/// generates, and while it runs its children's argv (sampled from /proc) hold none.
#[test]
fn the_demo_masks_its_secrets_and_keeps_them_out_of_argv() {
    let world = World::new();
    let mut child = world
        .cmd(&["demo"])
        .stdin(Stdio::null())
        .stdout(fs::File::create(world.path("home/demo.out")).unwrap())
        .stderr(fs::File::create(world.path("home/demo.err")).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id();
    let started = Instant::now();
    let mut argvs: Vec<Vec<u8>> = Vec::new();
    let mut seen_pids = BTreeSet::new();
    let status = loop {
        for (p, argv) in children_argv(pid) {
            if seen_pids.insert(p) {
                argvs.push(argv);
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("demo ran longer than 90 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout = fs::read_to_string(world.path("home/demo.out")).unwrap();
    let stderr = fs::read_to_string(world.path("home/demo.err")).unwrap();
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("<secret key: masked>"), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // The demo generates its own key and credentials; find them by shape.
    let text = format!("{stdout}\n{stderr}");
    let api_keys = tokens(&text, |t| {
        t.len() == 40
            && t.starts_with("sk_test_")
            && t[8..].chars().all(|c| c.is_ascii_alphanumeric())
    });
    assert!(api_keys.is_empty(), "demo printed API keys: {api_keys:?}");
    // A relay secret key is a 43-character base64url seed whose public key the demo
    // shows; any printed token that forms a valid pair with a printed public key leaked.
    let b64 = |t: &str| {
        t.len() == 43
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let candidates = tokens(&text, b64);
    assert!(
        !candidates.is_empty(),
        "the demo shows public keys; found no key-shaped token at all: {stdout}"
    );
    for sk in &candidates {
        for pk in &candidates {
            assert!(
                vault_fetch_relay::keys::check_pair(pk, &Secret::new(sk.as_str())).is_err(),
                "demo printed a secret key (it pairs with public key {pk})"
            );
        }
    }
    for argv in &argvs {
        let a = String::from_utf8_lossy(argv);
        assert!(
            tokens(&a, b64).is_empty() && !a.contains("sk_test_"),
            "child argv holds a secret: {a:?}"
        );
    }
    eprintln!(
        "demo: sampled the argv of {} child process(es)",
        argvs.len()
    );
    // The demo cleans up after itself: nothing left in TMPDIR.
    let left: Vec<_> = fs::read_dir(world.path("tmp")).unwrap().flatten().collect();
    assert!(left.is_empty(), "demo left files behind: {left:?}");
}

/// Maximal runs of base64url/identifier characters in `text` that satisfy `keep`.
fn tokens(text: &str, keep: impl Fn(&str) -> bool) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|t| keep(t))
        .map(String::from)
        .collect()
}

/// `check --upstream`: the relay secret key signs the requests but is never on the wire
/// (headers, bodies, as the Python upstream received them), nor in stdout, stderr or a
/// file, for an accepted preflight, each refusal and an unreachable upstream. The argv
/// of the run holds no secret either (the flags name URLs and a DSN only).
#[test]
fn the_upstream_preflight_never_sends_or_prints_the_secret_key() {
    use crate::upstream::{PyUpstream, DSN_KEY};
    let c = Canaries::new();
    let mut creds = c.creds.clone();
    creds.sentry_dsn = Some(format!("https://{DSN_KEY}@o1.ingest.sentry.io/7"));
    let s = server();
    s.set_value(NAME, &creds.to_vault_value()).unwrap();
    let other = RelayCredentials::generate(None).unwrap();
    let configs = [
        (
            "accepted",
            json!({"projects": {DSN_KEY: [creds.public_key]}}),
            0,
        ),
        (
            "different key",
            json!({"registered": {creds.relay_id.clone(): other.public_key}}),
            6,
        ),
        ("project not served", json!({"projects": {}}), 6),
    ];
    let mut problems = Vec::new();
    let mut upstreams = Vec::new();
    for (name, config, want) in configs {
        let Some(up) = PyUpstream::start(config) else {
            return;
        };
        upstreams.push((name, up.url("http"), want, Some(up)));
    }
    upstreams.push((
        "unreachable",
        format!("http://127.0.0.1:{}", closed_port()),
        7,
        None,
    ));
    for (name, url, want, up) in &upstreams {
        for format in ["text", "json"] {
            let world = World::new();
            let args = ["check", "--format", format, "--upstream", url];
            let mut command = world.cmd(&args);
            command
                .env("WORKOS_API_KEY", c.api_key)
                .env("WORKOS_API_BASE", s.base_url())
                .env("VAULT_FETCH_TIMEOUT_SECONDS", "5");
            let run = run_with(command, "", LIMIT);
            let label = format!("check --upstream ({name}, {format})");
            if run.code != Some(*want) {
                problems.push(format!("{label}: exit {:?}: {}", run.code, run.text()));
            }
            for arg in args {
                for hit in c.found_in(arg.as_bytes()) {
                    problems.push(format!("{label}: {hit} in argv"));
                }
            }
            Audit {
                name: label,
                canaries: &c,
                stdout_may_hold_secret: false,
                secret_files: Vec::new(),
                key_files: Vec::new(),
            }
            .check(&world, &run, &mut problems);
        }
        if let Some(up) = up {
            let wire = up.wire();
            if wire.is_empty() {
                problems.push(format!("{name}: the upstream saw no request"));
            }
            let bytes = serde_json::to_vec(&wire).unwrap();
            for hit in c.found_in(&bytes) {
                problems.push(format!("{name}: {hit} on the wire to upstream"));
            }
        }
    }
    assert!(problems.is_empty(), "leaks:\n{}", problems.join("\n"));
}

/// `deployment-event`: the DSN read from the vault with the canary API key, the event sent to a
/// capturing ingest. The API key goes to the vault only (its Authorization header); it is never in
/// the envelope or its headers, argv, stdout, stderr (RUST_LOG=trace) or a file left behind; nor
/// is the relay secret key, read with the DSN. Refusals and an unreachable Sentry alike.
#[test]
fn deployment_events_never_carry_or_print_the_api_key() {
    use crate::deployment_event::{Ingest, Reply, KEY};
    let c = Canaries::new();
    let mut problems = Vec::new();
    let scripts: [(&str, Vec<Reply>); 3] = [
        ("accepted", vec![]),
        (
            "refused",
            vec![Reply::Status(
                403,
                vec![],
                r#"{"detail": "event submission rejected"}"#.into(),
            )],
        ),
        ("unreachable", vec![Reply::Hang]),
    ];
    for (name, script) in scripts {
        let ingest = Ingest::start(script);
        let mut creds = c.creds.clone();
        creds.sentry_dsn = Some(ingest.dsn("/3"));
        let s = server();
        s.set_value(NAME, &creds.to_vault_value()).unwrap();
        let world = World::new();
        let args = [
            "deployment-event",
            "--deployment-type",
            "eks",
            "--customer-id",
            "acme",
            "--infra-version",
            "1.0.0",
            "--status",
            "failure",
            "--error-message",
            "boom",
            "--timeout-seconds",
            "4",
        ];
        let mut command = world.cmd(&args);
        command
            .env("WORKOS_API_KEY", c.api_key)
            .env("WORKOS_API_BASE", s.base_url());
        let run = run_with(command, "", LIMIT);
        if run.code != Some(0) {
            problems.push(format!("{name}: exit {:?}: {}", run.code, run.text()));
        }
        for arg in args {
            for hit in c.found_in(arg.as_bytes()) {
                problems.push(format!("{name}: {hit} in argv"));
            }
        }
        Audit {
            name: format!("deployment-event ({name})"),
            canaries: &c,
            stdout_may_hold_secret: false,
            secret_files: Vec::new(),
            key_files: Vec::new(),
        }
        .check(&world, &run, &mut problems);
        let sent = ingest.envelopes(1, Duration::ZERO);
        if sent.is_empty() {
            problems.push(format!("{name}: the ingest saw no envelope"));
        }
        for r in &sent {
            let wire = format!(
                "{}{:?}{}",
                r.path,
                r.headers,
                String::from_utf8_lossy(&r.body)
            );
            for hit in c.found_in(wire.as_bytes()) {
                problems.push(format!("{name}: {hit} on the wire to Sentry"));
            }
            if !wire.contains(KEY) {
                problems.push(format!(
                    "{name}: the DSN's public key is not on the wire: {wire}"
                ));
            }
        }
        // The key went to the vault, in its Authorization header only.
        for r in s.requests() {
            if r.header("authorization") != Some(&format!("Bearer {}", c.api_key)) {
                problems.push(format!(
                    "{name}: a vault request without the key: {}",
                    r.path
                ));
            }
        }
    }
    assert!(problems.is_empty(), "leaks:\n{}", problems.join("\n"));
}

/// Issue 27: user info in a URL (a password, and the user name beside it) is never echoed,
/// whichever URL carries it: the upstream (flag, both variables, a template's
/// relay.upstream), the DSN, the API base (flag, variables, query) and a proxy. Each
/// refusal, and each run that goes on, is checked in stdout, stderr (RUST_LOG=trace) and
/// every file of its world.
#[test]
fn user_info_in_any_url_is_never_echoed() {
    const USER: &str = "USERcanary42x";
    const PASS: &str = "PWcanary7f3e9";
    let ui = format!("{USER}:{PASS}@");
    let c = Canaries::new();
    let s = seeded(&c);
    let port = s.addr().port();
    let dead = closed_port();
    let with_ui = |url: &str| url.replacen("://", &format!("://{ui}"), 1);
    let loopback = format!("http://127.0.0.1:{port}");
    let bad_urls = [
        with_ui(&loopback),
        with_ui("https://"),
        with_ui("https://sentry.example:99999/"),
        with_ui("https://sentry.example/api/0/"),
        with_ui("https://sentry.example/?x=1"),
        with_ui("http://sentry.example"),
        with_ui("ftp://sentry.example"),
        format!("{ui}sentry.example"),
        format!("https://{USER}:{PASS}/@sentry.example/"),
    ];
    // (name, args, env); `@T` is a template whose relay.upstream holds user info.
    /// (name, args, extra environment).
    type Case<'a> = (String, Vec<String>, Vec<(&'a str, String)>);
    let mut cases: Vec<Case> = Vec::new();
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for url in &bad_urls {
        cases.push((
            format!("check --upstream {url}"),
            owned(&["check", "--upstream", url]),
            vec![],
        ));
        cases.push((
            format!("check with RELAY_UPSTREAM_URL={url}"),
            owned(&["check"]),
            vec![("RELAY_UPSTREAM_URL", url.clone())],
        ));
        cases.push((
            format!("init --upstream {url}"),
            owned(&["init", "--dir", "@out/relay", "--upstream", url]),
            vec![],
        ));
        cases.push((
            format!("init --verify-upstream with VAULT_FETCH_UPSTREAM_URL={url}"),
            owned(&["init", "--dir", "@out/relay", "--verify-upstream"]),
            vec![("VAULT_FETCH_UPSTREAM_URL", url.clone())],
        ));
        cases.push((
            format!("exec --once --dir --upstream {url}"),
            owned(&[
                "exec",
                "--once",
                "--dir",
                "@out/relay",
                "--upstream",
                url,
                "--",
                "true",
            ]),
            vec![],
        ));
        cases.push((
            format!("init with a template whose upstream is {url}"),
            owned(&[
                "init",
                "--dir",
                "@out/relay",
                "--verify-upstream",
                "--config-template",
                "@T",
            ]),
            vec![("TEMPLATE_UPSTREAM", url.clone())],
        ));
        cases.push((
            format!("init with a template and --upstream {url}"),
            owned(&[
                "init",
                "--dir",
                "@out/relay",
                "--config-template",
                "@T",
                "--upstream",
                url,
            ]),
            vec![("TEMPLATE_UPSTREAM", loopback.clone())],
        ));
        cases.push((
            format!("--api-base {url}"),
            owned(&["check", "--api-base", url]),
            vec![],
        ));
        cases.push((
            format!("WORKOS_API_BASE={url}"),
            owned(&["init", "--dir", "@out/relay"]),
            vec![("WORKOS_API_BASE", url.clone())],
        ));
        cases.push((
            format!("query api_base {url}"),
            vec![],
            vec![("QUERY_API_BASE", url.clone())],
        ));
        cases.push((
            format!("HTTPS_PROXY={url}"),
            owned(&[
                "check",
                "--api-base",
                "https://vault.example",
                "--timeout-seconds",
                "2",
            ]),
            vec![("HTTPS_PROXY", url.clone())],
        ));
    }
    for dsn in [
        with_ui("https://sentry.example"),
        with_ui("https://sentry.example/"),
        format!("https://{USER}:{PASS}@o1.ingest.sentry.io/7"),
        format!("https://{USER}:{PASS}@/7"),
    ] {
        cases.push((
            format!("check --dsn {dsn}"),
            owned(&["check", "--upstream", &loopback, "--dsn", &dsn]),
            vec![],
        ));
    }
    // A proxy with credentials that is used (nothing listens there): its log lines and
    // the failure.
    cases.push((
        "a proxy with credentials that refuses connections".into(),
        owned(&[
            "check",
            "--api-base",
            "https://vault.example",
            "--timeout-seconds",
            "3",
        ]),
        vec![("HTTPS_PROXY", format!("http://{ui}127.0.0.1:{dead}"))],
    ));

    let mut problems = Vec::new();
    let mut runs = 0;
    for (name, args, env) in &cases {
        let world = World::new();
        let template = world.path("home/config.yml");
        let args: Vec<String> = args
            .iter()
            .map(|a| match a.as_str() {
                "@T" => template.to_str().unwrap().to_string(),
                a => match a.strip_prefix('@') {
                    Some(rel) => world.path(rel).to_str().unwrap().to_string(),
                    None => a.to_string(),
                },
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut command = world.cmd(&args);
        command
            .env("WORKOS_API_KEY", c.api_key)
            .env("WORKOS_API_BASE", s.base_url())
            .env("VAULT_FETCH_TIMEOUT_SECONDS", "3");
        let mut stdin = String::new();
        for (k, v) in env {
            match *k {
                "TEMPLATE_UPSTREAM" => fs::write(
                    &template,
                    format!("relay:\n  mode: managed\n  upstream: {v:?}\n"),
                )
                .unwrap(),
                "QUERY_API_BASE" => {
                    stdin = json!({"api_key": c.api_key, "api_base": v}).to_string();
                }
                _ => {
                    command.env(k, v);
                }
            }
        }
        let run = run_with(command, &stdin, LIMIT);
        runs += 1;
        if run.stderr.contains("panicked") {
            problems.push(format!("{name}: panicked: {}", run.stderr));
        }
        let mut places = vec![
            ("stdout", run.stdout.clone()),
            ("stderr", run.stderr.clone()),
        ];
        for file in world.files() {
            if file != template {
                let text = String::from_utf8_lossy(&fs::read(&file).unwrap()).into_owned();
                places.push(("a file", text));
            }
        }
        for (place, text) in places {
            let lower = text.to_lowercase();
            for part in [USER, PASS] {
                if lower.contains(&part.to_lowercase()) {
                    problems.push(format!("{name}: {part} in {place}: {text}"));
                }
            }
        }
    }
    assert!(runs > 100, "{runs}");
    assert!(
        problems.is_empty(),
        "user info echoed:\n{}",
        problems.join("\n")
    );
}
