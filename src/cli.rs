//! Command-line arguments. No argument takes the API key: argv is visible to every
//! user on the host (`ps`), so the key comes from WORKOS_API_KEY or a file.
//!
//! The fetch options are defined once (`FetchArgs`) and flattened into each subcommand
//! that fetches, so a subcommand that does not fetch (dev-server, demo, completions,
//! man) refuses them with clap's own message. A new fetching subcommand flattens
//! `FetchArgs` too; a new non-fetching one adds nothing.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::settings::{non_empty, parse_duration};

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

  $ printf '{\"api_key\": \"%s\"}' \"$WORKOS_API_KEY\" | vault-fetch-relay
  {\"public_key\":\"...\",\"secret_key\":\"...\",\"relay_id\":\"...\",\"sentry_dsn\":\"...\",\"status\":\"found\",
   \"version_id\":\"...\",\"updated_at\":\"...\",\"version_number\":\"...\",\"reason\":\"\"}

The same query and object work under ephemeral \"local_command\" (stdin = jsonencode(query),
jsondecode(stdout)), whose values never reach the Terraform state.

Query keys (all optional strings; a query key wins over the flag and the environment):
api_key, secret_name, api_base, strict (\"true\"/\"false\"), timeout_seconds, outcome_only
(\"true\": only status, version_id, updated_at, version_number and reason, safe in state). Any other
key is refused (exit 1).

status is one of: found, not_found, no_api_key, invalid_secret, unauthorized, forbidden, unavailable,
wrong_api_base. Every status but found returns the credential keys empty and exits 0 with one
warning line on stderr, so a deploy goes on without telemetry; with strict it exits 1 and Terraform
shows the line. wrong_api_base (the server at the api base is not WorkOS Vault) always exits 1.";

/// The variables that hold or point at the WorkOS API key (exec never passes them on).
pub(crate) const API_KEY_VARS: [&str; 3] = [
    "WORKOS_API_KEY",
    "VAULT_FETCH_API_KEY_FILE",
    "WORKOS_API_KEY_FILE",
];

/// Every variable that changes what a run fetches or writes. The demo clears them all
/// (its tour shows the defaults); a test keeps `--help` and README listing each.
pub const SETTING_VARS: [&str; 17] = [
    "WORKOS_API_KEY",
    "VAULT_FETCH_API_KEY_FILE",
    "WORKOS_API_KEY_FILE",
    "VAULT_FETCH_API_BASE",
    "WORKOS_API_BASE",
    "VAULT_FETCH_SECRET_NAME",
    "WORKOS_VAULT_SECRET_NAME",
    "VAULT_FETCH_TIMEOUT_SECONDS",
    "VAULT_FETCH_STRICT",
    "VAULT_FETCH_CREDENTIALS_DIR",
    "CREDENTIALS_DIR",
    "VAULT_FETCH_CONFIG_TEMPLATE",
    "RELAY_CONFIG_TEMPLATE",
    "VAULT_FETCH_UPSTREAM_URL",
    "RELAY_UPSTREAM_URL",
    "VAULT_FETCH_VERIFY_UPSTREAM",
    "SSL_CERT_FILE",
];

/// The other variables read: exec's timing, deployment-event's inputs, proxies, colour, logging,
/// the dev server's key.
pub const OTHER_VARS: [&str; 17] = [
    "VAULT_FETCH_INTERVAL",
    "VAULT_FETCH_GRACE",
    "SENTRY_DSN",
    "VAULT_FETCH_ENVIRONMENT",
    "ENVIRONMENT",
    "VAULT_FETCH_INFRA_VERSION",
    "INFRA_VERSION",
    "VAULT_FETCH_START_DIR",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "NO_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "RUST_LOG",
    "VAULT_DEV_API_KEY",
];

/// The environment, the API key precedence, network behaviour: shown under every
/// `--help` that fetches. `$dev` is the dev server's line, only in a build that has it.
macro_rules! environment_help {
    ($dev:expr) => {
        concat!("\
API key, first found wins: the Terraform query's api_key (default mode only), --api-key-file,
VAULT_FETCH_API_KEY_FILE, WORKOS_API_KEY_FILE, WORKOS_API_KEY. Messages name the source used.

Environment (a flag wins over its variable; VAULT_FETCH_* wins over the older alias after it):
  WORKOS_API_KEY                the WorkOS API key (never pass it as an argument)
  VAULT_FETCH_API_KEY_FILE      read the API key from this file  (alias WORKOS_API_KEY_FILE)
  VAULT_FETCH_API_BASE          API base URL, https (http only for loopback)  (alias WORKOS_API_BASE)
  VAULT_FETCH_SECRET_NAME       name of the vault object  (alias WORKOS_VAULT_SECRET_NAME)
  VAULT_FETCH_TIMEOUT_SECONDS   whole-run deadline in seconds (default 30, at most 600)
  VAULT_FETCH_STRICT            like --strict (false, 0, no, off or empty mean off)
  VAULT_FETCH_CREDENTIALS_DIR   init: relay's config directory  (alias CREDENTIALS_DIR)
  VAULT_FETCH_CONFIG_TEMPLATE   init, exec --dir: your own config.yml  (alias RELAY_CONFIG_TEMPLATE)
  VAULT_FETCH_UPSTREAM_URL      init, exec --dir: upstream in the default config.yml; check: the upstream
                                to preflight  (alias RELAY_UPSTREAM_URL, which relay reads over config.yml:
                                init and exec --dir refuse the two, or a template's, disagreeing)
  VAULT_FETCH_VERIFY_UPSTREAM   init, exec: like --verify-upstream (ask that upstream before relay uses them)
  VAULT_FETCH_INTERVAL          exec: how often to read the secret again (default 5m, at least 30 s)
  VAULT_FETCH_GRACE             exec: how long a restarted child may take to stop (default 30s)
  SENTRY_DSN                    deployment-event: the DSN to report to (else the secret's sentry_dsn)
  VAULT_FETCH_ENVIRONMENT       deployment-event: the environment (default production)  (alias ENVIRONMENT)
  VAULT_FETCH_INFRA_VERSION     deployment-event: the infrastructure version  (alias INFRA_VERSION)
  VAULT_FETCH_START_DIR         deployment-event: where --record-start keeps a start
  SSL_CERT_FILE                 extra PEM CA bundle (corporate TLS proxies)
  HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY   proxy settings (http:// proxies)
  NO_COLOR, CLICOLOR, CLICOLOR_FORCE             colour on a terminal
  RUST_LOG=debug                diagnostics on stderr (secrets are masked); wins over -v/-q
", $dev, "
Network: connect timeout 5 s, whole run 30 s; up to 3 retries on connection errors, timeouts,
408, 429 and 5xx with exponential backoff and jitter; Retry-After honoured within the deadline;
redirects are never followed. Each retry is announced on stderr on a terminal or with -v.

Every mode exits 1 with one line on stderr on a usage or configuration error.")
    };
}

// The lean build has no dev server: its variable is not listed.
pub(crate) const ENVIRONMENT_HELP: &str = if cfg!(feature = "dev-server") {
    environment_help!(
        "  VAULT_DEV_API_KEY             dev-server: the API key it accepts (default: a generated one)\n"
    )
} else {
    environment_help!("")
};

pub(crate) const CHECK_EXIT_CODES: &str = "\
Exit codes:
  0  found and valid (with --upstream: and upstream accepted them, and serves the DSN's project
     or lists it pending)
  1  usage or configuration error, or wrong_api_base (the api base is not WorkOS Vault), or an
     --upstream that does not answer as Sentry does (a redirect, not JSON, a project config
     relay cannot read, an answer that is not valid HTTP)
  2  not found
  3  auth problem: no API key, 401, 403
  4  unavailable: network, TLS, timeout, throttling, 5xx
  5  invalid secret: not JSON, fields missing, bad key encoding, key pair mismatch
  6  upstream refused these credentials: the relay id is registered with another key, the relay
     is not allowed to register, the version is refused, or the DSN's project is not served
     (its config disabled, null or missing, all of which relay reads as disabled)
  7  upstream unreachable: DNS, connect, TLS, timeout, 5xx after retries

--format json prints one object with the fields api_base, secret_name, status, reason, relay_id,
public_key_fingerprint, key_pair, sentry_dsn_present, version_id, updated_at, request_id,
latency_ms, attempts, upstream (null without --upstream), exit_code (see README).";

/// Paths from flags or environment; an empty value (`SSL_CERT_FILE=`) means "not set"
/// rather than a usage error, as it does for every other variable we read.
fn path_or_unset(s: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(PathBuf::from(s))
}

#[derive(Debug, Parser)]
#[command(
    name = "vault-fetch-relay",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = ENVIRONMENT_HELP,
    subcommand_help_heading = "Commands",
    override_usage = "vault-fetch-relay [FETCH OPTIONS] < query.json      (Terraform mode)\n       vault-fetch-relay <COMMAND> [OPTIONS] [FETCH OPTIONS]",
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The default (Terraform) mode's fetch options, when no subcommand is given.
    #[command(flatten)]
    pub fetch: FetchArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// More diagnostics on stderr: each retry and wait, -vv the request flow
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr (no warnings, no "wrote ..." lines, no retry lines)
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// Everything a fetch needs besides the API key's value. Defined once; flattened into
/// each fetching subcommand.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Fetch options")]
pub(crate) struct FetchArgs {
    /// WorkOS API base URL [default: https://api.workos.com] (alias WORKOS_API_BASE)
    #[arg(long, env = "VAULT_FETCH_API_BASE", value_name = "URL")]
    pub api_base: Option<String>,
    /// Name of the WorkOS Vault object [default: runlayer-sentry-credentials] (alias WORKOS_VAULT_SECRET_NAME)
    #[arg(long, env = "VAULT_FETCH_SECRET_NAME", value_name = "NAME")]
    pub secret_name: Option<String>,
    /// Whole-run deadline in seconds [default: 30]
    #[arg(long, env = "VAULT_FETCH_TIMEOUT_SECONDS", value_name = "SECONDS")]
    pub timeout_seconds: Option<String>,
    /// Extra PEM bundle of trusted CA certificates
    #[arg(long, env = "SSL_CERT_FILE", value_name = "FILE", value_parser = path_or_unset)]
    pub ca_file: Option<PathBuf>,
    /// Read the WorkOS API key from this file, e.g. a mounted Kubernetes secret (env VAULT_FETCH_API_KEY_FILE, alias WORKOS_API_KEY_FILE; wins over WORKOS_API_KEY)
    #[arg(long, value_name = "FILE", value_parser = path_or_unset)]
    pub api_key_file: Option<PathBuf>,
    /// Exit 1 when credentials are not found or not usable, writing nothing (default: degrade gracefully)
    #[arg(long, env = "VAULT_FETCH_STRICT", value_parser = clap::builder::FalseyValueParser::new())]
    pub strict: bool,
}

/// The ids of `FetchArgs`, to refuse them before a subcommand (where they would be
/// silently ignored).
pub(crate) const FETCH_ARG_IDS: [&str; 6] = [
    "api_base",
    "secret_name",
    "timeout_seconds",
    "ca_file",
    "api_key_file",
    "strict",
];

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Terraform external data source (the default): JSON query on stdin, JSON map on stdout
    #[command(after_help = ENVIRONMENT_HELP)]
    Terraform(TerraformArgs),
    /// Write a Helm values file for `helm upgrade -f`
    #[command(name = "helm-values", after_help = ENVIRONMENT_HELP)]
    HelmValues(HelmValuesArgs),
    /// Kubernetes init container: write credentials.json and config.yml for `relay run --config DIR`
    #[command(after_help = ENVIRONMENT_HELP)]
    Init(InitArgs),
    /// Print RELAY_* (and SENTRY_DSN) environment assignments
    #[command(after_help = ENVIRONMENT_HELP)]
    Env(EnvArgs),
    /// Operator report and readiness probe (--upstream: and the Sentry preflight); exit codes 0-7 under --help
    #[command(after_help = CHECK_EXIT_CODES)]
    Check(CheckArgs),
    /// Run a command (relay) with the credentials in its environment; restart it when they change
    #[command(after_help = EXEC_AFTER_HELP)]
    Exec(ExecArgs),
    /// Copy this executable into DIR (an init container filling an emptyDir for relay's container)
    Install(InstallArgs),
    /// Report a deployment to Sentry: one transaction, with the DSN given or the secret's sentry_dsn
    #[command(name = "deployment-event", after_help = DEPLOYMENT_EVENT_AFTER_HELP)]
    DeploymentEvent(DeploymentEventArgs),
    /// Run a local WorkOS Vault stand-in for demos and pipeline tests
    #[cfg(feature = "dev-server")]
    #[command(name = "dev-server")]
    DevServer(DevServerArgs),
    /// Start a dev server, run every mode against it and show the results
    #[cfg(feature = "dev-server")]
    Demo,
    /// Print a shell completion script to stdout
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout
    Man,
}

#[derive(Debug, Args)]
pub(crate) struct TerraformArgs {
    #[command(flatten)]
    pub fetch: FetchArgs,
}

#[derive(Debug, Args)]
pub(crate) struct HelmValuesArgs {
    /// Output file (created 0600 with missing parent directories); `-` for stdout; default: a new temporary file whose path is printed
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
    /// Defined once, shared by every fetching subcommand; listed after the local options.
    #[command(flatten)]
    pub fetch: FetchArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum HelmLayoutArg {
    Default,
    Anysource,
}

pub(crate) const DEFAULT_CREDENTIALS_DIR: &str = "/.relay";

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Relay's config directory, an emptyDir shared with the relay container [default: /.relay] (alias CREDENTIALS_DIR)
    #[arg(long, env = "VAULT_FETCH_CREDENTIALS_DIR", value_name = "DIR", value_parser = path_or_unset)]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub files: RelayFilesArgs,
    /// Before writing managed-mode files, ask the upstream relay will use (RELAY_UPSTREAM_URL, else
    /// the template's relay.upstream, else --upstream, default https://sentry.io/) whether it accepts
    /// the credentials, as `check --upstream` does; refused: proxy mode (--strict: exit 1)
    #[arg(long, env = "VAULT_FETCH_VERIFY_UPSTREAM", value_parser = clap::builder::FalseyValueParser::new())]
    pub verify_upstream: bool,
    /// Defined once, shared by every fetching subcommand; listed after the local options.
    #[command(flatten)]
    pub fetch: FetchArgs,
}

/// What goes into relay's config.yml: shared by `init` and `exec --dir`.
#[derive(Debug, Args)]
pub(crate) struct RelayFilesArgs {
    /// Your own config.yml; its relay.mode is set to managed or proxy to match the credentials (alias RELAY_CONFIG_TEMPLATE)
    #[arg(long, env = "VAULT_FETCH_CONFIG_TEMPLATE", value_name = "FILE", value_parser = path_or_unset)]
    pub config_template: Option<PathBuf>,
    /// Upstream written to the default config.yml [default: https://sentry.io/] (alias RELAY_UPSTREAM_URL,
    /// relay's own: when both are set they must agree, as must a template's relay.upstream)
    #[arg(long, env = "VAULT_FETCH_UPSTREAM_URL", value_name = "URL")]
    pub upstream: Option<String>,
}

const EXEC_AFTER_HELP: &str = "\
Examples:
  vault-fetch-relay exec -- relay run --config /etc/relay
  vault-fetch-relay exec --dir /work/.relay -- /bin/relay run --config /work/.relay

The child gets RELAY_MODE=managed, RELAY_ID, RELAY_PUBLIC_KEY, RELAY_SECRET_KEY (and SENTRY_DSN when
stored) in its environment, or with --dir the files `init` writes and no credential in its environment.
Without credentials it starts in proxy mode (RELAY_MODE=proxy, no credential variables); with --strict
it is not started and exec exits 1. WORKOS_API_KEY and WORKOS_API_KEY_FILE are never passed on.

Every --interval (jittered; doubled up to 4x after a failed read; the first time after one to two
intervals, so a rollout's pods spread out) the secret is read again. When its
values changed, or credentials appear for a child running in proxy mode, the child is restarted:
SIGTERM, up to --grace, SIGKILL, start. A failed read or an invalid new value never touches the child.

SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are passed on (one ignored when exec starts, as
under nohup, stays ignored, for the child too); exec exits with the child's code
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
    /// Fetch once, then replace this process with the command (no watch, no supervisor; --interval and --grace are refused)
    #[arg(long)]
    pub once: bool,
    /// How long the child may take to stop after SIGTERM before SIGKILL, on a restart
    #[arg(long, env = "VAULT_FETCH_GRACE", default_value = "30s", value_name = "DURATION", value_parser = parse_duration)]
    pub grace: std::time::Duration,
    /// Before starting or restarting the child into credentials, ask the upstream relay will use
    /// (RELAY_UPSTREAM_URL, else with --dir the template's relay.upstream or --upstream, default
    /// https://sentry.io/) whether it accepts them; refused ones never replace the running child's
    #[arg(long, env = "VAULT_FETCH_VERIFY_UPSTREAM", value_parser = clap::builder::FalseyValueParser::new())]
    pub verify_upstream: bool,
    /// The command to run, after `--`
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
    /// Defined once, shared by every fetching subcommand; listed after the local options.
    #[command(flatten)]
    pub fetch: FetchArgs,
}

const DEPLOYMENT_EVENT_AFTER_HELP: &str = "\
Examples:
  vault-fetch-relay deployment-event --deployment-type eks --customer-id acme --infra-version 2.1.0 --status success
  vault-fetch-relay deployment-event --deployment-type ecs --customer-id acme --record-start   # before the deploy
  SENTRY_DSN=https://KEY@o1.ingest.sentry.io/2 vault-fetch-relay deployment-event ... --status failure \\
    --error-message \"helm upgrade failed\" --started-at 2026-12-03T10:00:00Z

Sends one transaction (deployment.completion) as Runlayer's capture-deployment-completion.sh does, to the
DSN from --dsn or SENTRY_DSN, else the vault secret's sentry_dsn (one read by name, with the fetch
options). On success it prints the event id. Reporting is optional: no DSN, an unusable DSN in the
secret, an unreachable Sentry or a refusal give one warning line and exit 0; --strict makes them exit 1.
A malformed flag or --dsn, and wrong_api_base, exit 1.

The duration comes from --started-at, else a start recorded by --record-start (kept in --start-dir,
default $TMPDIR/vault-fetch-relay-<uid>, read once; older than a day: removed), else the start files of
capture-deployment-telemetry.sh in /tmp/runlayer-deployments.

Retries: connection errors, timeouts, 408, 429 and 5xx, within --timeout-seconds, waiting what
Retry-After or X-Sentry-Rate-Limits asks. Redirects are never followed.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DeploymentTypeArg {
    Ecs,
    Eks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DeploymentStatusArg {
    Success,
    Failure,
}

#[derive(Debug, Args)]
pub(crate) struct DeploymentEventArgs {
    /// The deployment type
    #[arg(long, value_enum, value_name = "TYPE")]
    pub deployment_type: DeploymentTypeArg,
    /// The customer id (one line, at most 200 characters: it becomes a Sentry tag)
    #[arg(long, value_name = "ID")]
    pub customer_id: String,
    /// The infrastructure version, any one line, e.g. 2.1.0 (alias INFRA_VERSION)
    #[arg(long, env = "VAULT_FETCH_INFRA_VERSION", value_name = "VERSION")]
    pub infra_version: Option<String>,
    /// How the deployment ended
    #[arg(
        long,
        value_enum,
        value_name = "STATUS",
        required_unless_present = "record_start"
    )]
    pub status: Option<DeploymentStatusArg>,
    /// What went wrong (sent as given; up to 64 KiB)
    #[arg(long, value_name = "TEXT")]
    pub error_message: Option<String>,
    /// The environment [default: production] (alias ENVIRONMENT)
    #[arg(long, env = "VAULT_FETCH_ENVIRONMENT", value_name = "NAME")]
    pub environment: Option<String>,
    /// The Sentry DSN (prefer SENTRY_DSN: argv is visible to every user) [default: SENTRY_DSN, else the secret's sentry_dsn]
    #[arg(long, value_name = "DSN")]
    pub dsn: Option<String>,
    /// When the deployment started: RFC 3339 or seconds since the epoch [default: a recorded start]
    #[arg(long, value_name = "TIME", conflicts_with = "record_start")]
    pub started_at: Option<String>,
    /// Record now as this deployment's start (in --start-dir) and send nothing
    #[arg(long, conflicts_with_all = ["status", "error_message", "dsn"])]
    pub record_start: bool,
    /// Where --record-start keeps starts [default: $TMPDIR/vault-fetch-relay-<uid>]
    #[arg(long, env = "VAULT_FETCH_START_DIR", value_name = "DIR", value_parser = path_or_unset)]
    pub start_dir: Option<PathBuf>,
    /// Defined once, shared by every fetching subcommand; listed after the local options.
    #[command(flatten)]
    pub fetch: FetchArgs,
}

#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    /// Directory to copy into (e.g. an emptyDir mounted in relay's container too)
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
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
    /// Output file (written 0600, atomically, with missing parent directories); default stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Defined once, shared by every fetching subcommand; listed after the local options.
    #[command(flatten)]
    pub fetch: FetchArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFormat {
    /// Aligned `key: value` rows for people
    Text,
    /// One JSON object with stable field names, for CI and monitoring
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Report format
    #[arg(long, value_enum, default_value = "text")]
    pub format: CheckFormat,
    /// Also ask this Sentry upstream whether it accepts the credentials: register challenge,
    /// register response, and the DSN's project config (alias RELAY_UPSTREAM_URL)
    #[arg(long, env = "VAULT_FETCH_UPSTREAM_URL", value_name = "URL")]
    pub upstream: Option<String>,
    /// The DSN whose project upstream must serve [default: the secret's sentry_dsn]
    #[arg(long, value_name = "DSN")]
    pub dsn: Option<String>,
    /// The relay version announced to upstream [default: 26.9.0, a current relay release]
    #[arg(long, value_name = "VERSION")]
    pub relay_version: Option<String>,
    /// Defined once, shared by every fetching subcommand; listed after the local options.
    #[command(flatten)]
    pub fetch: FetchArgs,
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
    /// Create the object named by --secret-name with freshly generated valid credentials
    #[arg(long)]
    pub seed: bool,
    /// Name of the object --seed creates [default: runlayer-sentry-credentials] (alias WORKOS_VAULT_SECRET_NAME)
    #[arg(long, env = "VAULT_FETCH_SECRET_NAME", value_name = "NAME")]
    pub secret_name: Option<String>,
    /// Seed objects from a JSON file ({"name": value, ...})
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) for --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Sentry upstream side (same address, /api/0/relays/): a relay public key the organization
    /// trusts, so the DSN keys' projects are served to it (repeatable; --seed adds its relay)
    #[arg(long, value_name = "PUBLIC_KEY")]
    pub trust_relay: Vec<String>,
    /// Sentry upstream side: the public key of a DSN whose project it serves (repeatable)
    #[arg(long, value_name = "KEY")]
    pub dsn_key: Vec<String>,
    /// Sentry upstream side: only trusted relays may register (default: open registration)
    #[arg(long)]
    pub closed_registration: bool,
    /// Answer 429 (with Retry-After) past N requests per PERIOD per API key, as WorkOS does (its limit: 6000/60s)
    #[arg(long, value_name = "N/PERIOD", value_parser = vfr_devserver::RateLimit::parse)]
    pub rate_limit: Option<vfr_devserver::RateLimit>,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// A value from `primary` (already merged by clap from flag and its variable), else
/// from the older variable `alias`; empty means unset either way.
pub(crate) fn or_alias(primary: Option<String>, alias: &str) -> Option<String> {
    non_empty(primary).or_else(|| non_empty(std::env::var(alias).ok()))
}

/// `or_alias` for paths.
pub(crate) fn path_or_alias(primary: Option<PathBuf>, alias: &str) -> Option<PathBuf> {
    non_empty(primary).or_else(|| non_empty(std::env::var_os(alias).map(PathBuf::from)))
}

/// Parse argv. Fetch options given before a subcommand are refused (they would apply
/// to nothing); a flag's variable set in the environment is fine anywhere.
pub(crate) fn parse() -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().try_get_matches()?;
    if let Some((sub, _)) = matches.subcommand() {
        for id in FETCH_ARG_IDS {
            if matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine) {
                let flag = format!("--{}", id.replace('_', "-"));
                return Err(usage_error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!("{flag} goes after the subcommand: vault-fetch-relay {sub} {flag} ..."),
                ));
            }
        }
    }
    if let Some(("exec", exec)) = matches.subcommand() {
        refuse_watch_flags_with_once(exec)?;
    }
    Cli::from_arg_matches(&matches)
}

