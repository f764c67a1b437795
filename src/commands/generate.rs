//! `completions SHELL` and `man`: generated from the clap definition, printed on
//! stdout (the release workflow ships them in its archives).

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::Exit;

pub(crate) fn completions(shell: clap_complete::Shell) -> anyhow::Result<Exit> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "vault-fetch-relay", &mut out);
    // `... | head` is a reader's choice, as for env and check.
    crate::console::out_unless_closed(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Success)
}

pub(crate) fn man() -> anyhow::Result<Exit> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    crate::console::out_unless_closed(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Success)
}
