//! The final answer to a request, with HTTP/1.1 framing checked where ureq 2 is lax:
//! interim 1xx responses before it are skipped (RFC 9110 §15.2: a client must accept
//! and ignore them), and an invalid `Content-Length` is an unrecoverable framing error
//! (RFC 9112 §6.3: several different values, a sign, a hex number or a negative one),
//! never a guess at where the body ends.

use std::io::Read;

/// The status, headers and (bounded) body of the final response.
pub struct Answer {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: Result<Vec<u8>, BodyError>,
}

/// Why a response body could not be read.
pub enum BodyError {
    /// The connection broke or stalled: may pass.
    Io(String),
    /// The body exceeds the cap: the same answer would come again.
    TooLarge(String),
}

/// Most interim responses skipped before giving up, and the largest head read.
const MAX_INTERIM: usize = 8;
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Why no answer could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The bytes cannot be trusted as an HTTP message: unrecoverable, never guessed at.
    Framing(String),
    /// The connection failed or closed before the answer: as retryable as any drop.
    Io(String),
}

impl From<String> for ReadError {
    fn from(framing: String) -> ReadError {
        ReadError::Framing(framing)
    }
}

impl From<&str> for ReadError {
    fn from(framing: &str) -> ReadError {
        ReadError::Framing(framing.to_string())
    }
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Read the final answer from what ureq parsed, reading past interim responses.
    pub fn read(response: ureq::Response, max_body: u64) -> Result<Answer, ReadError> {
        let status = response.status();
        // One entry per field line: a name sent twice is listed once, `all` gives both.
        let mut names = response.headers_names();
        names.sort_unstable_by_key(|n| n.to_ascii_lowercase());
        names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        let headers: Vec<(String, String)> = names
            .iter()
            .flat_map(|name| {
                response
                    .all(name)
                    .into_iter()
                    .map(|v| (name.clone(), v.to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        if (100..200).contains(&status) {
            // ureq 2 takes an interim response for the final one; what it calls the
            // body is the rest of the stream, which holds the real answer.
            if status == 101 {
                return Err("the server switched protocols (HTTP 101) on a plain GET".into());
            }
            log::debug!("skipping interim HTTP {status}");
            return read_after_interim(response.into_reader(), max_body);
        }
        // ureq reads by its own parse of the first Content-Length, which a valid list of
        // equal values (`5, 5`) fails: it would wait for the close. Read the length we
        // validated instead.
        let length = content_length(&headers)?;
        let body = read_capped(
            response.into_reader().take(length.unwrap_or(u64::MAX)),
            max_body,
        );
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// The body length a `Content-Length` announces, if any; `Err` when the field is
/// invalid. A list of equal values (`5, 5`) is one value, as RFC 9112 allows.
pub fn content_length(headers: &[(String, String)]) -> Result<Option<u64>, String> {
    let mut length = None;
    for (_, value) in headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        for item in value.split(',') {
            let item = item.trim_matches([' ', '\t']);
            let n = (!item.is_empty() && item.bytes().all(|b| b.is_ascii_digit()))
                .then(|| item.parse::<u64>().ok())
                .flatten()
                .ok_or("the response has an invalid Content-Length (not a decimal number)")?;
            if length.is_some_and(|l| l != n) {
                return Err("the response has two different Content-Length values".into());
            }
            length = Some(n);
        }
    }
    Ok(length)
}

fn read_capped(reader: impl Read, max: u64) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    reader
        .take(max + 1)
        .read_to_end(&mut body)
        .map_err(|e| BodyError::Io(io_failure(&e)))?;
    if body.len() as u64 > max {
        return Err(too_large(max));
    }
    Ok(body)
}

fn too_large(max: u64) -> BodyError {
    BodyError::TooLarge(format!(
        "response body is larger than {} KiB; check the api base",
        max / 1024
    ))
}

fn io_failure(e: &std::io::Error) -> String {
    let why = match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => "timed out".into(),
        _ => e.to_string(),
    };
    format!("connection failed while reading the response: {why}")
}

/// Bytes read so far from the stream after an interim response.
struct Buffered<R> {
    reader: R,
    buf: Vec<u8>,
}

impl<R: Read> Buffered<R> {
    /// Read more; false at the end of the stream.
    fn fill(&mut self) -> std::io::Result<bool> {
        let mut chunk = [0u8; 8192];
        let n = self.reader.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }
}

fn read_after_interim(reader: impl Read, max_body: u64) -> Result<Answer, ReadError> {
    let mut s = Buffered {
        reader,
        buf: Vec::new(),
    };
    let eof = || "the connection closed after an interim response, before the answer".to_string();
    for _ in 0..=MAX_INTERIM {
        let mut raw_headers = [httparse::EMPTY_HEADER; 64];
        let mut head = httparse::Response::new(&mut raw_headers);
        let parsed = head
            .parse(&s.buf)
            .map_err(|e| format!("the answer after an interim response is not valid HTTP ({e})"))?;
        let httparse::Status::Complete(head_len) = parsed else {
            if s.buf.len() > MAX_HEAD_BYTES {
                return Err("the answer's head is too large".into());
            }
            match s.fill() {
                Ok(true) => continue,
                Ok(false) => return Err(ReadError::Io(eof())),
                Err(e) => return Err(ReadError::Io(io_failure(&e))),
            }
        };
        let status = head.code.unwrap_or(0);
        let headers: Vec<(String, String)> = head
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        s.buf.drain(..head_len);
        if (100..200).contains(&status) && status != 101 {
            log::debug!("skipping interim HTTP {status}");
            continue;
        }
        if status == 101 {
            return Err("the server switched protocols (HTTP 101) on a plain GET".into());
        }
        let chunked = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("transfer-encoding"));
        let length = content_length(&headers)?;
        let body = if chunked {
            read_chunked(&mut s, max_body)
        } else if matches!(status, 204 | 304) {
            Ok(Vec::new())
        } else {
            read_exact_or_to_end(&mut s, length, max_body)
        };
        return Ok(Answer {
            status,
            headers,
            body,
        });
    }
    Err(format!("more than {MAX_INTERIM} interim responses before the answer").into())
}

fn read_exact_or_to_end<R: Read>(
    s: &mut Buffered<R>,
    length: Option<u64>,
    max: u64,
) -> Result<Vec<u8>, BodyError> {
    if length.is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    loop {
        if let Some(n) = length {
            if s.buf.len() as u64 >= n {
                s.buf.truncate(n as usize);
                return Ok(std::mem::take(&mut s.buf));
            }
        }
        if s.buf.len() as u64 > max {
            return Err(too_large(max));
        }
        match s.fill() {
            Ok(true) => {}
            Ok(false) if length.is_none() => return Ok(std::mem::take(&mut s.buf)),
            Ok(false) => {
                return Err(BodyError::Io(
                    "the connection closed before the whole body arrived".into(),
                ))
            }
            Err(e) => return Err(BodyError::Io(io_failure(&e))),
        }
    }
}

fn read_chunked<R: Read>(s: &mut Buffered<R>, max: u64) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    let more = |s: &mut Buffered<R>| match s.fill() {
        Ok(true) => Ok(()),
        Ok(false) => Err(BodyError::Io(
            "the connection closed in the middle of a chunked body".into(),
        )),
        Err(e) => Err(BodyError::Io(io_failure(&e))),
    };
    loop {
        let (skip, size) = match httparse::parse_chunk_size(&s.buf) {
            Ok(httparse::Status::Complete(x)) => x,
            Ok(httparse::Status::Partial) => {
                more(s)?;
                continue;
            }
            Err(_) => return Err(BodyError::Io("a chunked body has a bad chunk size".into())),
        };
        if body.len() as u64 + size > max {
            return Err(too_large(max));
        }
        // The chunk, then its CRLF (or, after the last chunk, the trailer's end).
        let need = skip + size as usize + 2;
        while s.buf.len() < need {
            more(s)?;
        }
        body.extend_from_slice(&s.buf[skip..skip + size as usize]);
        s.buf.drain(..need);
        if size == 0 {
            return Ok(body);
        }
    }
}