/// `exec --once` does not watch, so `--interval` and `--grace` would be ignored: refuse
/// the flags. Their variables stay accepted (a chart sets them for every mode).
fn refuse_watch_flags_with_once(exec: &clap::ArgMatches) -> Result<(), clap::Error> {
    if !exec.get_flag("once") {
        return Ok(());
    }
    for id in ["interval", "grace"] {
        if exec.value_source(id) == Some(clap::parser::ValueSource::CommandLine) {
            return Err(usage_error(
                clap::error::ErrorKind::ArgumentConflict,
                format!("--{id} is not used with exec --once, which fetches once and replaces itself with the command (nothing is watched or restarted); drop --{id} or --once (VAULT_FETCH_{} may stay set)", id.to_uppercase()),
            ));
        }
    }
    Ok(())
}

/// argv as text; a non-UTF-8 argument becomes lossy text instead of a panic (whose
/// message would quote it).
fn args_lossy() -> impl Iterator<Item = String> {
    std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
}

/// What a message shows in place of a word the user typed that looks like a key.
const NOT_SHOWN: &str = "(not shown: not an argument name)";

/// The words clap's error quotes from argv (an unknown argument or subcommand, a
/// value) that look like a secret pasted in the wrong place.
fn secret_words(e: &clap::Error) -> Vec<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    // For an invalid value, InvalidArg is our own flag's spelling (`--format <FORMAT>`).
    let arg = (e.kind() == ErrorKind::UnknownArgument).then_some(ContextKind::InvalidArg);
    [
        arg,
        Some(ContextKind::InvalidSubcommand),
        Some(ContextKind::InvalidValue),
    ]
    .into_iter()
    .flatten()
    .filter_map(|kind| match e.get(kind) {
        Some(ContextValue::String(word)) => Some(word.clone()),
        _ => None,
    })
    .filter(|word| crate::secret::looks_like_a_secret(word))
    .collect()
}

