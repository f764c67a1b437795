use std::process::ExitCode;

use vault_fetch_relay::{cli, commands, console};

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        // Usage errors exit 1 with one line like every other configuration error (clap's
        // 2 would read as "not found" to a `check` probe); --help and --version exit 0.
        Err(e) if e.use_stderr() => {
            console::error(&cli::one_line_error(&e));
            return ExitCode::from(1);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    console::set_verbosity(cli.global.verbose, cli.global.quiet);
    vault_fetch_relay::logging::init();
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // One line: the context chain, joined. Never contains a secret (see secret.rs).
            console::error(&format!("vault-fetch-relay: error: {e:#}"));
            ExitCode::from(1)
        }
    }
}
