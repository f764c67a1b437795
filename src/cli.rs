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
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
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
pub enum Command {
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
    /// Run a local WorkOS Vault stand-in for demos and pipeline tests
    #[command(name = "dev-server")]
    DevServer(DevServerArgs),
    /// Start a dev server, run every mode against it and show the results
    Demo,
}

#[derive(Debug, Args)]
pub struct HelmValuesArgs {
    /// Output file; `-` for stdout; default: a new temporary file whose path is printed
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Dotted path for the credential keys (id, publicKey, secretKey)
    #[arg(long, default_value = "relay.credentials", value_name = "PATH")]
    pub values_path: String,
}

pub const DEFAULT_CREDENTIALS_DIR: &str = "/.relay";

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Relay's config directory (an emptyDir shared with the relay container)
    #[arg(
        long,
        env = "CREDENTIALS_DIR",
        default_value = DEFAULT_CREDENTIALS_DIR,
        value_name = "DIR",
        value_parser = path_or_unset
    )]
    pub dir: PathBuf,
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

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EnvFormatArg {
    Dotenv,
    Shell,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// dotenv (KEY=value) or shell (export KEY='value')
    #[arg(long, value_enum, default_value = "dotenv")]
    pub format: EnvFormatArg,
    /// Output file (written 0600, atomically); default stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DevServerArgs {
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
