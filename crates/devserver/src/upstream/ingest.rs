//! The Sentry ingest: `POST {path prefix}/api/{project_id}/envelope/`, judged as relay's
//! envelope endpoint judges it (relay-server `extractors/request_meta.rs`,
//! `endpoints/common.rs`): `X-Sentry-Auth` (or the same as query parameters) with
//! `sentry_version=7` and a `sentry_key` of 32 hex digits; with `--dsn-key` values, a key
//! among them; an envelope that parses strictly (envelope.rs). It answers as Sentry does
//! (200 `{"id": ...}`, 400/401/403 with `detail`) and records each event for tests.

use serde_json::{json, Value};

use super::envelope::{self, EnvelopeError};
use super::State;
use crate::http::{parse_query, Request, Response};

/// Events kept for `Upstream::events`; older ones are dropped.
const MAX_EVENTS: usize = 1_000;

/// The protocol version Sentry's envelope endpoint speaks, and the only one taken here.
const PROTOCOL_VERSION: &str = "7";

/// One event or transaction the ingest accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedEvent {
    /// From the path: `/api/{project_id}/envelope/`.
    pub project_id: u64,
    /// The path before `/api/` (empty without a DSN path prefix).
    pub path_prefix: String,
    /// The DSN's public key (`sentry_key`; public by design: browsers ship it).
    pub public_key: String,
    /// `sentry_client`, when sent.
    pub client: Option<String>,
    /// 32 lowercase hex digits.
    pub event_id: String,
    /// `event` or `transaction`.
    pub item_type: String,
    /// The envelope's header line.
    pub envelope_header: Value,
    /// The item's payload, parsed.
    pub payload: Value,
}

/// `(path prefix, project id)` when `path` is an envelope endpoint.
pub(crate) fn envelope_path(path: &str) -> Option<(&str, u64)> {
    let rest = path.strip_suffix("/envelope/")?;
    let (before, project) = rest.rsplit_once('/')?;
    let prefix = before.strip_suffix("/api")?;
    if project.is_empty() || !project.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((prefix, project.parse().ok()?))
}

fn detail(status: u16, text: &str, causes: &[&str]) -> Response {
    let body = match causes.is_empty() {
        true => json!({ "detail": text }),
        false => json!({ "detail": text, "causes": causes }),
    };
    Response::json(status, &body)
}

/// What the client says about itself and its key.
#[derive(Debug, PartialEq, Eq)]
struct Auth {
    key: String,
    client: Option<String>,
}

/// `X-Sentry-Auth: Sentry sentry_version=7, sentry_key=..., sentry_client=...`, or the same as
/// query parameters (not both).
fn auth(req: &Request) -> Result<Auth, Response> {
    let header = req
        .header("x-sentry-auth")
        .map(|h| h.trim())
        .map(|h| match h.get(..7) {
            Some(p) if p.eq_ignore_ascii_case("sentry ") => &h[7..],
            _ => h,
        })
        .map(|h| {
            h.split(',')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect::<Vec<_>>()
        });
    let query: Vec<(String, String)> = parse_query(req.query())
        .into_iter()
        .filter(|(k, _)| k.starts_with("sentry_"))
        .collect();
    let pairs = match (header, query.is_empty()) {
        (None, true) => return Err(detail(401, "missing authorization information", &[])),
        (Some(_), false) => {
            return Err(detail(401, "multiple authorization payloads detected", &[]))
        }
        (Some(pairs), true) => pairs,
        (None, false) => query,
    };
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let bad = |cause: &str| detail(401, "bad x-sentry-auth header", &[cause]);
    let key = get("sentry_key").ok_or_else(|| bad("missing public key in auth header"))?;
    let version = get("sentry_version").ok_or_else(|| bad("missing protocol version"))?;
    if version != PROTOCOL_VERSION {
        let shown: String = version.chars().take(8).collect();
        return Err(detail(
            400,
            &format!("unsupported protocol version ({shown})"),
            &[],
        ));
    }
    if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(detail(400, "bad sentry DSN public key", &[]));
    }
    Ok(Auth {
        key: key.to_ascii_lowercase(),
        client: get("sentry_client").map(str::to_string),
    })
}

