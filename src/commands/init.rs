//! Kubernetes init container: relay's config directory, ready for `relay run --config`.

use std::path::PathBuf;

use anyhow::Context;

use super::{conclude, conclude_with, exit_for, fetch_with_feedback, settings};
use crate::cli::{or_alias, path_or_alias, InitArgs, DEFAULT_CREDENTIALS_DIR};
use crate::exit::Exit;
use crate::files;
use crate::render::{RelayDir, CONFIG_FILE, CREDENTIALS_FILE};

/// Largest config template we read: relay configs are a few lines.
const MAX_TEMPLATE_BYTES: u64 = 64 * 1024;

pub(crate) fn run(args: &InitArgs) -> anyhow::Result<Exit> {
    let settings = settings(&args.fetch)?;
    let config_template = match path_or_alias(args.config_template.clone(), "RELAY_CONFIG_TEMPLATE")
    {
        Some(path) => Some(read_template(&path)?),
        None => None,
    };
    let upstream = or_alias(args.upstream.clone(), "RELAY_UPSTREAM_URL")
        .unwrap_or_else(|| crate::render::DEFAULT_UPSTREAM.to_string());
    let plan_maker = RelayDir {
        config_template,
        upstream: crate::render::parse_upstream(&upstream)?,
    };
    // An empty variable means the default, like every other empty variable.
    let dir = path_or_alias(args.dir.clone(), "CREDENTIALS_DIR")
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CREDENTIALS_DIR));
    let dir = dir.as_path();
    let credentials_path = dir.join(CREDENTIALS_FILE);
    let config_path = dir.join(CONFIG_FILE);
    // The destination is checked before any request is sent.
    files::check_dir_destination(dir)?;
    files::check_destination(&config_path)?;

    let report = fetch_with_feedback(&settings)?;
    if exit_for(&report, settings.strict) != Exit::Success {
        // A failing run writes nothing (README: one rule per question).
        return Ok(conclude(&report, settings.strict));
    }
    let files_plan = plan_maker.plan(&report)?;

    files::ensure_private_dir(dir)?;
    // Refuse a bad destination before writing anything, so a failure leaves no new
    // credentials next to an old config; then clear what a killed earlier run left.
    // (A stale credentials.json is only removed, never written through, when there
    // are no credentials: a link there is fine then.)
    files::check_destination(&config_path)?;
    if files_plan.credentials_json.is_some() {
        files::check_destination(&credentials_path)?;
    }
    for path in [&credentials_path, &config_path] {
        files::remove_stale_temps(path)?;
    }
    match &files_plan.credentials_json {
        Some(json) => files::write_atomic(&credentials_path, json.expose().as_bytes())?,
        None => {
            if files::remove_if_present(&credentials_path)? {
                log::info!("removed stale {}", credentials_path.display());
            }
        }
    }
    files::write_atomic(&config_path, files_plan.config_yml.as_bytes())?;

    // One line per run: what was fetched (id masked) and where it went.
    match report.credentials() {
        Some(c) => {
            crate::console::info(&format!(
                "vault-fetch-relay: wrote {} and {} for relay {} (mode managed)",
                credentials_path.display(),
                config_path.display(),
                c.masked_id()
            ));
            Ok(Exit::Success)
        }
        None => {
            let wrote = format!(
                "; wrote {} (mode proxy, no credentials.json)",
                config_path.display()
            );
            Ok(conclude_with(&report, settings.strict, &wrote))
        }
    }
}

fn read_template(path: &std::path::Path) -> anyhow::Result<String> {
    let bytes = files::read_input(path, MAX_TEMPLATE_BYTES, "the config template")?;
    String::from_utf8(bytes)
        .with_context(|| format!("config template {} is not UTF-8 text", path.display()))
}
