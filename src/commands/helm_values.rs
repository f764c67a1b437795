//! Helm values file for `helm upgrade -f`.

use super::output::Destination;
use super::{conclude, settings};
use crate::cli::{CommonArgs, HelmValuesArgs};
use crate::fetch::fetch;
use crate::render::{HelmValues, Render};

pub(crate) fn run(common: &CommonArgs, args: &HelmValuesArgs) -> anyhow::Result<u8> {
    let renderer = HelmValues::new(&args.values_path)?;
    let settings = settings(common)?;
    let report = fetch(&settings)?;
    let code = conclude(&report, settings.strict);
    if code == 0 {
        let default = Destination::NewTempFile {
            prefix: "vault-fetch-relay-values-",
            suffix: ".yaml",
        };
        let dest = Destination::from_arg(args.output.as_deref(), default);
        if let Some(path) = dest.write(&renderer.render(&report))? {
            log::info!("wrote Helm values to {}", path.display());
        }
    }
    Ok(code)
}
