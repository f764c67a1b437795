//! The credentials document stored in the vault, parsed and validated. Invalid
//! credentials never leave this module looking like good ones.

use crate::keys::{self, KeyError};
use crate::secret::Secret;

/// Relay credentials as relay reads them, plus the optional DSN for the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayCredentials {
    pub relay_id: String,
    pub public_key: String,
    pub secret_key: Secret,
    pub sentry_dsn: Option<String>,
}

/// Why the stored value is not usable. Messages name fields, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidSecret {
    /// Not relay credentials: not JSON, a field missing or empty, a bad encoding.
    Malformed(String),
    /// Both keys are well-formed but do not belong together (operators ask this first).
    KeyPairMismatch,
}

impl InvalidSecret {
    fn new(message: impl Into<String>) -> Self {
        InvalidSecret::Malformed(message.into())
    }
}

impl std::fmt::Display for InvalidSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InvalidSecret::Malformed(message) => f.write_str(message),
            InvalidSecret::KeyPairMismatch => KeyError::PairMismatch.fmt(f),
        }
    }
}

impl std::error::Error for InvalidSecret {}

impl From<KeyError> for InvalidSecret {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::PairMismatch => InvalidSecret::KeyPairMismatch,
            e => InvalidSecret::Malformed(e.to_string()),
        }
    }
}

/// Parse the vault value `{"public_key","secret_key","id","sentry_dsn"?}` and check it:
/// `id` is a UUID, both keys are in relay's encoding and belong together.
pub fn parse_vault_value(value: &Secret) -> Result<RelayCredentials, InvalidSecret> {
    let text = value.expose().trim();
    if text.is_empty() {
        return Err(InvalidSecret::new("the stored value is empty"));
    }
    // Parse to a tree first: serde's typed errors quote input, and input is secret.
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        InvalidSecret::new(format!(
            "the stored value is not JSON (error at line {} column {})",
            e.line(),
            e.column()
        ))
    })?;
    let obj = doc
        .as_object()
        .ok_or_else(|| InvalidSecret::new("the stored value is JSON but not an object"))?;
    let field = |name: &'static str| -> Result<String, InvalidSecret> {
        match obj.get(name) {
            None | Some(serde_json::Value::Null) => {
                Err(InvalidSecret::new(format!("field \"{name}\" is missing")))
            }
            Some(serde_json::Value::String(s)) if s.trim().is_empty() => {
                Err(InvalidSecret::new(format!("field \"{name}\" is empty")))
            }
            Some(serde_json::Value::String(s)) => Ok(s.trim().to_string()),
            Some(_) => Err(InvalidSecret::new(format!(
                "field \"{name}\" must be a string"
            ))),
        }
    };
    let relay_id = field("id")?;
    let public_key = field("public_key")?;
    let secret_key = Secret::new(field("secret_key")?);
    let sentry_dsn = match obj.get("sentry_dsn") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) if s.is_empty() => None,
        // One rule for every output: a DSN is a URL, and a control character in it
        // (NUL, a line break, ESC...) would be dropped, cut or executed differently by
        // each reader (bash drops NUL, dotenv cuts at a newline), so the outputs would
        // disagree. Such a value is a broken secret, not one to pass on.
        Some(serde_json::Value::String(s)) if s.chars().any(char::is_control) => {
            return Err(InvalidSecret::new(
                "field \"sentry_dsn\" contains a control character; a DSN is a URL like https://key@o1.ingest.sentry.io/2",
            ))
        }
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(InvalidSecret::new("field \"sentry_dsn\" must be a string")),
    };
    if !keys::is_uuid(&relay_id) {
        return Err(InvalidSecret::new(
            "field \"id\" is not a UUID (relay ids look like 8-4-4-4-12 hex digits)",
        ));
    }
    keys::check_pair(&public_key, &secret_key)?;
    Ok(RelayCredentials {
        relay_id,
        public_key,
        secret_key,
        sentry_dsn,
    })
}

