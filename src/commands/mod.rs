//! Thin front ends: each builds settings, calls the one `fetch`, renders for its
//! target and picks an exit code. None of them knows HTTP.
//!
//! The rules every mode shares (README, "One rule per question"):
//! - a destination is checked before any request is sent;
//! - a run without credentials warns and exits 0, or with --strict exits 1; a
//!   configuration error (wrong_api_base included) exits 1 whatever --strict says;
//! - a run that exits non-zero writes nothing;
//! - a written file is named on stderr in one line; missing parent directories are
//!   created 0700.

mod check;
mod deployment_event;
#[cfg(feature = "dev-server")]
mod dev_server;
mod env;
mod exec;
mod generate;
mod helm_values;
mod init;
mod install;
mod output;
mod relay_upstream;
mod terraform;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

use crate::cli::{Cli, Command, FetchArgs};
use crate::exit::Exit;
use crate::fetch::{Observer, Report};
use crate::http::RetryEvent;
use crate::preflight::Delivery;
use crate::secret::Secret;
use crate::settings::{non_empty, FrontEnd, KeySource, Settings, SettingsInput};
use crate::upstream::{UpstreamSettings, Verdict};

/// Run the chosen command; an error exits 1 (`Exit::Failure`) with its message.
pub(crate) fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        None => terraform::run(&cli.fetch),
        Some(Command::Terraform(args)) => terraform::run(&args.fetch),
        Some(Command::HelmValues(args)) => helm_values::run(&args),
        Some(Command::Init(args)) => init::run(&args),
        Some(Command::Env(args)) => env::run(&args),
        Some(Command::Check(args)) => check::run(&args),
        Some(Command::Exec(args)) => exec::run(&args),
        Some(Command::Install(args)) => install::run(&args),
        Some(Command::DeploymentEvent(args)) => deployment_event::run(&args),
        #[cfg(feature = "dev-server")]
        Some(Command::DevServer(args)) => dev_server::run(&args),
        #[cfg(feature = "dev-server")]
        Some(Command::Demo) => crate::demo::run(),
        Some(Command::Completions(args)) => generate::completions(args.shell),
        Some(Command::Man) => generate::man(),
    }
}

/// Where the API key comes from, first found wins: --api-key-file,
/// VAULT_FETCH_API_KEY_FILE, WORKOS_API_KEY_FILE, WORKOS_API_KEY (the Terraform
/// query's api_key goes above all of them, see `SettingsInput::overlay`).
fn key_source(fetch: &FetchArgs) -> Option<KeySource> {
    let var = |name: &'static str| {
        non_empty(std::env::var_os(name).map(PathBuf::from)).map(|p| KeySource::FileEnv(name, p))
    };
    non_empty(fetch.api_key_file.clone())
        .map(KeySource::FileFlag)
        .or_else(|| var("VAULT_FETCH_API_KEY_FILE"))
        .or_else(|| var("WORKOS_API_KEY_FILE"))
        .or_else(|| std::env::var_os("WORKOS_API_KEY").map(|_| KeySource::Env))
}

fn read_key(source: &KeySource) -> anyhow::Result<Option<Secret>> {
    let (named_by, path) = match source {
        KeySource::FileFlag(p) => ("--api-key-file", p),
        KeySource::FileEnv(var, p) => (*var, p),
        KeySource::Env => return Ok(std::env::var("WORKOS_API_KEY").ok().map(Secret::new)),
        KeySource::Query => return Ok(None),
    };
    // A key is well under 1 KiB; the cap keeps a wrong path from reading forever.
    // read_input adds the path itself.
    let what = format!("the API key file ({named_by})");
    let bytes = crate::files::read_input(path, 64 * 1024, &what)?;
    let text = String::from_utf8(bytes)
        .with_context(|| format!("{what} {} is not UTF-8 text", path.display()))?;
    Ok(Some(Secret::new(text.trim())))
}

/// Settings inputs from flags and environment (clap merged each flag with its
/// VAULT_FETCH_* variable; the older alias variables are read here).
fn base_input(fetch: &FetchArgs, front_end: FrontEnd) -> anyhow::Result<SettingsInput> {
    use crate::cli::or_alias;
    let key_source = key_source(fetch);
    let api_key = match &key_source {
        Some(s) => read_key(s)?,
        None => None,
    };
    Ok(SettingsInput {
        api_key: non_empty(api_key),
        key_source,
        api_base: or_alias(fetch.api_base.clone(), "WORKOS_API_BASE"),
        secret_name: or_alias(fetch.secret_name.clone(), "WORKOS_VAULT_SECRET_NAME"),
        strict: fetch.strict.then_some(true),
        timeout_seconds: fetch.timeout_seconds.clone(),
        ca_file: non_empty(fetch.ca_file.clone()),
        front_end,
    })
}

