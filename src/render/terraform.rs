//! The Terraform result, one flat JSON object of strings: what `data "external"` and
//! `ephemeral "local_command"` (through `jsondecode(...stdout)`) both read.

use serde::Serialize;

use super::Render;
use crate::clock::micros_since_epoch;
use crate::fetch::Report;

/// What Terraform may keep in its state: the outcome of the read, never a credential.
/// Field names are the contract with users' HCL.
#[derive(Debug, Serialize)]
struct Outcome<'a> {
    status: &'a str,
    version_id: &'a str,
    updated_at: &'a str,
    /// Microseconds since the Unix epoch of `updated_at`: a number that grows with every
    /// vault version (WorkOS version ids are random tokens, not ordered), for
    /// `secret_string_wo_version`. Empty when `updated_at` is absent or unreadable.
    version_number: String,
    reason: &'a str,
}

/// The full result: the credentials and the outcome in one object.
#[derive(Debug, Serialize)]
struct Full<'a> {
    public_key: &'a str,
    secret_key: &'a str,
    relay_id: &'a str,
    sentry_dsn: &'a str,
    #[serde(flatten)]
    outcome: Outcome<'a>,
}

/// `outcome_only`: status, version and reason without the credential keys (query key
/// `outcome_only = "true"`), for a read whose result is stored in Terraform state.
pub(crate) struct TerraformResult {
    pub(crate) outcome_only: bool,
}

impl Render for TerraformResult {
    /// Every status yields the same keys; credential values are empty unless found,
    /// so `data.external.x.result.secret_key` always exists in the user's HCL.
    fn render(&self, report: &Report) -> String {
        let found = report.found();
        let creds = found.map(|f| &f.credentials);
        let reason = if found.is_some() {
            String::new()
        } else {
            report.reason()
        };
        let updated_at = found.and_then(|f| f.updated_at.as_deref()).unwrap_or("");
        let outcome = Outcome {
            status: report.status().as_str(),
            version_id: found.and_then(|f| f.version_id.as_deref()).unwrap_or(""),
            updated_at,
            version_number: micros_since_epoch(updated_at)
                .map(|n| n.to_string())
                .unwrap_or_default(),
            reason: &reason,
        };
        // Serializing plain string fields cannot fail.
        let mut out = if self.outcome_only {
            serde_json::to_string(&outcome)
        } else {
            serde_json::to_string(&Full {
                public_key: creds.map_or("", |c| c.public_key.as_str()),
                secret_key: creds.map_or("", |c| c.secret_key.expose()),
                relay_id: creds.map_or("", |c| c.relay_id.as_str()),
                sentry_dsn: creds.and_then(|c| c.sentry_dsn.as_deref()).unwrap_or(""),
                outcome,
            })
        }
        .unwrap_or_default();
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::{Problem, Status};
    use crate::render::fixtures;
    use serde_json::{Map, Value};

    const FULL_KEYS: [&str; 9] = [
        "public_key",
        "secret_key",
        "relay_id",
        "sentry_dsn",
        "status",
        "version_id",
        "updated_at",
        "version_number",
        "reason",
    ];
    const OUTCOME_KEYS: [&str; 5] = [
        "status",
        "version_id",
        "updated_at",
        "version_number",
        "reason",
    ];

    fn parse(s: &str) -> Map<String, Value> {
        serde_json::from_str::<Value>(s)
            .unwrap()
            .as_object()
            .unwrap()
            .clone()
    }

    fn keys(m: &Map<String, Value>) -> Vec<&str> {
        let mut k: Vec<&str> = m.keys().map(String::as_str).collect();
        k.sort();
        k
    }

    fn sorted<const N: usize>(k: [&'static str; N]) -> Vec<&'static str> {
        let mut k = k.to_vec();
        k.sort();
        k
    }

    const FULL: TerraformResult = TerraformResult {
        outcome_only: false,
    };
    const OUTCOME: TerraformResult = TerraformResult { outcome_only: true };

    #[test]
    fn found_has_all_keys_as_strings() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let m = parse(&FULL.render(&r));
        assert_eq!(keys(&m), sorted(FULL_KEYS));
        assert!(m.values().all(Value::is_string));
        assert_eq!(m["secret_key"], c.secret_key.expose());
        assert_eq!(m["relay_id"], c.relay_id.as_str());
        assert_eq!(m["status"], "found");
        assert_eq!(m["version_id"], "Wq49AmJIR7QI0kSwfY9BZ6vNsOq6AO_X");
        assert_eq!(m["version_number"], "1741659534250931");
        assert_eq!(m["reason"], "");
    }

    #[test]
    fn missing_has_the_same_keys_empty() {
        for status in Problem::ALL.map(Status::from) {
            let m = parse(&FULL.render(&fixtures::missing(status)));
            assert_eq!(keys(&m), sorted(FULL_KEYS));
            for k in [
                "public_key",
                "secret_key",
                "relay_id",
                "sentry_dsn",
                "version_id",
                "updated_at",
                "version_number",
            ] {
                assert_eq!(m[k], "", "{k}");
            }
            assert_eq!(m["status"], status.as_str());
            assert!(m["reason"].as_str().unwrap().contains("req_2"));
        }
    }

    #[test]
    fn outcome_only_never_holds_a_credential() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let text = OUTCOME.render(&r);
        let m = parse(&text);
        assert_eq!(keys(&m), sorted(OUTCOME_KEYS));
        assert!(m.values().all(Value::is_string));
        assert_eq!(m["status"], "found");
        assert_eq!(m["version_number"], "1741659534250931");
        for secret in [
            c.secret_key.expose(),
            c.public_key.as_str(),
            c.relay_id.as_str(),
            c.sentry_dsn.as_deref().unwrap(),
        ] {
            assert!(!text.contains(secret), "{text}");
        }
        for status in Problem::ALL.map(Status::from) {
            let m = parse(&OUTCOME.render(&fixtures::missing(status)));
            assert_eq!(keys(&m), sorted(OUTCOME_KEYS));
            assert_eq!(m["status"], status.as_str());
        }
    }
}
