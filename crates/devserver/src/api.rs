//! Routing and the WorkOS Vault JSON shapes. The shapes follow what the official
//! Python SDK (`workos` 10.x, `workos/vault/models`) parses: create returns the bare
//! metadata object, update/describe return `{id, name, metadata}`, reads add `value`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::http::{decode_path_segment, parse_query, Request, Response};
use super::store::{Object, Order, Store, StoreError};

const KV_PREFIX: &str = "/vault/v1/kv";

/// Who "updated" objects, as shown in `metadata.updated_by`.
const UPDATED_BY_ID: &str = "key_dev_server";
const UPDATED_BY_NAME: &str = "vault-fetch-relay dev server";

/// Answer one request. Auth comes first, as on the real API: an unauthenticated
/// caller learns nothing about which routes or objects exist.
pub(crate) fn handle(api_key: &str, store: &Mutex<Store>, req: &Request) -> Response {
    if !authorized(api_key, req) {
        return Response::json(
            401,
            &json!({"message": "Unauthorized", "code": "unauthorized"}),
        );
    }
    // A poisoned lock only means another handler panicked; the data is still usable.
    let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
    route(&mut store, req)
}

fn authorized(api_key: &str, req: &Request) -> bool {
    let Some(value) = req.header("authorization") else {
        return false;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer") && constant_time_eq(token.trim(), api_key)
}

/// Compare without an early exit, so response timing does not reveal a key prefix.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The resources under `/vault/v1/kv`, with path segments already percent-decoded.
enum Route {
    Collection,
    ByName(String),
    Object(String),
    Metadata(String),
    Versions(String),
}

/// Map a path to a route; `Err` is the response for paths that match nothing.
fn parse_route(path: &str) -> Result<Route, Response> {
    let rest = match path.strip_prefix(KV_PREFIX) {
        Some("") | Some("/") => return Ok(Route::Collection),
        // The prefix must end at a segment boundary: /vault/v1/kvx is not ours.
        Some(rest) => rest.strip_prefix('/').ok_or_else(not_found_route)?,
        None => return Err(not_found_route()),
    };
    let decode = |seg: &str| {
        decode_path_segment(seg)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad_request("path segment is empty or not percent-encoded UTF-8"))
    };
    let segments: Vec<&str> = rest.split('/').collect();
    match segments.as_slice() {
        ["name", name] => Ok(Route::ByName(decode(name)?)),
        [id] => Ok(Route::Object(decode(id)?)),
        [id, "metadata"] => Ok(Route::Metadata(decode(id)?)),
        [id, "versions"] => Ok(Route::Versions(decode(id)?)),
        _ => Err(not_found_route()),
    }
}

fn route(store: &mut Store, req: &Request) -> Response {
    let route = match parse_route(req.path_only()) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let env = store.environment_id.clone();
    match (route, req.method.as_str()) {
        (Route::Collection, "GET") => list(store, req),
        (Route::Collection, "POST") => create(store, req),
        (Route::Collection, _) => method_not_allowed("GET, POST"),
        (Route::ByName(name), "GET") => found(store.by_name(&name), |o| object_json(o, &env, true)),
        (Route::ByName(_), _) => method_not_allowed("GET"),
        (Route::Object(id), "GET") => found(store.by_id(&id), |o| object_json(o, &env, true)),
        (Route::Object(id), "PUT") => update(store, &id, req),
        (Route::Object(id), "DELETE") => delete(store, &id, req),
        (Route::Object(_), _) => method_not_allowed("GET, PUT, DELETE"),
        (Route::Metadata(id), "GET") => found(store.by_id(&id), |o| object_json(o, &env, false)),
        (Route::Versions(id), "GET") => found(store.by_id(&id), versions_json),
        (Route::Metadata(_) | Route::Versions(_), _) => method_not_allowed("GET"),
    }
}

/// 200 with `render(obj)`, or the Vault 404.
fn found(obj: Option<&Object>, render: impl FnOnce(&Object) -> Value) -> Response {
    match obj {
        Some(o) => Response::json(200, &render(o)),
        None => store_error(StoreError::NotFound),
    }
}

fn create(store: &mut Store, req: &Request) -> Response {
    let body = match json_body(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(name) = body.get("name").and_then(Value::as_str) else {
        return unprocessable("name is required and must be a string");
    };
    let Some(value) = body.get("value").and_then(Value::as_str) else {
        return unprocessable("value is required and must be a string");
    };
    let context = match body.get("key_context") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(m)) => {
            let mut ctx = BTreeMap::new();
            for (k, v) in m {
                let Some(v) = v.as_str() else {
                    return unprocessable("key_context values must be strings");
                };
                ctx.insert(k.clone(), v.to_string());
            }
            ctx
        }
        Some(_) => return unprocessable("key_context must be an object"),
    };
    let env = store.environment_id.clone();
    match store.create(name, value, context) {
        Ok(obj) => Response::json(201, &metadata_json(obj, &env)),
        Err(e) => store_error(e),
    }
}

