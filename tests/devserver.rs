//! The dev server over real sockets, driven with hand-written HTTP/1.1 so the test
//! depends on no HTTP client. Every socket has a read timeout: no test can hang.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use vfr_devserver::DEFAULT_SECRET_NAME;

use crate::support::*;

const TIMEOUT: Duration = Duration::from_secs(5);

fn connect(s: &DevServer) -> TcpStream {
    let c = TcpStream::connect(s.addr()).expect("connect");
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    c.set_write_timeout(Some(TIMEOUT)).unwrap();
    c
}

fn request_text(method: &str, path: &str, key: Option<&str>, body: &str) -> String {
    let auth = key
        .map(|k| format!("Authorization: Bearer {k}\r\n"))
        .unwrap_or_default();
    format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Read until EOF, error or timeout; return what arrived and how the read ended.
fn read_all(c: &mut impl Read) -> (Vec<u8>, Option<ErrorKind>) {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Some(e.kind())),
        }
    }
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn parse_reply(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    Reply {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn call(s: &DevServer, method: &str, path: &str, key: Option<&str>, body: &str) -> Reply {
    let mut c = connect(s);
    c.write_all(request_text(method, path, key, body).as_bytes())
        .unwrap();
    let (raw, err) = read_all(&mut c);
    assert_eq!(err, None, "response did not end cleanly");
    parse_reply(&raw)
}

fn get(s: &DevServer, path: &str) -> Reply {
    call(s, "GET", path, Some(CANARY_KEY), "")
}

#[test]
fn read_by_name_found_missing_and_unauthorized() {
    let s = server();
    let created = s.create("db/pass one", "hunter2").unwrap();

    let r = get(&s, "/vault/v1/kv/name/db%2Fpass%20one");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(r.header("x-request-id").unwrap().starts_with("req_"));
    let v = r.json();
    assert_eq!(v["value"], "hunter2");
    assert_eq!(v["name"], "db/pass one");
    assert_eq!(v["id"], created.id.as_str());
    assert_eq!(v["metadata"]["version_id"], created.version_id.as_str());
    assert_eq!(v["metadata"]["updated_at"], created.updated_at.as_str());

    let r = get(&s, "/vault/v1/kv/name/nope");
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (404, Some("Object not found"))
    );

    for key in [None, Some("sk_test_wrong")] {
        let r = call(&s, "GET", "/vault/v1/kv/name/db%2Fpass%20one", key, "");
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["code"], "unauthorized");
        assert!(!r.body.contains("hunter2"));
    }

    // Request ids differ per response.
    let a = get(&s, "/vault/v1/kv/name/nope").header("x-request-id");
    let b = get(&s, "/vault/v1/kv/name/nope").header("x-request-id");
    assert_ne!(a, b);
}

#[test]
fn seeding_helpers_share_the_api_store() {
    let s = server();
    let first = s.set_value(DEFAULT_SECRET_NAME, "v1").unwrap();
    let second = s.set_value(DEFAULT_SECRET_NAME, "v2").unwrap();
    assert_eq!(first.id, second.id);
    assert_ne!(first.version_id, second.version_id);
    assert!(s.create(DEFAULT_SECRET_NAME, "dup").is_err());
    let r = get(&s, &format!("/vault/v1/kv/name/{DEFAULT_SECRET_NAME}"));
    assert_eq!(r.json()["value"], "v2");

    // Writes through the API are visible to the helpers and vice versa.
    let r = call(
        &s,
        "POST",
        "/vault/v1/kv",
        Some(CANARY_KEY),
        r#"{"name":"x","value":"1","key_context":{}}"#,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(s.remove("x"));
    assert!(!s.remove("x"));
    assert_eq!(get(&s, "/vault/v1/kv/name/x").status, 404);
}

#[test]
fn request_log_records_what_arrived() {
    let s = server();
    s.create("a", "secret-value").unwrap();
    get(&s, "/vault/v1/kv/name/a?x=1");
    call(&s, "GET", "/nowhere", Some("sk_test_wrong"), "");
    s.push_fault(Fault::status(503, r#"{"message":"down"}"#));
    get(&s, "/vault/v1/kv/name/a");

    let log = s.requests();
    assert_eq!(s.request_count(), 3);
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/vault/v1/kv/name/a?x=1");
    assert_eq!(log[0].status, Some(200));
    assert_eq!(
        log[0].header("Authorization"),
        Some(format!("Bearer {CANARY_KEY}").as_str())
    );
    assert_eq!(log[0].peer_host_header.as_deref(), Some("localhost"));
    assert!(log[0]
        .headers
        .iter()
        .all(|(k, _)| *k == k.to_ascii_lowercase()));
    assert_eq!(
        (log[1].path.as_str(), log[1].status),
        ("/nowhere", Some(401))
    );
    assert_eq!(log[2].status, Some(503));
}

#[test]
fn routes_methods_and_limits() {
    let s = server();
    let r = get(&s, "/vault/v1/unknown");
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (404, Some("not_found"))
    );
    assert_eq!(
        call(&s, "PATCH", "/vault/v1/kv/name/a", Some(CANARY_KEY), "").status,
        405
    );

    // Oversized head: 431.
    let mut c = connect(&s);
    let big = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(20 * 1024));
    c.write_all(big.as_bytes()).unwrap();
    assert_eq!(parse_reply(&read_all(&mut c).0).status, 431);

    // Oversized body: 413, answered without reading the body.
    let mut c = connect(&s);
    c.write_all(b"POST /vault/v1/kv HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n{")
        .unwrap();
    assert_eq!(parse_reply(&read_all(&mut c).0).status, 413);

    // Garbage: 400 and close.
    let mut c = connect(&s);
    c.write_all(b"\x00\x01garbage\r\n\r\n").unwrap();
    assert_eq!(parse_reply(&read_all(&mut c).0).status, 400);

    // A client that disconnects mid-request does not hurt the server.
    let mut c = connect(&s);
    c.write_all(b"POST /vault/v1/kv HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"na")
        .unwrap();
    drop(c);
    let c = connect(&s);
    drop(c);
    s.create("still", "up").unwrap();
    assert_eq!(get(&s, "/vault/v1/kv/name/still").status, 200);
}

#[test]
fn fault_respond_and_delay() {
    let s = server();
    s.create("a", "v").unwrap();
    s.push_faults([
        Fault::Respond {
            status: 429,
            headers: vec![("Retry-After".into(), "2".into())],
            body: r#"{"message":"Too many requests.","code":"rate_limit_exceeded"}"#.into(),
        },
        Fault::Delay(Duration::from_millis(300)),
        Fault::DelayThen(
            Duration::from_millis(200),
            Box::new(Fault::status(500, "{}")),
        ),
    ]);
    let r = get(&s, "/vault/v1/kv/name/a");
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("2"));
    assert!(r.header("x-request-id").is_some());

    let t = Instant::now();
    let r = get(&s, "/vault/v1/kv/name/a");
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status, 200);

    let t = Instant::now();
    assert_eq!(get(&s, "/vault/v1/kv/name/a").status, 500);
    assert!(t.elapsed() >= Duration::from_millis(200));

    // Queue drained: normal again.
    assert_eq!(get(&s, "/vault/v1/kv/name/a").status, 200);
}

