//! RELAY_* environment assignments.

use super::output::Destination;
use super::{conclude, exit_code, fetch_with_feedback, settings};
use crate::cli::{EnvArgs, EnvFormatArg};
use crate::render::{relay_mode, EnvFile, EnvFormat, Render};

pub fn run(args: &EnvArgs) -> anyhow::Result<u8> {
    let format = match args.format {
        EnvFormatArg::Dotenv => EnvFormat::Dotenv,
        EnvFormatArg::Shell => EnvFormat::Shell,
    };
    let settings = settings(&args.fetch)?;
    let dest = Destination::from_arg(args.output.as_deref(), Destination::Stdout);
    dest.check()?;
    let report = fetch_with_feedback(&settings)?;
    if exit_code(&report, settings.strict) == 0 {
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
