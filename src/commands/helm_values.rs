//! Helm values file for `helm upgrade -f`.

use super::output::Destination;
use super::{conclude, exit_code, fetch_with_feedback, settings};
use crate::cli::HelmValuesArgs;
use crate::render::{relay_mode, HelmValues, Render};

pub fn run(args: &HelmValuesArgs) -> anyhow::Result<u8> {
    let renderer = HelmValues::new(&args.values_path)?;
    let settings = settings(&args.fetch)?;
    let default = Destination::NewTempFile {
        prefix: "vault-fetch-relay-values-",
        suffix: ".yaml",
    };
    let dest = Destination::from_arg(args.output.as_deref(), default);
    dest.check()?;
    let report = fetch_with_feedback(&settings)?;
    if exit_code(&report, settings.strict) == 0 {
        if let Some(path) = dest.write(&renderer.render(&report))? {
            crate::console::info(&format!(
                "vault-fetch-relay: wrote Helm values to {} (mode {})",
                path.display(),
                relay_mode(&report)
            ));
        }
    }
    Ok(conclude(&report, settings.strict))
}
