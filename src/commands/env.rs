//! RELAY_* environment assignments.

use super::output::Destination;
use super::{conclude, settings};
use crate::cli::{CommonArgs, EnvArgs, EnvFormatArg};
use crate::exit::Exit;
use crate::fetch::fetch;
use crate::render::{EnvFile, EnvFormat, Render};

pub(crate) fn run(common: &CommonArgs, args: &EnvArgs) -> anyhow::Result<Exit> {
    let format = match args.format {
        EnvFormatArg::Dotenv => EnvFormat::Dotenv,
        EnvFormatArg::Shell => EnvFormat::Shell,
    };
    let settings = settings(common)?;
    let report = fetch(&settings)?;
    let exit = conclude(&report, settings.strict);
    if exit == Exit::Success {
        let dest = Destination::from_arg(args.output.as_deref(), Destination::Stdout);
        dest.write(&EnvFile { format }.render(&report))?;
    }
    Ok(exit)
}
