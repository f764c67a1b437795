//! One connection, on its own thread: optional TLS handshake, read one request, record
//! it, answer it (normally or as the next fault says), close.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::{ServerConfig, ServerConnection, StreamOwned};

use super::faults::Fault;
use super::http::{self, ReadError, Request, Response};
use super::{api, upstream, Shared};

/// How long a client may take to send its request (or the TLS handshake).
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a write may block on a client that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Poll interval for stalls and sleeps, so shutdown is noticed quickly.
const POLL: Duration = Duration::from_millis(50);

/// Plain TCP or TLS over it; the handlers only need Read + Write.
enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Entry point of a connection thread. `conn_id` is this connection's entry in the
/// shared list that shutdown uses to unblock it.
pub(super) fn serve(shared: Arc<Shared>, tcp: TcpStream, conn_id: u64) {
    handle(&shared, tcp);
    // Dropping the registered clone is what finally closes the socket (fds are dup'ed).
    shared.unregister(conn_id);
}

fn handle(shared: &Shared, tcp: TcpStream) {
    let Some((mut stream, raw)) = open(shared, tcp) else {
        return;
    };
    let started = Instant::now();
    let Some((mut req, rest)) = read_head(shared, &mut stream, &raw, started) else {
        return;
    };
    let seq = shared.record(&req);
    continue_if_expected(&mut stream, &req, rest.len());
    if let Err(e) = http::read_body(&mut stream, &mut req, rest) {
        let mut status = None;
        if let ReadError::Reject {
            status: code,
            message,
        } = e
        {
            let resp = api::http_error(code, message);
            let mark = |ok: bool| shared.set_status(seq, ok.then_some(code));
            status = send(&mut stream, &raw, &resp, mark).then_some(code);
        }
        shared.log_line(&req.method, req.path_only(), status, started);
        return;
    }

    let fault = match upstream::is_upstream_path(req.path_only()) {
        true => shared.upstream.next_fault(),
        false => shared.next_fault(),
    };
    let status = answer(shared, seq, &mut stream, &raw, &req, fault);
    shared.log_line(&req.method, req.path_only(), status, started);
}

/// Set timeouts, keep a raw clone (for shutdown and linger) and do the TLS handshake
/// here, on the connection's thread, so a slow handshake never blocks accepting.
fn open(shared: &Shared, tcp: TcpStream) -> Option<(Stream, TcpStream)> {
    let _ = tcp.set_read_timeout(Some(READ_TIMEOUT));
    let _ = tcp.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = tcp.set_nodelay(true);
    let raw = tcp.try_clone().ok()?;
    let stream = match &shared.tls {
        None => Stream::Plain(tcp),
        Some(config) => match handshake(config, tcp) {
            Ok(s) => s,
            Err(e) => {
                // Scanners, plain-HTTP clients and untrusting clients all end up here.
                log::debug!("dev server: TLS handshake failed: {e}");
                return None;
            }
        },
    };
    Some((stream, raw))
}

/// Read the request head; on failure answer (if there is anyone to answer) and
/// return None.
fn read_head(
    shared: &Shared,
    stream: &mut Stream,
    raw: &TcpStream,
    started: Instant,
) -> Option<(Request, Vec<u8>)> {
    match http::read_head(stream) {
        Ok(x) => Some(x),
        Err(ReadError::Closed) => None,
        Err(ReadError::Io(e)) => {
            log::debug!("dev server: reading a request failed: {e}");
            None
        }
        Err(ReadError::Reject { status, message }) => {
            // Not recorded: there is no method or path to record.
            let sent = send(stream, raw, &api::http_error(status, message), |_| {});
            let status = sent.then_some(status);
            shared.log_line("-", "(unparseable request)", status, started);
            None
        }
    }
}

/// curl and some other clients wait for an interim `100 Continue` before sending a
/// body they announced with `Expect: 100-continue`.
fn continue_if_expected(stream: &mut Stream, req: &Request, body_bytes_read: usize) {
    let expects = req
        .header("expect")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"));
    if expects && http::body_length(req).is_ok_and(|n| n > body_bytes_read) {
        let _ = stream
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .and_then(|_| stream.flush());
    }
}

fn handshake(config: &Arc<ServerConfig>, mut tcp: TcpStream) -> Result<Stream, String> {
    let mut conn = ServerConnection::new(config.clone()).map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).map_err(|e| e.to_string())?;
    }
    Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))))
}

