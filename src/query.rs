//! The Terraform `external` query on stdin: one JSON object whose values are strings.

use crate::secret::Secret;
use crate::settings::{non_empty, parse_bool, KeySource, SettingsError, SettingsInput};

/// Every key the query may hold; anything else is refused.
pub const QUERY_KEYS: [&str; 6] = [
    "api_key",
    "secret_name",
    "api_base",
    "strict",
    "timeout_seconds",
    "outcome_only",
];

/// Terraform queries are tiny; anything this large is not one.
pub(crate) const MAX_QUERY_BYTES: usize = 1024 * 1024;

/// What the query asks for: settings for the fetch, and how to render the result.
#[derive(Debug, Default)]
pub struct Query {
    pub settings: SettingsInput,
    /// `outcome_only = "true"`: print status, version and reason but no credential
    /// values, for a `data "external"` read whose result is safe in Terraform state.
    pub outcome_only: bool,
}

/// Parse the query into settings inputs. Errors name the key, never the value (the
/// value may be the API key).
pub fn parse_query(input: &[u8]) -> Result<Query, SettingsError> {
    let err = |m: String| SettingsError(m);
    if input.len() > MAX_QUERY_BYTES {
        return Err(err(format!(
            "the query on stdin is larger than {} KiB; Terraform sends a small JSON object",
            MAX_QUERY_BYTES / 1024
        )));
    }
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(err("stdin is empty; Terraform sends a JSON object (for a manual run: echo '{}' | vault-fetch-relay)".into()));
    }
    let doc: serde_json::Value = serde_json::from_slice(input).map_err(|e| {
        err(format!(
            "the query on stdin is not valid JSON (line {} column {}); expected an object of strings like {{\"api_key\": \"...\"}}",
            e.line(),
            e.column()
        ))
    })?;
    let obj = doc.as_object().ok_or_else(|| {
        err(format!(
            "the query on stdin must be a JSON object of strings, got {}",
            kind(&doc)
        ))
    })?;
    let mut query = Query::default();
    let out = &mut query.settings;
    for (key, value) in obj {
        let text = value.as_str().ok_or_else(|| {
            err(format!("query key {key:?} must be a string, got {} (Terraform's query is a map of strings)", kind(value)))
        })?;
        // An empty value means "not given" so the environment fallback applies.
        let given = non_empty(Some(text.to_string()));
        match key.as_str() {
            "api_key" => {
                out.key_source = given.as_ref().map(|_| KeySource::Query);
                out.api_key = given.map(Secret::new);
            }
            "secret_name" => out.secret_name = given,
            "api_base" => out.api_base = given,
            "strict" => {
                out.strict = given
                    .map(|t| parse_bool("query key \"strict\"", &t))
                    .transpose()?
            }
            "timeout_seconds" => out.timeout_seconds = given,
            "outcome_only" => {
                query.outcome_only = given
                    .map(|t| parse_bool("query key \"outcome_only\"", &t))
                    .transpose()?
                    .unwrap_or(false)
            }
            // A typo would silently fetch the default secret: refuse it. The key is
            // named (shortened, escaped), never its value.
            other => {
                // Named only when it looks like a key name: a secret pasted into the
                // key position must not reach the message.
                let looks_like_a_name = crate::secret::echoable(other, |b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
                });
                let shown = match looks_like_a_name {
                    true => format!("{other:?}"),
                    false => "(not shown: not a key name)".to_string(),
                };
                return Err(err(format!(
                    "unknown query key {shown}; valid keys are {}",
                    QUERY_KEYS.join(", ")
                )));
            }
        }
    }
    Ok(query)
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognised_keys_fill_inputs() {
        let parsed = parse_query(br#"{"api_key":"sk_test_1","secret_name":"a/b c","api_base":"http://127.0.0.1:1","strict":"true","timeout_seconds":"3","outcome_only":"true"}"#).unwrap();
        assert!(parsed.outcome_only);
        let q = parsed.settings;
        assert_eq!(q.api_key.unwrap().expose(), "sk_test_1");
        assert_eq!(q.secret_name.as_deref(), Some("a/b c"));
        assert_eq!(q.api_base.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(q.strict, Some(true));
        assert_eq!(q.timeout_seconds.as_deref(), Some("3"));
    }

    #[test]
    fn unknown_keys_are_refused_naming_the_valid_ones() {
        let e = parse_query(br#"{"api_key":"sk_live_canary","secret_nmae":"x"}"#)
            .unwrap_err()
            .0;
        assert!(e.contains("\"secret_nmae\""), "{e}");
        assert!(
            e.contains("api_key, secret_name, api_base, strict, timeout_seconds"),
            "{e}"
        );
        assert!(!e.contains("canary"), "{e}");
        let e = parse_query(br#"{"sk_live_CANARY0123456789abcdefghijklmnop":""}"#)
            .unwrap_err()
            .0;
        assert!(e.contains("not shown") && !e.contains("CANARY"), "{e}");
    }

    #[test]
    fn empty_values_fall_back() {
        let parsed = parse_query(br#"{"api_key":"","strict":"","outcome_only":""}"#).unwrap();
        assert!(
            !parsed.outcome_only,
            "an empty outcome_only is the full result"
        );
        let q = parsed.settings;
        assert!(q.api_key.is_none());
        assert_eq!(
            q.strict, None,
            "an empty strict leaves the environment's choice"
        );
        assert!(parse_query(b"{}").unwrap().settings.api_key.is_none());
    }

    #[test]
    fn bad_input_is_named_without_echoing_values() {
        for (input, want) in [
            (&b""[..], "stdin is empty"),
            (b"  \n", "stdin is empty"),
            (b"sk_live_canary", "not valid JSON"),
            (b"[\"sk_live_canary\"]", "got an array"),
            (
                b"{\"api_key\": 5}",
                "\"api_key\" must be a string, got a number",
            ),
            (
                b"{\"api_key\": {\"k\":\"sk_live_canary\"}}",
                "got an object",
            ),
            (b"{\"strict\": \"sk_live_canary\"}", "\"strict\""),
            (
                b"{\"outcome_only\": \"sk_live_canary\"}",
                "\"outcome_only\"",
            ),
        ] {
            let e = parse_query(input).unwrap_err().0;
            assert!(e.contains(want), "{e}");
            assert!(!e.contains("canary"), "{e}");
        }
    }
}
