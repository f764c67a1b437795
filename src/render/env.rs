//! Environment assignments for relay and the backend: dotenv or `export` lines.

use super::{relay_mode, Render};
use crate::credentials::RelayCredentials;
use crate::fetch::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvFormat {
    /// `KEY=value`, quoted only when needed (docker --env-file, python-dotenv, systemd).
    Dotenv,
    /// `export KEY='value'`, safe to `source` in any POSIX shell.
    Shell,
}

pub struct EnvFile {
    pub format: EnvFormat,
}

/// The variables relay reads its credentials from (they override its files).
pub const CREDENTIAL_VARS: [&str; 3] = ["RELAY_ID", "RELAY_PUBLIC_KEY", "RELAY_SECRET_KEY"];

/// The environment for relay (and the backend's SENTRY_DSN) from the credentials
/// delivered: what `env` prints and what `exec` gives its child.
pub(crate) fn relay_env(credentials: Option<&RelayCredentials>) -> Vec<(&'static str, &str)> {
    let mut vars: Vec<(&'static str, &str)> = vec![("RELAY_MODE", relay_mode(credentials))];
    // Without credentials nothing but the mode: relay exits on empty credential
    // variables, so an empty RELAY_SECRET_KEY= would be worse than none.
    if let Some(c) = credentials {
        vars.push(("RELAY_ID", &c.relay_id));
        vars.push(("RELAY_PUBLIC_KEY", &c.public_key));
        vars.push(("RELAY_SECRET_KEY", c.secret_key.expose()));
        if let Some(dsn) = &c.sentry_dsn {
            vars.push(("SENTRY_DSN", dsn));
        }
    }
    vars
}

impl Render for EnvFile {
    fn render(&self, report: &Report) -> String {
        let mut out = super::yaml::comment(&super::header(&report.secret_name, report.status()));
        for (k, v) in relay_env(report.credentials()) {
            let line = match self.format {
                EnvFormat::Dotenv => match dotenv_value(v) {
                    Some(value) => format!("{k}={value}\n"),
                    None => format!(
                        "# {k} left out: its value holds a quote, backslash or control character that dotenv readers disagree on; use --format shell\n"
                    ),
                },
                EnvFormat::Shell => format!("export {k}={}\n", shell_quote(v)),
            };
            out.push_str(&line);
        }
        out
    }
}

/// POSIX single quoting: everything is literal inside '...'; a quote is closed,
/// escaped and reopened (`'\''`).
pub(crate) fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

/// A value every common dotenv reader takes back unchanged, and that a POSIX shell
/// sourcing the file (`set -a; . ./file`) reads the same without running anything:
/// bare when every character is inert everywhere, else in single quotes when it has
/// no quote, backslash or control character (where the dialects disagree). `None`
/// otherwise: the caller leaves the variable out rather than write something a
/// reader would misread or a shell would execute.
pub(crate) fn dotenv_value(v: &str) -> Option<String> {
    // Not `&` (a shell control operator) nor `~` (tilde expansion in assignments).
    let bare = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@+,%=?".contains(c));
    if bare {
        return Some(v.to_string());
    }
    let quotable = !v.chars().any(|c| c == '\'' || c == '\\' || c.is_control());
    quotable.then(|| format!("'{v}'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::Status;
    use crate::render::fixtures;

    #[test]
    fn found_prints_all_variables() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let out = EnvFile {
            format: EnvFormat::Dotenv,
        }
        .render(&r);
        assert!(out.contains("RELAY_MODE=managed\n"));
        assert!(out.contains(&format!("RELAY_SECRET_KEY={}\n", c.secret_key.expose())));
        assert!(out.contains("SENTRY_DSN=https://k@o1.ingest.sentry.io/2\n"));
        let sh = EnvFile {
            format: EnvFormat::Shell,
        }
        .render(&r);
        assert!(sh.contains(&format!("export RELAY_ID='{}'\n", c.relay_id)));
    }

    #[test]
    fn missing_prints_only_proxy_mode() {
        let out = EnvFile {
            format: EnvFormat::Dotenv,
        }
        .render(&fixtures::missing(Status::Unavailable));
        let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(lines, ["RELAY_MODE=proxy"]);
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(dotenv_value("a b $HOME #x").unwrap(), "'a b $HOME #x'");
        assert_eq!(dotenv_value("").unwrap(), "''");
        assert_eq!(dotenv_value("a&b").unwrap(), "'a&b'");
        assert_eq!(dotenv_value("~/x").unwrap(), "'~/x'");
        for unsafe_value in ["it's", r"back\slash", "two\nlines", "x'$(touch pwned) #"] {
            assert_eq!(dotenv_value(unsafe_value), None, "{unsafe_value:?}");
        }
    }
}
