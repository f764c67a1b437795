//! The operator report of `check`: what was asked, what came back, never a secret.

use super::Render;
use crate::credentials::InvalidSecret;
use crate::fetch::{Missing, Outcome, Report, Status};
use crate::keys::fingerprint;
use crate::upstream::{StepName, UpstreamReport, Verdict};

/// The text report; `colour` paints the status (a terminal, by console's rules).
/// `upstream` is the preflight's report, when `--upstream` asked for one.
#[derive(Default)]
pub(crate) struct CheckReport<'a> {
    pub colour: bool,
    pub upstream: Option<&'a UpstreamReport>,
}

/// The same facts as one JSON object with stable field names, for CI and monitoring.
#[derive(Default)]
pub(crate) struct CheckJson<'a> {
    pub upstream: Option<&'a UpstreamReport>,
    /// The code `check` exits with (its front end decides it), so a consumer of the
    /// JSON needs no table.
    pub exit_code: u8,
}

/// The preflight as JSON: the verdict, its one line, each step.
fn upstream_json(u: &UpstreamReport) -> serde_json::Value {
    let steps: Vec<serde_json::Value> = u
        .steps
        .iter()
        .map(|s| {
            serde_json::json!({
                "step": s.step.as_str(),
                "result": s.result.as_str(),
                "http_status": s.http_status,
                "detail": s.detail,
            })
        })
        .collect();
    serde_json::json!({
        "url": u.url,
        "relay_version": u.relay_version,
        "result": u.verdict.as_str(),
        "cause": u.cause.map(|c| c.as_str()),
        "reason": u.reason,
        "project": u.project,
        "steps": steps,
        "latency_ms": u.elapsed.as_millis() as u64,
        "attempts": u.attempts,
    })
}

/// "valid", "invalid" or "not_checked".
fn key_pair(report: &Report) -> &'static str {
    match &report.outcome {
        Outcome::Found(_) => "valid",
        Outcome::Missing(Missing {
            invalid: Some(InvalidSecret::KeyPairMismatch),
            ..
        }) => "invalid",
        Outcome::Missing(_) => "not_checked",
    }
}

impl Render for CheckJson<'_> {
    fn render(&self, report: &Report) -> String {
        let found = report.found();
        let request_id = match &report.outcome {
            Outcome::Found(f) => f.request_id.clone(),
            Outcome::Missing(m) => m.request_id.clone(),
        };
        let doc = serde_json::json!({
            "api_base": report.api_base,
            "secret_name": report.secret_name,
            "status": report.status().as_str(),
            "reason": found.is_none().then(|| report.reason()),
            "relay_id": found.map(|f| f.credentials.masked_id()),
            "public_key_fingerprint": found.map(|f| fingerprint(&f.credentials.public_key)),
            "key_pair": key_pair(report),
            "sentry_dsn_present": found.map(|f| f.credentials.sentry_dsn.is_some()),
            "version_id": found.and_then(|f| f.version_id.clone()),
            "updated_at": found.and_then(|f| f.updated_at.clone()),
            // The same number as Terraform's version_number (updated_at in microseconds).
            "version_number": found
                .and_then(|f| f.updated_at.as_deref())
                .and_then(crate::clock::micros_since_epoch),
            "request_id": request_id,
            "latency_ms": report.elapsed.as_millis() as u64,
            "attempts": report.attempts,
            "upstream": self.upstream.map(upstream_json),
            "exit_code": self.exit_code,
        });
        format!("{doc}\n")
    }
}

