use std::process::ExitCode;

use clap::Parser;
use vault_fetch_relay::cli::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Usage errors exit 1 like every other configuration error (clap's 2 would read
        // as "not found" to a `check` readiness probe); --help and --version exit 0.
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
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
