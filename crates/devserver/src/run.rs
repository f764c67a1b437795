//! `vault-fetch-relay dev-server`: run the dev server in the foreground, print the
//! shell exports that point the tool at it, and stop cleanly on Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use anyhow::{bail, Context};
use serde_json::Value;

use super::{generate_api_key, DevServer, DevServerConfig, RateLimit, TlsIdentity};
use vfr_credentials::credentials::RelayCredentials;

/// Environment variable that fixes the dev server's API key (else one is generated).
pub const API_KEY_ENV: &str = "VAULT_DEV_API_KEY";

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub listen: SocketAddr,
    /// Create `seed_name` with fresh valid relay credentials.
    pub seed: bool,
    /// The object `seed` creates (`--secret-name` / WORKOS_VAULT_SECRET_NAME, so the
    /// other modes find it with the same setting).
    pub seed_name: String,
    /// Seed objects from `{"name": "value", ...}` or `[{"name":..,"value":..}]`.
    pub from_file: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// From `VAULT_DEV_API_KEY` if set, else generated.
    pub api_key: Option<String>,
    /// The Sentry upstream side's trusted relays and DSN keys (`--seed` adds its relay).
    pub upstream: super::UpstreamSeed,
    /// `--rate-limit N/PERIOD`, per API key.
    pub rate_limit: Option<RateLimit>,
}

/// Run until Ctrl-C or SIGTERM.
pub fn run(opts: RunOptions) -> anyhow::Result<()> {
    // Install the handler before anything is printed: a signal that arrives between
    // printing and waiting must still shut down cleanly.
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .context("installing the Ctrl-C/SIGTERM handler")?;
    serve_until(opts, &mut std::io::stdout(), rx)
}

/// Start, seed, print the exports to `out`, then serve until `stop` yields (or its
/// sender is gone). Split from [`run`] so tests can drive it without signals.
pub(super) fn serve_until(
    opts: RunOptions,
    out: &mut dyn Write,
    stop: mpsc::Receiver<()>,
) -> anyhow::Result<()> {
    // An empty value means unset, as for every variable the product reads.
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

    let server = DevServer::start(DevServerConfig {
        listen: opts.listen,
        api_key,
        tls,
        log_requests: true,
        rate_limit: opts.rate_limit,
    })?;
    opts.upstream.apply(server.upstream());
    if let Some(rate) = opts.rate_limit {
        super::say(&format!(
            "dev-server: rate limit {rate} per API key (429 with Retry-After past it)"
        ));
    }

    if opts.seed {
        let seeded = RelayCredentials::generate(None)?;
        server
            .create(&opts.seed_name, &seeded.to_vault_value())
            .with_context(|| format!("seeding {:?}", opts.seed_name))?;
        server.upstream().trust(&seeded.public_key);
        super::say(&format!(
            "dev-server: seeded {} (relay id {})",
            opts.seed_name, seeded.relay_id
        ));
    }
    for (name, value) in &file_objects {
        server
            .create(name, value)
            .with_context(|| format!("seeding {name:?} from the file (name given twice?)"))?;
    }
    if !file_objects.is_empty() {
        super::say(&format!(
            "dev-server: seeded {} object(s) from the file",
            file_objects.len()
        ));
    }

    // Exactly the lines to paste into a shell. The key is a throwaway dev key: showing
    // it is the point of this command.
    writeln!(out, "export WORKOS_API_BASE={}", server.base_url())?;
    writeln!(out, "export WORKOS_API_KEY={}", server.api_key())?;
    out.flush()?;
    super::say(&format!(
        "dev-server: dev server listening on {} (Ctrl-C to stop)",
        server.base_url()
    ));

    // A closed channel (handler gone) also ends the wait rather than hanging forever.
    let _ = stop.recv();
    super::say("dev-server: shutting down");
    server.shutdown();
    super::say("dev-server: stopped");
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

/// Largest seed file read: a few objects of a few hundred bytes each.
const MAX_SEED_FILE_BYTES: u64 = 1024 * 1024;

fn read_seed_file(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let bytes = read_input(path, MAX_SEED_FILE_BYTES, "the seed file (--from-file)")?;
    let text = String::from_utf8(bytes)
        .with_context(|| format!("the seed file {} is not UTF-8 text", path.display()))?;
    parse_seed(&text).with_context(|| format!("in the seed file {}", path.display()))
}

/// Read a small file whole, refusing what is not a regular file (a FIFO would block,
/// /dev/zero never ends) or is larger than `max` bytes: the rule (and the messages) of the
/// product's `files::read_input`, for the one file the dev server reads this way.
fn read_input(path: &Path, max: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if !meta.is_file() {
        bail!("{what} {} is not a regular file", path.display());
    }
    let mut data = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut data))
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if data.len() as u64 > max {
        bail!(
            "{what} {} is larger than {} KiB",
            path.display(),
            max / 1024
        );
    }
    Ok(data)
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
    use crate::DEFAULT_SECRET_NAME;

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

    /// Hands each write to the test thread, so it can read the exports while the
    /// server is still running.
    struct ChanWriter(mpsc::Sender<Vec<u8>>);

    impl Write for ChanWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.send(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn serves_seeded_objects_prints_exports_and_stops() {
        use std::io::Read;
        use std::time::Duration;

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("seed.json");
        std::fs::write(&file, r#"[{"name": "extra", "value": {"k": "v"}}]"#).unwrap();
        let opts = RunOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            seed: true,
            seed_name: DEFAULT_SECRET_NAME.into(),
            from_file: Some(file),
            tls_cert: None,
            tls_key: None,
            api_key: Some("sk_test_fixed".into()),
            upstream: Default::default(),
            rate_limit: None,
        };
        let (out_tx, out_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel();
        let runner =
            std::thread::spawn(move || serve_until(opts, &mut ChanWriter(out_tx), stop_rx));

        let mut printed = String::new();
        while printed.matches('\n').count() < 2 {
            let chunk = out_rx
                .recv_timeout(Duration::from_secs(5))
                .expect("exports");
            printed.push_str(&String::from_utf8(chunk).unwrap());
        }
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(lines[1], "export WORKOS_API_KEY=sk_test_fixed");
        let base = lines[0]
            .strip_prefix("export WORKOS_API_BASE=http://")
            .unwrap();

        let fetch = |name: &str| {
            let mut c = std::net::TcpStream::connect(base).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let req = format!(
                "GET /vault/v1/kv/name/{name} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test_fixed\r\n\r\n"
            );
            c.write_all(req.as_bytes()).unwrap();
            let mut resp = String::new();
            c.read_to_string(&mut resp).unwrap();
            let body = resp.split_once("\r\n\r\n").unwrap().1.to_string();
            serde_json::from_str::<Value>(&body).unwrap()
        };
        let creds: Value =
            serde_json::from_str(fetch(DEFAULT_SECRET_NAME)["value"].as_str().unwrap()).unwrap();
        let secret = vfr_credentials::secret::Secret::new(creds["secret_key"].as_str().unwrap());
        vfr_credentials::keys::check_pair(creds["public_key"].as_str().unwrap(), &secret).unwrap();
        assert_eq!(fetch("extra")["value"], r#"{"k":"v"}"#);

        stop_tx.send(()).unwrap();
        runner.join().unwrap().unwrap();
    }

    #[test]
    fn tls_paths_come_in_pairs() {
        assert!(load_tls(None, None).unwrap().is_none());
        assert!(load_tls(Some(Path::new("c.pem")), None).is_err());
    }
}
