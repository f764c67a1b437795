//! The fault script: canned misbehaviour that tests queue up, one fault per incoming
//! request, to prove the client copes with what real networks and proxies do.

use std::collections::VecDeque;
use std::time::Duration;

/// What to do with the next request instead of answering it normally.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Send this response instead of the real one. `Content-Length` and
    /// `Connection: close` are computed; `X-Request-ID` and
    /// `Content-Type: application/json` are added unless given.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Sleep, then answer normally.
    Delay(Duration),
    /// Sleep, then apply the inner fault.
    DelayThen(Duration, Box<Fault>),
    /// Read the request, never answer; the socket stays open until the client leaves or
    /// the server shuts down.
    Hang,
    /// Read the request and close the socket without a byte of response.
    CloseWithoutResponse,
    /// Send the status line and headers announcing `content_length`, then stall.
    HeadersThenStall { status: u16, content_length: usize },
    /// Send the head and the start of the body, then reset the connection (RST).
    ResetMidBody {
        status: u16,
        body_prefix: String,
        content_length: usize,
    },
    /// Send these interim (1xx) responses, then answer normally.
    InterimThen(Vec<u16>),
    /// Answer normally, but frame the body with these `Content-Length` field values
    /// (one header line each; `{len}` stands for the body's real length) instead of
    /// the computed one, then close.
    ContentLength(Vec<String>),
    /// Write these exact bytes, then close (truncated JSON, invalid UTF-8, HTML,
    /// redirects, huge bodies...).
    Raw(Vec<u8>),
}

impl Fault {
    /// A JSON response with the given status and body (shorthand for tests).
    pub fn status(status: u16, body: impl Into<String>) -> Fault {
        Fault::Respond {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }
}

/// First in, first out; an empty queue means normal behaviour.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue(VecDeque<Fault>);

impl FaultQueue {
    pub(crate) fn push(&mut self, f: Fault) {
        self.0.push_back(f);
    }

    pub(crate) fn next(&mut self) -> Option<Fault> {
        self.0.pop_front()
    }
}
