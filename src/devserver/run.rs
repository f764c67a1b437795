//! `vault-fetch-relay dev-server`: run the dev server in the foreground, print the
//! shell exports that point the tool at it, and stop cleanly on Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use anyhow::{bail, Context};
use serde_json::Value;

use super::{
    generate_api_key, seed_credentials_value, DevServer, DevServerConfig, TlsIdentity,
    DEFAULT_SECRET_NAME,
};

/// Environment variable that fixes the dev server's API key (else one is generated).
pub const API_KEY_ENV: &str = "VAULT_DEV_API_KEY";

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub listen: SocketAddr,
    /// Create `runlayer-sentry-credentials` with fresh valid relay credentials.
    pub seed: bool,
    /// Seed objects from `{"name": "value", ...}` or `[{"name":..,"value":..}]`.
    pub from_file: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// From `VAULT_DEV_API_KEY` if set, else generated.
    pub api_key: Option<String>,
}

/// Run until Ctrl-C or SIGTERM.
pub fn run(opts: RunOptions) -> anyhow::Result<()> {
    let api_key = opts
        .api_key
        .clone()
        .or_else(|| std::env::var(API_KEY_ENV).ok())
        .filter(|k| !k.is_empty())
        .unwrap_or_else(generate_api_key);
    let tls = load_tls(opts.tls_cert.as_deref(), opts.tls_key.as_deref())?;
    // Read the seed file before binding so a typo fails fast without a half-started server.
    let file_objects = match &opts.from_file {
        Some(path) => read_seed_file(path)?,
        None => Vec::new(),
    };

    // Install the handler before anything is printed: a signal that arrives between
    // printing and waiting must still shut down cleanly.
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .context("installing the Ctrl-C/SIGTERM handler")?;

    let server = DevServer::start(DevServerConfig {
        listen: opts.listen,
        api_key,
        tls,
        log_requests: true,
    })?;

    if opts.seed {
        let (value, relay_id) = seed_credentials_value()?;
        server.create(DEFAULT_SECRET_NAME, &value)?;
        eprintln!("dev-server: seeded {DEFAULT_SECRET_NAME} (relay id {relay_id})");
    }
    for (name, value) in &file_objects {
        server
            .create(name, value)
            .with_context(|| format!("seeding from the file (duplicate name {name:?}?)"))?;
    }
    if !file_objects.is_empty() {
        eprintln!(
            "dev-server: seeded {} object(s) from the file",
            file_objects.len()
        );
    }

    // Exactly the lines to paste into a shell. The key is a throwaway dev key: showing
    // it is the point of this command.
    let mut out = std::io::stdout().lock();
    writeln!(out, "export WORKOS_API_BASE={}", server.base_url())?;
    writeln!(out, "export WORKOS_API_KEY={}", server.api_key())?;
    out.flush()?;
    drop(out);
    eprintln!(
        "dev-server: dev server listening on {} (Ctrl-C to stop)",
        server.base_url()
    );

    // A closed channel (handler gone) also ends the wait rather than hanging forever.
    let _ = rx.recv();
    eprintln!("dev-server: shutting down");
    server.shutdown();
    Ok(())
}

fn load_tls(cert: Option<&Path>, key: Option<&Path>) -> anyhow::Result<Option<TlsIdentity>> {
    match (cert, key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some(TlsIdentity {
            cert_chain_pem: std::fs::read_to_string(cert)
                .with_context(|| format!("reading the TLS certificate {}", cert.display()))?,
            key_pem: std::fs::read_to_string(key)
                .with_context(|| format!("reading the TLS key {}", key.display()))?,
        })),
        _ => bail!("--tls-cert and --tls-key go together: give both or neither"),
    }
}

fn read_seed_file(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the seed file {}", path.display()))?;
    parse_seed(&text).with_context(|| format!("in the seed file {}", path.display()))
}

/// `{"name": value, ...}` or `[{"name": .., "value": ..}, ...]`. A value that is not a
/// string (e.g. a credentials object) is stored as its compact JSON text.
pub(super) fn parse_seed(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    // Parse errors from serde_json carry only a position, never file content.
    let doc: Value = serde_json::from_str(text).context("the file is not valid JSON")?;
    let mut out = Vec::new();
    match doc {
        Value::Object(map) => {
            for (name, value) in map {
                out.push((name, value_text(value)));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                let Value::Object(mut item) = item else {
                    bail!("item {i} is not an object with \"name\" and \"value\"");
                };
                let Some(Value::String(name)) = item.remove("name") else {
                    bail!("item {i} has no string \"name\"");
                };
                let Some(value) = item.remove("value") else {
                    bail!("item {i} ({name:?}) has no \"value\"");
                };
                out.push((name, value_text(value)));
            }
        }
        _ => bail!(
            "expected a JSON object {{\"name\": \"value\"}} or an array of {{\"name\", \"value\"}}"
        ),
    }
    Ok(out)
}

fn value_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_files_in_both_shapes() {
        let map = parse_seed(r#"{"a": "1", "creds": {"id": "x", "n": 2}}"#).unwrap();
        assert!(map.contains(&("a".into(), "1".into())));
        assert!(map.contains(&("creds".into(), r#"{"id":"x","n":2}"#.into())));
        let list =
            parse_seed(r#"[{"name": "b", "value": "2"}, {"name": "c", "value": [1]}]"#).unwrap();
        assert_eq!(list, [("b".into(), "2".into()), ("c".into(), "[1]".into())]);
        assert!(parse_seed("[1]").is_err());
        assert!(parse_seed(r#"[{"value": "x"}]"#).is_err());
        assert!(parse_seed(r#"[{"name": "x"}]"#).is_err());
        assert!(parse_seed("\"str\"").is_err());
        assert!(parse_seed("{").is_err());
    }

    #[test]
    fn tls_paths_come_in_pairs() {
        assert!(load_tls(None, None).unwrap().is_none());
        assert!(load_tls(Some(Path::new("c.pem")), None).is_err());
    }
}
