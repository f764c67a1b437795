//! The three endpoints, judged the way Sentry's are (getsentry/sentry
//! `api/endpoints/relay/register_challenge.py`, `register_response.py`,
//! `project_configs.py`), with the same `detail` texts.

use std::time::{Duration, Instant, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::verify::{verify, VerifyError};
use super::{State, CHALLENGE_PATH, PROJECT_CONFIGS_PATH, RESPONSE_PATH};
use crate::http::{Request, Response};

/// Sentry's `max_age` for signatures and challenges.
const MAX_AGE: Duration = Duration::from_secs(60);

fn detail(status: u16, text: &str) -> Response {
    Response::json(status, &json!({ "detail": text }))
}

pub(super) fn handle(state: &mut State, req: &Request) -> Response {
    if req.method != "POST" {
        return detail(405, "Method not allowed").with_header("Allow", "POST");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return detail(400, "No valid json body");
    };
    match req.path_only() {
        CHALLENGE_PATH => challenge(state, req, &body).unwrap_or_else(|refusal| refusal),
        RESPONSE_PATH => response(state, req, &body).unwrap_or_else(|refusal| refusal),
        PROJECT_CONFIGS_PATH => project_configs(state, req, &body),
        _ => detail(404, "The requested resource does not exist"),
    }
}

fn signature(req: &Request) -> Result<&str, Response> {
    req.header("x-sentry-relay-signature")
        .ok_or_else(|| detail(400, "Missing relay signature"))
}

fn check_signature(public_key: &str, req: &Request, sig: &str) -> Result<(), Response> {
    verify(public_key, &req.body, sig, MAX_AGE, SystemTime::now()).map_err(|e| match e {
        VerifyError::Expired => detail(400, "signature is too old"),
        VerifyError::Malformed | VerifyError::BadSignature => {
            detail(400, "invalid signature on data")
        }
    })
}

fn header_id_matches(req: &Request, relay_id: &str) -> Result<(), Response> {
    match req.header("x-sentry-relay-id") == Some(relay_id) {
        true => Ok(()),
        false => Err(detail(400, "relay_id in payload did not match header")),
    }
}

fn field<'a>(body: &'a Value, name: &str) -> Result<&'a str, Response> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Response::json(400, &json!({ name: ["This field is required."] })))
}

fn challenge(state: &mut State, req: &Request, body: &Value) -> Result<Response, Response> {
    let relay_id = field(body, "relay_id")?;
    let public_key = field(body, "public_key")?;
    if !vfr_credentials::keys::is_uuid(relay_id) {
        return Err(Response::json(
            400,
            &json!({"relay_id": ["Must be a valid UUID."]}),
        ));
    }
    if state.closed && !state.trusted.contains(public_key) {
        return Err(detail(403, "Relay is not allowed to register"));
    }
    let sig = signature(req)?;
    // Bootstrap: the request is signed by the key it registers.
    check_signature(public_key, req, sig)?;
    header_id_matches(req, relay_id)?;
    if state
        .registered
        .get(relay_id)
        .is_some_and(|known| known != public_key)
    {
        return Err(detail(
            400,
            "Attempted to register agent with a different public key",
        ));
    }
    let token = URL_SAFE_NO_PAD.encode(vfr_credentials::keys::random_bytes::<48>());
    state
        .challenges
        .retain(|_, (_, _, at)| at.elapsed() < MAX_AGE);
    state.challenges.insert(
        token.clone(),
        (relay_id.to_string(), public_key.to_string(), Instant::now()),
    );
    Ok(Response::json(
        200,
        &json!({"relay_id": relay_id, "token": token}),
    ))
}

fn response(state: &mut State, req: &Request, body: &Value) -> Result<Response, Response> {
    let relay_id = field(body, "relay_id")?;
    let token = field(body, "token")?;
    let sig = signature(req)?;
    let Some((id, public_key, issued)) = state.challenges.get(token).cloned() else {
        return Err(detail(400, "invalid signature on data"));
    };
    if issued.elapsed() > MAX_AGE {
        return Err(detail(401, "Challenge expired"));
    }
    check_signature(&public_key, req, sig)?;
    if id != relay_id {
        return Err(detail(400, "relay_id in payload did not match header"));
    }
    header_id_matches(req, relay_id)?;
    state.challenges.remove(token);
    state.registered.insert(id.clone(), public_key);
    Ok(Response::json(200, &json!({ "relay_id": id })))
}

fn project_configs(state: &mut State, req: &Request, body: &Value) -> Response {
    // Sentry's RelayAuthentication: a registered relay, signed with its key.
    let relay_id = req.header("x-sentry-relay-id").unwrap_or_default();
    let Some(public_key) = state.registered.get(relay_id).cloned() else {
        return detail(401, "Unknown relay");
    };
    let Some(sig) = req.header("x-sentry-relay-signature") else {
        return detail(401, "Missing relay signature");
    };
    if check_signature(&public_key, req, sig).is_err() {
        return detail(401, "Invalid relay signature");
    }
    if body.get("fullConfig").and_then(Value::as_bool) == Some(true) {
        return Response::json(
            403,
            &json!("Relay unauthorized for full config information"),
        );
    }
    let disabled = std::mem::take(&mut state.disable_next_projects);
    let served = !disabled && state.trusted.contains(&public_key);
    let mut configs = serde_json::Map::new();
    for key in body
        .get("publicKeys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let config = match served && state.dsn_keys.contains(key) {
            true => json!({
                "disabled": false,
                "slug": "dev-project",
                "publicKeys": [{"publicKey": key, "isEnabled": true}],
                "config": {},
            }),
            false => json!({"disabled": true}),
        };
        configs.insert(key.to_string(), config);
    }
    Response::json(200, &json!({ "configs": configs }))
}
