//! RELAY_* environment assignments.

use super::output::Destination;
use super::{conclude, exit_for, fetch_gated, settings};
use crate::cli::{EnvArgs, EnvFormatArg};
use crate::exit::Exit;
use crate::render::{relay_mode, EnvFile, EnvFormat, Render};

pub(crate) fn run(args: &EnvArgs) -> anyhow::Result<Exit> {
    let format = match args.format {
        EnvFormatArg::Dotenv => EnvFormat::Dotenv,
        EnvFormatArg::Shell => EnvFormat::Shell,
    };
    let settings = settings(&args.fetch)?;
    let dest = Destination::from_arg(args.output.as_deref(), Destination::Stdout);
    dest.check()?;
    let delivery = fetch_gated(&settings, None)?;
    if exit_for(&delivery, settings.strict) == Exit::Success {
        if let Some(path) = dest.write(&EnvFile { format }.render(&delivery.report))? {
            crate::console::info(&format!(
                "vault-fetch-relay: wrote {} (RELAY_MODE={})",
                path.display(),
                relay_mode(delivery.credentials())
            ));
        }
    }
    Ok(conclude(&delivery, settings.strict))
}
