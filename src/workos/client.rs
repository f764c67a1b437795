//! One read of a WorkOS Vault object by name, and the classification of whatever came
//! back. Sending, retrying and the deadline are the HTTP layer's (`crate::http`).

use std::time::Instant;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;
use url::Url;

use super::{VaultError, VaultErrorKind as Kind, VaultObject};
use crate::http::retry::{self, is_retryable_status};
use crate::http::text::redact_tokens;
use crate::http::{
    self as http, sanitize_line, Http, Method, Reply, Request, RetryEvent, RetryPolicy, Step,
};
use crate::secret::Secret;
use crate::settings::Settings;

/// Responses larger than this are refused: a credentials object is a few hundred bytes.
pub(crate) const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// Everything but RFC 3986 unreserved characters is escaped, so a name is one segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(crate) struct VaultClient {
    http: Http,
    base: Url,
    api_key: Secret,
    policy: RetryPolicy,
}

impl VaultClient {
    /// Build the agent once: TLS roots, proxy, timeouts, no redirects.
    pub(crate) fn new(settings: &Settings, api_key: Secret) -> anyhow::Result<Self> {
        Ok(VaultClient {
            http: Http::new(
                &settings.api_base,
                settings.ca_file.as_deref(),
                settings.connect_timeout,
            )?,
            base: settings.api_base.clone(),
            api_key,
            policy: RetryPolicy::default(),
        })
    }

