//! Where a rendered document goes: stdout, a file (atomic, 0600), or a new temp file.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::files;

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

    /// Write `contents`; returns the file written, if any.
    pub(crate) fn write(&self, contents: &str) -> anyhow::Result<Option<PathBuf>> {
        match self {
            // Whoever reads our stdout may stop early (`| head`); that is their call.
            Destination::Stdout => {
                crate::console::out_unless_closed(contents)?;
                Ok(None)
            }
            Destination::File(path) => {
                files::write_atomic(path, contents.as_bytes())?;
                Ok(Some(path.clone()))
            }
            Destination::NewTempFile { prefix, suffix } => {
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
