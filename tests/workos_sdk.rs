//! The dev server speaks the real wire format: the official WorkOS Python SDK can
//! create, read, update and delete objects on it and maps its errors to its own
//! exception types.
//!
//! Needs a Python with `workos` installed (`bash scripts/test` makes one): env
//! `VFR_PYTHON`, default `<repo>/.venv/bin/python`. Without it the test is skipped,
//! unless `VFR_REQUIRE_TOOLS=1`, where it fails.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::{pki, python_with, repo, run_with};
use serde_json::Value;
use vfr_devserver::{generate_api_key, DevServer, DevServerConfig, DEFAULT_SECRET_NAME};

const SCRIPT: &str = "tests/sdk/workos_vault_roundtrip.py";

fn run_script(py: &Path, server: &DevServer, extra: &[&str], envs: &[(&str, &Path)]) -> Value {
    let mut cmd = Command::new(py);
    cmd.arg(repo().join(SCRIPT))
        .arg(server.base_url())
        .args(extra)
        .envs(envs.iter().copied())
        // The key goes through the environment, never argv (visible in `ps`).
        .env("WORKOS_DEV_TEST_API_KEY", server.api_key())
        .env_remove("WORKOS_API_KEY")
        .env_remove("WORKOS_BASE_URL");
    let out = run_with(cmd, "", Duration::from_secs(90));
    assert!(
        out.success(),
        "SDK script failed ({:?}):\n{}",
        out.code,
        out.text()
    );
    let last = out.stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: script printed {:?}", out.stdout))
}

#[test]
fn official_python_sdk_round_trip() {
    let Some(py) = python_with("workos") else {
        return;
    };
    let server = DevServer::start(DevServerConfig::loopback(generate_api_key())).unwrap();
    let out = run_script(&py, &server, &[], &[]);
    eprintln!("SDK summary: {out}");

    assert!(out["created_id"].as_str().is_some_and(|s| s.len() == 36));
    assert_eq!(out["created_version_id"].as_str().map(str::len), Some(32));
    assert_eq!(out["created_context"]["organization_id"], "org_test");
    assert_eq!(out["read_back_equal"], true);
    assert_eq!(out["read_name"], "sdk/roundtrip value");
    assert_eq!(out["read_id_matches"], true);
    assert_eq!(out["read_version_matches"], true);
    assert_eq!(out["duplicate"], "ConflictError");
    assert_eq!(out["duplicate_status"], 409);
    assert_eq!(out["missing"], "NotFoundError");
    assert!(out["missing_request_id"]
        .as_str()
        .is_some_and(|s| s.starts_with("req_")));
    assert_eq!(out["wrong_key"], "AuthenticationError");
    assert_eq!(out["wrong_key_status"], 401);
    assert_eq!(out["updated_version_changed"], true);
    assert_eq!(out["stale_update"], "ConflictError");
    assert_eq!(out["read_after_update"], "v2");
    assert_eq!(out["describe_name"], "sdk/roundtrip value");
    assert_eq!(out["versions"], 2);
    assert_eq!(out["current_versions"], 1);
    assert_eq!(
        out["listed_names"],
        serde_json::json!(["sdk/roundtrip value"])
    );
    assert_eq!(out["after_delete"], "NotFoundError");

    // The server saw what the SDK sent: one path segment for the name, the key as a
    // Bearer token, and the SDK's own User-Agent.
    let log = server.requests();
    let create = &log[0];
    assert_eq!(
        (create.method.as_str(), create.path.as_str()),
        ("POST", "/vault/v1/kv")
    );
    assert_eq!(create.status, Some(201));
    let bearer = format!("Bearer {}", server.api_key());
    assert_eq!(create.header("authorization"), Some(bearer.as_str()));
    assert!(create
        .header("user-agent")
        .is_some_and(|ua| ua.contains("WorkOS Python")));
    let read = &log[1];
    assert_eq!(read.path, "/vault/v1/kv/name/sdk%2Froundtrip%20value");
    assert_eq!(read.status, Some(200));
    let statuses: Vec<Option<u16>> = log.iter().map(|r| r.status).collect();
    assert!(statuses.contains(&Some(404)) && statuses.contains(&Some(401)));
    assert!(log
        .iter()
        .any(|r| r.method == "DELETE" && r.status == Some(200)));
}

#[test]
fn official_python_sdk_reads_over_tls() {
    let Some(py) = python_with("workos") else {
        return;
    };
    let pki = pki(false, &["localhost"]);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();

    let mut config = DevServerConfig::loopback(generate_api_key());
    config.tls = Some(pki.identity);
    let server = DevServer::start(config).unwrap();
    server.create(DEFAULT_SECRET_NAME, "over-tls").unwrap();

    // httpx (under the SDK) trusts exactly SSL_CERT_FILE when it is set.
    let out = run_script(
        &py,
        &server,
        &["read", DEFAULT_SECRET_NAME],
        &[("SSL_CERT_FILE", ca_file.as_path())],
    );
    assert_eq!(out["value"], "over-tls");
    assert_eq!(server.requests()[0].status, Some(200));
}
