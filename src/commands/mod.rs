//! Thin front ends: each builds settings, calls the one `fetch`, renders for its
//! target and picks an exit code. None of them knows HTTP.

mod check;
#[cfg(feature = "dev-server")]
mod dev_server;
mod env;
mod exec;
mod helm_values;
mod init;
mod install;
mod output;
mod terraform;

use anyhow::Context;

use crate::cli::{Cli, Command, CommonArgs};
use crate::exit::Exit;
use crate::fetch::Report;
use crate::secret::Secret;
use crate::settings::{non_empty, Settings, SettingsInput};

/// Run the chosen command; an error exits 1 (`Exit::Failure`) with its message.
pub(crate) fn run(cli: Cli) -> anyhow::Result<Exit> {
    let common = &cli.common;
    match cli.command.unwrap_or(Command::Terraform) {
        Command::Terraform => terraform::run(common),
        Command::HelmValues(args) => helm_values::run(common, &args),
        Command::Init(args) => init::run(common, &args),
        Command::Env(args) => env::run(common, &args),
        Command::Check => check::run(common),
        Command::Exec(args) => exec::run(common, &args),
        Command::Install(args) => install::run(&args),
        #[cfg(feature = "dev-server")]
        Command::DevServer(args) => dev_server::run(common, &args),
        #[cfg(feature = "dev-server")]
        Command::Demo => crate::demo::run(),
    }
}

/// Settings inputs from flags and environment (clap already merged flag and env).
fn base_input(common: &CommonArgs) -> anyhow::Result<SettingsInput> {
    let api_key = match non_empty(common.api_key_file.as_ref()) {
        Some(path) => {
            // A key is well under 1 KiB; the cap keeps a wrong path from reading forever.
            let bytes = crate::files::read_input(
                path,
                64 * 1024,
                "the API key file (WORKOS_API_KEY_FILE)",
            )?;
            let text = String::from_utf8(bytes)
                .context("the API key file (WORKOS_API_KEY_FILE) is not UTF-8 text")?;
            Some(Secret::new(text.trim()))
        }
        None => std::env::var("WORKOS_API_KEY").ok().map(Secret::new),
    };
    Ok(SettingsInput {
        api_key: non_empty(api_key),
        api_base: non_empty(common.api_base.clone()),
        secret_name: non_empty(common.secret_name.clone()),
        strict: common.strict.then_some(true),
        timeout_seconds: common.timeout_seconds.clone(),
        ca_file: non_empty(common.ca_file.clone()),
    })
}

fn settings(common: &CommonArgs) -> anyhow::Result<Settings> {
    Ok(Settings::resolve(base_input(common)?)?)
}

/// Tell the user about a run without credentials and choose the exit: success when
/// degrading gracefully, failure when strict.
fn conclude(report: &Report, strict: bool) -> Exit {
    conclude_with(report, strict, "")
}

/// `conclude`, with `more` appended to the one stderr line (init says what it wrote).
fn conclude_with(report: &Report, strict: bool, more: &str) -> Exit {
    if report.credentials().is_some() {
        log::info!("{}", report.reason());
        return Exit::Success;
    }
    let (level, exit) = if strict {
        ("error", Exit::Failure)
    } else {
        ("warning", Exit::Success)
    };
    crate::console::say(&format!(
        "vault-fetch-relay: {level}: {}: {}{more}",
        report.status(),
        report.reason()
    ));
    exit
}
