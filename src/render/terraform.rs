//! The Terraform `external` data source result: one flat JSON object of strings.

use serde_json::{Map, Value};

use super::Render;
use crate::fetch::Report;

/// Keys of the result, the contract with users' HCL (serde_json prints them sorted).
pub(crate) const KEYS: [&str; 8] = [
    "public_key",
    "secret_key",
    "relay_id",
    "sentry_dsn",
    "status",
    "version_id",
    "updated_at",
    "reason",
];

pub(crate) struct TerraformResult;

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
        let value = |key: &str| -> String {
            let v = match key {
                "public_key" => creds.map(|c| c.public_key.as_str()),
                "secret_key" => creds.map(|c| c.secret_key.expose()),
                "relay_id" => creds.map(|c| c.relay_id.as_str()),
                "sentry_dsn" => creds.and_then(|c| c.sentry_dsn.as_deref()),
                "status" => Some(report.status().as_str()),
                "version_id" => found.and_then(|f| f.version_id.as_deref()),
                "updated_at" => found.and_then(|f| f.updated_at.as_deref()),
                "reason" => Some(reason.as_str()),
                _ => None,
            };
            v.unwrap_or("").to_string()
        };
        let map: Map<String, Value> = KEYS
            .iter()
            .map(|k| (k.to_string(), Value::String(value(k))))
            .collect();
        let mut out = Value::Object(map).to_string();
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::Status;
    use crate::render::fixtures;

    fn parse(s: &str) -> Map<String, Value> {
        serde_json::from_str::<Value>(s)
            .unwrap()
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn found_has_all_keys_as_strings() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let m = parse(&TerraformResult.render(&r));
        assert_eq!(m.len(), KEYS.len());
        assert!(m.values().all(Value::is_string));
        assert_eq!(m["secret_key"], c.secret_key.expose());
        assert_eq!(m["relay_id"], c.relay_id.as_str());
        assert_eq!(m["status"], "found");
        assert_eq!(m["version_id"], "Wq49AmJIR7QI0kSwfY9BZ6vNsOq6AO_X");
        assert_eq!(m["reason"], "");
    }

    #[test]
    fn missing_has_the_same_keys_empty() {
        for status in Status::ALL.into_iter().filter(|s| *s != Status::Found) {
            let m = parse(&TerraformResult.render(&fixtures::missing(status)));
            assert_eq!(m.len(), KEYS.len());
            for k in [
                "public_key",
                "secret_key",
                "relay_id",
                "sentry_dsn",
                "version_id",
                "updated_at",
            ] {
                assert_eq!(m[k], "", "{k}");
            }
            assert_eq!(m["status"], status.as_str());
            assert!(m["reason"].as_str().unwrap().contains("req_2"));
        }
    }
}
