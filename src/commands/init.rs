//! Kubernetes init container: relay's config directory, ready for `relay run --config`.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::relay_upstream::{relay_upstream, RelayUpstream, Template};
use super::{
    conclude, conclude_with, exit_for, fetch_gated, settings, start_rule, verify_settings,
};
use crate::cli::{path_or_alias, InitArgs, RelayFilesArgs, DEFAULT_CREDENTIALS_DIR};
use crate::exit::Exit;
use crate::files;
use crate::preflight::Delivery;
use crate::render::{upstream_of, RelayDir, RenderFiles, CONFIG_FILE, CREDENTIALS_FILE};

/// Largest config template we read: relay configs are a few lines.
const MAX_TEMPLATE_BYTES: u64 = 64 * 1024;

pub(crate) fn run(args: &InitArgs) -> anyhow::Result<Exit> {
    let settings = settings(&args.fetch)?;
    // An empty variable means the default, like every other empty variable.
    let dir = path_or_alias(args.dir.clone(), "CREDENTIALS_DIR")
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CREDENTIALS_DIR));
    // The template, the upstream and the destination are checked before any request.
    let writer = RelayDirWriter::new(dir, "--dir / VAULT_FETCH_CREDENTIALS_DIR", &args.files)?;
    let verify = verify_settings(args.verify_upstream, writer.upstream(), &settings)?;
    // A signal from here on ends the run, but never in the middle of writing files.
    crate::interrupt::exit_between_writes()?;
    let delivery = fetch_gated(&settings, verify.as_ref())?;
    start_rule(&delivery)?;
    if exit_for(&delivery, settings.strict) != Exit::Success {
        // A failing run writes nothing (README: one rule per question).
        return Ok(conclude(&delivery, settings.strict));
    }
    let wrote = writer.write(&delivery)?;
    match delivery.credentials() {
        Some(_) => {
            crate::console::info(&format!("vault-fetch-relay: {wrote}"));
            Ok(Exit::Success)
        }
        None => Ok(conclude_with(
            &delivery,
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
    /// The upstream relay will use with these files (what --verify-upstream asks).
    upstream: RelayUpstream,
}

impl RelayDirWriter {
    /// Read the template, rewrite it for both modes, check the upstream and the
    /// destination now: a template that cannot be rewritten, or a directory that cannot
    /// be written, fails before any request.
    /// `named_by` is where `dir` came from (a flag, a variable), for messages.
    pub(super) fn new(dir: PathBuf, named_by: &str, args: &RelayFilesArgs) -> anyhow::Result<Self> {
        // Messages name the file and where its path came from.
        let source = match args.config_template {
            Some(_) => "--config-template / VAULT_FETCH_CONFIG_TEMPLATE",
            None => "RELAY_CONFIG_TEMPLATE",
        };
        let template_path = path_or_alias(args.config_template.clone(), "RELAY_CONFIG_TEMPLATE");
        let config_template = match &template_path {
            Some(path) => Some(read_template(path, source)?),
            None => None,
        };
        // The upstream relay will use: written to the default config.yml, asked by
        // --verify-upstream; a flag that relay would not use is refused here.
        let template_upstream = config_template.as_deref().map(upstream_of);
        let template = match &template_upstream {
            None => Template::NotGiven,
            Some(None) => Template::NoUpstream,
            Some(Some(url)) => Template::Upstream(url),
        };
        let relays = std::env::var("RELAY_UPSTREAM_URL").ok();
        let upstream = relay_upstream(args.upstream.clone(), relays, template)?;
        let target = RelayDir::new(config_template.as_deref(), &upstream.url).map_err(|e| {
            match &template_path {
                Some(path) => {
                    anyhow::anyhow!("config template {} ({source}): {e:#}", path.display())
                }
                None => e,
            }
        })?;
        // Both names, also the one that may only be removed: a symlinked
        // credentials.json is refused now, whatever the vault then holds.
        files::check_set_destination(
            &dir,
            &[CONFIG_FILE.as_ref(), CREDENTIALS_FILE.as_ref()],
            named_by,
        )?;
        Ok(RelayDirWriter {
            dir,
            target,
            upstream,
        })
    }

    /// The upstream relay will use with these files.
    pub(super) fn upstream(&self) -> &RelayUpstream {
        &self.upstream
    }

    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Write the set (each step leaves a directory relay can start from, temps killed
    /// runs left are removed, a signal waits for the end); returns what was written, as
    /// a phrase for the log line (the relay id masked).
    pub(super) fn write(&self, delivery: &Delivery) -> anyhow::Result<String> {
        let files = self.target.render_files(delivery);
        let changes: Vec<files::Change> = files
            .iter()
            .map(|f| files::Change {
                name: f.name.as_ref(),
                contents: f.contents.as_ref().map(|c| c.expose().as_bytes()),
            })
            .collect();
        files::write_set(&self.dir, &changes)?;
        let credentials_path = self.dir.join(CREDENTIALS_FILE);
        let config_path = self.dir.join(CONFIG_FILE);
        Ok(match delivery.credentials() {
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

fn read_template(path: &Path, source: &str) -> anyhow::Result<String> {
    let what = format!("the config template ({source})");
    let bytes = files::read_input(path, MAX_TEMPLATE_BYTES, &what)?;
    String::from_utf8(bytes).with_context(|| {
        format!(
            "config template {} ({source}) is not UTF-8 text",
            path.display()
        )
    })
}
