//! Where a rendered document goes: stdout, a file (atomic, 0600), or a new temp file.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::files;
use crate::settings::non_empty;

pub(crate) enum Destination {
    Stdout,
    File(PathBuf),
    /// A fresh private file in the temp directory; its path is printed on stdout.
    NewTempFile {
        prefix: &'static str,
        suffix: &'static str,
    },
}

impl Destination {
    /// `-` means stdout; otherwise a path; `None` means `default`.
    pub(crate) fn from_arg(arg: Option<&Path>, default: Destination) -> Destination {
        match arg {
            Some(p) if p.as_os_str() == "-" => Destination::Stdout,
            Some(p) => Destination::File(p.to_path_buf()),
            None => default,
        }
    }

    /// Refuse a destination that cannot be written, before any request is sent.
    /// Creates nothing: a run that fails later leaves no trace.
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        match self {
            Destination::File(path) => {
                let name = path
                    .file_name()
                    .with_context(|| format!("-o {} has no file name", path.display()))?;
                let dir = non_empty(path.parent()).unwrap_or(Path::new("."));
                files::check_set_destination(dir, &[name], "-o")
            }
            Destination::NewTempFile { .. } => {
                files::check_set_destination(&std::env::temp_dir(), &[], "TMPDIR")
            }
            Destination::Stdout => Ok(()),
        }
    }

    /// Write `contents`; returns the file written, if any. Missing parent directories
    /// of a file are created 0700.
    pub(crate) fn write(&self, contents: &str) -> anyhow::Result<Option<PathBuf>> {
        match self {
            // Whoever reads our stdout may stop early (`| head`); that is their call.
            Destination::Stdout => {
                crate::console::out_unless_closed(contents)?;
                Ok(None)
            }
            Destination::File(path) => {
                // The same writer as init's: a set of one file, under the directory
                // lock (temps a killed run left are removed), a signal waiting for it.
                crate::interrupt::exit_between_writes()?;
                let name = path
                    .file_name()
                    .with_context(|| format!("{} has no file name", path.display()))?;
                let dir = non_empty(path.parent()).unwrap_or(Path::new("."));
                files::write_set(
                    dir,
                    &[files::Change {
                        name,
                        contents: Some(contents.as_bytes()),
                    }],
                )?;
                Ok(Some(path.clone()))
            }
            Destination::NewTempFile { prefix, suffix } => {
                crate::interrupt::exit_between_writes()?;
                let _writing = crate::interrupt::hold();
                let (path, mut file) =
                    files::create_private(&std::env::temp_dir(), prefix, suffix)?;
                file.write_all(contents.as_bytes())
                    .and_then(|_| file.sync_all())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                crate::console::out_unless_closed(&format!("{}\n", path.display()))?;
                Ok(Some(path))
            }
        }
    }
}
