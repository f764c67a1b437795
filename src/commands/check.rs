//! Operator report with distinct exit codes per class of problem; with --upstream,
//! the Sentry preflight's steps too.

use std::time::Instant;

use super::{fetch_with_feedback, settings};
use crate::cli::{or_alias, CheckArgs, CheckFormat};
use crate::exit::Exit;
use crate::preflight::Delivery;
use crate::render::{CheckJson, CheckReport, Render};
use crate::settings::non_empty;
use crate::upstream::UpstreamSettings;

pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let settings = settings(&args.fetch)?;
    // The destination is checked before any request is sent.
    let named_by = match non_empty(args.upstream.clone()) {
        Some(_) => "--upstream / VAULT_FETCH_UPSTREAM_URL",
        None => "RELAY_UPSTREAM_URL",
    };
    let upstream = match or_alias(args.upstream.clone(), "RELAY_UPSTREAM_URL") {
        Some(url) => Some(UpstreamSettings::resolve(
            &url,
            named_by,
            non_empty(args.dsn.clone()),
            non_empty(args.relay_version.clone()),
            settings.ca_file.clone(),
            settings.connect_timeout,
        )?),
        None if args.dsn.is_some() || args.relay_version.is_some() => anyhow::bail!(
            "--dsn and --relay-version apply to the upstream preflight; add --upstream URL (or set RELAY_UPSTREAM_URL)"
        ),
        None => None,
    };
    // The preflight shares the run's deadline with the fetch (it ran on found
    // credentials only: check reports the fetch's status beside the verdict).
    let deadline = started + settings.deadline;
    let report = fetch_with_feedback(&settings, deadline)?;
    let Delivery {
        report,
        upstream: preflight,
    } = crate::preflight::gate(report, upstream.as_ref(), deadline)?;
    let exit = Exit::for_check_upstream(report.status(), preflight.as_ref().map(|p| p.verdict));
    let text = match args.format {
        CheckFormat::Text => CheckReport {
            colour: crate::console::stdout_colour(),
            upstream: preflight.as_ref(),
        }
        .render(&report),
        CheckFormat::Json => CheckJson {
            upstream: preflight.as_ref(),
            exit_code: exit.code(),
        }
        .render(&report),
    };
    // `check | head -1` wants the first line: a reader that stops early does not turn
    // the probe's answer into an error.
    crate::console::out_unless_closed(&text)?;
    Ok(exit)
}
