//! HTTPS_PROXY and NO_PROXY against a real CONNECT proxy on loopback. The proxy plays
//! DNS too: whatever host the client asks for, it tunnels to the dev server, so the
//! API base can be a non-loopback name without any traffic leaving the machine.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;
use serde_json::json;

/// A minimal CONNECT proxy: records each request head, tunnels to `target`.
struct ConnectProxy {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    fn start(target: SocketAddr) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let log = heads.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || tunnel(client, target, log));
            }
        });
        ConnectProxy { addr, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// Read a proxy request's head (to its blank line), logged; the reader keeps what follows.
fn read_head(client: &TcpStream, log: &Mutex<Vec<String>>) -> (BufReader<TcpStream>, String) {
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    log.lock().unwrap().push(head.clone());
    (reader, head)
}

fn tunnel(client: TcpStream, target: SocketAddr, log: Arc<Mutex<Vec<String>>>) {
    let (mut reader, head) = read_head(&client, &log);
    let mut client = client;
    if !head.starts_with("CONNECT ") {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    let upstream = TcpStream::connect(target).unwrap();
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    let (mut up_r, mut up_w) = (upstream.try_clone().unwrap(), upstream);
    let mut down_w = client.try_clone().unwrap();
    let t = std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut up_w);
        let _ = up_w.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut up_r, &mut down_w);
    let _ = down_w.shutdown(std::net::Shutdown::Both);
    let _ = t.join();
}

#[test]
fn https_proxy_tunnels_and_no_proxy_bypasses() {
    let pki = pki(false, &["vault.test"]);
    let s = tls_server(pki.identity);
    let c = seed(&s, NAME);
    let proxy = ConnectProxy::start(s.addr());
    let dir = tempfile::tempdir().unwrap();
    let ca = write_temp(dir.path(), "ca.pem", &pki.ca_pem);
    let proxy_url = format!("http://{}", proxy.addr);
    let query = json!({"api_key": CANARY_KEY, "api_base": format!("https://vault.test:{}", s.addr().port()), "timeout_seconds": "5"});

    let run = terraform(
        &query,
        &[
            ("HTTPS_PROXY", &proxy_url),
            ("SSL_CERT_FILE", ca.to_str().unwrap()),
        ],
    );
    let m = run.terraform_map();
    assert_eq!(m["status"], "found", "{m:?} {}", run.stderr);
    assert_eq!(m["relay_id"], c.relay_id);
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with(&format!("CONNECT vault.test:{} ", s.addr().port())),
        "{heads:?}"
    );
    // The API key travels inside the tunnel, never in the proxy's view.
    assert!(!heads[0].contains(CANARY_KEY), "{heads:?}");
    assert_eq!(s.request_count(), 1);

    // NO_PROXY names the host, so the client must resolve vault.test itself. It runs in
    // an empty network namespace: the lookup fails at once and no query leaves the
    // machine. Had NO_PROXY been ignored, the error would be about the proxy instead.
    if !netns_available() {
        note_skip("the NO_PROXY half of the proxy test needs `unshare -n`");
        return;
    }
    let mut c = cmd_netns(&[]);
    c.env("https_proxy", &proxy_url)
        .env("NO_PROXY", "localhost,.test")
        .env("SSL_CERT_FILE", ca.to_str().unwrap())
        .env("RUST_LOG", "debug");
    let run = run_with(c, &query.to_string(), Duration::from_secs(30));
    let m = run.terraform_map();
    assert_eq!(m["status"], "unavailable");
    assert!(
        m["reason"].contains("cannot resolve the host "),
        "{}",
        m["reason"]
    );
    assert!(!run.stderr.contains("using proxy"), "{}", run.stderr);
    assert_eq!(proxy.heads().len(), 1, "NO_PROXY must bypass the proxy");
}

#[test]
fn proxy_urls_are_checked_and_never_echoed() {
    let query =
        json!({"api_key": CANARY_KEY, "api_base": "https://vault.test", "timeout_seconds": "2"});
    let run = terraform(
        &query,
        &[("HTTPS_PROXY", "http://user:hunter2@127.0.0.1:9")],
    );
    assert_eq!(run.terraform_map()["status"], "unavailable");
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);

    for proxy in [
        "https://user:hunter2@proxy.corp:3129",
        "socks5://user:hunter2@127.0.0.1:1080",
    ] {
        let run = terraform(&query, &[("HTTPS_PROXY", proxy)]);
        assert_eq!(run.code, Some(1), "{run:?}");
        assert!(
            run.stderr.contains("only http:// proxies are supported"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }
}

/// A malformed proxy setting is a configuration error at once (exit 1, no request,
/// no retries), naming the variable that held it, whichever spelling was used.
#[test]
fn malformed_proxy_urls_exit_1_at_once_naming_the_variable() {
    let query =
        json!({"api_key": CANARY_KEY, "api_base": "https://vault.test", "timeout_seconds": "10"});
    for (var, proxy) in [
        ("HTTPS_PROXY", "http://:3128"),
        ("HTTPS_PROXY", "http://"),
        ("https_proxy", "::::"),
        ("HTTPS_PROXY", "http://[::1"),
        ("ALL_PROXY", "foo bar"),
        ("all_proxy", "http://proxy:99999"),
    ] {
        let started = std::time::Instant::now();
        let run = terraform(&query, &[(var, proxy)]);
        assert_eq!(run.code, Some(1), "{var}={proxy}: {run:?}");
        let line = run.stderr.trim();
        assert!(
            line.contains(&format!("{var} is not a valid proxy URL")),
            "{var}={proxy}: {line}"
        );
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{var}={proxy} took {:?}: it must not retry",
            started.elapsed()
        );
    }
}

/// A proxy host that does not resolve is named as the proxy's (with its variable), not
/// reported as the api host's. Run in an empty network namespace: no query leaves.
#[test]
fn an_unresolvable_proxy_host_names_the_proxy_variable() {
    if !netns_available() {
        note_skip("the unresolvable-proxy test needs `unshare -n`");
        return;
    }
    let query =
        json!({"api_key": CANARY_KEY, "api_base": "https://vault.test", "timeout_seconds": "3"});
    let mut c = cmd_netns(&[]);
    c.env("HTTPS_PROXY", "http://proxy.invalid:3128");
    let run = run_with(c, &query.to_string(), Duration::from_secs(30));
    let m = run.terraform_map();
    assert_eq!(m["status"], "unavailable", "{m:?}");
    assert!(
        m["reason"].contains("cannot resolve the proxy host in HTTPS_PROXY"),
        "{}",
        m["reason"]
    );
}

/// A proxy that wants credentials (407 to CONNECT) is a configuration error: said so,
/// never retried. The 407 is read from ureq's CONNECT failure (`ConnectProxyFailed`),
/// part of the ureq contract Cargo.toml's exact pin guards.
#[test]
fn a_proxy_asking_for_credentials_is_refused_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let log = heads.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            read_head(&client, &log);
            let mut client = client;
            let _ = client.write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n",
            );
        }
    });
    let query =
        json!({"api_key": CANARY_KEY, "api_base": "https://vault.test", "timeout_seconds": "10"});
    let run = terraform(&query, &[("HTTPS_PROXY", &format!("http://{addr}"))]);
    let m = run.terraform_map();
    assert_eq!(m["status"], "unavailable", "{m:?}");
    assert!(
        m["reason"].contains("the proxy answered 407: it needs credentials"),
        "{}",
        m["reason"]
    );
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "retried: {heads:?}");
    assert!(heads[0].starts_with("CONNECT vault.test:443 "), "{heads:?}");
}