    /// `GET /vault/v1/kv/name/{name}` with retries, ending by `deadline`.
    /// Returns the result and the number of HTTP attempts made. `observe` hears of
    /// each attempt and wait (its reasons scrubbed like every other text).
    pub(crate) fn read_by_name(
        &self,
        name: &str,
        deadline: Instant,
        observe: &mut dyn FnMut(RetryEvent<'_>),
    ) -> (Result<VaultObject, VaultError>, u32) {
        let url = self.object_url(name);
        log::debug!(
            "GET {url} (api key {}, deadline in {} ms)",
            self.api_key.masked(),
            deadline
                .saturating_duration_since(Instant::now())
                .as_millis()
        );
        let (result, attempts) = retry::run(
            &self.policy,
            deadline,
            |_| self.attempt(name, &url, deadline),
            std::thread::sleep,
            |event| match event {
                RetryEvent::Retry {
                    failed,
                    of,
                    reason,
                    wait,
                } => {
                    let reason = self.scrub(reason);
                    observe(RetryEvent::Retry {
                        failed,
                        of,
                        reason: &reason,
                        wait,
                    })
                }
                other => observe(other),
            },
        );
        // The one place every text from the network passes before leaving the client.
        let result = result.map_err(|e| VaultError {
            deadline_reached: e.deadline_reached,
            kind: e.kind,
            detail: self.scrub(&e.detail),
            request_id: e.request_id.map(|id| self.scrub(&id)),
        });
        (result, attempts)
    }

    fn object_url(&self, name: &str) -> String {
        format!(
            "{}/vault/v1/kv/name/{}",
            self.base.as_str().trim_end_matches('/'),
            utf8_percent_encode(name, SEGMENT)
        )
    }

    fn attempt(&self, name: &str, url: &str, deadline: Instant) -> Step<VaultObject, VaultError> {
        let build = || {
            Ok(Request {
                method: Method::GET,
                url: url.to_string(),
                headers: vec![
                    ("Authorization", format!("Bearer {}", self.api_key.expose())),
                    ("Accept", "application/json".into()),
                ],
                body: None,
                max_body: MAX_BODY_BYTES,
            })
        };
        http::attempt(
            &self.http,
            deadline,
            build,
            VaultError::unavailable,
            |reply| self.on_response(name, reply),
        )
    }

    fn on_response(&self, name: &str, reply: Reply) -> Step<VaultObject, VaultError> {
        let status = reply.status;
        // Scrubbed before it is shortened, so no part of an echoed key survives.
        let request_id = reply
            .headers
            .get("x-request-id")
            .map(|v| sanitize_line(&self.scrub(v)));
        let retry_after = reply.headers.retry_after();
        let location_host = reply.headers.location_host();
        log::debug!(
            "HTTP {status} (request id {})",
            request_id.as_deref().unwrap_or("none")
        );
        let body = match reply.body {
            Ok(body) => body,
            // An answer over the cap is complete, not a passing failure: retry it only
            // when its status is one we retry anyway.
            Err(_) => {
                let error = VaultError::new(
                    Kind::Unavailable,
                    format!(
                        "response body is larger than {} KiB; check the api base",
                        MAX_BODY_BYTES / 1024
                    ),
                    request_id,
                );
                return match is_retryable_status(status) {
                    true => Step::Retry { error, retry_after },
                    false => Step::Done(Err(error)),
                };
            }
        };
        let fail = |kind: Kind, detail: String| VaultError::new(kind, detail, request_id.clone());
        match status {
            200 => Step::Done(parse_object(&body, name).map(|mut o| {
                o.request_id = request_id.clone();
                o
            }).map_err(|d| fail(Kind::Unavailable, d))),
            // WorkOS Vault's own 404 carries {"error": "..."}; any other 404 (a web
            // server, another API, a path prefix missing) says the base is wrong, not
            // that the secret is missing.
            404 if json_field(&body, "error").is_some() => {
                Step::Done(Err(fail(Kind::NotFound, "no such object".into())))
            }
            404 => Step::Done(Err(fail(
                Kind::WrongApiBase,
                format!(
                    "HTTP 404 that is not WorkOS Vault's object-not-found answer ({}), so the api base does not lead to WorkOS Vault",
                    self.excerpt(&body)
                ),
            ))),
            401 => Step::Done(Err(fail(Kind::Unauthorized, format!("HTTP 401: {}", self.error_text(&body))))),
            403 => Step::Done(Err(fail(Kind::Forbidden, format!("HTTP 403: {}", self.error_text(&body))))),
            300..=399 if location_host.is_some() => Step::Done(Err(fail(
                Kind::Unavailable,
                format!(
                    "HTTP {status} redirect to {} was not followed (the API key must only go to the api base); check the api base",
                    self.scrub(location_host.as_deref().unwrap_or_default())
                ),
            ))),
            s if is_retryable_status(s) => Step::Retry {
                error: fail(Kind::Unavailable, format!("HTTP {s}: {}", self.error_text(&body))),
                retry_after,
            },
            // A success-class answer other than 200 may carry the object itself: its
            // body is never quoted.
            s if s < 300 => Step::Done(Err(fail(
                Kind::Unavailable,
                format!("unexpected HTTP {s} (expected 200); check the api base"),
            ))),
            s => Step::Done(Err(fail(Kind::Unavailable, format!("unexpected HTTP {s}: {}", self.error_text(&body))))),
        }
    }

    /// WorkOS error bodies: `message`, else `error_description`, else `error`, else a
    /// short excerpt of the raw body (HTML from a proxy, say).
    fn error_text(&self, body: &[u8]) -> String {
        ["message", "error_description", "error"]
            .iter()
            .find_map(|k| json_field(body, k))
            .map(|m| sanitize_line(&redact_tokens(&self.scrub(&m))))
            .unwrap_or_else(|| self.excerpt(body))
    }

    fn excerpt(&self, body: &[u8]) -> String {
        // Scrub the whole body first: a cut could keep part of an echoed key.
        let text = redact_tokens(&self.scrub(&String::from_utf8_lossy(body)));
        http::excerpt(&text, 120)
    }

    /// A server could echo the request back; make sure the key never rides along, in
    /// any letter case (URL parsing lowercases host names).
    fn scrub(&self, text: &str) -> String {
        let key = self.api_key.expose();
        if key.len() >= 4 && text.to_lowercase().contains(&key.to_lowercase()) {
            return String::from("(withheld: the server echoed the API key)");
        }
        text.to_string()
    }
}

/// `id` is never read, but requiring it (and `name`, which must match) tells a Vault
/// object from some other JSON a misconfigured api base may answer with.
#[derive(Deserialize)]
struct WireObject {
    #[serde(rename = "id")]
    _id: String,
    name: String,
    value: Option<String>,
    metadata: Option<WireMetadata>,
}

#[derive(Deserialize)]
struct WireMetadata {
    version_id: Option<String>,
    updated_at: Option<String>,
}

fn parse_object(body: &[u8], expected_name: &str) -> Result<VaultObject, String> {
    // serde's messages can quote input (the value), so only the position is reported.
    let wire: WireObject = serde_json::from_slice(body).map_err(|e| {
        format!(
            "HTTP 200 but the body is not a WorkOS Vault object (JSON error at line {} column {}); check the api base",
            e.line(),
            e.column()
        )
    })?;
    if wire.name != expected_name {
        return Err("HTTP 200 but the object is not the one asked for (its name differs); check the api base".into());
    }
    let meta = wire.metadata;
    Ok(VaultObject {
        value: Secret::new(wire.value.unwrap_or_default()),
        version_id: meta.as_ref().and_then(|m| m.version_id.clone()),
        updated_at: meta.and_then(|m| m.updated_at),
        request_id: None,
    })
}

fn json_field(body: &[u8], key: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.get(key)?.as_str().map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_percent_encoded_segment() {
        let s = Settings::resolve(crate::settings::SettingsInput {
            api_base: Some("https://proxy.corp/workos/".into()),
            ..Default::default()
        })
        .unwrap();
        let c = VaultClient::new(&s, Secret::new("sk_test_x")).unwrap();
        assert_eq!(
            c.object_url("a/b c~d.e_f-g%ü"),
            "https://proxy.corp/workos/vault/v1/kv/name/a%2Fb%20c~d.e_f-g%25%C3%BC"
        );
    }

    #[test]
    fn objects_parse_with_null_and_extra_fields() {
        let o = parse_object(br#"{"id":"x","name":"n","value":"v","extra":1,"metadata":{"version_id":null,"updated_at":"2025-03-11T02:18:54.250931Z","context":{}}}"#, "n").unwrap();
        assert_eq!(o.version_id, None);
        assert_eq!(o.updated_at.as_deref(), Some("2025-03-11T02:18:54.250931Z"));
        assert_eq!(o.value.expose(), "v");
        let e = parse_object(
            br#"{"id":"x","name":"n","value":{"secret":"hunter2"}}"#,
            "n",
        )
        .unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(parse_object(b"<html>", "n").is_err());
        let e = parse_object(br#"{"id":"x","name":"other","value":"v"}"#, "n").unwrap_err();
        assert!(e.contains("not the one asked for"), "{e}");
    }

    #[test]
    fn echoed_keys_are_withheld_even_when_cut_or_recased() {
        let key = "sk_live_CANARY0123456789abcdefSECRET";
        let s = Settings::resolve(crate::settings::SettingsInput::default()).unwrap();
        let c = VaultClient::new(&s, Secret::new(key)).unwrap();
        let long = format!(r#"{{"message":"{} you sent {key}"}}"#, "x".repeat(155));
        let html = format!("<html>{}{key}</html>", "y".repeat(100));
        let lower = format!(r#"{{"error":"host {}.evil"}}"#, key.to_lowercase());
        for body in [long, html, lower] {
            let text = c.error_text(body.as_bytes());
            assert!(!text.to_lowercase().contains("canary"), "{text}");
            assert!(text.contains("withheld"), "{text}");
        }
        assert_eq!(
            c.error_text(br#"{"message":"Unauthorized"}"#),
            "Unauthorized"
        );
    }

    #[test]
    fn long_tokens_in_bodies_are_redacted() {
        let key = crate::keys::generate().unwrap();
        let body = format!(
            r#"{{"message":"bad value {{\"secret_key\": \"{}\"}} in req a1b2c3d4-e5f6-7890-abcd-ef1234567890"}}"#,
            key.secret_key.expose()
        );
        let s = Settings::resolve(crate::settings::SettingsInput::default()).unwrap();
        let c = VaultClient::new(&s, Secret::new("sk_test_x")).unwrap();
        let text = c.error_text(body.as_bytes());
        assert!(!text.contains(key.secret_key.expose()), "{text}");
        assert!(
            text.contains("[redacted]") && text.contains("a1b2c3d4-e5f6-7890-abcd-ef1234567890"),
            "{text}"
        );
        let html = format!("<p>{}</p>", key.secret_key.expose());
        assert!(!c.excerpt(html.as_bytes()).contains(key.secret_key.expose()));
    }
}