/// A word the user typed, as a message quotes it: hidden when it looks like a key (a
/// key pasted as an argument must not reach stderr, CI logs), else as typed.
fn shown(word: &str) -> String {
    if crate::secret::looks_like_a_secret(word) {
        NOT_SHOWN.to_string()
    } else {
        word.to_string()
    }
}

/// `text` with each whole-word occurrence of `word` (not one inside a longer word, as
/// "0/60s" is inside the example "600/60s") replaced by `with`.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let word_char = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || "-_".contains(c));
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let (before, after) = (&rest[..at], &rest[at + word.len()..]);
        out.push_str(before);
        let whole = !word_char(before.chars().next_back()) && !word_char(after.chars().next());
        out.push_str(if whole { with } else { word });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `text` with control characters (a newline, ESC) written as escapes, so a value
/// quoted in a message cannot break its one line or drive the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if crate::http::text::reshapes_a_line(c) {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A usage error we raise ourselves after clap's parse (the message is ours, in
/// clap's `Custom` context), shaped like clap's own: it carries the top-level usage, so
/// it points at `vault-fetch-relay --help` as clap's errors about top-level use do.
fn usage_error(kind: clap::error::ErrorKind, message: String) -> clap::Error {
    use clap::error::{ContextKind, ContextValue};
    use clap::CommandFactory;
    let mut cli = Cli::command();
    let mut e = clap::Error::new(kind).with_cmd(&cli);
    e.insert(ContextKind::Custom, ContextValue::String(message));
    e.insert(
        ContextKind::Usage,
        ContextValue::StyledStr(cli.render_usage()),
    );
    e
}

