//! Thin front ends: each builds settings, calls the one `fetch`, renders for its
//! target and picks an exit code. None of them knows HTTP.

mod check;
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
use crate::fetch::Report;
use crate::secret::Secret;
use crate::settings::{Settings, SettingsInput};

/// Run the chosen command; the value is the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let common = &cli.common;
    match cli.command.unwrap_or(Command::Terraform) {
        Command::Terraform => terraform::run(common),
        Command::HelmValues(args) => helm_values::run(common, &args),
        Command::Init(args) => init::run(common, &args),
        Command::Env(args) => env::run(common, &args),
        Command::Check => check::run(common),
        Command::Exec(args) => exec::run(common, &args),
        Command::Install(args) => install::run(&args),
        Command::DevServer(args) => dev_server::run(common, &args),
        Command::Demo => crate::demo::run(),
    }
}

/// Settings inputs from flags and environment (clap already merged flag and env).
fn base_input(common: &CommonArgs) -> anyhow::Result<SettingsInput> {
    let api_key = match common
        .api_key_file
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty())
    {
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
        api_key: api_key.filter(|k| !k.is_empty()),
        api_base: common.api_base.clone().filter(|s| !s.is_empty()),
        secret_name: common.secret_name.clone().filter(|s| !s.is_empty()),
        strict: common.strict.then_some(true),
        timeout_seconds: common.timeout_seconds.clone(),
        ca_file: common.ca_file.clone().filter(|p| !p.as_os_str().is_empty()),
    })
}

fn settings(common: &CommonArgs) -> anyhow::Result<Settings> {
    Ok(Settings::resolve(base_input(common)?)?)
}

/// Tell the user about a run without credentials and choose the exit code: 0 when
/// degrading gracefully, 1 when strict.
fn conclude(report: &Report, strict: bool) -> u8 {
    conclude_with(report, strict, "")
}

/// `conclude`, with `more` appended to the one stderr line (init says what it wrote).
fn conclude_with(report: &Report, strict: bool, more: &str) -> u8 {
    if report.credentials().is_some() {
        log::info!("{}", report.reason());
        return 0;
    }
    let (level, code) = if strict { ("error", 1) } else { ("warning", 0) };
    crate::console::say(&format!(
        "vault-fetch-relay: {level}: {}: {}{more}",
        report.status(),
        report.reason()
    ));
    code
}
