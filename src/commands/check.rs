//! Operator report with distinct exit codes per class of problem.

use super::settings;
use crate::cli::CommonArgs;
use crate::fetch::fetch;
use crate::render::{check_exit_code, CheckReport, Render};

pub(crate) fn run(common: &CommonArgs) -> anyhow::Result<u8> {
    let report = fetch(&settings(common)?)?;
    crate::console::out(&CheckReport.render(&report))?;
    Ok(check_exit_code(report.status()) as u8)
}
