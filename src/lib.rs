//! vault-fetch-relay: fetch Sentry Relay credentials from WorkOS Vault and render them
//! for one deployment target. Data flows one way:
//! settings -> fetch (WorkOS client) -> Report (credentials or a status) -> render.
//!
//! The binary is [`main`]. The public modules are what the integration tests, the
//! fuzz targets and the benches (examples/) drive directly; everything else is
//! crate-private so the compiler reports what nothing uses.

use std::process::ExitCode;

use exit::Exit;

mod cli;
mod commands;
mod console;
mod deadline;
#[cfg(feature = "dev-server")]
mod demo;
mod dsn;
mod event;
mod exit;
pub mod fetch;
mod files;
mod http;
mod interrupt;
mod logging;
mod preflight;
pub mod query;
pub mod render;
mod settings;
mod supervisor;
mod upstream;
mod workos;

// The vault value, relay keys and secrets come from the workspace's shared crate (the dev
// server's crate uses it too); they keep their paths here: `crate::keys`, `vault_fetch_relay::keys`.
use vfr_credentials::clock;
pub use vfr_credentials::{credentials, keys, secret};

/// Every variable that changes what a run fetches or writes, and the others read
/// (tests hold `--help` and README to listing each).
pub use cli::{OTHER_VARS, SETTING_VARS};

/// The whole program: parse the command line, run the command, map its outcome to an
/// exit code.
pub fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        // Usage errors exit 1 with one line like every other configuration error (clap's
        // 2 would read as "not found" to a `check` probe); --help and --version exit 0.
        Err(e) if e.use_stderr() => {
            console::error(&cli::one_line_error(&e));
            return Exit::Failure.into();
        }
        Err(e) => {
            let _ = e.print();
            return Exit::Success.into();
        }
    };
    console::set_verbosity(cli.global.verbose, cli.global.quiet);
    logging::init();
    match commands::run(cli) {
        Ok(exit) => exit.into(),
        Err(e) => {
            // One line: the context chain, joined. Never contains a secret (see secret.rs).
            console::error(&format!("vault-fetch-relay: error: {e:#}"));
            Exit::Failure.into()
        }
    }
}