#[test]
fn fault_hang_holds_the_connection_and_shutdown_is_prompt() {
    let s = server();
    s.push_fault(Fault::Hang);
    let mut c = connect(&s);
    c.set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    c.write_all(request_text("GET", "/vault/v1/kv/name/a", Some(CANARY_KEY), "").as_bytes())
        .unwrap();
    let (got, err) = read_all(&mut c);
    assert!(got.is_empty());
    assert!(
        matches!(err, Some(ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "{err:?}"
    );
    assert_eq!(s.requests()[0].status, None);

    let t = Instant::now();
    s.shutdown();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "shutdown took {:?}",
        t.elapsed()
    );
    // The held connection is released: EOF or reset, not a timeout.
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    let (_, err) = read_all(&mut c);
    assert!(!matches!(
        err,
        Some(ErrorKind::WouldBlock | ErrorKind::TimedOut)
    ));
}

#[test]
fn fault_close_without_response() {
    let s = server();
    s.push_fault(Fault::CloseWithoutResponse);
    let mut c = connect(&s);
    c.write_all(request_text("GET", "/vault/v1/kv/name/a", Some(CANARY_KEY), "").as_bytes())
        .unwrap();
    let (got, err) = read_all(&mut c);
    assert!(got.is_empty());
    assert!(!matches!(
        err,
        Some(ErrorKind::WouldBlock | ErrorKind::TimedOut)
    ));
    assert_eq!(s.requests()[0].status, None);
}

#[test]
fn fault_headers_then_stall() {
    let s = server();
    s.push_fault(Fault::HeadersThenStall {
        status: 200,
        content_length: 100,
    });
    let mut c = connect(&s);
    c.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    c.write_all(request_text("GET", "/vault/v1/kv/name/a", Some(CANARY_KEY), "").as_bytes())
        .unwrap();
    let (got, err) = read_all(&mut c);
    let r = parse_reply(&got);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length").as_deref(), Some("100"));
    assert!(r.body.is_empty());
    assert!(
        matches!(err, Some(ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "{err:?}"
    );
    let t = Instant::now();
    drop(s);
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn fault_reset_mid_body() {
    let s = server();
    s.push_fault(Fault::ResetMidBody {
        status: 200,
        body_prefix: r#"{"id":"a","val"#.into(),
        content_length: 500,
    });
    let mut c = connect(&s);
    c.write_all(request_text("GET", "/vault/v1/kv/name/a", Some(CANARY_KEY), "").as_bytes())
        .unwrap();
    let (got, err) = read_all(&mut c);
    // The reset may discard buffered bytes on the client side; whatever arrived is a prefix.
    let text = String::from_utf8_lossy(&got);
    assert!(
        "HTTP/1.1 200 OK".starts_with(&text[..text.len().min(15)]),
        "{text}"
    );
    assert!(text.len() < 500);
    assert_eq!(err, Some(ErrorKind::ConnectionReset), "expected a reset");
    assert_eq!(s.requests()[0].status, Some(200));
}

#[test]
fn fault_raw_bytes_are_sent_verbatim() {
    let s = server();
    let raw =
        b"HTTP/1.1 302 Found\r\nLocation: http://example.invalid/\r\nContent-Length: 0\r\n\r\n"
            .to_vec();
    s.push_faults([
        Fault::Raw(raw.clone()),
        Fault::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"id\":\xff\xfe".to_vec()),
        Fault::Raw(b"<html>bad gateway</html>".to_vec()),
    ]);
    for expected in [
        &raw[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"id\":\xff\xfe",
        b"<html>bad gateway</html>",
    ] {
        let mut c = connect(&s);
        c.write_all(request_text("GET", "/vault/v1/kv/name/a", Some(CANARY_KEY), "").as_bytes())
            .unwrap();
        let (got, err) = read_all(&mut c);
        assert_eq!(err, None);
        assert_eq!(got, expected);
    }
    let statuses: Vec<_> = s.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(302), Some(200), None]);
}

#[test]
fn shutdown_with_idle_and_half_sent_connections_is_prompt() {
    let s = server();
    let idle = connect(&s);
    let mut partial = connect(&s);
    partial
        .write_all(b"GET /vault/v1/kv/name/a HTTP/1.1\r\n")
        .unwrap();
    s.push_fault(Fault::Delay(Duration::from_secs(60)));
    let mut delayed = connect(&s);
    delayed
        .write_all(request_text("GET", "/x", Some(CANARY_KEY), "").as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    s.shutdown();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "shutdown took {:?}",
        t.elapsed()
    );
    let _ = idle.shutdown(Shutdown::Both);
}

// ---- TLS ----

/// A client that trusts only the CA in `ca_pem`.
fn tls_client(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

#[test]
fn tls_serves_requests_to_a_client_trusting_only_the_test_ca() {
    let ours = pki(false, &["localhost"]);
    let s = tls_server(ours.identity);
    assert_eq!(
        s.base_url(),
        format!("https://localhost:{}", s.addr().port())
    );
    s.create(DEFAULT_SECRET_NAME, "tls-value").unwrap();

    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(tls_client(&ours.ca_pem), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, connect(&s));
    tls.write_all(
        request_text(
            "GET",
            &format!("/vault/v1/kv/name/{DEFAULT_SECRET_NAME}"),
            Some(CANARY_KEY),
            "",
        )
        .as_bytes(),
    )
    .unwrap();
    let (got, err) = read_all(&mut tls);
    assert_eq!(err, None, "the server should end with close_notify");
    let r = parse_reply(&got);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["value"], "tls-value");

    // Plain HTTP against the TLS port: handshake fails, server keeps going.
    let mut c = connect(&s);
    c.write_all(request_text("GET", "/", Some(CANARY_KEY), "").as_bytes())
        .unwrap();
    let _ = read_all(&mut c);
    assert_eq!(s.request_count(), 1);

    // A client that does not trust the CA fails the handshake.
    let other = pki(false, &["localhost"]);
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(tls_client(&other.ca_pem), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, connect(&s));
    assert!(
        tls.write_all(b"GET / HTTP/1.1\r\n\r\n")
            .and_then(|_| tls.flush())
            .is_err()
            || read_all(&mut tls).1.is_some()
    );
    assert_eq!(s.request_count(), 1);
}

#[test]
fn bad_tls_material_is_rejected_at_start() {
    let mut cfg = DevServerConfig::loopback(CANARY_KEY);
    cfg.tls = Some(TlsIdentity {
        cert_chain_pem: "not a pem".into(),
        key_pem:
            "-----BEGIN PRIVATE CANARY_KEY-----\nsecret-ish\n-----END PRIVATE CANARY_KEY-----\n"
                .into(),
    });
    let err = DevServer::start(cfg).err().expect("start must fail");
    assert!(!format!("{err:#}").contains("secret-ish"));
}

#[test]
fn expect_100_continue_gets_an_interim_response() {
    let s = server();
    let mut c = connect(&s);
    let body = r#"{"name":"e","value":"1"}"#;
    let head = format!(
        "POST /vault/v1/kv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {CANARY_KEY}\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes()).unwrap();
    let mut interim = [0u8; 25];
    c.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.write_all(body.as_bytes()).unwrap();
    let (raw, _) = read_all(&mut c);
    assert_eq!(parse_reply(&raw).status, 201);
}

#[test]
fn many_concurrent_clients_are_all_answered() {
    let s = Arc::new(server());
    s.create("shared", "v").unwrap();
    let threads: Vec<_> = (0..32)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                (0..10)
                    .map(|_| get(&s, "/vault/v1/kv/name/shared").status)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap().iter().all(|s| *s == 200));
    }
    assert_eq!(s.request_count(), 320);
    assert!(s.requests().iter().all(|r| r.status == Some(200)));
}
