use std::process::ExitCode;

use clap::Parser;
use vault_fetch_relay::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    vault_fetch_relay::logging::init();
    match vault_fetch_relay::commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // One line: the context chain, joined. Never contains a secret (see secret.rs).
            vault_fetch_relay::console::say(&format!("vault-fetch-relay: error: {e:#}"));
            ExitCode::from(1)
        }
    }
}
