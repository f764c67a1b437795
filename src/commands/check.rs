//! Operator report with distinct exit codes per class of problem.

use super::settings;
use crate::cli::CommonArgs;
use crate::exit::Exit;
use crate::fetch::fetch;
use crate::render::{CheckReport, Render};

pub(crate) fn run(common: &CommonArgs) -> anyhow::Result<Exit> {
    let report = fetch(&settings(common)?)?;
    crate::console::out(&CheckReport.render(&report))?;
    Ok(Exit::for_check(report.status()))
}
