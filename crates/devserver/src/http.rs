//! Just enough HTTP/1.1 for one request per connection: read a request head with
//! `httparse`, read a `Content-Length` body, write a response and close.
//!
//! Every response says `Connection: close`, so there is no keep-alive or pipelining to
//! get wrong; clients simply open a new connection per request.

use std::io::{self, Read, Write};

/// Largest request head accepted (request line + headers); beyond it: 431.
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Largest request body accepted; beyond it: 413.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;
const MAX_HEADERS: usize = 100;

/// A parsed request. `path` is the raw request target, query included, as received.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    /// Header names lowercased, values as sent (lossy UTF-8).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The path without its query string.
    pub(crate) fn path_only(&self) -> &str {
        split_target(&self.path).0
    }

    /// The query string after `?` (empty when there is none).
    pub(crate) fn query(&self) -> &str {
        split_target(&self.path).1
    }
}

pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Path and query of a request target. The absolute form (`https://host/path`,
/// RFC 9112 §3.2.2), which clients send through proxies, is reduced to its path as
/// real servers do.
fn split_target(target: &str) -> (&str, &str) {
    let target = match target.split_once("://") {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") =>
        {
            rest.find('/').map_or("/", |i| &rest[i..])
        }
        _ => target,
    };
    match target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (target, ""),
    }
}

/// Why a request could not be read. The ones with a status get that status as an
/// answer; the others end the connection silently (there is nobody to answer).
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed the connection before sending a full request head.
    Closed,
    /// Socket error or timeout while reading.
    Io(io::Error),
    /// The request cannot be served; answer with this status and message.
    Reject { status: u16, message: &'static str },
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Read the request head. Returns the request (empty body) and the bytes already read
/// past the head, which are the start of the body.
pub(crate) fn read_head(stream: &mut impl Read) -> Result<(Request, Vec<u8>), ReadError> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(if buf.is_empty() {
                ReadError::Closed
            } else {
                reject(400, "incomplete request head")
            });
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some((req, head_len)) = parse_head(&buf)? {
            let rest = buf.split_off(head_len);
            return Ok((req, rest));
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(reject(431, "request header fields too large"));
        }
    }
}

fn reject(status: u16, message: &'static str) -> ReadError {
    ReadError::Reject { status, message }
}

/// Parse a complete head out of `buf`, or `None` when more bytes are needed.
pub(crate) fn parse_head(buf: &[u8]) -> Result<Option<(Request, usize)>, ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let head_len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(reject(431, "too many request header fields"))
        }
        Err(_) => return Err(reject(400, "malformed HTTP request")),
    };
    if head_len > MAX_HEAD_BYTES {
        return Err(reject(431, "request header fields too large"));
    }
    // A complete parse always has these; treat absence as malformed rather than panic.
    let (Some(method), Some(path)) = (parsed.method, parsed.path) else {
        return Err(reject(400, "malformed HTTP request"));
    };
    let headers = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let req = Request {
        method: method.to_string(),
        path: path.to_string(),
        headers,
        body: Vec::new(),
    };
    Ok(Some((req, head_len)))
}

/// How long the body is, from the headers. Chunked uploads are refused: every client
/// we care about sends `Content-Length` for a JSON body.
pub(crate) fn body_length(req: &Request) -> Result<usize, ReadError> {
    if req.header("transfer-encoding").is_some() {
        return Err(reject(
            501,
            "Transfer-Encoding request bodies are not supported",
        ));
    }
    let mut length: Option<usize> = None;
    for (_, v) in req.headers.iter().filter(|(k, _)| k == "content-length") {
        let n: usize = v
            .trim()
            .parse()
            .map_err(|_| reject(400, "invalid Content-Length"))?;
        if length.is_some_and(|l| l != n) {
            return Err(reject(400, "conflicting Content-Length headers"));
        }
        length = Some(n);
    }
    let length = length.unwrap_or(0);
    if length > MAX_BODY_BYTES {
        return Err(reject(413, "request body too large"));
    }
    Ok(length)
}

/// Read the body into `req.body`, starting from the bytes that came with the head.
pub(crate) fn read_body(
    stream: &mut impl Read,
    req: &mut Request,
    mut already: Vec<u8>,
) -> Result<(), ReadError> {
    let length = body_length(req)?;
    if already.len() > length {
        // Bytes beyond the body would be a pipelined request; we close after one.
        already.truncate(length);
    }
    let missing = length - already.len();
    let mut body = already;
    body.reserve(missing);
    let got = stream.take(missing as u64).read_to_end(&mut body)?;
    if got < missing {
        return Err(reject(400, "request body shorter than Content-Length"));
    }
    req.body = body;
    Ok(())
}

/// A response to write. `Content-Length` and `Connection: close` are added on write.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub(crate) fn json(status: u16, body: &serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// Write a full response.
pub(crate) fn write_response(w: &mut impl Write, resp: &Response) -> io::Result<()> {
    write_head(w, resp.status, &resp.headers, resp.body.len())?;
    w.write_all(&resp.body)?;
    w.flush()
}

