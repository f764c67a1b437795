//! `completions SHELL` and `man`: generated from the clap definition, printed on
//! stdout (the release workflow ships them in its archives).

use clap::CommandFactory;

use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "vault-fetch-relay", &mut out);
    crate::console::out(&String::from_utf8_lossy(&out))?;
    Ok(0)
}

pub fn man() -> anyhow::Result<u8> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    crate::console::out(&String::from_utf8_lossy(&out))?;
    Ok(0)
}
