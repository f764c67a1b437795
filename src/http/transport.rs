//! How requests reach a server: one ureq agent per client (our TLS roots, the proxy
//! choice, timeouts, no redirects) and `Http::send`, which sends one request and returns
//! the final answer or why there is none, classified as passing or not. Every client
//! (WorkOS Vault, the Sentry upstream) builds its own `Http` for its target.
//!
//! ureq 3 (ureq-proto) checks the HTTP/1.1 framing itself: interim 1xx responses are
//! skipped (RFC 9110 §15.2) and an invalid or conflicting `Content-Length` is an error
//! (RFC 9112 §6.3), never a guess at where the body ends. Every answer whose framing
//! cannot be trusted (a head that does not parse, obs-fold lines included, which
//! ureq-proto does not unfold; a broken chunked body; a bad Content-Length; an oversized
//! head) is one class: `SendError::framing` / `BodyError::Framing`, never retried, its
//! line naming what was seen.

use std::path::Path;
use std::time::Duration;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{ConnectProxyConnector, Connector, NextTimeout, TcpConnector};
use url::Url;

use super::proxy::{parse_proxy, proxy_for};
use super::tls::{build_tls_config, tls_error, TlsConnector};
use crate::settings::mask_userinfo;

/// The largest response head read: WorkOS's are under 2 KiB. Less than the input buffer, so
/// a larger head is refused as such instead of stalling a full buffer.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// The status, headers and (bounded) body of the final response.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: Headers,
    pub body: Result<Vec<u8>, BodyError>,
}

/// A response's headers, looked up by name in any letter case.
pub(crate) struct Headers(Vec<(String, String)>);

impl Headers {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The wait a `Retry-After` header asks for (seconds or an HTTP date).
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        self.get("retry-after")
            .and_then(|v| super::retry::parse_retry_after(v, std::time::SystemTime::now()))
    }

    /// Where a `Location` header points, as its host alone (a redirect is never
    /// followed; its path and query could carry anything).
    pub(crate) fn location_host(&self) -> Option<String> {
        self.get("location").map(|l| {
            Url::parse(l)
                .ok()
                .and_then(|u| u.host_str().map(String::from))
                .unwrap_or_else(|| "a relative path".into())
        })
    }
}

/// Why a response body could not be read.
pub(crate) enum BodyError {
    /// The connection broke or stalled: may pass.
    Io(String),
    /// The body exceeds the request's `max_body`: the same answer would come again.
    TooLarge,
    /// The body's framing is broken (a chunked body that does not parse): the server
    /// speaks no HTTP we can trust; never retried.
    Framing(String),
}

/// Why no answer came back: one line for the user, and whether trying again may help.
#[derive(Debug)]
pub(crate) struct SendError {
    pub retry: bool,
    /// Something answered, but not in HTTP whose framing can be trusted (never retried):
    /// the client's `Failure::not_http`.
    pub framing: bool,
    pub detail: String,
}

/// The agent for one run. Connections are kept alive between requests (the exec poll).
pub(crate) struct Http {
    agent: ureq::Agent,
}