fn update(store: &mut Store, id: &str, req: &Request) -> Response {
    let body = match json_body(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(value) = body.get("value").and_then(Value::as_str) else {
        return unprocessable("value is required and must be a string");
    };
    let version_check = match body.get("version_check") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return unprocessable("version_check must be a string"),
    };
    let env = store.environment_id.clone();
    match store.update(id, value, version_check) {
        Ok(obj) => Response::json(201, &object_json(obj, &env, false)),
        Err(e) => store_error(e),
    }
}

fn delete(store: &mut Store, id: &str, req: &Request) -> Response {
    let query = parse_query(req.query());
    let version_check = query
        .iter()
        .find(|(k, _)| k == "version_check")
        .map(|(_, v)| v.as_str());
    match store.delete(id, version_check) {
        Ok(obj) => Response::json(200, &json!({"name": obj.name, "success": true})),
        Err(e) => store_error(e),
    }
}

fn list(store: &Store, req: &Request) -> Response {
    let query = parse_query(req.query());
    let get = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let limit = match get("limit") {
        None => 10,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => return unprocessable("limit must be between 1 and 100"),
        },
    };
    let order = match get("order") {
        None | Some("desc") => Order::Desc,
        Some("asc") => Order::Asc,
        Some(_) => return unprocessable("order must be asc or desc"),
    };
    let (page, next) = store.list(
        order,
        get("search").filter(|s| !s.is_empty()),
        get("after"),
        limit,
    );
    let data: Vec<Value> = page
        .iter()
        .map(|o| json!({"id": o.id, "name": o.name, "updated_at": o.current().created_at}))
        .collect();
    Response::json(
        200,
        &json!({"data": data, "list_metadata": {"before": null, "after": next}}),
    )
}

fn json_body(req: &Request) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad_request("request body must be a JSON object")),
        Err(_) => Err(bad_request("request body is not valid JSON")),
    }
}

/// `metadata` as WorkOS returns it; also the whole body of a create response.
pub(crate) fn metadata_json(obj: &Object, environment_id: &str) -> Value {
    let current = obj.current();
    json!({
        "id": obj.id,
        "context": obj.context,
        "environment_id": environment_id,
        "key_id": obj.key_id,
        "updated_at": current.created_at,
        "updated_by": {"id": UPDATED_BY_ID, "name": UPDATED_BY_NAME},
        "version_id": current.id,
    })
}

/// `{id, name, metadata}` plus `value` for reads.
pub(crate) fn object_json(obj: &Object, environment_id: &str, with_value: bool) -> Value {
    let mut v = json!({
        "id": obj.id,
        "name": obj.name,
        "metadata": metadata_json(obj, environment_id),
    });
    if with_value {
        v["value"] = Value::String(obj.current().value.clone());
    }
    v
}

fn versions_json(obj: &Object) -> Value {
    let current = obj.current().id.as_str();
    let data: Vec<Value> = obj
        .versions
        .iter()
        .rev()
        .map(|v| {
            json!({
                "id": v.id,
                "created_at": v.created_at,
                "current_version": v.id == current,
                "etag": v.etag,
                "size": v.value.len(),
            })
        })
        .collect();
    json!({"data": data, "list_metadata": {"before": null, "after": null}})
}

fn store_error(e: StoreError) -> Response {
    let status = match e {
        StoreError::NotFound => 404,
        StoreError::NameTaken | StoreError::VersionMismatch => 409,
        StoreError::InvalidName(_) => 422,
    };
    Response::json(status, &json!({"error": e.to_string()}))
}

fn bad_request(msg: &str) -> Response {
    Response::json(400, &json!({"error": msg}))
}

fn unprocessable(msg: &str) -> Response {
    Response::json(422, &json!({"error": msg}))
}

fn not_found_route() -> Response {
    Response::json(404, &json!({"message": "Not Found", "code": "not_found"}))
}

fn method_not_allowed(allow: &str) -> Response {
    Response::json(
        405,
        &json!({"message": "Method Not Allowed", "code": "method_not_allowed"}),
    )
    .with_header("Allow", allow)
}