/// clap's error as one line: what went wrong, its tips ("a similar argument exists"),
/// and which `--help` to read. Built from the error's kind and context (clap's own
/// rendering spans five lines with a usage line that lists whatever the environment
/// happened to set, and its wording is clap's to change).
pub(crate) fn one_line_error(e: &clap::Error) -> String {
    #[cfg(not(feature = "dev-server"))]
    if e.kind() == clap::error::ErrorKind::InvalidSubcommand {
        // A lean build (the -minimal archives, the image) has no dev server: say so
        // rather than "unrecognized subcommand", which reads as a typo.
        let first = args_lossy().find(|a| !a.starts_with('-'));
        if let Some(sub) = first.filter(|a| a == "dev-server" || a == "demo") {
            return format!("vault-fetch-relay: error: {sub} is not in this build (built without the dev-server feature, as the -minimal release archives and the image are); use a full build: a release archive without -minimal, or cargo install with default features");
        }
    }
    let message = error_message(e);
    let mut tips = error_tips(e);
    // clap's suggestions quote the word it could not place ("to pass '--x' as a value").
    for word in secret_words(e) {
        for t in &mut tips {
            *t = replace_word(t, &word, "(not shown)");
        }
    }
    let mut out = format!("vault-fetch-relay: error: {message}");
    for t in tips {
        out.push_str(&format!(" ({t})"));
    }
    out.push_str(&format!("; see '{}'", help_command(e)));
    printable(&out)
}

