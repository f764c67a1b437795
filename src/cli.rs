//! Command-line arguments. No argument takes the API key: argv is visible to every
//! user on the host (`ps`), so the key comes from WORKOS_API_KEY or a file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str =
    "Fetch Sentry Relay credentials from WorkOS Vault for Terraform, Helm and Kubernetes.";

const LONG_ABOUT: &str = "\
Fetch Sentry Relay credentials (relay id, public key, secret key, optional Sentry DSN) stored as one
JSON secret in WorkOS Vault, validate them (UUID id, relay key encoding, the key pair belongs
together) and hand them to one deployment target.

With no subcommand it speaks Terraform's external data source protocol: it reads a JSON object of
strings on stdin and prints one JSON object of strings on stdout.

  data \"external\" \"relay\" {
    program = [\"vault-fetch-relay\"]
    query   = { api_key = var.workos_api_key }
  }

  $ echo '{\"api_key\": \"sk_test_...\"}' | vault-fetch-relay
  {\"public_key\":\"...\",\"secret_key\":\"...\",\"relay_id\":\"...\",\"sentry_dsn\":\"...\",\"status\":\"found\",
   \"version_id\":\"...\",\"updated_at\":\"...\",\"version_number\":\"...\",\"reason\":\"\"}

The same query and result work under hashicorp/local's ephemeral \"local_command\" (stdin = jsonencode(query),
jsondecode(stdout)), which keeps the credentials out of plan and state.

Query keys (all optional strings): api_key (else WORKOS_API_KEY), secret_name (else
WORKOS_VAULT_SECRET_NAME, default runlayer-sentry-credentials), api_base (else WORKOS_API_BASE, default
https://api.workos.com), strict (\"true\"/\"false\"), timeout_seconds (default 30), outcome_only
(\"true\": print only status, version_id, updated_at, version_number and reason, no credential values;
safe in Terraform state). version_number is updated_at in microseconds since 1970: it grows with every
vault version (for secret_string_wo_version).

status is one of: found, not_found, no_api_key, invalid_secret, unauthorized, forbidden, unavailable.
Every status but found returns the credential keys empty and exits 0 with one warning line on
stderr, so a deploy goes on without telemetry; with strict it exits 1 and Terraform shows the line.";

const AFTER_HELP: &str = "\
Environment:
  WORKOS_API_KEY            the WorkOS API key (never pass it as an argument)
  WORKOS_API_KEY_FILE       read the API key from this file instead
  WORKOS_API_BASE           API base URL (https; http only for loopback)
  WORKOS_VAULT_SECRET_NAME  name of the vault object
  SSL_CERT_FILE             extra PEM CA bundle (corporate TLS proxies)
  HTTPS_PROXY, NO_PROXY     proxy settings
  RUST_LOG=debug            diagnostics on stderr (secrets are masked)

Network: connect timeout 5 s, whole run 30 s; up to 3 retries on connection errors, timeouts,
408, 429 and 5xx with exponential backoff and jitter; Retry-After honoured within the deadline;
redirects are never followed.

check exit codes: 0 found and valid, 2 not found, 3 auth problem (no key, 401, 403),
4 unavailable, 5 invalid secret. Every mode exits 1 on a usage or configuration error.";

/// Paths from flags or environment; an empty value (`SSL_CERT_FILE=`) means "not set"
/// rather than a usage error, as it does for every other variable we read.
fn path_or_unset(s: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(PathBuf::from(s))
}

#[derive(Debug, Parser)]
#[command(name = "vault-fetch-relay", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct CommonArgs {
    /// WorkOS API base URL [default: https://api.workos.com]
    #[arg(long, env = "WORKOS_API_BASE", global = true, value_name = "URL")]
    pub api_base: Option<String>,
    /// Name of the WorkOS Vault object [default: runlayer-sentry-credentials]
    #[arg(
        long,
        env = "WORKOS_VAULT_SECRET_NAME",
        global = true,
        value_name = "NAME"
    )]
    pub secret_name: Option<String>,
    /// Whole-run deadline in seconds [default: 30]
    #[arg(
        long,
        env = "VAULT_FETCH_TIMEOUT_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub timeout_seconds: Option<String>,
    /// Extra PEM bundle of trusted CA certificates
    #[arg(long, env = "SSL_CERT_FILE", global = true, value_name = "FILE", value_parser = path_or_unset)]
    pub ca_file: Option<PathBuf>,
    /// Read the WorkOS API key from this file (e.g. a mounted Kubernetes secret)
    #[arg(long, env = "WORKOS_API_KEY_FILE", global = true, value_name = "FILE", value_parser = path_or_unset)]
    pub api_key_file: Option<PathBuf>,
    /// Exit 1 when credentials are not found or not usable (default: degrade gracefully)
    /// (VAULT_FETCH_STRICT: false, 0, no, off or empty mean off; anything else on)
    #[arg(long, env = "VAULT_FETCH_STRICT", global = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub strict: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Terraform external data source (the default): JSON query on stdin, JSON map on stdout
    Terraform,
    /// Write a Helm values file for `helm upgrade -f`
    #[command(name = "helm-values")]
    HelmValues(HelmValuesArgs),
    /// Kubernetes init container: write credentials.json and config.yml for `relay run --config DIR`
    Init(InitArgs),
    /// Print RELAY_* (and SENTRY_DSN) environment assignments
    Env(EnvArgs),
    /// Operator report and readiness probe; exit codes 0/2/3/4/5 (see below)
    Check,
    /// Run a command (relay) with the credentials in its environment; restart it when they change
    #[command(after_help = EXEC_AFTER_HELP)]
    Exec(ExecArgs),
    /// Copy this executable into DIR (an init container filling an emptyDir for relay's container)
    Install(InstallArgs),
    /// Run a local WorkOS Vault stand-in for demos and pipeline tests
    #[cfg(feature = "dev-server")]
    #[command(name = "dev-server")]
    DevServer(DevServerArgs),
    /// Start a dev server, run every mode against it and show the results
    #[cfg(feature = "dev-server")]
    Demo,
}

