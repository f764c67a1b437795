//! The Terraform `external` data source result: one flat JSON object of strings.

use serde_json::{Map, Value};

use super::Render;
use crate::fetch::Report;

/// Keys of the result, in the order users read them in the docs.
pub const KEYS: [&str; 8] = [
    "public_key",
    "secret_key",
    "relay_id",
    "sentry_dsn",
    "status",
    "version_id",
    "updated_at",
    "reason",
];

pub struct TerraformResult;

impl Render for TerraformResult {
    /// Every status yields the same keys; credential values are empty unless found,
    /// so `data.external.x.result.secret_key` always exists in the user's HCL.
    fn render(&self, report: &Report) -> String {
        let found = report.found();
        let creds = found.map(|f| &f.credentials);
        let mut m = Map::new();
        let mut put = |k: &str, v: &str| {
            m.insert(k.to_string(), Value::String(v.to_string()));
        };
        put("public_key", creds.map_or("", |c| c.public_key.as_str()));
        put("secret_key", creds.map_or("", |c| c.secret_key.expose()));
        put("relay_id", creds.map_or("", |c| c.relay_id.as_str()));
        put(
            "sentry_dsn",
            creds.and_then(|c| c.sentry_dsn.as_deref()).unwrap_or(""),
        );
        put("status", report.status().as_str());
        put(
            "version_id",
            found.and_then(|f| f.version_id.as_deref()).unwrap_or(""),
        );
        put(
            "updated_at",
            found.and_then(|f| f.updated_at.as_deref()).unwrap_or(""),
        );
        let reason = if found.is_some() {
            String::new()
        } else {
            report.reason()
        };
        put("reason", &reason);
        let mut out = Value::Object(m).to_string();
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
