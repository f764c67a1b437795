//! `vault-fetch-relay demo`: start the dev server in-process, seed it, then run every
//! mode as a user would (this same binary, as child processes) and show what each
//! produced, with secret values masked. Exit 0 only when every step behaved as
//! documented.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use anyhow::{bail, ensure, Context};

use crate::credentials::RelayCredentials;
use crate::exit::Exit;
use vfr_devserver::{generate_api_key, DevServer, DevServerConfig, DEFAULT_SECRET_NAME};

/// Best-effort output: a reader that went away (`demo | head`) is not an error.
macro_rules! say {
    ($($arg:tt)*) => {
        let _ = crate::console::out(&format!("{}\n", format!($($arg)*)));
    };
}

pub(crate) fn run() -> anyhow::Result<Exit> {
    let server = DevServer::start(DevServerConfig::loopback(generate_api_key()))?;
    let creds = RelayCredentials::generate(Some("https://public@o1.ingest.sentry.io/1".into()))?;
    server.create(DEFAULT_SECRET_NAME, &creds.to_vault_value())?;
    let work = TempDir::new()?;
    let demo = Demo {
        server: &server,
        creds: &creds,
    };

    say!(
        "vault-fetch-relay demo: a local WorkOS Vault stand-in at {}",
        server.base_url()
    );
    say!(
        "seeded secret {DEFAULT_SECRET_NAME:?} with fresh relay credentials (relay {})\n",
        creds.masked_id()
    );

    step("1. Terraform external data source: echo '{\"api_key\": ...}' | vault-fetch-relay");
    let out = demo.run(
        &[],
        Some(&format!("{{\"api_key\":\"{}\"}}", server.api_key())),
        &[],
    )?;
    let map = terraform_map(&out)?;
    show(&demo.mask(&serde_json::to_string_pretty(&map)?));
    ensure!(
        map.get("status").map(String::as_str) == Some("found"),
        "terraform mode did not find the credentials"
    );
    ensure!(
        map.get("relay_id") == Some(&creds.relay_id),
        "terraform mode returned another relay id"
    );

    step("2. Helm values: vault-fetch-relay helm-values -o values.yaml");
    let values = work.path().join("values.yaml");
    demo.run(&["helm-values", "-o", path_str(&values)?], None, &[])?;
    show(&format!("{} ({})", values.display(), mode_of(&values)?));
    show(&demo.mask(&std::fs::read_to_string(&values)?));
    ensure!(
        mode_of(&values)? == "-rw-------",
        "values file is not mode 0600"
    );

    step("3. Init container: vault-fetch-relay init --dir relay");
    let relay_dir = work.path().join("relay");
    let out = demo.run(&["init", "--dir", path_str(&relay_dir)?], None, &[])?;
    show(&demo.mask(&String::from_utf8_lossy(&out.stderr)));
    let listing = list_dir(&relay_dir)?;
    show(&listing);
    ensure!(
        listing.contains("credentials.json") && listing.contains("config.yml"),
        "init did not write both files"
    );

    step("4. Environment: vault-fetch-relay env --format shell");
    let out = demo.run(&["env", "--format", "shell"], None, &[])?;
    show(&demo.mask(&String::from_utf8_lossy(&out.stdout)));

    step("5. Operator check: vault-fetch-relay check");
    let out = demo.run(&["check"], None, &[])?;
    show(&String::from_utf8_lossy(&out.stdout));

    step("6. Degraded: the secret is missing (WORKOS_VAULT_SECRET_NAME=missing-secret)");
    let missing = [("WORKOS_VAULT_SECRET_NAME", "missing-secret")];
    let out = demo.run(
        &[],
        Some(&format!("{{\"api_key\":\"{}\"}}", server.api_key())),
        &missing,
    )?;
    let map = terraform_map(&out)?;
    show(&serde_json::to_string_pretty(&map)?);
    ensure!(
        map.get("status").map(String::as_str) == Some("not_found"),
        "missing secret was not reported as not_found"
    );
    ensure!(
        map.get("secret_key").is_some_and(String::is_empty),
        "missing secret returned a secret key"
    );
    let degraded_dir = work.path().join("relay-degraded");
    let out = demo.run(&["init", "--dir", path_str(&degraded_dir)?], None, &missing)?;
    show(&String::from_utf8_lossy(&out.stderr));
    let listing = list_dir(&degraded_dir)?;
    show(&listing);
    ensure!(
        !listing.contains("credentials.json"),
        "degraded init wrote credentials.json"
    );
    let config = std::fs::read_to_string(degraded_dir.join("config.yml"))?;
    ensure!(
        config.contains("mode: proxy"),
        "degraded config.yml is not in proxy mode"
    );
    show("relay starts in proxy mode and forwards events; the deploy goes on without telemetry");

    upstream_tour(&demo)?;
    deployment_event(&demo)?;

    say!(
        "\nall steps behaved as documented ({} requests served)",
        server.request_count()
    );
    server.shutdown();
    Ok(Exit::Success)
}