/// The string in `e`'s context under `kind`, if it holds one.
fn context_str(e: &clap::Error, kind: clap::error::ContextKind) -> Option<&str> {
    match e.get(kind) {
        Some(clap::error::ContextValue::String(s)) => Some(s),
        _ => None,
    }
}

/// What went wrong, in one line, from the error's kind and context.
fn error_message(e: &clap::Error) -> String {
    use clap::error::{ContextKind as K, ContextValue as V, ErrorKind};
    use std::error::Error as _;
    if let Some(message) = context_str(e, K::Custom) {
        return message.to_string();
    }
    let arg = context_str(e, K::InvalidArg);
    // The words the user typed: shown where they stand, unless they look like a key.
    let value = context_str(e, K::InvalidValue);
    let shown_value = value.map(shown);
    let shown_sub = context_str(e, K::InvalidSubcommand).map(shown);
    let number = |kind| match e.get(kind) {
        Some(V::Number(n)) => Some(*n),
        _ => None,
    };
    let were = |n: isize| if n > 1 { "were" } else { "was" };
    let message = match e.kind() {
        ErrorKind::ArgumentConflict => {
            let mut prior = e.get(K::PriorArg);
            let mut m = if let Some(a) = arg {
                if prior == Some(&V::String(a.to_string())) {
                    prior = None;
                    format!("the argument '{a}' cannot be used multiple times")
                } else {
                    format!("the argument '{a}' cannot be used with")
                }
            } else if let Some(s) = &shown_sub {
                format!("the subcommand '{s}' cannot be used with")
            } else {
                e.kind().as_str().unwrap_or_default().to_string()
            };
            match prior {
                Some(V::Strings(others)) => {
                    m.push(':');
                    for other in others {
                        m.push(' ');
                        m.push_str(other);
                    }
                }
                Some(V::String(other)) => m.push_str(&format!(" '{other}'")),
                Some(_) => m.push_str(" one or more of the other specified arguments"),
                None => {}
            }
            Some(m)
        }
        ErrorKind::NoEquals => {
            arg.map(|a| format!("equal sign is needed when assigning values to '{a}'"))
        }
        ErrorKind::InvalidValue => match (arg, value, &shown_value) {
            (Some(a), Some(""), _) => Some(format!(
                "a value is required for '{a}' but none was supplied{}",
                value_list("possible values", e.get(K::ValidValue))
            )),
            (Some(a), _, Some(v)) => Some(format!(
                "invalid value '{v}' for '{a}'{}",
                value_list("possible values", e.get(K::ValidValue))
            )),
            _ => None,
        },
        ErrorKind::InvalidSubcommand => shown_sub
            .as_ref()
            .map(|s| format!("unrecognized subcommand '{s}'")),
        ErrorKind::MissingRequiredArgument => match e.get(K::InvalidArg) {
            Some(V::Strings(missing)) => Some(
                std::iter::once("the following required arguments were not provided:")
                    .chain(missing.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        },
        ErrorKind::MissingSubcommand => context_str(e, K::InvalidSubcommand).map(|s| {
            format!(
                "'{s}' requires a subcommand but one was not provided{}",
                value_list("subcommands", e.get(K::ValidSubcommand))
            )
        }),
        ErrorKind::TooManyValues => match (arg, &shown_value) {
            (Some(a), Some(v)) => Some(format!(
                "unexpected value '{v}' for '{a}' found; no more were expected"
            )),
            _ => None,
        },
        ErrorKind::TooFewValues => match (arg, number(K::ActualNumValues), number(K::MinValues)) {
            (Some(a), Some(actual), Some(min)) => Some(format!(
                "{min} values required by '{a}'; only {actual} {} provided",
                were(actual)
            )),
            _ => None,
        },
        ErrorKind::WrongNumberOfValues => {
            match (
                arg,
                number(K::ActualNumValues),
                number(K::ExpectedNumValues),
            ) {
                (Some(a), Some(actual), Some(expected)) => Some(format!(
                    "{expected} values required for '{a}' but {actual} {} provided",
                    were(actual)
                )),
                _ => None,
            }
        }
        ErrorKind::ValueValidation => match (arg, value, &shown_value) {
            (Some(a), Some(typed), Some(v)) => Some(match e.source() {
                Some(why) => {
                    // The parser's reason may quote the value too ("\"5x\" is not a
                    // duration"): hidden there as well, but only where it stands.
                    let mut why = one_line(&why.to_string());
                    if v != typed {
                        why = replace_word(&why, typed, v);
                    }
                    format!("invalid value '{v}' for '{a}': {why}")
                }
                None => format!("invalid value '{v}' for '{a}'"),
            }),
            _ => None,
        },
        ErrorKind::UnknownArgument => {
            arg.map(|a| format!("unexpected argument '{}' found", shown(a)))
        }
        _ => None,
    };
    message
        .or_else(|| e.kind().as_str().map(str::to_string))
        .or_else(|| e.source().map(|why| one_line(&why.to_string())))
        .unwrap_or_else(|| String::from("invalid arguments"))
}

/// A value parser's reason, on one line: its lines up to the first blank one, joined.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// " [possible values: a, b]" from a list in the error's context; nothing when empty.
fn value_list(name: &str, values: Option<&clap::error::ContextValue>) -> String {
    match values {
        Some(clap::error::ContextValue::Strings(values)) if !values.is_empty() => {
            let shown: Vec<String> = values
                .iter()
                .map(|v| {
                    if v.is_empty() || v.contains(char::is_whitespace) {
                        format!("{v:?}")
                    } else {
                        v.clone()
                    }
                })
                .collect();
            format!(" [{name}: {}]", shown.join(", "))
        }
        _ => String::new(),
    }
}

/// The error's tips: the similar subcommand, argument or value clap found, then its
/// other suggestions (e.g. "to pass '--x' as a value, use '-- --x'").
fn error_tips(e: &clap::Error) -> Vec<String> {
    use clap::error::{ContextKind as K, ContextValue as V};
    let mut tips = Vec::new();
    for (kind, what) in [
        (K::SuggestedSubcommand, "subcommand"),
        (K::SuggestedArg, "argument"),
        (K::SuggestedValue, "value"),
    ] {
        let similar: Vec<&str> = match e.get(kind) {
            Some(V::String(s)) => vec![s],
            Some(V::Strings(s)) => s.iter().map(String::as_str).collect(),
            _ => continue,
        };
        let quoted: Vec<String> = similar.iter().map(|s| format!("'{s}'")).collect();
        let tip = if similar.len() == 1 {
            format!("a similar {what} exists: {}", quoted[0])
        } else {
            format!("some similar {what}s exist: {}", quoted.join(", "))
        };
        tips.push(tip.trim_end().to_string());
    }
    if let Some(V::StyledStrs(suggestions)) = e.get(K::Suggested) {
        // clap's own sentences, e.g. how to pass a value that looks like a flag.
        tips.extend(suggestions.iter().map(|s| one_line(&s.to_string())));
    }
    tips
}

/// Which `--help` to read: that of the command whose usage the error carries (clap adds
/// it for the command being parsed), else, for an error without one (an invalid value),
/// the subcommand named in argv.
fn help_command(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    use clap::CommandFactory;
    let path = match e.get(ContextKind::Usage) {
        Some(ContextValue::StyledStr(usage)) => {
            let mut cli = Cli::command();
            cli.build();
            let names: Vec<String> = cli
                .get_subcommands()
                .flat_map(|s| {
                    std::iter::once(s.get_name().to_string())
                        .chain(s.get_subcommands().map(|s| s.get_name().to_string()))
                })
                .collect();
            // The command path leads the usage, before the first option or argument.
            let usage = usage.to_string();
            let first = usage.lines().next().unwrap_or_default().to_string();
            first
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .filter(|w| names.iter().any(|n| n == w))
                .map(str::to_string)
                .collect::<Vec<_>>()
        }
        _ => subcommand_in(args_lossy()).into_iter().collect(),
    };
    std::iter::once("vault-fetch-relay")
        .chain(path.iter().map(String::as_str))
        .chain(std::iter::once("--help"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The subcommand named in `args` (before any `--`), if one is.
fn subcommand_in(args: impl Iterator<Item = String>) -> Option<String> {
    use clap::CommandFactory;
    let cli = Cli::command();
    args.take_while(|a| a != "--").find(|a| {
        cli.get_subcommands()
            .any(|s| s.get_name() == a && a != "help")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_key_variable_is_a_setting_variable() {
        // exec withholds API_KEY_VARS from the child; a key variable added to the
        // settings must be added there too.
        assert_eq!(SETTING_VARS[..API_KEY_VARS.len()], API_KEY_VARS);
        let key_like = SETTING_VARS
            .iter()
            .filter(|v| v.contains("API_KEY"))
            .count();
        assert_eq!(key_like, API_KEY_VARS.len());
    }

    #[test]
    fn check_help_names_the_default_relay_version() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let check = cli.find_subcommand("check").unwrap();
        let arg = check
            .get_arguments()
            .find(|a| a.get_id() == "relay_version")
            .unwrap();
        let help = arg.get_help().unwrap().to_string();
        assert!(
            help.contains(crate::upstream::DEFAULT_RELAY_VERSION),
            "{help}"
        );
    }
}
