//! Kubernetes init container: relay's config directory, ready for `relay run --config`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::{conclude_with, settings};
use crate::cli::{CommonArgs, InitArgs, RelayFilesArgs, DEFAULT_CREDENTIALS_DIR};
use crate::exit::Exit;
use crate::fetch::{fetch, Report};
use crate::files;
use crate::render::{RelayDir, CONFIG_FILE, CREDENTIALS_FILE};
use crate::settings::non_empty;

/// Largest config template we read: relay configs are a few lines.
const MAX_TEMPLATE_BYTES: u64 = 64 * 1024;

pub(crate) fn run(common: &CommonArgs, args: &InitArgs) -> anyhow::Result<Exit> {
    let settings = settings(common)?;
    if settings.api_key.is_none() {
        // A missing key means the chart's wiring is broken, not that telemetry is off.
        bail!("WORKOS_API_KEY is not set: the init container needs the WorkOS API key (e.g. a secretKeyRef to backend-secret/AUTH_API_KEY)");
    }
    // CREDENTIALS_DIR= (empty) means the default, like every other empty variable.
    let dir = non_empty(Some(args.dir.as_path()))
        .unwrap_or(Path::new(DEFAULT_CREDENTIALS_DIR))
        .to_path_buf();
    let writer = RelayDirWriter::new(dir, &args.files)?;
    let report = fetch(&settings)?;
    let wrote = writer.write(&report)?;
    match report.credentials() {
        Some(_) => {
            crate::console::say(&format!("vault-fetch-relay: {wrote}"));
            Ok(Exit::Success)
        }
        None => Ok(conclude_with(
            &report,
            settings.strict,
            &format!("; {wrote}"),
        )),
    }
}

/// Writes relay's config directory from a report: the one way `init` and `exec --dir`
/// put files on disk.
pub(super) struct RelayDirWriter {
    dir: PathBuf,
    plan_maker: RelayDir,
}

impl RelayDirWriter {
    /// Read the template and check the upstream now, before any fetch.
    pub(super) fn new(dir: PathBuf, args: &RelayFilesArgs) -> anyhow::Result<Self> {
        let config_template = match non_empty(args.config_template.as_ref()) {
            Some(path) => Some(read_template(path)?),
            None => None,
        };
        let plan_maker = RelayDir {
            config_template,
            upstream: crate::render::parse_upstream(&args.upstream)?,
        };
        Ok(RelayDirWriter { dir, plan_maker })
    }

    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Write credentials.json (or remove a stale one) and config.yml; returns what was
    /// written, as a phrase for the log line (the relay id masked).
    pub(super) fn write(&self, report: &Report) -> anyhow::Result<String> {
        let files_plan = self.plan_maker.plan(report)?;
        let dir = self.dir.as_path();
        files::ensure_private_dir(dir)?;
        let credentials_path = dir.join(CREDENTIALS_FILE);
        let config_path = dir.join(CONFIG_FILE);
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
        Ok(match report.credentials() {
            Some(c) => format!(
                "wrote {} and {} for relay {} (mode managed)",
                credentials_path.display(),
                config_path.display(),
                c.masked_id()
            ),
            None => format!(
                "wrote {} (mode proxy, no credentials.json)",
                config_path.display()
            ),
        })
    }
}

fn read_template(path: &std::path::Path) -> anyhow::Result<String> {
    let bytes = files::read_input(path, MAX_TEMPLATE_BYTES, "the config template")?;
    String::from_utf8(bytes)
        .with_context(|| format!("config template {} is not UTF-8 text", path.display()))
}
