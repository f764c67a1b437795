//! The one function that sends a request, shared by every client (WorkOS Vault, the
//! Sentry upstream): the agent (TLS roots, proxy, connect timeout, no redirects) and
//! the classification of a failure to get an answer. The HTTP library stays in here;
//! callers see an `Answer` or a `SendError`.

use std::path::Path;
use std::time::Duration;

use url::Url;

use super::answer::{Answer, ReadError};
use super::transport::{build_tls_config, parse_proxy, proxy_for, redact_proxy};

/// One agent per run, for one origin (its proxy is chosen for that URL).
pub(crate) struct Http {
    agent: ureq::Agent,
}

/// A request to send. `headers` may hold a secret (a bearer token): they are never
/// logged or quoted.
pub(crate) struct Request<'a> {
    pub url: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    /// `Some` makes it a POST with this body; `None` a GET.
    pub body: Option<&'a [u8]>,
    pub timeout: Duration,
    pub max_body: u64,
}

/// Why no answer came back. `Retryable` failures may pass (a drop, a refused
/// connection, DNS); the others will not (TLS, a proxy's refusal, framing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SendError {
    pub kind: SendErrorKind,
    /// One line without the URL's credentials or any header value.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendErrorKind {
    Dns,
    Connect,
    Tls,
    /// The bytes that came back are not HTTP (a TLS port behind http://, say).
    NotHttp,
    /// An HTTP answer whose framing cannot be trusted: never guessed at, never retried.
    Framing,
    Proxy,
    Other,
}

impl SendError {
    pub(crate) fn retryable(&self) -> bool {
        matches!(
            self.kind,
            SendErrorKind::Dns | SendErrorKind::Connect | SendErrorKind::NotHttp
        )
    }

    fn new(kind: SendErrorKind, detail: impl Into<String>) -> Self {
        SendError {
            kind,
            detail: detail.into(),
        }
    }
}

impl Http {
    /// The agent for requests to `target`: TLS roots plus `ca_file`, the proxy the
    /// environment sets for that URL, `connect_timeout`, redirects never followed (a
    /// redirect would carry the request's credentials elsewhere).
    pub(crate) fn new(
        target: &Url,
        ca_file: Option<&Path>,
        connect_timeout: Duration,
    ) -> anyhow::Result<Http> {
        let tls = build_tls_config(ca_file)?;
        let mut builder = ureq::AgentBuilder::new()
            .tls_config(tls)
            .timeout_connect(connect_timeout)
            .redirects(0)
            .user_agent(&format!("vault-fetch-relay/{}", env!("CARGO_PKG_VERSION")))
            .try_proxy_from_env(false);
        let env = |name: &str| std::env::var(name).ok();
        if let Some(choice) = proxy_for(target, &env) {
            let url = parse_proxy(&choice)?;
            log::debug!(
                "using proxy {} from {}",
                redact_proxy(url.as_str()),
                choice.variable
            );
            let proxy = ureq::Proxy::new(url.as_str()).map_err(|_| {
                anyhow::anyhow!(
                    "{} is not a valid proxy URL ({}); use http://host:port",
                    choice.variable,
                    redact_proxy(url.as_str())
                )
            })?;
            builder = builder.proxy(proxy);
        }
        Ok(Http {
            agent: builder.build(),
        })
    }

    /// Send one request and read its final answer (any status), bounded by
    /// `request.timeout` and `request.max_body`.
    pub(crate) fn send(&self, request: &Request<'_>) -> Result<Answer, SendError> {
        let mut call = match request.body {
            Some(_) => self.agent.post(request.url),
            None => self.agent.get(request.url),
        };
        for (name, value) in request.headers {
            call = call.set(name, value);
        }
        call = call.timeout(request.timeout);
        let result = match request.body {
            Some(body) => call.send_bytes(body),
            None => call.call(),
        };
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(t)) => return Err(classify(&t)),
        };
        Answer::read(response, request.max_body).map_err(|e| match e {
            ReadError::Framing(f) => SendError::new(
                SendErrorKind::Framing,
                format!("the server's answer is not valid HTTP: {f}"),
            ),
            // A drop after an interim response is a drop like any other.
            ReadError::Io(e) => SendError::new(SendErrorKind::Connect, e),
        })
    }
}

fn classify(t: &ureq::Transport) -> SendError {
    use ureq::ErrorKind as K;
    if let Some(tls) = find_tls_error(t) {
        return SendError::new(
            SendErrorKind::Tls,
            format!("TLS handshake failed: {tls}; if a proxy inspects TLS, trust its CA with --ca-file or SSL_CERT_FILE"),
        );
    }
    let reason = transport_reason(t);
    match t.kind() {
        K::Dns => SendError::new(
            SendErrorKind::Dns,
            format!("cannot resolve the host: {reason}"),
        ),
        K::ConnectionFailed | K::Io | K::ProxyConnect => SendError::new(
            SendErrorKind::Connect,
            format!("connection failed: {reason}"),
        ),
        // ureq quotes the raw bytes it could not parse; they say nothing useful.
        K::BadStatus | K::BadHeader | K::HTTP => SendError::new(
            SendErrorKind::NotHttp,
            "the answer is not valid HTTP (a TLS port behind an http:// URL?)",
        ),
        K::ProxyUnauthorized => SendError::new(
            SendErrorKind::Proxy,
            "the proxy answered 407: it needs credentials (http://user:password@host:port in HTTPS_PROXY) or refused the ones given",
        ),
        K::InvalidProxyUrl => SendError::new(
            SendErrorKind::Proxy,
            format!("the proxy URL is not valid: {reason}"),
        ),
        _ => SendError::new(SendErrorKind::Other, format!("request failed: {reason}")),
    }
}

/// The transport error's cause without the URL (which ureq includes in Display).
fn transport_reason(t: &ureq::Transport) -> String {
    let mut parts = Vec::new();
    if let Some(m) = t.message() {
        parts.push(m.to_string());
    }
    let mut source = std::error::Error::source(t);
    while let Some(s) = source {
        match s.downcast_ref::<std::io::Error>() {
            Some(io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) =>
            {
                parts.push("timed out".into())
            }
            _ => parts.push(s.to_string()),
        }
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(t.kind().to_string());
    }
    let line: String = parts
        .join(": ")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    line
}

fn find_tls_error(t: &ureq::Transport) -> Option<String> {
    let mut source = std::error::Error::source(t);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<rustls::Error>() {
            return Some(r.to_string());
        }
        if let Some(r) = s
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(r.to_string());
        }
        source = s.source();
    }
    None
}
