//! Operator report with distinct exit codes per class of problem.

use super::{fetch_with_feedback, settings};
use crate::cli::{CheckArgs, CheckFormat};
use crate::render::{check_exit_code, CheckJson, CheckReport, Render};

pub fn run(args: &CheckArgs) -> anyhow::Result<u8> {
    let report = fetch_with_feedback(&settings(&args.fetch)?)?;
    let text = match args.format {
        CheckFormat::Text => CheckReport {
            colour: crate::console::stdout_colour(),
        }
        .render(&report),
        CheckFormat::Json => CheckJson.render(&report),
    };
    crate::console::out(&text)?;
    Ok(check_exit_code(report.status()) as u8)
}