/// A plain error body for requests the HTTP layer rejected (400, 413, 431, 501).
pub(crate) fn http_error(status: u16, message: &str) -> Response {
    Response::json(status, &json!({"error": message}))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk_test_k";

    fn call(store: &Mutex<Store>, method: &str, path: &str, body: &str) -> (u16, Value) {
        let req = Request {
            method: method.into(),
            path: path.into(),
            headers: vec![("authorization".into(), format!("Bearer {KEY}"))],
            body: body.as_bytes().to_vec(),
        };
        let resp = handle(KEY, store, &req);
        let v = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        (resp.status, v)
    }

    #[test]
    fn create_read_update_delete_round_trip() {
        let store = Mutex::new(Store::new());
        let (s, created) = call(
            &store,
            "POST",
            "/vault/v1/kv",
            r#"{"name":"db/pass one","value":"v1","key_context":{"org":"o1"}}"#,
        );
        assert_eq!(s, 201, "{created}");
        assert_eq!(created["context"]["org"], "o1");
        let id = created["id"].as_str().unwrap().to_string();

        let (s, got) = call(&store, "GET", "/vault/v1/kv/name/db%2Fpass%20one", "");
        assert_eq!(s, 200);
        assert_eq!(got["value"], "v1");
        assert_eq!(got["metadata"]["version_id"], created["version_id"]);

        let stale = created["version_id"].as_str().unwrap();
        let body = format!(r#"{{"value":"v2","version_check":"{stale}"}}"#);
        let (s, updated) = call(&store, "PUT", &format!("/vault/v1/kv/{id}"), &body);
        assert_eq!(s, 201);
        assert!(updated.get("value").is_none());
        let (s, err) = call(&store, "PUT", &format!("/vault/v1/kv/{id}"), &body);
        assert_eq!((s, err["error"].as_str()), (409, Some("Version mismatch")));

        let (s, versions) = call(&store, "GET", &format!("/vault/v1/kv/{id}/versions"), "");
        assert_eq!(s, 200);
        assert_eq!(versions["data"].as_array().unwrap().len(), 2);
        assert_eq!(versions["data"][0]["current_version"], true);

        let (s, list) = call(&store, "GET", "/vault/v1/kv?limit=5&search=pass", "");
        assert_eq!(s, 200);
        assert_eq!(list["data"][0]["name"], "db/pass one");

        let (s, del) = call(&store, "DELETE", &format!("/vault/v1/kv/{id}"), "");
        assert_eq!((s, del["success"].as_bool()), (200, Some(true)));
        let (s, err) = call(&store, "GET", &format!("/vault/v1/kv/{id}"), "");
        assert_eq!((s, err["error"].as_str()), (404, Some("Object not found")));
    }

    #[test]
    fn validation_conflicts_and_routing_errors() {
        let store = Mutex::new(Store::new());
        assert_eq!(
            call(
                &store,
                "POST",
                "/vault/v1/kv",
                r#"{"name":"a","value":"1"}"#
            )
            .0,
            201
        );
        assert_eq!(
            call(
                &store,
                "POST",
                "/vault/v1/kv",
                r#"{"name":"a","value":"1"}"#
            )
            .0,
            409
        );
        assert_eq!(
            call(&store, "POST", "/vault/v1/kv", r#"{"value":"1"}"#).0,
            422
        );
        assert_eq!(
            call(&store, "POST", "/vault/v1/kv", r#"{"name":"b"}"#).0,
            422
        );
        let long = format!(r#"{{"name":"{}","value":"1"}}"#, "x".repeat(201));
        assert_eq!(call(&store, "POST", "/vault/v1/kv", &long).0, 422);
        assert_eq!(call(&store, "POST", "/vault/v1/kv", "{not json").0, 400);
        assert_eq!(call(&store, "PATCH", "/vault/v1/kv", "").0, 405);
        assert_eq!(call(&store, "POST", "/vault/v1/kv/name/a", "").0, 405);
        let (s, v) = call(&store, "GET", "/vault/v1/other", "");
        assert_eq!((s, v["code"].as_str()), (404, Some("not_found")));
        assert_eq!(call(&store, "GET", "/vault/v1/kvx", "").0, 404);
        assert_eq!(call(&store, "GET", "/vault/v1/kv/a/b/c", "").0, 404);
        assert_eq!(call(&store, "GET", "/vault/v1/kv/", "").0, 200);
        assert_eq!(call(&store, "GET", "/vault/v1/kv/name/", "").0, 400);
        assert_eq!(call(&store, "GET", "/vault/v1/kv/name/%FF", "").0, 400);
        assert_eq!(call(&store, "GET", "/vault/v1/kv/nope/metadata", "").0, 404);
        assert_eq!(
            call(&store, "DELETE", "/vault/v1/kv/nope/versions", "").0,
            405
        );
    }

    #[test]
    fn auth_is_checked_first() {
        let store = Mutex::new(Store::new());
        for auth in [
            None,
            Some("Bearer wrong"),
            Some("Basic sk_test_k"),
            Some("Bearer"),
        ] {
            let req = Request {
                method: "GET".into(),
                path: "/nowhere".into(),
                headers: auth
                    .map(|a| vec![("authorization".to_string(), a.to_string())])
                    .unwrap_or_default(),
                body: Vec::new(),
            };
            let resp = handle(KEY, &store, &req);
            assert_eq!(resp.status, 401);
            assert_eq!(
                String::from_utf8(resp.body).unwrap(),
                r#"{"code":"unauthorized","message":"Unauthorized"}"#
            );
        }
    }
}
