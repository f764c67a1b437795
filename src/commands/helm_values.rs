//! Helm values file for `helm upgrade -f`.

use super::output::Destination;
use super::{conclude, exit_for, fetch_gated, settings};
use crate::cli::{HelmLayoutArg, HelmValuesArgs};
use crate::exit::Exit;
use crate::render::{relay_mode, HelmLayout, HelmValues, Render};

pub(crate) fn run(args: &HelmValuesArgs) -> anyhow::Result<Exit> {
    // Built before settings: a bad layout is refused before any request is sent.
    let layout = args.layout.map(|l| match l {
        HelmLayoutArg::Default => HelmLayout::Default,
        HelmLayoutArg::Anysource => HelmLayout::Anysource,
    });
    let renderer = HelmValues::from_flags(layout, args.values_path.as_deref(), &args.set_path)?;
    let settings = settings(&args.fetch)?;
    let default = Destination::NewTempFile {
        prefix: "vault-fetch-relay-values-",
        suffix: ".yaml",
    };
    let dest = Destination::from_arg(args.output.as_deref(), default);
    dest.check()?;
    let delivery = fetch_gated(&settings, None)?;
    if exit_for(&delivery, settings.strict) == Exit::Success {
        if let Some(path) = dest.write(&renderer.render(&delivery.report))? {
            crate::console::info(&format!(
                "vault-fetch-relay: wrote Helm values to {} (mode {})",
                path.display(),
                relay_mode(delivery.credentials())
            ));
        }
    }
    Ok(conclude(&delivery, settings.strict))
}