impl Http {
    /// TLS roots (Mozilla's plus `ca_file`), the proxy for `target` from the environment,
    /// the connect timeout; redirects are never followed.
    pub(crate) fn new(
        target: &Url,
        ca_file: Option<&Path>,
        connect_timeout: Duration,
    ) -> anyhow::Result<Http> {
        let tls = build_tls_config(ca_file)?;
        let env = |name: &str| std::env::var(name).ok();
        let mut resolver = NamedResolver::default();
        let proxy = match proxy_for(target, &env) {
            Some(choice) => {
                let url = parse_proxy(&choice)?;
                log::debug!(
                    "using proxy {} from {}",
                    mask_userinfo(url.as_str()),
                    choice.variable
                );
                let proxy = ureq::Proxy::new(url.as_str()).map_err(|_| {
                    anyhow::anyhow!(
                        "{} is not a valid proxy URL ({}); use http://host:port",
                        choice.variable,
                        mask_userinfo(url.as_str())
                    )
                })?;
                resolver.proxy = Some((proxy.host().to_string(), choice.variable));
                Some(proxy)
            }
            None => None,
        };
        let config = ureq::Agent::config_builder()
            // Ours, chosen above (curl's rules): ureq's own reading of the environment is off.
            .proxy(proxy)
            // A redirect would carry the Authorization header elsewhere: never follow one.
            .max_redirects(0)
            // Every status is an answer to classify, not an error.
            .http_status_as_error(false)
            // The request head goes out in one write; no waiting on Nagle for the answer.
            .no_delay(true)
            .timeout_connect(Some(connect_timeout))
            // ureq's 128 KiB buffers, zeroed per layer (TCP and TLS, in and out), are half a MiB
            // of RSS for answers of a few hundred bytes; the body still streams through.
            .input_buffer_size(32 * 1024)
            .output_buffer_size(16 * 1024)
            .max_response_header_size(MAX_HEAD_BYTES)
            .user_agent(format!("vault-fetch-relay/{}", env!("CARGO_PKG_VERSION")))
            .build();
        // ureq's default chain, with our TLS link and without SOCKS.
        let connector =
            ().chain(ConnectProxyConnector::default())
                .chain(TcpConnector::default())
                .chain(TlsConnector(tls));
        Ok(Http {
            agent: ureq::Agent::with_parts(config, connector, resolver),
        })
    }

    /// Send one request: the final answer (interim 1xx skipped), or why there is none.
    pub(crate) fn send(&self, request: &Request, timeout: Duration) -> Result<Answer, SendError> {
        let mut builder = ureq::http::Request::builder()
            .method(request.method.clone())
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(*name, value.as_str());
        }
        let result = match &request.body {
            Some(body) => builder.body(body.as_slice()).map(|r| self.run(r, timeout)),
            None => builder.body(()).map(|r| self.run(r, timeout)),
        };
        let mut response = result
            .map_err(|e| SendError {
                retry: false,
                framing: false,
                detail: format!("the request cannot be built: {e}"),
            })?
            .map_err(|e| classify(&e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_string(), value)
            })
            .collect();
        let max = request.max_body;
        let body = response
            .body_mut()
            .with_config()
            .limit(max)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => BodyError::TooLarge,
                ureq::Error::Protocol(p) => BodyError::Framing(not_http(&p)),
                e => BodyError::Io(format!(
                    "connection failed while reading the response: {}",
                    reason(&e)
                )),
            });
        Ok(Answer {
            status,
            headers: Headers(headers),
            body,
        })
    }

    fn run(
        &self,
        request: ureq::http::Request<impl ureq::AsSendBody>,
        timeout: Duration,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .build();
        self.agent.run(request)
    }
}

/// The request method, as `Request` takes it (so callers name no HTTP library).
pub(crate) use ureq::http::Method;

/// One request for `Http::send` (built per attempt: a signature may carry its time).
pub(crate) struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    /// The most body bytes read; a longer body is `BodyError::TooLarge`.
    pub max_body: u64,
}

/// ureq's resolver, run synchronously, with its failures marked as name lookups (the I/O
/// error a failed lookup gives looks like any connection failure) and telling the proxy's
/// host apart.
#[derive(Debug, Default)]
struct NamedResolver {
    inner: DefaultResolver,
    /// The proxy's host and the variable that named it.
    proxy: Option<(String, String)>,
}

/// A host name that did not resolve: why, and the proxy variable if it was the proxy's.
#[derive(Debug)]
struct Unresolved {
    host: String,
    reason: String,
    proxy_variable: Option<String>,
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.proxy_variable {
            Some(var) => write!(f, "cannot resolve the proxy host in {var}: {}", self.reason),
            // The host named, not "the api host": the upstream client sends through here too.
            None => write!(f, "cannot resolve the host {}: {}", self.host, self.reason),
        }
    }
}

