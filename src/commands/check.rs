//! Operator report with distinct exit codes per class of problem.

use super::settings;
use crate::cli::CommonArgs;
use crate::exit::Exit;
use crate::fetch::fetch;
use crate::render::{CheckReport, Render};

pub(crate) fn run(common: &CommonArgs) -> anyhow::Result<Exit> {
    let report = fetch(&settings(common)?)?;
    // `check | head -1` wants the first line: a reader that stops early does not turn
    // the probe's answer into an error.
    crate::console::out_unless_closed(&CheckReport.render(&report))?;
    Ok(Exit::for_check(report.status()))
}