/// Answer one envelope request; the events it carried are recorded (and logged) in `state`.
pub(super) fn handle(state: &mut State, req: &Request, prefix: &str, project_id: u64) -> Response {
    if req.method != "POST" {
        return detail(405, "Method not allowed", &[]).with_header("Allow", "POST");
    }
    let auth = match auth(req) {
        Ok(a) => a,
        Err(refusal) => return refusal,
    };
    if !state.dsn_keys.is_empty() && !state.dsn_keys.contains(&auth.key) {
        // relay: the project state for an unknown or disabled key is `disabled`, and the
        // envelope is rejected with DiscardReason::ProjectId, a 403.
        return detail(403, "event submission rejected with_reason: ProjectId", &[]);
    }
    let parsed = match envelope::parse(&req.body) {
        Ok(e) => e,
        Err(e) => return invalid(&e),
    };
    let header = Value::Object(parsed.header.clone());
    let mut answer_id = parsed.event_id.clone();
    for item in parsed.items.iter().filter(|i| envelope::is_event(&i.kind)) {
        let payload: Value = serde_json::from_slice(&item.payload).unwrap_or(Value::Null);
        let event_id = payload
            .get("event_id")
            .and_then(Value::as_str)
            .and_then(envelope::event_id)
            .or_else(|| parsed.event_id.clone())
            .unwrap_or_else(|| {
                vfr_credentials::keys::hex(&vfr_credentials::keys::random_bytes::<16>())
            });
        answer_id.get_or_insert_with(|| event_id.clone());
        if state.log_events {
            crate::say(&log_line(&event_id, &item.kind, &payload, project_id));
        }
        if state.events.len() >= MAX_EVENTS {
            state.events.pop_front();
        }
        state.events.push_back(ReceivedEvent {
            project_id,
            path_prefix: prefix.to_string(),
            public_key: auth.key.clone(),
            client: auth.client.clone(),
            event_id,
            item_type: item.kind.clone(),
            envelope_header: header.clone(),
            payload,
        });
    }
    match answer_id {
        Some(id) => Response::json(200, &json!({ "id": id })),
        None => Response::json(200, &json!({})),
    }
}

fn invalid(e: &EnvelopeError) -> Response {
    detail(400, "invalid event envelope", &[e.text()])
}

