//! A local, in-memory stand-in for the WorkOS Vault HTTP API (like `vault server -dev`).
//!
//! It is both a product feature (`vault-fetch-relay dev-server`, see [`run`]) and the
//! test suite's fake WorkOS, with a fault script for the failure cases. Plain std
//! threads: one accept thread, one thread per connection, one request per connection.

mod api;
mod conn;
mod faults;
mod http;
mod ratelimit;
mod run;
mod store;
mod tls;
mod upstream;

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::Context;

pub use faults::Fault;
pub use ratelimit::{KeyCounts, RateLimit};
pub use run::{run, RunOptions};
pub use upstream::UpstreamSeed;
pub use upstream::{verify, ReceivedEvent, Upstream, UpstreamFault};

use faults::FaultQueue;
use http::Request;
use store::{Object, Store};
use vfr_credentials::keys;

/// The object name the product reads by default.
pub use vfr_credentials::DEFAULT_SECRET_NAME;

/// How many request records are kept; older ones are dropped so a long-running
/// foreground dev server does not grow without bound.
const MAX_RECORDS: usize = 10_000;

/// Open connections beyond this are closed at once: one thread per connection must
/// not let a runaway client exhaust threads.
const MAX_CONNECTIONS: usize = 512;

/// How the server listens and whom it lets in.
#[derive(Clone, Debug)]
pub struct DevServerConfig {
    pub listen: SocketAddr,
    /// Requests with any other `Bearer` key get 401.
    pub api_key: String,
    /// `None`: plain HTTP.
    pub tls: Option<TlsIdentity>,
    /// One stderr line per request: method, path, status, latency. Never headers or bodies.
    pub log_requests: bool,
    /// Answer 429 past N requests per PERIOD per API key, as WorkOS does; `None`: no limit.
    pub rate_limit: Option<RateLimit>,
}

impl DevServerConfig {
    /// 127.0.0.1 on a free port, plain HTTP, quiet: what tests want.
    pub fn loopback(api_key: impl Into<String>) -> Self {
        DevServerConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            api_key: api_key.into(),
            tls: None,
            log_requests: false,
            rate_limit: None,
        }
    }
}

/// A PEM certificate chain (leaf first) and its private key.
#[derive(Clone)]
pub struct TlsIdentity {
    pub cert_chain_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for TlsIdentity {
    // The key is secret; never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field(
                "cert_chain_pem",
                &format!("{} bytes", self.cert_chain_pem.len()),
            )
            .field("key_pem", &"****")
            .finish()
    }
}

/// What seeding calls return: enough to refer to the object afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectSummary {
    pub id: String,
    pub name: String,
    pub version_id: String,
    pub updated_at: String,
}

impl ObjectSummary {
    fn of(o: &Object) -> Self {
        ObjectSummary {
            id: o.id.clone(),
            name: o.name.clone(),
            version_id: o.current().id.clone(),
            updated_at: o.current().created_at.clone(),
        }
    }
}

/// One request as the server received it (also ones answered by a fault).
/// `Debug` masks the `Authorization` value, so a failing assertion that prints the
/// log does not print the API key.
#[derive(Clone)]
pub struct RequestRecord {
    pub method: String,
    /// Raw request target, query included.
    pub path: String,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
    /// `None` if no response was sent (hang, close, client gone).
    pub status: Option<u16>,
    /// The `Host` header the client sent.
    pub peer_host_header: Option<String>,
}

impl RequestRecord {
    pub fn header(&self, name: &str) -> Option<&str> {
        http::find_header(&self.headers, name)
    }
}

impl std::fmt::Debug for RequestRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, String)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let shown = if k == "authorization" {
                    vfr_credentials::secret::mask(v, 11) // "Bearer sk_t****"
                } else {
                    v.clone()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("RequestRecord")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &headers)
            .field("status", &self.status)
            .field("peer_host_header", &self.peer_host_header)
            .finish()
    }
}

