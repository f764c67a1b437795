//! stdout and stderr without panics: `print!` and `eprintln!` abort the process (we
//! build with panic = "abort") when a stream is closed or full. Output is an error to
//! report; a diagnostic line is best effort.

use std::io::Write;

use anyhow::Context;

/// Write the program's result to stdout.
pub(crate) fn out(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
        .context("cannot write to stdout (closed or full)")
}

/// One diagnostic line on stderr; a stderr that cannot be written is ignored.
pub(crate) fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