#[derive(Debug, Args)]
pub(crate) struct HelmValuesArgs {
    /// Output file; `-` for stdout; default: a new temporary file whose path is printed
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Keys to write: default (relay.credentials.*, relay.config.mode, backend.secrets.SENTRY_DSN)
    /// or anysource (exactly what Runlayer's anysource chart reads: relay.enabled, relay.secrets.*,
    /// relay.vault.enabled, relay.config.mode, backend.secrets.SENTRY_DSN)
    #[arg(long, value_enum, value_name = "LAYOUT")]
    pub layout: Option<HelmLayoutArg>,
    /// Default layout only: dotted path for the credential keys (id, publicKey, secretKey)
    /// [default: relay.credentials]
    #[arg(long, value_name = "PATH")]
    pub values_path: Option<String>,
    /// Your own layout instead, one key per flag: PATH=FIELD, e.g. relay.secrets.id=relay_id.
    /// Fields: relay_id, public_key, secret_key, sentry_dsn (strings, written only when found),
    /// relay_mode ("managed"/"proxy"), found (true/false)
    #[arg(long, value_name = "PATH=FIELD")]
    pub set_path: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum HelmLayoutArg {
    Default,
    Anysource,
}

pub(crate) const DEFAULT_CREDENTIALS_DIR: &str = "/.relay";

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Relay's config directory (an emptyDir shared with the relay container)
    #[arg(
        long,
        env = "CREDENTIALS_DIR",
        default_value = DEFAULT_CREDENTIALS_DIR,
        value_name = "DIR",
        value_parser = path_or_unset
    )]
    pub dir: PathBuf,
    #[command(flatten)]
    pub files: RelayFilesArgs,
}