/// Settings for a command-line mode.
fn settings(fetch: &FetchArgs) -> anyhow::Result<Settings> {
    Ok(Settings::resolve(base_input(fetch, FrontEnd::Cli)?)?)
}

/// Fetch with progress on stderr, ending by `deadline`: one line per retry (on a
/// terminal or with -v), one per attempt with -v. The words are the retry module's; no
/// HTTP here.
fn fetch_with_feedback(settings: &Settings, deadline: Instant) -> anyhow::Result<Report> {
    let base = settings.api_base.as_str().trim_end_matches('/').to_string();
    let run_deadline = settings.deadline;
    let observer: Observer = Arc::new(move |event| match event {
        RetryEvent::Attempt { .. } if crate::console::verbosity() > 0 => {
            crate::console::progress(&format!(
                "vault-fetch-relay: {event} to {base} (run deadline {:.0} s)",
                run_deadline.as_secs_f64()
            ))
        }
        RetryEvent::Attempt { .. } => {}
        RetryEvent::Retry { .. } => {
            crate::console::progress(&format!("vault-fetch-relay: {event}"))
        }
    });
    crate::fetch::fetch_by(settings, deadline, observer)
}

/// One run's fetch and, with `upstream`, the preflight gate after it: both inside the
/// run's one deadline, counted from now.
fn fetch_gated(
    settings: &Settings,
    upstream: Option<&UpstreamSettings>,
) -> anyhow::Result<Delivery> {
    let deadline = Instant::now() + settings.deadline;
    let report = fetch_with_feedback(settings, deadline)?;
    crate::preflight::gate(report, upstream, deadline)
}

/// The upstream `--verify-upstream` asks, `upstream`: the one relay will use
/// (`relay_upstream`), checked before any request (https, or http to loopback). `None`
/// when verification is off.
fn verify_settings(
    enabled: bool,
    upstream: &relay_upstream::RelayUpstream,
    settings: &Settings,
) -> anyhow::Result<Option<UpstreamSettings>> {
    if !enabled {
        return Ok(None);
    }
    Ok(Some(UpstreamSettings::resolve(
        &upstream.url,
        upstream.source,
        None,
        None,
        settings.ca_file.clone(),
        settings.connect_timeout,
    )?))
}

/// The rule for a start with `--verify-upstream` (README, "One rule per question"):
/// credentials upstream refuses are withheld (the delivery's status is
/// `upstream_refused`: proxy mode, or with --strict a failure); an unreachable upstream
/// does not block them (relay retries upstream itself), with one warning line; an
/// upstream that does not answer as Sentry does is a configuration error.
fn start_rule(delivery: &Delivery) -> anyhow::Result<()> {
    let Some(upstream) = &delivery.upstream else {
        return Ok(());
    };
    match upstream.verdict {
        Verdict::Accepted => {
            crate::console::info(&format!("vault-fetch-relay: {}", upstream.reason))
        }
        Verdict::Refused => {}
        Verdict::Unreachable => crate::console::warn(&format!(
            "vault-fetch-relay: warning: {}; using the credentials anyway (relay retries upstream itself)",
            upstream.reason
        )),
        Verdict::NotSentry => anyhow::bail!("{}", upstream.reason),
    }
    Ok(())
}

/// Tell the user about a run without credentials and choose the exit: success when
/// degrading gracefully, failure when strict or when the configuration is wrong.
fn conclude(delivery: &Delivery, strict: bool) -> Exit {
    conclude_with(delivery, strict, "")
}

/// The exit `conclude` will choose, known before anything is written.
fn exit_for(delivery: &Delivery, strict: bool) -> Exit {
    let status = delivery.status();
    match delivery.credentials() {
        Some(_) => Exit::Success,
        None if strict || status.is_configuration_error() => Exit::Failure,
        None => Exit::Success,
    }
}

/// `conclude`, with `more` appended to a warning line (init says what it wrote).
fn conclude_with(delivery: &Delivery, strict: bool, more: &str) -> Exit {
    if delivery.credentials().is_some() {
        log::info!("{}", delivery.reason());
        return Exit::Success;
    }
    let status = delivery.status();
    if exit_for(delivery, strict) != Exit::Success {
        crate::console::error(&format!(
            "vault-fetch-relay: error: {status}: {}",
            delivery.reason()
        ));
        return Exit::Failure;
    }
    crate::console::warn(&format!(
        "vault-fetch-relay: warning: {status}: {}{more}",
        delivery.reason()
    ));
    Exit::Success
}