struct Demo<'a> {
    server: &'a DevServer,
    creds: &'a RelayCredentials,
}

impl Demo<'_> {
    /// This binary with the dev server's settings in the environment (never argv).
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Command> {
        let exe = std::env::current_exe().context("cannot find this program's path")?;
        let mut cmd = Command::new(exe);
        cmd.args(args);
        // The tour shows the defaults: none of the user's own settings apply.
        for var in crate::cli::SETTING_VARS {
            cmd.env_remove(var);
        }
        cmd.env("WORKOS_API_BASE", self.server.base_url())
            .env("WORKOS_API_KEY", self.server.api_key())
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Ok(cmd)
    }

    /// Run it to the end; a non-zero exit is an error.
    fn run(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Output> {
        let (out, code) = self.run_any(args, stdin, env)?;
        if code != Some(0) {
            bail!(
                "`vault-fetch-relay {}` exited with {}: {}",
                args.join(" "),
                out.status,
                self.mask(&String::from_utf8_lossy(&out.stderr))
            );
        }
        Ok(out)
    }

    /// Run it to the end, whatever its exit code.
    fn run_any(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        env: &[(&str, &str)],
    ) -> anyhow::Result<(Output, Option<i32>)> {
        let mut child = self
            .command(args, env)?
            .spawn()
            .context("cannot start vault-fetch-relay")?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.unwrap_or("").as_bytes())?;
        }
        let out = child.wait_with_output()?;
        let code = out.status.code();
        Ok((out, code))
    }

    fn mask(&self, text: &str) -> String {
        let mut t = text.replace(self.creds.secret_key.expose(), "<secret key: masked>");
        t = t.replace(self.server.api_key(), "<api key: masked>");
        t
    }
}

fn terraform_map(out: &Output) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    serde_json::from_slice(&out.stdout)
        .context("terraform mode did not print a JSON object of strings")
}

fn step(title: &str) {
    say!("\n== {title}");
}

fn show(text: &str) {
    for line in text.trim_end().lines() {
        say!("   {line}");
    }
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str().context("temporary path is not UTF-8")
}

fn mode_of(p: &Path) -> anyhow::Result<String> {
    let mode = std::fs::metadata(p)?.permissions().mode();
    let bits: String = (0..9)
        .rev()
        .map(|i| {
            if mode & (1 << i) == 0 {
                '-'
            } else {
                ['x', 'w', 'r'][i % 3]
            }
        })
        .collect();
    Ok(format!("-{bits}"))
}

fn list_dir(dir: &Path) -> anyhow::Result<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    names.sort_by_key(|e| e.file_name());
    let mut out = format!("{}/\n", dir.display());
    for e in names {
        let p = e.path();
        out.push_str(&format!(
            "  {} {:>5} bytes  {}\n",
            mode_of(&p)?,
            std::fs::metadata(&p)?.len(),
            e.file_name().to_string_lossy()
        ));
    }
    Ok(out)
}

/// A private scratch directory removed on drop (the demo leaves nothing behind).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<Self> {
        let tag = crate::keys::hex(&crate::keys::random_bytes::<6>());
        let p = std::env::temp_dir().join(format!("vault-fetch-relay-demo-{tag}"));
        crate::files::ensure_private_dir(&p)?;
        Ok(TempDir(p))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Steps 7 and 8: the Sentry upstream preflight against the dev server's upstream side,