impl std::error::Error for Unresolved {}

impl Resolver for NamedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let unresolved = |reason: String| {
            let proxy_variable = self
                .proxy
                .as_ref()
                .filter(|(host, _)| uri.host() == Some(host.as_str()))
                .map(|(_, var)| var.clone());
            ureq::Error::Other(Box::new(Unresolved {
                host: uri.host().unwrap_or_default().to_string(),
                reason,
                proxy_variable,
            }))
        };
        // Without a timeout ureq resolves on this thread; with one it spawns a thread per
        // lookup (0.6 ms a fetch, and a malloc arena). fetch.rs's deadline is the backstop for a
        // lookup that hangs, as it was with ureq 2, which had no lookup timeout either.
        self.inner
            .resolve(uri, config, NextTimeout::default())
            .map_err(|e| match e {
                ureq::Error::Io(io) => unresolved(io_reason(&io)),
                ureq::Error::HostNotFound => unresolved("no address found".into()),
                e => e,
            })
    }
}

/// A failed request as one line, and whether it may pass.
fn classify(e: &ureq::Error) -> SendError {
    let fatal = |detail: String| SendError {
        retry: false,
        framing: false,
        detail,
    };
    let passing = |detail: String| SendError {
        retry: true,
        framing: false,
        detail,
    };
    // Framing that cannot be trusted is unrecoverable: fail, never guess, never retry
    // (the same bytes would come again).
    let framing = |detail: String| SendError {
        retry: false,
        framing: true,
        detail,
    };
    if let Some(tls) = tls_error(e) {
        return fatal(format!(
            "TLS handshake failed: {tls}; if a proxy inspects TLS, trust its CA with --ca-file or SSL_CERT_FILE"
        ));
    }
    match e {
        ureq::Error::Other(inner) if inner.is::<Unresolved>() => passing(inner.to_string()),
        ureq::Error::Io(_) | ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed => {
            passing(format!("connection failed: {}", reason(e)))
        }
        ureq::Error::Protocol(p) => framing(not_http(p)),
        // The same head would come again.
        ureq::Error::LargeResponseHeader(..) => framing(format!(
            "the server's answer is not valid HTTP: its head is larger than {} KiB",
            MAX_HEAD_BYTES / 1024
        )),
        ureq::Error::ConnectProxyFailed(why) if why.contains(" 407") => fatal(
            "the proxy answered 407: it needs credentials (http://user:password@host:port in HTTPS_PROXY) or refused the ones given".into(),
        ),
        ureq::Error::ConnectProxyFailed(why) => passing(format!("connection failed: {why}")),
        ureq::Error::InvalidProxyUrl => fatal(format!("the proxy URL is not valid: {}", reason(e))),
        _ => fatal(format!("request failed: {}", reason(e))),
    }
}

/// An answer ureq-proto refused to parse, as one line naming what was seen. ureq quotes
/// the raw bytes in some of its messages; they say nothing useful and are left out.
fn not_http(e: &ureq_proto::Error) -> String {
    use ureq_proto::Error as P;
    let seen = match e {
        P::BadContentLengthHeader => {
            "the response has an invalid Content-Length (not a decimal number)"
        }
        P::TooManyContentLengthHeaders => "the response has two different Content-Length values",
        P::ConflictingBodyHeaders => "the response has both Transfer-Encoding and Content-Length",
        // httparse: a line of the head that is not `name: value`, which is what a header
        // folded over two lines (obs-fold, RFC 9112 §5.2) is; ureq-proto does not unfold.
        P::HttpParseFail(why) if why.contains("header name") => {
            "a header line does not parse (a header folded over two lines, obs-fold, which is refused, or a name with a space)"
        }
        P::HttpParseFail(why) if why.contains("version") => {
            "its first line is not an HTTP/1.x status line (a TLS port behind an http:// URL, or not the server meant?)"
        }
        P::HttpParseFail(_) | P::HttpParseTooManyHeaders => "its head does not parse as HTTP/1.1",
        P::ChunkLenNotAscii | P::ChunkLenNotANumber => {
            "its chunked body has a chunk size that is not a hexadecimal number"
        }
        P::ChunkExpectedCrLf => "its chunked body has a chunk that does not end where its size says",
        _ => "its framing does not parse",
    };
    format!("the server's answer is not valid HTTP: {seen}")
}

