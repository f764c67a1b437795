//! Terraform external data source: query on stdin, JSON map of strings on stdout.

use std::io::{IsTerminal, Read};

use anyhow::{bail, Context};

use super::{base_input, conclude};
use crate::cli::CommonArgs;
use crate::fetch::fetch;
use crate::query::{parse_query, MAX_QUERY_BYTES};
use crate::render::{Render, TerraformResult};
use crate::settings::Settings;

pub fn run(common: &CommonArgs) -> anyhow::Result<u8> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        bail!("reads Terraform's JSON query on stdin; try: echo '{{}}' | vault-fetch-relay (see --help)");
    }
    let mut input = Vec::new();
    stdin
        .lock()
        .take(MAX_QUERY_BYTES as u64 + 1)
        .read_to_end(&mut input)
        .context("cannot read the query from stdin")?;
    // The query overrides flags and environment, as the original script's did.
    let query = parse_query(&input)?;
    let settings = Settings::resolve(base_input(common)?.overlay(query))?;
    let report = fetch(&settings)?;
    let code = conclude(&report, settings.strict);
    if code == 0 {
        crate::console::out(&TerraformResult.render(&report))?;
    }
    Ok(code)
}
