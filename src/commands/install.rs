//! `install DIR`: copy this executable into DIR, for an init container that fills an
//! emptyDir relay's container then runs from (`DIR/vault-fetch-relay exec -- relay run`),
//! so relay needs no custom image.

use std::fs::File;

use anyhow::{bail, Context};

use crate::cli::InstallArgs;
use crate::exit::Exit;
use crate::files;

/// The file name in DIR; the examples run `DIR/vault-fetch-relay`.
pub const INSTALLED_NAME: &str = "vault-fetch-relay";

pub(crate) fn run(args: &InstallArgs) -> anyhow::Result<Exit> {
    let dir = &args.dir;
    if !dir.is_dir() {
        bail!(
            "{} is not a directory; mount the shared volume (an emptyDir) there first",
            dir.display()
        );
    }
    // /proc/self/exe is the running program even if its path was replaced meanwhile.
    let mut source = File::open("/proc/self/exe")
        .or_else(|_| File::open(std::env::current_exe()?))
        .context("cannot open this program's own executable to copy it")?;
    // A non-root init container and a volume that starts owned by root: say so in one
    // line (which directory, uid, fix), as every mode that writes does.
    files::check_set_destination(dir, &[INSTALLED_NAME.as_ref()], "install DIR")?;
    let dest = dir.join(INSTALLED_NAME);
    files::remove_stale_temps(&dest, false)?;
    files::install_executable(&dest, &mut source)?;
    // A "wrote ..." line like every mode's: silenced by -q.
    crate::console::info(&format!(
        "vault-fetch-relay: installed {} (mode 0755)",
        dest.display()
    ));
    Ok(Exit::Success)
}
