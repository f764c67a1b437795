//! vault-fetch-relay: fetch Sentry Relay credentials from WorkOS Vault and render them
//! for one deployment target. Data flows one way:
//! settings -> fetch (WorkOS client) -> Report (credentials or a status) -> render.
//!
//! The binary is [`main`]. The public modules are what the integration tests, the
//! fuzz targets and the benches (examples/) drive directly; everything else is
//! crate-private so the compiler reports what nothing uses.

use std::process::ExitCode;

use clap::Parser;

use exit::Exit;

mod cli;
mod commands;
mod console;
pub mod credentials;
#[cfg(feature = "dev-server")]
mod demo;
#[cfg(feature = "dev-server")]
pub mod devserver;
mod exit;
pub mod fetch;
mod files;
mod interrupt;
pub mod keys;
mod logging;
pub mod query;
pub mod render;
pub mod secret;
mod settings;
mod supervisor;
mod workos;

/// The whole program: parse the command line, run the command, map its outcome to an
/// exit code.
pub fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        // Usage errors exit 1 like every other configuration error (clap's 2 would read
        // as "not found" to a `check` readiness probe); --help and --version exit 0.
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Failure
            } else {
                Exit::Success
            }
            .into();
        }
    };
    logging::init();
    match commands::run(cli) {
        Ok(exit) => exit.into(),
        Err(e) => {
            // One line: the context chain, joined. Never contains a secret (see secret.rs).
            console::say(&format!("vault-fetch-relay: error: {e:#}"));
            Exit::Failure.into()
        }
    }
}
