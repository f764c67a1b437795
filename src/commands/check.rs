//! Operator report with distinct exit codes per class of problem.

use super::{fetch_with_feedback, settings};
use crate::cli::{CheckArgs, CheckFormat};
use crate::exit::Exit;
use crate::render::{CheckJson, CheckReport, Render};

pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<Exit> {
    let report = fetch_with_feedback(&settings(&args.fetch)?)?;
    let text = match args.format {
        CheckFormat::Text => CheckReport {
            colour: crate::console::stdout_colour(),
        }
        .render(&report),
        CheckFormat::Json => CheckJson.render(&report),
    };
    // `check | head -1` wants the first line: a reader that stops early does not turn
    // the probe's answer into an error.
    crate::console::out_unless_closed(&text)?;
    Ok(Exit::for_check(report.status()))
}
