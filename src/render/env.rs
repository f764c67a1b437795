//! Environment assignments for relay and the backend: dotenv or `export` lines.

use super::{relay_mode, Render};
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

impl Render for EnvFile {
    fn render(&self, report: &Report) -> String {
        let mut vars: Vec<(&str, &str)> = vec![("RELAY_MODE", relay_mode(report))];
        // Without credentials nothing but the mode: relay exits on empty credential
        // variables, so an empty RELAY_SECRET_KEY= would be worse than none.
        if let Some(c) = report.credentials() {
            vars.push(("RELAY_ID", &c.relay_id));
            vars.push(("RELAY_PUBLIC_KEY", &c.public_key));
            vars.push(("RELAY_SECRET_KEY", c.secret_key.expose()));
            if let Some(dsn) = &c.sentry_dsn {
                vars.push(("SENTRY_DSN", dsn));
            }
        }
        let mut out = super::yaml::comment(&super::header(report));
        for (k, v) in vars {
            let line = match self.format {
                EnvFormat::Dotenv => match dotenv_value(v) {
                    Some(value) => format!("{k}={value}\n"),
                    None => format!("# {k} left out: its value has no faithful dotenv form; use --format shell\n"),
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
pub fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

/// Bare when every character is one no dotenv dialect treats specially; otherwise
/// single-quoted, where python-dotenv and others read `\\` and `\'` as escapes.
/// A value ending in a backslash cannot be single-quoted (python-dotenv reads the
/// final `\'` as an escaped quote), so it is written bare when bare reads it back
/// literally, and is `None` (left out) when nothing does.
pub fn dotenv_value(v: &str) -> Option<String> {
    let bare = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@+,%=?&~".contains(c));
    if bare {
        return Some(v.to_string());
    }
    if !v.ends_with('\\') {
        return Some(format!("'{}'", v.replace('\\', r"\\").replace('\'', r"\'")));
    }
    // Unquoted values are literal up to a newline or a ` #` comment, trimmed, and
    // `${...}` is interpolated.
    let literal_bare = !v.contains(['\n', '\r', '\0'])
        && !v.starts_with(['\'', '"', '#'])
        && v.trim() == v
        && !v.contains("${")
        && !v
            .chars()
            .zip(v.chars().skip(1))
            .any(|(a, b)| a.is_whitespace() && b == '#');
    literal_bare.then(|| v.to_string())
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
        assert_eq!(dotenv_value("a b").unwrap(), "'a b'");
        assert_eq!(dotenv_value(r"it's \x").unwrap(), r"'it\'s \\x'");
        assert_eq!(dotenv_value("").unwrap(), "''");
        assert_eq!(dotenv_value(r"ends in \").unwrap(), r"ends in \");
        assert_eq!(dotenv_value("two\nlines\\"), None);
    }
}