/// The cause of a failure, without the URL.
fn reason(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => io_reason(io),
        ureq::Error::Timeout(_) => "timed out".into(),
        e => e.to_string(),
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => "timed out".into(),
        _ => e.to_string(),
    }
}

/// What we build on from ureq that semver does not cover: `ureq::unversioned` (the
/// connector chain with our TLS link, `ConnectionDetails`, the `Resolver` hook) and the
/// `ureq_proto::Error` variants `classify` matches. Cargo.toml pins both crates exactly;
/// these tests are the contract a new version must pass before the pin moves (see the
/// note beside the pin). Each runs against a server on loopback, bounded by `LIMIT`.
#[cfg(test)]
mod ureq_contract {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;

    const LIMIT: Duration = Duration::from_secs(10);

    /// Read a request head (up to the blank line) from `s`.
    fn read_head(s: &mut impl Read) {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
    }

    /// A loopback listener whose first connection is handed to `serve` on a thread.
    fn serve_one(serve: impl FnOnce(TcpStream) + Send + 'static) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((s, _)) = l.accept() {
                s.set_read_timeout(Some(LIMIT)).unwrap();
                s.set_write_timeout(Some(LIMIT)).unwrap();
                serve(s);
            }
        });
        port
    }

    /// A plain-HTTP server on loopback that reads one request and writes `answer`.
    fn answering(answer: &[u8]) -> String {
        let answer = answer.to_vec();
        let port = serve_one(move |mut s| {
            read_head(&mut s);
            let _ = s.write_all(&answer);
        });
        format!("http://127.0.0.1:{port}/")
    }

    fn get(http: &Http, url: &str) -> Result<Answer, SendError> {
        let request = Request {
            method: Method::GET,
            url: url.to_string(),
            headers: Vec::new(),
            body: None,
            max_body: 1024,
        };
        http.send(&request, LIMIT)
    }

    fn plain(url: &str) -> Http {
        Http::new(&Url::parse(url).unwrap(), None, LIMIT).unwrap()
    }

    fn refused(url: &str) -> SendError {
        match get(&plain(url), url) {
            Ok(a) => panic!("{url}: an answer ({}) instead of an error", a.status),
            Err(e) => e,
        }
    }

    #[test]
    fn https_goes_through_our_tls_link_and_trusts_our_roots() {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &ca, &ca_key)
            .unwrap();
        let server = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .unwrap(),
        );
        let tls_server = |server: Arc<rustls::ServerConfig>| {
            serve_one(move |s| {
                let conn = rustls::ServerConnection::new(server).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, s);
                read_head(&mut tls);
                let _ = tls.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
                tls.conn.send_close_notify();
                let _ = tls.flush();
            })
        };
        // The CA from --ca-file is trusted beside Mozilla's roots: ureq (built without a TLS
        // feature) can only have reached the server through our TlsConnector.
        let dir = std::env::temp_dir().join(format!("vfr-ureq-contract-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();
        let url = format!("https://localhost:{}/", tls_server(server.clone()));
        let http = Http::new(&Url::parse(&url).unwrap(), Some(&ca_file), LIMIT).unwrap();
        let answer = get(&http, &url).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body.ok().as_deref(), Some(&b"ok"[..]));
        // Without it, the handshake fails with rustls's own error, which reaches classify
        // through ureq's error (tls_error's downcast): refused, not retried.
        let url = format!("https://localhost:{}/", tls_server(server));
        let e = refused(&url);
        assert!(!e.retry, "{e:?}");
        assert!(
            e.detail
                .starts_with("TLS handshake failed: invalid peer certificate: UnknownIssuer"),
            "{e:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn name_lookups_go_through_our_resolver() {
        // A 64-character label is refused by the system resolver itself (no DNS query);
        // only NamedResolver words the failure this way, and marks it as passing.
        let host = format!("{}.invalid", "a".repeat(64));
        let e = refused(&format!("http://{host}:9/"));
        assert!(e.retry, "{e:?}");
        assert!(
            e.detail
                .starts_with(&format!("cannot resolve the host {host}: ")),
            "{e:?}"
        );
    }

    #[test]
    fn framing_errors_are_the_variants_we_match() {
        let head = "HTTP/1.1 200 OK\r\nConnection: close\r\n";
        for (extra, want) in [
            (
                "Content-Length: +2\r\n",
                "the response has an invalid Content-Length (not a decimal number)",
            ),
            (
                "Content-Length: 2\r\nContent-Length: 3\r\n",
                "the response has two different Content-Length values",
            ),
            (
                &format!("X-Padding: {}\r\n", "p".repeat(MAX_HEAD_BYTES)),
                "its head is larger than 16 KiB",
            ),
        ] {
            let url = answering(format!("{head}{extra}\r\nok").as_bytes());
            let e = refused(&url);
            assert!(!e.retry && e.framing, "{extra:.40}: {e:?}");
            assert_eq!(
                e.detail,
                format!("the server's answer is not valid HTTP: {want}"),
                "{extra:.40}"
            );
        }
        // A head httparse refuses: an obs-fold line (ureq-proto does not unfold), and not
        // HTTP at all (a TLS port's alert, an SSH banner). Framing too: never retried.
        for (raw, want) in [
            (
                &b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\nContent-Length: 2\r\n\r\nok"[..],
                "a header line does not parse (a header folded over two lines, obs-fold",
            ),
            (
                b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
                "its first line is not an HTTP/1.x status line (a TLS port",
            ),
            (
                b"\x15\x03\x03\x00\x02\x02\x46",
                "its first line is not an HTTP/1.x status line (a TLS port",
            ),
        ] {
            let e = refused(&answering(raw));
            assert!(!e.retry && e.framing, "{e:?}");
            assert!(e.detail.contains(want), "{e:?}");
        }
        // A chunked body that breaks: ureq_proto's chunk errors, while the body is read.
        for (chunks, want) in [
            (
                "zz\r\nok\r\n0\r\n\r\n",
                "a chunk size that is not a hexadecimal number",
            ),
            (
                "2\r\nokXX0\r\n\r\n",
                "a chunk that does not end where its size says",
            ),
        ] {
            let url = answering(
                format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunks}")
                    .as_bytes(),
            );
            let answer = get(&plain(&url), &url).unwrap_or_else(|e| panic!("{e:?}"));
            match answer.body {
                Err(BodyError::Framing(detail)) => assert!(detail.contains(want), "{detail}"),
                _ => panic!("{chunks:?}: not a framing error"),
            }
        }
    }

    #[test]
    fn statuses_are_answers_redirects_stay_and_interim_responses_are_skipped() {
        for (raw, status, body) in [
            (&b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"[..], 503, &b""[..]),
            (b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 302, b""),
            (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", 200, b"ok"),
        ] {
            let url = answering(raw);
            let answer = get(&plain(&url), &url).unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(answer.status, status);
            assert_eq!(answer.body.ok().as_deref(), Some(body));
        }
        // The body cap is ureq's BodyExceedsLimit.
        let url = answering(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: 2048\r\nConnection: close\r\n\r\n{}",
                "x".repeat(2048)
            )
            .as_bytes(),
        );
        let answer = get(&plain(&url), &url).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(matches!(answer.body, Err(BodyError::TooLarge)));
    }
}
