//! Terraform mode: query on stdin, JSON map of strings on stdout. The same protocol
//! serves `data "external"` and `ephemeral "local_command"` (hashicorp/local).

use std::io::{IsTerminal, Read};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::{base_input, conclude};
use crate::cli::FetchArgs;
use crate::deadline::within;
use crate::exit::Exit;
use crate::fetch::fetch;
use crate::preflight::Delivery;
use crate::query::{parse_query, MAX_QUERY_BYTES};
use crate::render::{Render, TerraformResult};
use crate::settings::{parse_timeout, FrontEnd, Settings, DEFAULT_DEADLINE};

pub(crate) fn run(fetch_args: &FetchArgs) -> anyhow::Result<Exit> {
    // The run's one deadline counts from here: reading the query is part of the run.
    let started = Instant::now();
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        bail!("reads Terraform's JSON query on stdin; try: echo '{{}}' | vault-fetch-relay (see --help)");
    }
    // The query may set its own timeout, but it is not read yet: bound the read by the
    // flag/environment deadline.
    let limit = fetch_args
        .timeout_seconds
        .as_deref()
        .and_then(|t| parse_timeout(t).ok())
        .unwrap_or(DEFAULT_DEADLINE);
    let input = read_stdin_within(limit)?;
    // The query overrides flags and environment, as the original script's did. No
    // progress lines: Terraform shows stderr only when the program fails.
    let query = parse_query(&input)?;
    let settings =
        Settings::resolve(base_input(fetch_args, FrontEnd::Terraform)?.overlay(query.settings))?;
    let delivery = Delivery::from(fetch(&settings, started + settings.deadline)?);
    let exit = conclude(&delivery, settings.strict);
    if exit == Exit::Success {
        let result = TerraformResult {
            outcome_only: query.outcome_only,
        };
        // Strict on purpose, unlike the other modes: exit 0 is the protocol's only
        // signal that stdout holds the complete object, so a write that failed (a
        // closed pipe included) must exit 1, or a reader that got a truncated object
        // would take it as a successful result.
        crate::console::out(&result.render(&delivery.report))?;
    }
    Ok(exit)
}

/// Read stdin to EOF (at most one byte past the query cap) on a worker thread, so a
/// caller that never closes stdin cannot hold the run past its deadline.
fn read_stdin_within(limit: Duration) -> anyhow::Result<Vec<u8>> {
    let read = within(Instant::now() + limit, || {
        let mut input = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_QUERY_BYTES as u64 + 1)
            .read_to_end(&mut input)
            .map(|_| input)
    });
    match read {
        Ok(read) => read.context("cannot read the query from stdin"),
        Err(_) => bail!(
            "stdin was not closed within {:.0} s; Terraform writes the query and closes stdin (for a manual run: echo '{{}}' | vault-fetch-relay)",
            limit.as_secs_f64()
        ),
    }
}
