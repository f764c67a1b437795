//! The operator report of `check`: what was asked, what came back, never a secret.

use super::Render;
use crate::credentials::InvalidSecret;
use crate::fetch::{Missing, Outcome, Report};
use crate::keys::fingerprint;

pub(crate) struct CheckReport;

impl Render for CheckReport {
    fn render(&self, report: &Report) -> String {
        let mut rows: Vec<(&str, String)> = vec![
            ("api base", report.api_base.clone()),
            ("secret name", report.secret_name.clone()),
            ("status", report.status().to_string()),
        ];
        match report.found() {
            Some(f) => {
                let c = &f.credentials;
                rows.push(("relay id", c.masked_id()));
                rows.push(("public key", fingerprint(&c.public_key)));
                rows.push((
                    "key pair",
                    "valid (public key derives from the secret key)".into(),
                ));
                rows.push((
                    "sentry dsn",
                    if c.sentry_dsn.is_some() {
                        "present"
                    } else {
                        "absent"
                    }
                    .into(),
                ));
                rows.push((
                    "version id",
                    f.version_id.clone().unwrap_or_else(|| "-".into()),
                ));
                rows.push((
                    "updated at",
                    f.updated_at.clone().unwrap_or_else(|| "-".into()),
                ));
            }
            None => {
                let pair = match &report.outcome {
                    Outcome::Missing(Missing {
                        invalid: Some(InvalidSecret::KeyPairMismatch),
                        ..
                    }) => "INVALID: the public key does not belong to the secret key",
                    _ => "not checked",
                };
                rows.push(("key pair", pair.into()));
                rows.push(("reason", report.reason()));
            }
        }
        let attempts = match report.attempts {
            1 => "1 attempt".to_string(),
            n => format!("{n} attempts"),
        };
        rows.push((
            "latency",
            format!("{} ms ({attempts})", report.elapsed.as_millis()),
        ));
        let mut out = String::new();
        for (k, v) in rows {
            out.push_str(&format!("{:<12} {}\n", format!("{k}:"), one_line(&v)));
        }
        out
    }
}

/// Values come from the user and the server: one row each, whatever they hold
/// (control and bidirectional-override characters shown escaped).
fn one_line(v: &str) -> String {
    v.chars()
        .map(|c| match c {
            c if c.is_control()
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') =>
            {
                c.escape_unicode().to_string()
            }
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::Status;
    use crate::render::fixtures;

    #[test]
    fn report_shows_facts_and_no_secret() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let out = CheckReport.render(&r);
        assert!(out.contains("status:      found"), "{out}");
        assert!(out.contains("key pair:    valid"));
        assert!(!out.contains(c.secret_key.expose()));
        assert!(!out.contains(&c.relay_id));
        assert!(!out.contains(c.sentry_dsn.as_deref().unwrap()));
    }

    #[test]
    fn server_text_cannot_add_rows() {
        let mut r = fixtures::found();
        if let crate::fetch::Outcome::Found(f) = &mut r.outcome {
            f.version_id = Some("v1\nRELAY_MODE=proxy\u{202e}".into());
        }
        let out = CheckReport.render(&r);
        assert!(!out.contains("\nRELAY_MODE"), "{out}");
        assert!(out.contains("v1\\u{a}RELAY_MODE=proxy\\u{202e}"), "{out}");
    }

    #[test]
    fn missing_shows_the_reason() {
        let out = CheckReport.render(&fixtures::missing(Status::NotFound));
        assert!(
            out.contains("reason:      the secret does not exist"),
            "{out}"
        );
    }
}
