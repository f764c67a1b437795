//! stdout and stderr without panics: `print!` and `eprintln!` abort the process (we
//! build with panic = "abort") when a stream is closed or full. Output is an error to
//! report; a diagnostic line is best effort.

use std::io::{ErrorKind, Write};

use anyhow::Context;

/// Write the program's result to stdout; any failure, a closed pipe included, is an
/// error (the Terraform protocol needs that: see commands/terraform.rs).
pub(crate) fn out(text: &str) -> anyhow::Result<()> {
    write_stdout(text).context("cannot write to stdout (closed or full)")
}

/// Write to stdout for a reader that may stop early (`env | head -1`, a pager): a
/// closed stdout (broken pipe) ends the output quietly and the run's exit code
/// stands, as ripgrep and POSIX tools do. Any other failure (a full disk behind a
/// redirect) is still an error.
pub(crate) fn out_unless_closed(text: &str) -> anyhow::Result<()> {
    match write_stdout(text) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {
            log::debug!("stdout was closed by its reader; output cut short");
            Ok(())
        }
        written => written.context("cannot write to stdout (full?)"),
    }
}

fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
}

/// One diagnostic line on stderr; a stderr that cannot be written is ignored.
pub(crate) fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
