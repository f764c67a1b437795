//! RELAY_* environment assignments.

use super::output::Destination;
use super::{conclude, exit_for, fetch_with_feedback, settings};
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
    let report = fetch_with_feedback(&settings)?;
    if exit_for(&report, settings.strict) == Exit::Success {
        if let Some(path) = dest.write(&EnvFile { format }.render(&report))? {
            crate::console::info(&format!(
                "vault-fetch-relay: wrote {} (RELAY_MODE={})",
                path.display(),
                relay_mode(&report)
            ));
        }
    }
    Ok(conclude(&report, settings.strict))
}
