//! The one file of `event` that sends: the envelope to the DSN's endpoint through the one HTTP
//! layer (`http::attempt`: the run's deadline, proxies, `--ca-file`, no redirects, a capped answer),
//! retried by its policy, which honours `Retry-After` and, here, `X-Sentry-Rate-Limits`; the
//! worker thread is held to the deadline by `deadline::within`.

use std::path::Path;
use std::time::{Duration, Instant};

use super::answer::{classify, Answered};
use crate::deadline::{within, Attempts, Late};
use crate::dsn::Dsn;
use crate::http::{
    self as http, retry, Failure, Http, Method, Reply, Request, RetryEvent, RetryPolicy, Step,
};

/// Sentry's answer to an envelope is `{"id": ...}`; anything larger is read no further.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// How sending ended. Reasons are one line, safe to show (no key, no DSN user part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sent {
    Accepted {
        event_id: String,
        attempts: u32,
    },
    /// Sentry answered and will not take this event (4xx, a redirect).
    Refused {
        reason: String,
        attempts: u32,
    },
    /// No answer that took it: network, TLS, the deadline, throttling or 5xx after retries.
    Unreachable {
        reason: String,
        attempts: u32,
    },
}

/// Why an attempt did not deliver: Sentry said no, or no answer took the event.
#[derive(Debug)]
struct SendFailure {
    refused: bool,
    detail: String,
}

impl SendFailure {
    fn unreachable(detail: String) -> Self {
        SendFailure {
            refused: false,
            detail,
        }
    }
}

impl Failure for SendFailure {
    fn deadline_reached() -> Self {
        SendFailure::unreachable("run deadline reached".into())
    }

    /// Something answered, but not as HTTP whose framing can be trusted: not Sentry's
    /// answer, and never retried.
    fn not_http(detail: String) -> Self {
        SendFailure {
            refused: true,
            detail,
        }
    }

    fn detail(&self) -> &str {
        &self.detail
    }

    fn annotate(mut self, note: &str, _deadline: bool) -> Self {
        self.detail = format!("{} ({note})", self.detail);
        self
    }
}

/// Send `envelope` (whose event is `event_id`) before `deadline`. `Err` only for a configuration
/// error found before any request (the CA bundle, a proxy URL).
pub(crate) fn send(
    dsn: &Dsn,
    envelope: Vec<u8>,
    event_id: &str,
    ca_file: Option<&Path>,
    connect_timeout: Duration,
    deadline: Instant,
) -> anyhow::Result<Sent> {
    let url = dsn.envelope_url();
    let http = Http::new(&url::Url::parse(&url)?, ca_file, connect_timeout)?;
    let auth = dsn.auth_header();
    let ours = event_id.to_string();
    let sent = Attempts::default();
    let counter = sent.clone();
    log::debug!("POST {} (event {event_id})", dsn.shown());
    let work = move || {
        retry::run(
            &RetryPolicy::default(),
            deadline,
            |n| {
                counter.starting(n);
                let build = || {
                    Ok(Request {
                        method: Method::POST,
                        url: url.clone(),
                        headers: vec![
                            ("X-Sentry-Auth", auth.clone()),
                            ("Content-Type", "application/x-sentry-envelope".into()),
                            ("Accept", "application/json".into()),
                        ],
                        body: Some(envelope.clone()),
                        max_body: MAX_ANSWER_BYTES,
                    })
                };
                http::attempt(&http, deadline, build, SendFailure::unreachable, judge)
            },
            std::thread::sleep,
            |event| {
                if let RetryEvent::Retry { .. } = event {
                    crate::console::progress(&format!("vault-fetch-relay: sentry {event}"));
                }
            },
        )
    };
    Ok(match within(deadline, work) {
        Ok((Ok(id), attempts)) => Sent::Accepted {
            event_id: id.unwrap_or(ours),
            attempts,
        },
        Ok((Err(e), attempts)) if e.refused => Sent::Refused {
            reason: e.detail,
            attempts,
        },
        Ok((Err(e), attempts)) => Sent::Unreachable {
            reason: e.detail,
            attempts,
        },
        Err(Late::Timeout { budget }) => Sent::Unreachable {
            reason: format!(
                "no answer within the run's {:.1} s deadline",
                budget.as_secs_f64()
            ),
            attempts: sent.started(),
        },
        Err(Late::Lost) => Sent::Unreachable {
            reason: "sending failed unexpectedly; run with RUST_LOG=debug and report it".into(),
            attempts: sent.started(),
        },
    })
}

/// What Sentry's complete answer means for this attempt.
fn judge(reply: Reply) -> Step<Option<String>, SendFailure> {
    // Only the event id is read from a body; a huge one does not change the status.
    let body = reply.body.as_deref().unwrap_or(&[]);
    let location = reply.headers.location_host();
    match classify(
        reply.status,
        reply.headers.retry_after(),
        reply.headers.get("x-sentry-rate-limits"),
        location.as_deref(),
        body,
    ) {
        Answered::Accepted(id) => Step::Done(Ok(id)),
        Answered::Retry { detail, wait } => Step::Retry {
            error: SendFailure::unreachable(detail),
            retry_after: wait,
        },
        Answered::Refused(detail) => Step::Done(Err(SendFailure {
            refused: true,
            detail,
        })),
    }
}