impl Render for CheckReport<'_> {
    fn render(&self, report: &Report) -> String {
        let mut rows: Vec<(&str, String)> = vec![
            ("api base", report.api_base.clone()),
            ("secret name", report.secret_name.clone()),
            ("status", {
                let colour = match report.status() {
                    Status::Found => crate::console::GREEN,
                    Status::Unavailable => crate::console::YELLOW,
                    _ => crate::console::RED,
                };
                crate::console::paint(report.status().as_str(), colour, self.colour)
            }),
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
                let pair = match key_pair(report) {
                    "invalid" => "INVALID: the public key does not belong to the secret key",
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
        if let Some(u) = self.upstream {
            rows.push(("upstream", u.url.clone()));
            for s in &u.steps {
                let label = match s.step {
                    StepName::Challenge => "challenge",
                    StepName::Response => "response",
                    StepName::ProjectConfig => "project",
                };
                rows.push((label, format!("{}: {}", s.result.as_str(), s.detail)));
            }
            let colour = match u.verdict {
                Verdict::Accepted => crate::console::GREEN,
                Verdict::Unreachable => crate::console::YELLOW,
                _ => crate::console::RED,
            };
            rows.push((
                "preflight",
                crate::console::paint(u.verdict.as_str(), colour, self.colour),
            ));
            rows.push(("because", u.reason.clone()));
            rows.push((
                "took",
                format!(
                    "{} ms (relay version {})",
                    u.elapsed.as_millis(),
                    u.relay_version
                ),
            ));
        }
        let mut out = String::new();
        for (k, v) in rows {
            // The status cell may hold colour codes we put there; everything else is
            // escaped to one line.
            let v = if k == "status" || k == "preflight" {
                v
            } else {
                one_line(&v)
            };
            out.push_str(&format!("{:<12} {v}\n", format!("{k}:")));
        }
        out
    }
}

/// Values come from the user and the server: one row each, whatever they hold (what
/// the one server-text rule, `reshapes_a_line`, names is shown escaped).
fn one_line(v: &str) -> String {
    v.chars()
        .map(|c| match c {
            c if crate::http::text::reshapes_a_line(c) => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures;

    #[test]
    fn report_shows_facts_and_no_secret() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let out = CheckReport::default().render(&r);
        assert!(out.contains("status:      found"), "{out}");
        assert!(out.contains("key pair:    valid"));
        assert!(!out.contains(c.secret_key.expose()));
        assert!(!out.contains(&c.relay_id));
        assert!(!out.contains(c.sentry_dsn.as_deref().unwrap()));
    }

    #[test]
    fn json_has_the_documented_fields_and_no_secret() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let out = CheckJson::default().render(&r);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "api_base",
                "attempts",
                "exit_code",
                "key_pair",
                "latency_ms",
                "public_key_fingerprint",
                "reason",
                "relay_id",
                "request_id",
                "secret_name",
                "sentry_dsn_present",
                "status",
                "updated_at",
                "upstream",
                "version_id",
                "version_number"
            ]
        );
        assert_eq!(v["status"], "found");
        assert_eq!(v["key_pair"], "valid");
        assert_eq!(v["exit_code"], 0);
        // 2025-03-11T02:18:54.250931Z, the same number Terraform's version_number gives.
        assert_eq!(v["version_number"], 1_741_659_534_250_931u64);
        assert!(!out.contains(c.secret_key.expose()) && !out.contains(&c.relay_id));
        let exit_code = crate::exit::Exit::for_check(Status::NotFound).code();
        let m = CheckJson {
            exit_code,
            ..CheckJson::default()
        }
        .render(&fixtures::missing(Status::NotFound));
        let v: serde_json::Value = serde_json::from_str(&m).unwrap();
        assert_eq!(
            (v["exit_code"].as_i64(), v["relay_id"].is_null()),
            (Some(2), true)
        );
    }

    #[test]
    fn server_text_cannot_add_rows() {
        let mut r = fixtures::found();
        if let crate::fetch::Outcome::Found(f) = &mut r.outcome {
            f.version_id = Some("v1\nRELAY_MODE=proxy\u{202e}".into());
        }
        let out = CheckReport::default().render(&r);
        assert!(!out.contains("\nRELAY_MODE"), "{out}");
        assert!(out.contains("v1\\u{a}RELAY_MODE=proxy\\u{202e}"), "{out}");
        if let crate::fetch::Outcome::Found(f) = &mut r.outcome {
            f.version_id = Some("v1\u{2028}injected: 1\u{2029}x".into());
        }
        let out = CheckReport::default().render(&r);
        assert!(!out.contains(['\u{2028}', '\u{2029}']), "{out}");
        assert!(out.contains("v1\\u{2028}injected: 1\\u{2029}x"), "{out}");
    }

    #[test]
    fn missing_shows_the_reason() {
        let out = CheckReport::default().render(&fixtures::missing(Status::NotFound));
        assert!(
            out.contains("reason:      the secret does not exist"),
            "{out}"
        );
    }
}
