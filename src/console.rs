//! stdout and stderr without panics: `print!` and `eprintln!` abort the process (we
//! build with panic = "abort") when a stream is closed or full. Output is an error to
//! report; a diagnostic line is best effort.
//!
//! Also the one place that knows how loud to be (-q / -v) and whether to colour
//! (a terminal, NO_COLOR, CLICOLOR, CLICOLOR_FORCE).

use std::io::{ErrorKind, IsTerminal, Write};
use std::sync::atomic::{AtomicI8, Ordering};

use anyhow::Context;

use crate::settings::non_empty;

/// -1 quiet, 0 normal, 1+ verbose.
static VERBOSITY: AtomicI8 = AtomicI8::new(0);

pub(crate) fn set_verbosity(verbose: u8, quiet: bool) {
    let v = if quiet { -1 } else { verbose.min(100) as i8 };
    VERBOSITY.store(v, Ordering::Relaxed);
}

pub(crate) fn verbosity() -> i8 {
    VERBOSITY.load(Ordering::Relaxed)
}

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

/// One diagnostic line on stderr, whatever the verbosity (the dev server's log); a
/// stderr that cannot be written is ignored.
pub(crate) fn say(line: &str) {
    // One write(2) per line (stderr is unbuffered, and `writeln!` writes the line and its
    // newline apart): a child sharing exec's stderr cannot land inside it, and a pipe
    // keeps a write of up to 4 KiB whole.
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("{line}\n").as_bytes());
}

/// An error line: always shown.
pub(crate) fn error(line: &str) {
    say(&paint_level(line, "error", RED));
}

/// A warning line (a degraded run): silenced by -q.
pub(crate) fn warn(line: &str) {
    if verbosity() >= 0 {
        say(&paint_level(line, "warning", YELLOW));
    }
}

/// What a run did ("wrote ..."): silenced by -q.
pub(crate) fn info(line: &str) {
    if verbosity() >= 0 {
        say(line);
    }
}

/// Progress while waiting (retries): on a terminal, or with -v; never with -q.
pub(crate) fn progress(line: &str) {
    let v = verbosity();
    if v > 0 || (v == 0 && std::io::stderr().is_terminal()) {
        say(line);
    }
}

pub(crate) const RED: &str = "\x1b[1;31m";
pub(crate) const YELLOW: &str = "\x1b[1;33m";
pub(crate) const GREEN: &str = "\x1b[1;32m";
const RESET: &str = "\x1b[0m";

/// The colour decision for a stream, in the order anstream (clap's and cargo's
/// terminal layer) uses: CLICOLOR_FORCE (non-empty, not 0) always; otherwise only on a
/// terminal, and not with NO_COLOR (non-empty), CLICOLOR=0 or TERM=dumb (or no TERM,
/// unless CLICOLOR asks for colour).
pub(crate) fn colour_decision(is_terminal: bool, var: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| non_empty(var(name));
    if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    let clicolor = set("CLICOLOR");
    if !is_terminal || set("NO_COLOR").is_some() || clicolor.as_deref() == Some("0") {
        return false;
    }
    match set("TERM") {
        Some(term) => term != "dumb",
        None => clicolor.is_some(),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

pub(crate) fn stdout_colour() -> bool {
    colour_decision(std::io::stdout().is_terminal(), env)
}

fn stderr_colour() -> bool {
    colour_decision(std::io::stderr().is_terminal(), env)
}

/// `text` in `colour` when `on`.
pub(crate) fn paint(text: &str, colour: &str, on: bool) -> String {
    if on {
        format!("{colour}{text}{RESET}")
    } else {
        text.to_string()
    }
}

/// Colour the `level:` word of "vault-fetch-relay: level: ..." on a colour stderr.
fn paint_level(line: &str, level: &str, colour: &str) -> String {
    let marker = format!(": {level}: ");
    match line.find(&marker) {
        Some(at) if stderr_colour() => format!(
            "{}: {}: {}",
            &line[..at],
            paint(level, colour, true),
            &line[at + marker.len()..]
        ),
        _ => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_conventions() {
        let with = |pairs: &'static [(&'static str, &'static str)]| {
            move |n: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            }
        };
        let term = &[("TERM", "xterm-256color")];
        assert!(colour_decision(true, with(term)));
        assert!(!colour_decision(false, with(term)));
        assert!(!colour_decision(true, with(&[])), "no TERM");
        assert!(colour_decision(true, with(&[("CLICOLOR", "1")])));
        assert!(!colour_decision(true, with(&[("TERM", "dumb")])));
        assert!(!colour_decision(
            true,
            with(&[("TERM", "xterm"), ("NO_COLOR", "1")])
        ));
        assert!(colour_decision(
            true,
            with(&[("TERM", "xterm"), ("NO_COLOR", "")])
        ));
        assert!(!colour_decision(
            true,
            with(&[("TERM", "xterm"), ("CLICOLOR", "0")])
        ));
        assert!(colour_decision(false, with(&[("CLICOLOR_FORCE", "1")])));
        assert!(!colour_decision(false, with(&[("CLICOLOR_FORCE", "0")])));
        assert!(colour_decision(
            false,
            with(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])
        ));
    }
}