/// How relay's config.yml is made (`init`, and `exec --dir`).
#[derive(Debug, Clone, Args)]
pub(crate) struct RelayFilesArgs {
    /// Your own config.yml; its relay.mode is set to managed or proxy to match the credentials
    #[arg(long, env = "RELAY_CONFIG_TEMPLATE", value_name = "FILE", value_parser = path_or_unset)]
    pub config_template: Option<PathBuf>,
    /// Upstream written to the default config.yml
    #[arg(
        long,
        env = "RELAY_UPSTREAM_URL",
        default_value = crate::render::DEFAULT_UPSTREAM,
        value_name = "URL"
    )]
    pub upstream: String,
}

const EXEC_AFTER_HELP: &str = "\
Examples:
  vault-fetch-relay exec -- relay run --config /etc/relay
  vault-fetch-relay exec --dir /work/.relay -- /bin/relay run --config /work/.relay

The child gets RELAY_MODE=managed, RELAY_ID, RELAY_PUBLIC_KEY, RELAY_SECRET_KEY (and SENTRY_DSN when
stored) in its environment, or with --dir the files `init` writes and no credential in its environment.
Without credentials it starts in proxy mode (RELAY_MODE=proxy, no credential variables); with --strict
it is not started and exec exits 1. WORKOS_API_KEY and WORKOS_API_KEY_FILE are never passed on.

Every --interval (jittered; doubled up to 4x after a failed read) the secret is read again. When its
values changed, or credentials appear for a child running in proxy mode, the child is restarted:
SIGTERM, up to --grace, SIGKILL, start. A failed read or an invalid new value never touches the child.

SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are passed on; exec exits with the child's code
(128 + signal when a signal ended it) and never restarts a child that exited on its own. A command that
is not found exits 127, one that cannot be executed 126.";

/// The shortest --interval: WorkOS allows 6,000 requests per minute per API key, shared by
/// every pod that polls with it.
pub(crate) const MIN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);
pub(crate) const DEFAULT_INTERVAL: &str = "5m";

#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    /// Write credentials.json and config.yml into DIR (as `init` does) instead of passing
    /// the credentials in the child's environment
    #[arg(long, value_name = "DIR", value_parser = path_or_unset)]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub files: RelayFilesArgs,
    /// How often to read the secret again, e.g. 300, 90s, 5m (at least 30 s)
    #[arg(long, env = "VAULT_FETCH_INTERVAL", default_value = DEFAULT_INTERVAL, value_name = "DURATION", value_parser = parse_duration)]
    pub interval: std::time::Duration,
    /// Fetch once, then replace this process with the command (no watch, no supervisor)
    #[arg(long)]
    pub once: bool,
    /// How long the child may take to stop after SIGTERM before SIGKILL, on a restart
    #[arg(long, env = "VAULT_FETCH_GRACE", default_value = "30s", value_name = "DURATION", value_parser = parse_duration)]
    pub grace: std::time::Duration,
    /// The command to run, after `--`
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    /// Directory to copy into (e.g. an emptyDir mounted in relay's container too)
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// A duration: seconds (`300`, `1.5`) or with a unit (`500ms`, `90s`, `5m`, `1h`), up to a day.
pub(crate) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!(
                "{text:?} is not a duration; use e.g. 300, 90s, 5m or 1h"
            ))
        }
    };
    let secs: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; use e.g. 300, 90s, 5m or 1h"))?;
    let secs = secs * scale;
    if !(secs.is_finite() && (0.0..=86_400.0).contains(&secs)) {
        return Err(format!("{text:?} is out of range (0 to 24 h)"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum EnvFormatArg {
    Dotenv,
    Shell,
}

#[derive(Debug, Args)]
pub(crate) struct EnvArgs {
    /// dotenv (KEY=value) or shell (export KEY='value')
    #[arg(long, value_enum, default_value = "dotenv")]
    pub format: EnvFormatArg,
    /// Output file (written 0600, atomically); default stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[cfg(feature = "dev-server")]
#[derive(Debug, Args)]
pub(crate) struct DevServerArgs {
    /// Port to listen on (0 = pick a free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to bind; loopback unless you ask for another
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub listen: std::net::IpAddr,
    /// Create runlayer-sentry-credentials with freshly generated valid credentials
    #[arg(long)]
    pub seed: bool,
    /// Seed objects from a JSON file ({"name": value, ...})
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) for --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}
