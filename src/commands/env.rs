//! RELAY_* environment assignments.

use super::output::Destination;
use super::{conclude, settings};
use crate::cli::{CommonArgs, EnvArgs, EnvFormatArg};
use crate::fetch::fetch;
use crate::render::{EnvFile, EnvFormat, Render};

pub(crate) fn run(common: &CommonArgs, args: &EnvArgs) -> anyhow::Result<u8> {
    let format = match args.format {
        EnvFormatArg::Dotenv => EnvFormat::Dotenv,
        EnvFormatArg::Shell => EnvFormat::Shell,
    };
    let settings = settings(common)?;
    let report = fetch(&settings)?;
    let code = conclude(&report, settings.strict);
    if code == 0 {
        let dest = Destination::from_arg(args.output.as_deref(), Destination::Stdout);
        dest.write(&EnvFile { format }.render(&report))?;
    }
    Ok(code)
}
