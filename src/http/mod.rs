//! The one HTTP layer under every client (WorkOS Vault, the Sentry upstream): the
//! transport (TLS, proxy rules, resolver, no redirects), body caps, the retry policy
//! (generic over the caller's error), the server-text sanitizer, and [`attempt`], the
//! skeleton of one try that every client shares. A client keeps only what is its own:
//! building its requests and classifying the answers, with its own error enum.

mod proxy;
pub(crate) mod retry;
pub(crate) mod text;
mod tls;
mod transport;

use std::time::Instant;

pub(crate) use retry::{Failure, RetryEvent, RetryPolicy, Step};
pub(crate) use text::{excerpt, sanitize_line};
pub(crate) use transport::{Answer, BodyError, Headers, Http, Method, Request};

/// A complete answer for a client to classify: its status and headers, and its body
/// (`Err(TooLarge)` when it is longer than the request's `max_body`).
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Headers,
    pub body: Result<Vec<u8>, TooLarge>,
}

/// A body longer than the request's `max_body`: the same answer would come again.
pub(crate) struct TooLarge;

/// One try, the same for every client: stop when the run's deadline has passed, build
/// the request (per try: a signature carries its time), send it with the time left,
/// turn a failed send into a retry or not (the transport knows which; an answer whose
/// framing cannot be trusted is the client's `Failure::not_http`, never retried), retry
/// a body whose reading broke, and give the complete answer to `classify`.
/// `no_answer` makes the client's error from a transport line (already sanitized).
pub(crate) fn attempt<T, E: Failure>(
    http: &Http,
    deadline: Instant,
    build: impl FnOnce() -> Result<Request, E>,
    no_answer: impl Fn(String) -> E,
    classify: impl FnOnce(Reply) -> Step<T, E>,
) -> Step<T, E> {
    let remaining = match retry::time_left(deadline) {
        Ok(remaining) => remaining,
        Err(done) => return done,
    };
    let request = match build() {
        Ok(request) => request,
        Err(e) => return Step::Done(Err(e)),
    };
    let started = Instant::now();
    let answer = match http.send(&request, remaining) {
        Ok(answer) => answer,
        Err(e) if e.framing => return Step::Done(Err(E::not_http(sanitize_line(&e.detail)))),
        Err(e) if e.retry => {
            return Step::Retry {
                error: no_answer(sanitize_line(&e.detail)),
                retry_after: None,
            }
        }
        Err(e) => return Step::Done(Err(no_answer(sanitize_line(&e.detail)))),
    };
    log::debug!(
        "HTTP {} after {} ms",
        answer.status,
        started.elapsed().as_millis()
    );
    let Answer {
        status,
        headers,
        body,
    } = answer;
    let body = match body {
        Ok(body) => Ok(body),
        Err(BodyError::TooLarge) => Err(TooLarge),
        // Framing that cannot be trusted is never retried, whatever the status.
        Err(BodyError::Framing(e)) => return Step::Done(Err(E::not_http(sanitize_line(&e)))),
        Err(BodyError::Io(e)) => {
            return Step::Retry {
                error: no_answer(sanitize_line(&e)),
                retry_after: headers.retry_after(),
            }
        }
    };
    classify(Reply {
        status,
        headers,
        body,
    })
}