/// Answer the request as `fault` says (None: normally). Returns the status sent, if any.
/// The request record gets its status as soon as the bytes are out, before the close:
/// a client that has seen the end of the response must also see it in the log.
fn answer(
    shared: &Shared,
    seq: u64,
    stream: &mut Stream,
    raw: &TcpStream,
    req: &Request,
    fault: Option<Fault>,
) -> Option<u16> {
    let Some(fault) = fault else {
        let resp = respond(shared, req);
        let mark = |ok: bool| shared.set_status(seq, ok.then_some(resp.status));
        return send(stream, raw, &resp, mark).then_some(resp.status);
    };
    match fault {
        Fault::Respond {
            status,
            headers,
            body,
        } => {
            let resp = Response {
                status,
                headers,
                body: body.into_bytes(),
            };
            let mark = |ok: bool| shared.set_status(seq, ok.then_some(status));
            send(stream, raw, &resp, mark).then_some(status)
        }
        Fault::Delay(d) => {
            if !shared.sleep(d) {
                return None;
            }
            answer(shared, seq, stream, raw, req, None)
        }
        Fault::DelayThen(d, next) => {
            if !shared.sleep(d) {
                return None;
            }
            answer(shared, seq, stream, raw, req, Some(*next))
        }
        Fault::Hang => {
            stall(shared, stream, raw);
            None
        }
        Fault::CloseWithoutResponse => {
            let _ = raw.shutdown(Shutdown::Both);
            None
        }
        Fault::HeadersThenStall {
            status,
            content_length,
        } => {
            let head = default_headers(Vec::new());
            if http::write_head(stream, status, &head, content_length).is_err() {
                return None;
            }
            shared.set_status(seq, Some(status));
            stall(shared, stream, raw);
            Some(status)
        }
        Fault::ResetMidBody {
            status,
            body_prefix,
            content_length,
        } => {
            let head = default_headers(Vec::new());
            let sent = http::write_head(stream, status, &head, content_length)
                .and_then(|_| stream.write_all(body_prefix.as_bytes()))
                .and_then(|_| stream.flush())
                .is_ok();
            shared.set_status(seq, sent.then_some(status));
            // Linger 0 turns the close into a RST, which is what a crashed proxy sends.
            let _ = socket2::SockRef::from(raw).set_linger(Some(Duration::ZERO));
            sent.then_some(status)
        }
        Fault::InterimThen(statuses) => {
            for status in statuses {
                let head = format!("HTTP/1.1 {status} {}\r\n\r\n", http::reason(status));
                if stream
                    .write_all(head.as_bytes())
                    .and_then(|_| stream.flush())
                    .is_err()
                {
                    return None;
                }
            }
            answer(shared, seq, stream, raw, req, None)
        }
        Fault::ContentLength(values) => {
            let resp = respond(shared, req);
            let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, http::reason(resp.status));
            for (k, v) in default_headers(resp.headers.clone()) {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            for v in values {
                let v = v.replace("{len}", &resp.body.len().to_string());
                head.push_str(&format!("Content-Length: {v}\r\n"));
            }
            head.push_str("Connection: close\r\n\r\n");
            let sent = stream
                .write_all(head.as_bytes())
                .and_then(|_| stream.write_all(&resp.body))
                .and_then(|_| stream.flush())
                .is_ok();
            shared.set_status(seq, sent.then_some(resp.status));
            close_gracefully(stream, raw);
            sent.then_some(resp.status)
        }
        Fault::Raw(bytes) => {
            let sent = stream
                .write_all(&bytes)
                .and_then(|_| stream.flush())
                .is_ok();
            let status = if sent {
                http::status_of_raw(&bytes)
            } else {
                None
            };
            shared.set_status(seq, status);
            close_gracefully(stream, raw);
            status
        }
    }
}

/// The normal answer: the Sentry upstream side for its paths, WorkOS Vault otherwise.
fn respond(shared: &Shared, req: &Request) -> Response {
    match upstream::is_upstream_path(req.path_only()) {
        true => shared.upstream.handle(req),
        // The WorkOS side alone is rate limited, per API key, as WorkOS is.
        false => shared
            .over_limit(req)
            .unwrap_or_else(|| api::handle(&shared.api_key, &shared.store, req)),
    }
}

/// Add `X-Request-ID` and `Content-Type` unless the caller set them.
fn default_headers(mut headers: Vec<(String, String)>) -> Vec<(String, String)> {
    if http::find_header(&headers, "x-request-id").is_none() {
        headers.push((
            "X-Request-ID".into(),
            format!(
                "req_{}",
                vfr_credentials::keys::hex(&vfr_credentials::keys::random_bytes::<12>())
            ),
        ));
    }
    if http::find_header(&headers, "content-type").is_none() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    headers
}

/// Write a full response, report whether it was written to `written`, then close.
fn send(stream: &mut Stream, raw: &TcpStream, resp: &Response, written: impl FnOnce(bool)) -> bool {
    let resp = Response {
        headers: default_headers(resp.headers.clone()),
        ..resp.clone()
    };
    let ok = http::write_response(stream, &resp).is_ok();
    written(ok);
    close_gracefully(stream, raw);
    ok
}

/// Say goodbye properly: TLS close_notify, FIN, then read what the client still sends
/// for a moment. Closing with unread input makes the kernel send RST, which can
/// destroy a response the client has not read yet (e.g. a 413 for a body we skipped).
fn close_gracefully(stream: &mut Stream, raw: &TcpStream) {
    if let Stream::Tls(s) = stream {
        s.conn.send_close_notify();
        let _ = s.flush();
    }
    let _ = raw.shutdown(Shutdown::Write);
    let _ = raw.set_read_timeout(Some(Duration::from_millis(200)));
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut buf = [0u8; 8192];
    let mut reader = raw;
    while Instant::now() < deadline {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// Keep the connection open without answering until the client leaves or the server
/// shuts down (shutdown also calls `shutdown(Both)` on the socket, ending the read).
fn stall(shared: &Shared, stream: &mut Stream, raw: &TcpStream) {
    let _ = raw.set_read_timeout(Some(POLL));
    let mut buf = [0u8; 4096];
    while !shared.is_stopping() {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
}