/// accepted, then a rotation to an untrusted key that `exec --verify-upstream` refuses
/// while relay (here a stand-in child) keeps running on the old credentials.
fn upstream_tour(demo: &Demo<'_>) -> anyhow::Result<()> {
    use std::io::{BufRead, BufReader};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let server = demo.server;
    let base = server.base_url();
    server.upstream().trust(&demo.creds.public_key);
    server.upstream().add_dsn_key("public");

    step(&format!(
        "7. Upstream preflight: vault-fetch-relay check --upstream {base}"
    ));
    let (out, code) = demo.run_any(&["check", "--upstream", &base], None, &[])?;
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let rows: String = report
        .lines()
        .skip_while(|l| !l.starts_with("upstream:"))
        .map(|l| format!("{l}\n"))
        .collect();
    show(&rows);
    ensure!(code == Some(0), "the preflight was not accepted: {report}");

    step("8. A rotation to a key Sentry does not trust: exec --verify-upstream keeps relay on the old one");
    let child =
        "echo \"relay started as ${RELAY_ID%%-*}... (mode $RELAY_MODE)\" >&2; exec sleep 60";
    let env = [
        ("RELAY_UPSTREAM_URL", base.as_str()),
        ("VAULT_FETCH_DEV_INTERVAL_FLOOR", "0.05"),
    ];
    let args = [
        "exec",
        "--verify-upstream",
        "--interval",
        "0.3s",
        "--",
        "/bin/sh",
        "-c",
        child,
    ];
    let mut exec = demo
        .command(&args, &env)?
        .stdout(Stdio::null())
        .spawn()
        .context("cannot start exec")?;
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&log);
    let stderr = exec.stderr.take().context("exec has no stderr")?;
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        }
    });
    let lines = || log.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let wait = |what: &str, f: &dyn Fn(&[String]) -> bool| -> anyhow::Result<()> {
        let until = Instant::now() + Duration::from_secs(20);
        while !f(&lines()) {
            ensure!(Instant::now() < until, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    };
    let started = |l: &[String]| l.iter().filter(|l| l.starts_with("relay started")).count();
    let result = (|| -> anyhow::Result<()> {
        wait("relay's start", &|l| started(l) == 1)?;
        let rotated = RelayCredentials::generate(demo.creds.sentry_dsn.clone())?;
        server.set_value(DEFAULT_SECRET_NAME, &rotated.to_vault_value())?;
        wait("the refusal", &|l| {
            l.iter().any(|l| l.contains("upstream_refused"))
        })?;
        // A few more polls ask again; none restarts relay.
        let asked = server.request_count();
        wait("three more polls", &|_| server.request_count() >= asked + 9)?;
        ensure!(
            started(&lines()) == 1,
            "relay was restarted into refused credentials"
        );
        Ok(())
    })();
    // SAFETY: kill(2) on our own child's pid, which we have not reaped yet.
    unsafe { libc::kill(exec.id() as i32, libc::SIGTERM) };
    let _ = exec.wait();
    let _ = reader.join();
    let shown: String = lines()
        .iter()
        .map(|l| format!("{}\n", demo.mask(l)))
        .collect();
    show(&shown);
    result?;
    show("relay kept the credentials Sentry accepts; trusting the new key in Sentry restarts it once");
    Ok(())
}

/// One deployment event, sent to the stand-in's Sentry ingest (DSN in the environment, never argv).
fn deployment_event(demo: &Demo<'_>) -> anyhow::Result<()> {
    const DSN_KEY: &str = "0123456789abcdef0123456789abcdef";
    let server = demo.server;
    server.upstream().add_dsn_key(DSN_KEY);
    let dsn = format!(
        "{}/1",
        server
            .base_url()
            .replacen("://", &format!("://{DSN_KEY}@"), 1)
    );
    step("9. Deployment event: SENTRY_DSN=... vault-fetch-relay deployment-event --deployment-type eks ... --status success");
    let args = [
        "deployment-event",
        "--deployment-type",
        "eks",
        "--customer-id",
        "demo",
    ];
    let args = [
        &args[..],
        &["--infra-version", "1.0.0", "--status", "success"],
    ]
    .concat();
    let out = demo.run(&args, None, &[("SENTRY_DSN", &dsn)])?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    ensure!(
        server
            .upstream()
            .events()
            .iter()
            .any(|e| e.event_id == id && e.payload["transaction"] == "deployment.completion"),
        "the stand-in's Sentry ingest did not receive the deployment event"
    );
    show(&format!(
        "event {id} received by the stand-in's Sentry ingest (transaction deployment.completion)"
    ));
    Ok(())
}
