//! Diagnostics on stderr via `log`. Quiet by default (warnings); `RUST_LOG=debug` shows
//! the flow (as do -vv; -q keeps errors only). Secrets never reach a log call (they are `Secret`s, which print masked).

use std::io::Write;

pub(crate) fn init() {
    let logger = env_logger::Builder::new()
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
        .build();
    log::set_max_level(logger.filter());
    let _ = log::set_logger(Box::leak(Box::new(NoWireDumps(logger))));
}

/// ureq's trace level dumps the wire unredacted (the Authorization header, the answer's
/// secret value): those records are dropped whatever RUST_LOG asks for.
struct NoWireDumps(env_logger::Logger);

impl log::Log for NoWireDumps {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        let wire = metadata.level() == log::Level::Trace && metadata.target().starts_with("ureq");
        !wire && self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            self.0.log(record);
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}
