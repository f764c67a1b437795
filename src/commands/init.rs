//! Kubernetes init container: relay's config directory, ready for `relay run --config`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::{conclude_with, settings};
use crate::cli::{CommonArgs, InitArgs, RelayFilesArgs, DEFAULT_CREDENTIALS_DIR};
use crate::exit::Exit;
use crate::fetch::{fetch, Report};
use crate::files;
use crate::render::{RelayDir, RenderFiles, CONFIG_FILE, CREDENTIALS_FILE};
use crate::settings::non_empty;

/// Largest config template we read: relay configs are a few lines.
const MAX_TEMPLATE_BYTES: u64 = 64 * 1024;

pub(crate) fn run(common: &CommonArgs, args: &InitArgs) -> anyhow::Result<Exit> {
    let settings = settings(common)?;
    if settings.api_key.is_none() {
        // A missing key means the chart's wiring is broken, not that telemetry is off.
        bail!("WORKOS_API_KEY is not set: the init container needs the WorkOS API key (e.g. a secretKeyRef to backend-secret/AUTH_API_KEY)");
    }
    // A signal from here on ends the run, but never in the middle of writing files.
    crate::interrupt::exit_between_writes()?;
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
    target: RelayDir,
}

impl RelayDirWriter {
    /// Read the template, rewrite it for both modes and check the upstream now: a
    /// template that cannot be rewritten fails before any request.
    pub(super) fn new(dir: PathBuf, args: &RelayFilesArgs) -> anyhow::Result<Self> {
        let config_template = match non_empty(args.config_template.as_ref()) {
            Some(path) => Some(read_template(path)?),
            None => None,
        };
        let target = RelayDir::new(
            config_template.as_deref(),
            &crate::render::parse_upstream(&args.upstream)?,
        )?;
        Ok(RelayDirWriter { dir, target })
    }

    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Write the set (each step leaves a directory relay can start from, temps killed
    /// runs left are removed, a signal waits for the end); returns what was written, as
    /// a phrase for the log line (the relay id masked).
    pub(super) fn write(&self, report: &Report) -> anyhow::Result<String> {
        let files = self.target.render_files(report);
        let changes: Vec<files::Change> = files
            .iter()
            .map(|f| files::Change {
                name: f.name,
                contents: f.contents.as_ref().map(|c| c.expose().as_bytes()),
            })
            .collect();
        files::write_set(&self.dir, &changes)?;
        let credentials_path = self.dir.join(CREDENTIALS_FILE);
        let config_path = self.dir.join(CONFIG_FILE);
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

fn read_template(path: &Path) -> anyhow::Result<String> {
    let bytes = files::read_input(path, MAX_TEMPLATE_BYTES, "the config template")?;
    String::from_utf8(bytes)
        .with_context(|| format!("config template {} is not UTF-8 text", path.display()))
}
