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
use crate::devserver::{generate_api_key, DevServer, DevServerConfig, DEFAULT_SECRET_NAME};
use crate::exit::Exit;

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
    /// Run this binary with the dev server's settings in the environment (never argv).
    fn run(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Output> {
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
        let mut child = cmd.spawn().context("cannot start vault-fetch-relay")?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.unwrap_or("").as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "`vault-fetch-relay {}` exited with {}: {}",
                args.join(" "),
                out.status,
                self.mask(&String::from_utf8_lossy(&out.stderr))
            );
        }
        Ok(out)
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
