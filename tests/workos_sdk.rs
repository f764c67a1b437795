//! The dev server speaks the real wire format: the official WorkOS Python SDK can
//! create, read, update and delete objects on it and maps its errors to its own
//! exception types.
//!
//! Needs a Python with `workos` installed: env `VFR_PYTHON`, default
//! `<repo>/.venv/bin/python`. Without it the test is skipped, unless
//! `VFR_REQUIRE_TOOLS=1`, where it fails.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vault_fetch_relay::devserver::{
    generate_api_key, DevServer, DevServerConfig, TlsIdentity, DEFAULT_SECRET_NAME,
};

const SCRIPT: &str = "tests/sdk/workos_vault_roundtrip.py";
const SETUP: &str = "python3 -m venv .venv && .venv/bin/pip install workos";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The interpreter to use, or why there is none.
fn python() -> Result<PathBuf, String> {
    let py = std::env::var_os("VFR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/python"));
    if !py.exists() {
        return Err(format!("no Python at {}", py.display()));
    }
    let mut check = Command::new(&py);
    check.args(["-c", "import workos"]);
    match run_bounded(check, Duration::from_secs(30)) {
        Ok(out) if out.status.success() => Ok(py),
        Ok(_) => Err(format!("{} cannot import workos", py.display())),
        Err(e) => Err(format!("running {}: {e}", py.display())),
    }
}

/// Skip (or fail under VFR_REQUIRE_TOOLS=1) when the SDK is not available.
fn python_or_skip() -> Option<PathBuf> {
    match python() {
        Ok(p) => Some(p),
        Err(why) if std::env::var("VFR_REQUIRE_TOOLS").as_deref() == Ok("1") => panic!(
            "{why}; VFR_REQUIRE_TOOLS=1 needs the WorkOS Python SDK: run `{SETUP}` in the repo \
             root (see the README's test command), or set VFR_PYTHON"
        ),
        Err(why) => {
            eprintln!("skipped: {why} (set up with `{SETUP}`)");
            None
        }
    }
}

/// Run a child with a deadline; it is killed when the deadline passes.
fn run_bounded(mut cmd: Command, limit: Duration) -> std::io::Result<Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    // Drain pipes on threads so a chatty child cannot block on a full pipe.
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            kill(&mut child);
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("child still running after {limit:?}; killed"),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

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
    let out = run_bounded(cmd, Duration::from_secs(90)).expect("run the SDK script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "SDK script failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: script printed {stdout:?}"))
}

#[test]
fn official_python_sdk_round_trip() {
    let Some(py) = python_or_skip() else {
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
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let Some(py) = python_or_skip() else {
        return;
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "devserver SDK test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();

    let mut config = DevServerConfig::loopback(generate_api_key());
    config.tls = Some(TlsIdentity {
        cert_chain_pem: leaf.pem(),
        key_pem: leaf_key.serialize_pem(),
    });
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