/// The `sentry_dsn` string of a stored value that is a JSON object, whatever its other fields
/// hold (a deployment event needs only the DSN). Not checked here: the caller parses it as a DSN.
pub fn stored_dsn(value: &Secret) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(value.expose().trim()).ok()?;
    doc.get("sentry_dsn")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl RelayCredentials {
    /// The relay id shortened to 8 characters for log lines.
    pub fn masked_id(&self) -> String {
        self.relay_id.chars().take(8).collect::<String>() + "…"
    }

    /// A vault value holding these credentials (dev server seeding, fixtures).
    pub fn to_vault_value(&self) -> String {
        let mut v = serde_json::json!({
            "public_key": self.public_key,
            "secret_key": self.secret_key.expose(),
            "id": self.relay_id,
        });
        if let Some(dsn) = &self.sentry_dsn {
            v["sentry_dsn"] = serde_json::Value::String(dsn.clone());
        }
        v.to_string()
    }

    /// Freshly generated, valid credentials.
    pub fn generate(sentry_dsn: Option<String>) -> anyhow::Result<Self> {
        let k = keys::generate()?;
        Ok(RelayCredentials {
            relay_id: keys::generate_uuid(),
            public_key: k.public_key,
            secret_key: k.secret_key,
            sentry_dsn,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> RelayCredentials {
        RelayCredentials::generate(Some("https://k@o1.ingest.sentry.io/2".into())).unwrap()
    }

    fn parse(s: &str) -> Result<RelayCredentials, InvalidSecret> {
        parse_vault_value(&Secret::new(s))
    }

    #[test]
    fn round_trips_generated_credentials() {
        let c = good();
        assert_eq!(parse(&c.to_vault_value()).unwrap(), c);
        let mut no_dsn = c.clone();
        no_dsn.sentry_dsn = None;
        assert_eq!(parse(&no_dsn.to_vault_value()).unwrap(), no_dsn);
    }

    #[test]
    fn rejects_each_defect_with_a_reason_that_names_no_value() {
        let c = good();
        let base: serde_json::Value = serde_json::from_str(&c.to_vault_value()).unwrap();
        let with = |k: &str, v: serde_json::Value| {
            let mut d = base.clone();
            d[k] = v;
            d.to_string()
        };
        let without = |k: &str| {
            let mut d = base.clone();
            d.as_object_mut().unwrap().remove(k);
            d.to_string()
        };
        let other = good();
        let cases = [
            ("".to_string(), "empty"),
            ("   ".to_string(), "empty"),
            (
                format!("{{\"secret_key\": \"{}\"", c.secret_key.expose()),
                "not JSON",
            ),
            ("[1,2]".to_string(), "not an object"),
            (without("id"), "\"id\" is missing"),
            (without("public_key"), "\"public_key\" is missing"),
            (without("secret_key"), "\"secret_key\" is missing"),
            (with("id", serde_json::json!("")), "\"id\" is empty"),
            (with("id", serde_json::json!(5)), "must be a string"),
            (with("id", serde_json::json!("not-a-uuid")), "not a UUID"),
            (with("sentry_dsn", serde_json::json!(1)), "sentry_dsn"),
            (
                with("sentry_dsn", serde_json::json!("https://k@h/1\u{0}")),
                "control character",
            ),
            (
                with("sentry_dsn", serde_json::json!("https://k@h/1\nX=1")),
                "control character",
            ),
            (
                with("sentry_dsn", serde_json::json!("https://k@h/\u{7f}1")),
                "control character",
            ),
            (
                with("sentry_dsn", serde_json::json!("https://k@h/\u{9b}1")),
                "control character",
            ),
            (
                with("public_key", serde_json::json!(other.public_key)),
                "does not belong",
            ),
            (
                with(
                    "secret_key",
                    serde_json::json!(format!("{}=", c.secret_key.expose())),
                ),
                "base64",
            ),
        ];
        for (input, want) in cases {
            let e = parse(&input).unwrap_err().to_string();
            assert!(e.contains(want), "{input:?}: {e}");
            assert!(!e.contains(c.secret_key.expose()), "{e}");
        }
    }

    #[test]
    fn empty_dsn_means_none() {
        let c = good();
        let mut d: serde_json::Value = serde_json::from_str(&c.to_vault_value()).unwrap();
        d["sentry_dsn"] = serde_json::json!("");
        assert_eq!(parse(&d.to_string()).unwrap().sentry_dsn, None);
    }
}