/// Write the status line and headers (plus `Content-Length` and `Connection: close`),
/// without a body. Used directly by faults that stall or cut the body.
pub(crate) fn write_head(
    w: &mut impl Write,
    status: u16,
    headers: &[(String, String)],
    content_length: usize,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        if k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("connection") {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {content_length}\r\nConnection: close\r\n\r\n"
    ));
    w.write_all(head.as_bytes())?;
    w.flush()
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Decode one percent-encoded path segment (`db%2Fpass%20one` -> `db/pass one`).
/// `+` stays `+` in paths. `None` when the result is not UTF-8.
pub(crate) fn decode_path_segment(segment: &str) -> Option<String> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Parse a query string into decoded pairs (`+` means space here, as form encoding
/// and Python's `urlencode` use it). Undecodable pairs are skipped.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = decode_path_segment(&k.replace('+', " "))?;
            let v = decode_path_segment(&v.replace('+', " "))?;
            Some((k, v))
        })
        .collect()
}

/// The status code of a raw HTTP response, if the bytes start like one.
pub(crate) fn status_of_raw(bytes: &[u8]) -> Option<u16> {
    let line = bytes.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(raw: &[u8]) -> Result<Request, ReadError> {
        let mut r = raw;
        let (mut req, rest) = read_head(&mut r)?;
        read_body(&mut r, &mut req, rest)?;
        Ok(req)
    }

    fn status(e: ReadError) -> u16 {
        match e {
            ReadError::Reject { status, .. } => status,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_request_with_a_body() {
        let req = read_all(
            b"POST /vault/v1/kv?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Thing: Y\r\n\r\nhello",
        )
        .unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/vault/v1/kv?x=1");
        assert_eq!(req.path_only(), "/vault/v1/kv");
        assert_eq!(
            split_target("https://h:1/vault/v1/kv?a=1"),
            ("/vault/v1/kv", "a=1")
        );
        assert_eq!(split_target("http://h"), ("/", ""));
        assert_eq!(req.query(), "x=1");
        assert_eq!(req.header("x-thing"), Some("Y"));
        assert_eq!(req.headers[2].0, "x-thing");
        assert_eq!(req.body, b"hello");
    }

    #[test]
    fn body_split_across_reads_is_joined() {
        // A reader that hands out one byte at a time exercises every partial path.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() || buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        let mut r = Trickle(b"PUT /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
        let (mut req, rest) = read_head(&mut r).unwrap();
        read_body(&mut r, &mut req, rest).unwrap();
        assert_eq!(req.body, b"abc");
    }

    #[test]
    fn rejects_bad_and_oversized_requests() {
        assert_eq!(
            status(read_all(b"NOT HTTP AT ALL\r\n\r\n").unwrap_err()),
            400
        );
        assert_eq!(
            status(read_all(b"GET / HTTP/1.1\r\nHost").unwrap_err()),
            400
        );
        assert!(matches!(read_all(b"").unwrap_err(), ReadError::Closed));
        let big = format!(
            "GET / HTTP/1.1\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert_eq!(status(read_all(big.as_bytes()).unwrap_err()), 431);
        let many: String = (0..150).map(|i| format!("H{i}: v\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(status(read_all(many.as_bytes()).unwrap_err()), 431);
        let huge = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        assert_eq!(status(read_all(huge.as_bytes()).unwrap_err()), 413);
        assert_eq!(
            status(read_all(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n").unwrap_err()),
            400
        );
        assert_eq!(
            status(
                read_all(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                    .unwrap_err()
            ),
            400
        );
        assert_eq!(
            status(read_all(b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc").unwrap_err()),
            400
        );
        assert_eq!(
            status(
                read_all(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
                    .unwrap_err()
            ),
            501
        );
    }

    #[test]
    fn writes_a_response_with_length_and_close() {
        let mut out = Vec::new();
        let resp = Response::json(404, &serde_json::json!({"error": "Object not found"}))
            .with_header("X-Request-ID", "req_1");
        write_response(&mut out, &resp).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
        assert!(text.contains("Content-Type: application/json\r\n"));
        assert!(text.contains("X-Request-ID: req_1\r\n"));
        assert!(text.contains("Content-Length: 28\r\nConnection: close\r\n\r\n"));
        assert!(text.ends_with("{\"error\":\"Object not found\"}"));
    }

    #[test]
    fn percent_decoding_of_segments_and_queries() {
        assert_eq!(
            decode_path_segment("db%2Fpass%20one").unwrap(),
            "db/pass one"
        );
        assert_eq!(decode_path_segment("a+b").unwrap(), "a+b");
        assert_eq!(decode_path_segment("%C3%B1").unwrap(), "ñ");
        assert_eq!(decode_path_segment("100%").unwrap(), "100%");
        assert!(decode_path_segment("%FF").is_none());
        assert_eq!(
            parse_query("limit=5&search=a+b%2Fc&flag&&order=desc"),
            vec![
                ("limit".into(), "5".into()),
                ("search".into(), "a b/c".into()),
                ("flag".into(), String::new()),
                ("order".into(), "desc".into()),
            ]
        );
    }

    #[test]
    fn status_of_raw_responses() {
        assert_eq!(status_of_raw(b"HTTP/1.1 302 Found\r\n\r\n"), Some(302));
        assert_eq!(status_of_raw(b"<html>"), None);
        assert_eq!(status_of_raw(b""), None);
    }
}
