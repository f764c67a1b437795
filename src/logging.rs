//! Diagnostics on stderr via `log`. Quiet by default (warnings); `RUST_LOG=debug` shows
//! the flow (as do -vv; -q keeps errors only). Secrets never reach a log call (they are `Secret`s, which print masked).

use std::io::Write;

pub(crate) fn init() {
    env_logger::Builder::new()
        .filter_level(match crate::console::verbosity() {
            i8::MIN..=-1 => log::LevelFilter::Error,
            0 => log::LevelFilter::Warn,
            1 => log::LevelFilter::Info,
            2 => log::LevelFilter::Debug,
            _ => log::LevelFilter::Trace,
        })
        .parse_env("RUST_LOG")
        .format(|buf, record| {
            writeln!(
                buf,
                "vault-fetch-relay: {}: [{}] {}",
                record.level().as_str().to_ascii_lowercase(),
                record.target(),
                record.args()
            )
        })
        .init();
}