/// State shared by the accept thread, connection threads and the handle.
struct Shared {
    api_key: String,
    log_requests: bool,
    tls: Option<Arc<rustls::ServerConfig>>,
    store: Mutex<Store>,
    limiter: Option<ratelimit::Limiter>,
    faults: Mutex<FaultQueue>,
    /// The Sentry upstream side (`/api/0/relays/`), with its own fault script.
    upstream: Upstream,
    /// (sequence number, record), oldest first.
    records: Mutex<VecDeque<(u64, RequestRecord)>>,
    received: AtomicUsize,
    stopping: AtomicBool,
    next_id: AtomicU64,
    /// Clones of open connections, so shutdown can unblock them.
    conns: Mutex<HashMap<u64, TcpStream>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

/// One line of the dev server's log on stderr, whatever the product's verbosity; a stderr
/// that cannot be written is ignored.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Lock, ignoring poisoning: a panicked connection thread must not take the server down.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The 429 to send instead of an answer, when `--rate-limit` says the key is over.
    fn over_limit(&self, req: &Request) -> Option<http::Response> {
        self.limiter.as_ref()?.check(req)
    }

    fn next_fault(&self) -> Option<Fault> {
        lock(&self.faults).next()
    }

    fn record(&self, req: &Request) -> u64 {
        let seq = self.received.fetch_add(1, Ordering::SeqCst) as u64;
        let rec = RequestRecord {
            method: req.method.clone(),
            path: req.path.clone(),
            headers: req.headers.clone(),
            status: None,
            peer_host_header: req.header("host").map(str::to_string),
        };
        let mut records = lock(&self.records);
        if records.len() >= MAX_RECORDS {
            records.pop_front();
        }
        records.push_back((seq, rec));
        seq
    }

    fn set_status(&self, seq: u64, status: Option<u16>) {
        let mut records = lock(&self.records);
        if let Some((_, rec)) = records.iter_mut().rev().find(|(s, _)| *s == seq) {
            rec.status = status;
        }
    }

    fn log_line(&self, method: &str, path: &str, status: Option<u16>, started: Instant) {
        if !self.log_requests {
            return;
        }
        // Path only (no query, headers or body): nothing here is secret.
        let status = status.map_or_else(|| "-".to_string(), |s| s.to_string());
        say(&format!(
            "dev-server: {method} {path} {status} {:.1}ms",
            started.elapsed().as_secs_f64() * 1000.0
        ));
    }

    /// Sleep up to `d`; false if shutdown began meanwhile.
    fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        loop {
            if self.is_stopping() {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            thread::sleep((end - now).min(Duration::from_millis(20)));
        }
    }

    fn unregister(&self, conn_id: u64) {
        lock(&self.conns).remove(&conn_id);
    }
}

/// A running dev server. Dropping it shuts it down.
pub struct DevServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    base_url: String,
    accept: Option<JoinHandle<()>>,
}

