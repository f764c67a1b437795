//! The one file of `event` that sends: the envelope to the DSN's endpoint through the shared
//! transport (the run's deadline, proxies, `--ca-file`, no redirects, a capped answer), retried
//! by the shared policy, which honours `Retry-After` and, here, `X-Sentry-Rate-Limits`.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::answer::{classify, Answered};
use super::dsn::Dsn;
use crate::workos::retry::{self, RetryEvent, RetryPolicy, Step};
use crate::workos::{BodyError, Http, Method, Request, VaultError, VaultErrorKind};

/// Sentry's answer to an envelope is `{"id": ...}`; anything larger is read no further.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// How sending ended. Reasons are one line, safe to show (no key, no DSN user part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Delivery {
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

/// Send `envelope` (whose event is `event_id`) before `deadline`. `Err` only for a configuration
/// error found before any request (the CA bundle, a proxy URL).
pub(crate) fn send(
    dsn: &Dsn,
    envelope: Vec<u8>,
    event_id: &str,
    ca_file: Option<&Path>,
    connect_timeout: Duration,
    deadline: Instant,
) -> anyhow::Result<Delivery> {
    let url = dsn.envelope_url();
    let target = url::Url::parse(&url)?;
    let http = Http::new(&target, ca_file, connect_timeout)?;
    let auth = dsn.auth_header();
    let ours = event_id.to_string();
    let sent = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&sent);
    let (tx, rx) = mpsc::channel();
    log::debug!("POST {} (event {event_id})", dsn.shown());
    // The worker is the backstop for what a request timeout cannot bound (a DNS lookup that hangs).
    std::thread::spawn(move || {
        let (result, attempts) = retry::run(
            &RetryPolicy::default(),
            deadline,
            |n| {
                counter.store(n, Ordering::SeqCst);
                attempt(&http, &url, &auth, &envelope, deadline)
            },
            std::thread::sleep,
            |event| {
                if let RetryEvent::Retry { .. } = event {
                    crate::console::progress(&format!("vault-fetch-relay: sentry {event}"));
                }
            },
        );
        let _ = tx.send((result, attempts));
    });
    let budget = deadline.saturating_duration_since(Instant::now());
    Ok(match rx.recv_timeout(budget + Duration::from_millis(200)) {
        Ok((Ok(id), attempts)) => Delivery::Accepted {
            event_id: id.unwrap_or(ours),
            attempts,
        },
        Ok((Err(e), attempts)) if e.kind == VaultErrorKind::Forbidden => Delivery::Refused {
            reason: e.detail,
            attempts,
        },
        Ok((Err(e), attempts)) => Delivery::Unreachable {
            reason: e.detail,
            attempts,
        },
        Err(_) => Delivery::Unreachable {
            reason: format!(
                "no answer within the run's {:.1} s deadline",
                budget.as_secs_f64()
            ),
            attempts: sent.load(Ordering::SeqCst),
        },
    })
}

/// One POST and what its answer means. A refusal travels as `Forbidden`, everything that may
/// pass as `Unavailable` (the retry policy's error type until it is generic over ours).
fn attempt(
    http: &Http,
    url: &str,
    auth: &str,
    envelope: &[u8],
    deadline: Instant,
) -> Step<Option<String>> {
    let remaining = match retry::time_left(deadline) {
        Ok(remaining) => remaining,
        Err(done) => return done,
    };
    let headers = [
        ("X-Sentry-Auth", auth),
        ("Content-Type", "application/x-sentry-envelope"),
        ("Accept", "application/json"),
    ];
    let request = Request {
        method: Method::POST,
        url,
        headers: &headers,
        body: Some(envelope),
        timeout: remaining,
        max_body: MAX_ANSWER_BYTES,
    };
    let answer = match http.send(&request) {
        Ok(answer) => answer,
        Err(e) if e.retry => {
            return Step::Retry {
                error: VaultError::unavailable(e.detail),
                retry_after: None,
            }
        }
        Err(e) => return Step::Done(Err(VaultError::unavailable(e.detail))),
    };
    let body = match &answer.body {
        Ok(body) => body.as_slice(),
        // Only the event id is read from a body; a huge one does not change the status.
        Err(BodyError::TooLarge(_)) => &[],
        Err(BodyError::Io(e)) => {
            return Step::Retry {
                error: VaultError::unavailable(e.clone()),
                retry_after: answer.retry_after(),
            }
        }
    };
    let location = answer.location_host();
    match classify(
        answer.status,
        answer.retry_after(),
        answer.header("x-sentry-rate-limits"),
        location.as_deref(),
        body,
    ) {
        Answered::Accepted(id) => Step::Done(Ok(id)),
        Answered::Retry { detail, wait } => Step::Retry {
            error: VaultError::unavailable(detail),
            retry_after: wait,
        },
        Answered::Refused(detail) => Step::Done(Err(VaultError::new(
            VaultErrorKind::Forbidden,
            detail,
            None,
        ))),
    }
}
