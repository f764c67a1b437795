//! Kubernetes init container: relay's config directory, ready for `relay run --config`.

use anyhow::{bail, Context};

use super::{conclude_with, settings};
use crate::cli::{CommonArgs, InitArgs, DEFAULT_CREDENTIALS_DIR};
use std::path::Path;

use crate::fetch::{fetch, Report};
use crate::files;
use crate::render::{RelayDir, RenderFiles, CONFIG_FILE, CREDENTIALS_FILE};

/// Largest config template we read: relay configs are a few lines.
const MAX_TEMPLATE_BYTES: u64 = 64 * 1024;

pub fn run(common: &CommonArgs, args: &InitArgs) -> anyhow::Result<u8> {
    let settings = settings(common)?;
    if settings.api_key.is_none() {
        // A missing key means the chart's wiring is broken, not that telemetry is off.
        bail!("WORKOS_API_KEY is not set: the init container needs the WorkOS API key (e.g. a secretKeyRef to backend-secret/AUTH_API_KEY)");
    }
    // A signal from here on ends the run, but never in the middle of writing files.
    crate::interrupt::exit_between_writes()?;
    let config_template = match args
        .config_template
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty())
    {
        Some(path) => Some(read_template(path)?),
        None => None,
    };
    // Built before the fetch: a template that cannot be rewritten fails before any request.
    let target = RelayDir::new(
        config_template.as_deref(),
        &crate::render::parse_upstream(&args.upstream)?,
    )?;
    // CREDENTIALS_DIR= (empty) means the default, like every other empty variable.
    let dir = match args.dir.as_os_str().is_empty() {
        true => Path::new(DEFAULT_CREDENTIALS_DIR),
        false => args.dir.as_path(),
    };
    let report = fetch(&settings)?;
    write_relay_dir(dir, &target, &report)?;
    let credentials_path = dir.join(CREDENTIALS_FILE);
    let config_path = dir.join(CONFIG_FILE);

    // One line per run: what was fetched (id masked) and where it went.
    match report.credentials() {
        Some(c) => {
            crate::console::say(&format!(
                "vault-fetch-relay: wrote {} and {} for relay {} (mode managed)",
                credentials_path.display(),
                config_path.display(),
                c.masked_id()
            ));
            Ok(0)
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

/// Write relay's config directory for `report`: the one entry point for every front end
/// that keeps a relay directory (init, exec --dir). Each step leaves a directory relay
/// can start from, temps killed runs left are removed, and a signal waits for the end.
pub fn write_relay_dir(dir: &Path, target: &RelayDir, report: &Report) -> anyhow::Result<()> {
    let files = target.render_files(report);
    let changes: Vec<files::Change> = files
        .iter()
        .map(|f| files::Change {
            name: f.name,
            contents: f.contents.as_ref().map(|c| c.expose().as_bytes()),
        })
        .collect();
    files::write_set(dir, &changes)
}

fn read_template(path: &std::path::Path) -> anyhow::Result<String> {
    let bytes = files::read_input(path, MAX_TEMPLATE_BYTES, "the config template")?;
    String::from_utf8(bytes)
        .with_context(|| format!("config template {} is not UTF-8 text", path.display()))
}
