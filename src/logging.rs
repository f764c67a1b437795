//! Diagnostics on stderr via `log`. Quiet by default (warnings); `RUST_LOG=debug` shows
//! the flow. Secrets never reach a log call (they are `Secret`s, which print masked).

use std::io::Write;

pub(crate) fn init() {
    env_logger::Builder::new()
        .filter_level(log::LevelFilter::Warn)
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