/// `dev-server: event ID (transaction NAME) for project N`: ids and the transaction's name, never
/// a header or a key; the name is the client's text, so it is shown on one line, shortened.
fn log_line(event_id: &str, kind: &str, payload: &Value, project_id: u64) -> String {
    let name = payload
        .get("transaction")
        .and_then(Value::as_str)
        .map(|t| {
            let clean: String = t
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(80)
                .collect();
            format!(" {clean}")
        })
        .unwrap_or_default();
    format!("dev-server: event {event_id} ({kind}{name}) for project {project_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "7f3a0c2e5b8d4f6a9e1c3b5d7f9a2c4e";
    const ID: &str = "9ec79c33ec9942ab8353589fcb2e04dc";

    fn post(path: &str, auth: Option<&str>, body: &[u8]) -> Request {
        let mut headers = Vec::new();
        if let Some(a) = auth {
            headers.push(("x-sentry-auth".to_string(), a.to_string()));
        }
        Request {
            method: "POST".into(),
            path: path.into(),
            headers,
            body: body.to_vec(),
        }
    }

    fn good_auth() -> String {
        format!("Sentry sentry_version=7, sentry_key={KEY}, sentry_client=vault-fetch-relay/0.1.0")
    }

    fn transaction() -> Vec<u8> {
        let payload = json!({"type": "transaction", "event_id": ID, "transaction": "deployment.completion\nx"}).to_string();
        format!(
            "{{\"event_id\":\"{ID}\"}}\n{{\"type\":\"transaction\",\"length\":{}}}\n{payload}\n",
            payload.len()
        )
        .into_bytes()
    }

    fn body(r: &Response) -> Value {
        serde_json::from_slice(&r.body).unwrap()
    }

    #[test]
    fn envelope_paths_with_and_without_a_prefix() {
        assert_eq!(envelope_path("/api/1/envelope/"), Some(("", 1)));
        assert_eq!(
            envelope_path("/sentry/prefix/api/42/envelope/"),
            Some(("/sentry/prefix", 42))
        );
        for no in [
            "/api/0/relays/projectconfigs/",
            "/api//envelope/",
            "/api/x1/envelope/",
            "/api/1/envelope",
            "/v/api/1/store/",
            "/vault/v1/kv/name/api",
        ] {
            assert_eq!(envelope_path(no), None, "{no}");
        }
    }

    #[test]
    fn an_accepted_transaction_is_recorded_and_answered_with_its_id() {
        let mut state = State::default();
        let r = handle(
            &mut state,
            &post("/p/api/7/envelope/", Some(&good_auth()), &transaction()),
            "/p",
            7,
        );
        assert_eq!(r.status, 200);
        assert_eq!(body(&r), json!({"id": ID}));
        let got = &state.events[0];
        assert_eq!(
            (
                got.project_id,
                got.path_prefix.as_str(),
                got.public_key.as_str()
            ),
            (7, "/p", KEY)
        );
        assert_eq!(got.client.as_deref(), Some("vault-fetch-relay/0.1.0"));
        assert_eq!(
            (got.event_id.as_str(), got.item_type.as_str()),
            (ID, "transaction")
        );
        assert_eq!(
            log_line(&got.event_id, &got.item_type, &got.payload, 7),
            format!("dev-server: event {ID} (transaction deployment.completion x) for project 7")
        );
    }

    #[test]
    fn auth_is_checked_as_relay_checks_it() {
        let cases: &[(Option<&str>, &str, u16, &str)] = &[
            (None, "", 401, "missing authorization information"),
            (
                Some("Sentry sentry_version=7"),
                "",
                401,
                "bad x-sentry-auth header",
            ),
            (
                Some(&format!("Sentry sentry_key={KEY}")),
                "",
                401,
                "bad x-sentry-auth header",
            ),
            (
                Some(&format!("Sentry sentry_key={KEY}, sentry_version=6")),
                "",
                400,
                "unsupported protocol version (6)",
            ),
            (
                Some("Sentry sentry_key=public, sentry_version=7"),
                "",
                400,
                "bad sentry DSN public key",
            ),
            (
                Some(&good_auth()),
                "?sentry_key=x",
                401,
                "multiple authorization payloads detected",
            ),
        ];
        for (header, query, status, text) in cases {
            let mut state = State::default();
            let path = format!("/api/1/envelope/{query}");
            let r = handle(&mut state, &post(&path, *header, &transaction()), "", 1);
            assert_eq!(
                (r.status, body(&r)["detail"].as_str()),
                (*status, Some(*text)),
                "{header:?}"
            );
            assert!(state.events.is_empty());
        }
        // The query form alone is fine.
        let mut state = State::default();
        let path = format!("/api/1/envelope/?sentry_version=7&sentry_key={KEY}");
        assert_eq!(
            handle(&mut state, &post(&path, None, &transaction()), "", 1).status,
            200
        );
    }

    #[test]
    fn unknown_keys_and_broken_envelopes_are_refused() {
        let mut state = State::default();
        state.dsn_keys.insert("0".repeat(32));
        let req = post("/api/1/envelope/", Some(&good_auth()), &transaction());
        let r = handle(&mut state, &req, "", 1);
        assert_eq!(r.status, 403);
        assert_eq!(
            body(&r)["detail"],
            "event submission rejected with_reason: ProjectId"
        );
        state.dsn_keys.insert(KEY.into());
        assert_eq!(handle(&mut state, &req, "", 1).status, 200);

        let mut bad = transaction();
        let at = bad.len() - 1;
        bad.insert(at, b' ');
        let r = handle(
            &mut state,
            &post("/api/1/envelope/", Some(&good_auth()), &bad),
            "",
            1,
        );
        assert_eq!(r.status, 400);
        assert_eq!(
            body(&r),
            json!({"detail": "invalid event envelope", "causes": ["missing newline after header or payload"]})
        );
        assert_eq!(state.events.len(), 1, "only the good one");
        let mut get = req.clone();
        get.method = "GET".into();
        assert_eq!(handle(&mut state, &get, "", 1).status, 405);
    }
}
