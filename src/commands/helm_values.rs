//! Helm values file for `helm upgrade -f`.

use super::output::Destination;
use super::{conclude, settings};
use crate::cli::{CommonArgs, HelmLayoutArg, HelmValuesArgs};
use crate::exit::Exit;
use crate::fetch::fetch;
use crate::render::{HelmLayout, HelmValues, Render};

pub(crate) fn run(common: &CommonArgs, args: &HelmValuesArgs) -> anyhow::Result<Exit> {
    // Built before settings: a bad layout is refused before any request is sent.
    let layout = args.layout.map(|l| match l {
        HelmLayoutArg::Default => HelmLayout::Default,
        HelmLayoutArg::Anysource => HelmLayout::Anysource,
    });
    let renderer = HelmValues::from_flags(layout, args.values_path.as_deref(), &args.set_path)?;
    let settings = settings(common)?;
    let report = fetch(&settings)?;
    let exit = conclude(&report, settings.strict);
    if exit == Exit::Success {
        let default = Destination::NewTempFile {
            prefix: "vault-fetch-relay-values-",
            suffix: ".yaml",
        };
        let dest = Destination::from_arg(args.output.as_deref(), default);
        if let Some(path) = dest.write(&renderer.render(&report))? {
            log::info!("wrote Helm values to {}", path.display());
        }
    }
    Ok(exit)
}