impl DevServer {
    /// Bind, spawn the accept thread and return at once.
    pub fn start(config: DevServerConfig) -> anyhow::Result<DevServer> {
        let tls = config
            .tls
            .as_ref()
            .map(tls::server_config)
            .transpose()
            .context("setting up TLS for the dev server")?;
        let listener = TcpListener::bind(config.listen)
            .with_context(|| format!("binding the dev server to {}", config.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        // Blocking accept: a connection is served the moment it arrives; shutdown wakes
        // the loop with a connection of its own (see `stop`).
        let base_url = base_url_for(addr, tls.is_some());
        let shared = Arc::new(Shared {
            api_key: config.api_key,
            log_requests: config.log_requests,
            tls,
            store: Mutex::new(Store::new()),
            limiter: config.rate_limit.map(ratelimit::Limiter::new),
            faults: Mutex::new(FaultQueue::default()),
            upstream: Upstream::default(),
            records: Mutex::new(VecDeque::new()),
            received: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            next_id: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
            workers: Mutex::new(Vec::new()),
        });
        shared.upstream.set_log_events(shared.log_requests);
        let accept_shared = shared.clone();
        let accept = thread::Builder::new()
            .name("devserver-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))
            .context("spawning the accept thread")?;
        Ok(DevServer {
            shared,
            addr,
            base_url,
            accept: Some(accept),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS so that
    /// certificates issued for `localhost` verify.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    /// The Sentry upstream side, served on the same address (`base_url` is the
    /// upstream URL too).
    pub fn upstream(&self) -> &Upstream {
        &self.shared.upstream
    }

    /// Create an object directly in the store the API serves.
    pub fn create(&self, name: &str, value: &str) -> anyhow::Result<ObjectSummary> {
        let mut store = lock(&self.shared.store);
        let obj = store
            .create(name, value, Default::default())
            .with_context(|| format!("creating object {name:?}"))?;
        Ok(ObjectSummary::of(obj))
    }

    /// Create the object or give it a new version.
    pub fn set_value(&self, name: &str, value: &str) -> anyhow::Result<ObjectSummary> {
        let mut store = lock(&self.shared.store);
        let obj = store
            .set_value(name, value)
            .with_context(|| format!("setting object {name:?}"))?;
        Ok(ObjectSummary::of(obj))
    }

    /// Delete by name; false if there was no such object.
    pub fn remove(&self, name: &str) -> bool {
        lock(&self.shared.store).remove_by_name(name)
    }

    /// Queue a fault: each incoming request takes the next one.
    pub fn push_fault(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        let mut queue = lock(&self.shared.faults);
        for f in faults {
            queue.push(f);
        }
    }

    /// Every request received, in order (the most recent 10,000).
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.records)
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// How many requests were received (parsed far enough to have a method and path).
    pub fn request_count(&self) -> usize {
        self.shared.received.load(Ordering::SeqCst)
    }

    /// What the rate limiter saw for `api_key` (all zero without a rate limit).
    pub fn rate_counts(&self, api_key: &str) -> KeyCounts {
        self.shared
            .limiter
            .as_ref()
            .map(|l| l.counts(api_key))
            .unwrap_or_default()
    }

    /// How many TCP connections were accepted, including ones that never got as far
    /// as a request (a failed TLS handshake, say).
    pub fn connection_count(&self) -> usize {
        self.shared.next_id.load(Ordering::SeqCst) as usize
    }

    /// Stop accepting, release stalled connections and join every thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept; retry until the loop has seen the flag.
        let wake = client_addr(self.addr);
        while !accept.is_finished() {
            let _ = TcpStream::connect_timeout(&wake, Duration::from_millis(200));
            thread::sleep(Duration::from_millis(1));
        }
        let _ = accept.join();
        // No new connections from here on; wake every blocked read or write.
        for conn in lock(&self.shared.conns).values() {
            let _ = conn.shutdown(Shutdown::Both);
        }
        let workers = std::mem::take(&mut *lock(&self.shared.workers));
        for w in workers {
            let _ = w.join();
        }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while !shared.is_stopping() {
        match listener.accept() {
            // After shutdown began, this is `stop`'s wake-up connection: drop it.
            Ok(_) if shared.is_stopping() => break,
            Ok((tcp, _peer)) => spawn_connection(&shared, tcp),
            Err(e) => {
                // E.g. out of file descriptors: back off instead of spinning.
                log::debug!("dev server: accept failed: {e}");
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn spawn_connection(shared: &Arc<Shared>, tcp: TcpStream) {
    // Accepted sockets may inherit non-blocking mode on some platforms.
    if tcp.set_nonblocking(false).is_err() {
        return;
    }
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    // Registered before the thread starts, so shutdown always sees it.
    {
        let mut conns = lock(&shared.conns);
        if conns.len() >= MAX_CONNECTIONS {
            log::warn!("dev server: {MAX_CONNECTIONS} connections open; refusing another");
            return;
        }
        match tcp.try_clone() {
            Ok(clone) => {
                conns.insert(id, clone);
            }
            Err(e) => {
                log::debug!("dev server: could not clone a connection: {e}");
                return;
            }
        }
    }
    let worker_shared = shared.clone();
    let spawned = thread::Builder::new()
        .name("devserver-conn".into())
        .spawn(move || conn::serve(worker_shared, tcp, id));
    let mut workers = lock(&shared.workers);
    // Finished threads need no join; forget them so the list stays short.
    workers.retain(|w| !w.is_finished());
    match spawned {
        Ok(handle) => workers.push(handle),
        Err(e) => {
            log::warn!("dev server: could not spawn a connection thread: {e}");
            shared.unregister(id);
        }
    }
}

/// The address a client uses to reach a listener bound to `addr`: a wildcard bind is
/// reached via loopback. `stop` connects there to wake the accept loop.
fn client_addr(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

fn base_url_for(addr: SocketAddr, tls: bool) -> String {
    if tls {
        return format!("https://localhost:{}", addr.port());
    }
    format!("http://{}", client_addr(addr))
}

/// A dev/test API key: `sk_test_` + 32 random alphanumerics.
pub fn generate_api_key() -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::from("sk_test_");
    while out.len() < 8 + 32 {
        for b in keys::random_bytes::<32>() {
            // Rejection sampling: 248 = 4 * 62 keeps the choice uniform.
            if b < 248 && out.len() < 8 + 32 {
                out.push(ALNUM[(b % 62) as usize] as char);
            }
        }
    }
    out
}

/// `n` random URL-safe characters (`A-Za-z0-9-_`), as WorkOS version ids look.
fn random_token(n: usize) -> String {
    const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in keys::random_bytes::<32>() {
            if out.len() < n {
                // 64 symbols: the low six bits are uniform.
                out.push(URL_SAFE[(b & 63) as usize] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_tokens_and_seed_values_have_the_right_shape() {
        let k = generate_api_key();
        assert_eq!(k.len(), 40);
        assert!(k.starts_with("sk_test_"));
        assert!(k[8..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(k, generate_api_key());
        let t = random_token(32);
        assert_eq!(t.len(), 32);
        assert!(t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        // Request ids: 12 random bytes in hex.
        assert_eq!(keys::hex(&keys::random_bytes::<12>()).len(), 24);
    }

    #[test]
    fn the_handle_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<DevServer>();
        assert_send_sync::<Fault>();
        assert_send_sync::<RequestRecord>();
    }

    #[test]
    fn request_record_debug_masks_the_api_key() {
        let rec = RequestRecord {
            method: "GET".into(),
            path: "/".into(),
            headers: vec![
                ("authorization".into(), "Bearer sk_test_canary123".into()),
                ("user-agent".into(), "ua".into()),
            ],
            status: Some(200),
            peer_host_header: None,
        };
        let shown = format!("{rec:?}");
        assert!(!shown.contains("canary"), "{shown}");
        assert!(
            shown.contains("Bearer sk_t****") && shown.contains("\"ua\""),
            "{shown}"
        );
        assert_eq!(
            rec.header("Authorization"),
            Some("Bearer sk_test_canary123")
        );
    }

    #[test]
    fn base_urls() {
        let a: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(base_url_for(a, false), "http://127.0.0.1:8080");
        let a: SocketAddr = "[::]:8080".parse().unwrap();
        assert_eq!(base_url_for(a, false), "http://[::1]:8080");
        let a: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(base_url_for(a, true), "https://localhost:9");
    }

    #[test]
    fn tls_identity_debug_hides_the_key() {
        let id = TlsIdentity {
            cert_chain_pem: "CERT".into(),
            key_pem: "-----BEGIN PRIVATE KEY----- secret".into(),
        };
        assert!(!format!("{id:?}").contains("secret"));
    }
}
