//! The retry policy, the one place that decides whether and when to try again.
//!
//! Up to 3 retries (4 attempts) on connect errors, timeouts, 408, 429 and 500/502/503/504,
//! with exponential backoff and jitter (0.25-0.5 s, 0.5-1 s, 1-2 s). A `Retry-After`
//! header replaces the backoff and is the earliest we come back, plus up to as much again
//! at random (see [`after_server_wait`]); a wait that would end past the run's
//! deadline is not taken: the run ends at once with the last error.

use std::time::{Duration, Instant, SystemTime};

/// What the retry loop needs of a client's own error type: the word for "the run's
/// deadline came first", the one for an answer that is not HTTP, the one line a retry
/// announcement quotes, and a note saying why retrying stopped.
pub(crate) trait Failure: Sized {
    /// The run's deadline has passed before an attempt could start.
    fn deadline_reached() -> Self;
    /// Something answered, but its framing cannot be trusted (a head that does not parse,
    /// a broken chunked body, a bad Content-Length): never retried. `detail` names what
    /// was seen, already sanitized.
    fn not_http(detail: String) -> Self;
    /// The failed attempt's one-line reason.
    fn detail(&self) -> &str;
    /// `self` with `note` after its reason; `deadline` when the run's deadline ended the
    /// retries (a longer deadline might have helped).
    fn annotate(self, note: &str, deadline: bool) -> Self;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based): base * 2^retry capped, then
    /// "equal jitter" (half fixed, half random) so clients started together spread out.
    pub(crate) fn backoff(&self, retry: u32, random: u64) -> Duration {
        let full = self
            .base_delay
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_delay);
        let half = full / 2;
        let span = half.as_millis() as u64;
        let jitter = if span == 0 { 0 } else { random % (span + 1) };
        half + Duration::from_millis(jitter)
    }
}

/// The wait after a server asked for `asked`: never sooner, plus up to as much again at
/// random, but the spread takes at most half of the time that remains before the deadline
/// (`room`) once the asked wait is over: the other half stays for the attempt itself. Every client throttled in the same burst is told the same instant (when
/// the window's oldest request expires, or the window ends); all coming back then would
/// meet a budget that refills only as fast as it was spent, and be refused again, burning
/// their attempts within seconds. Spread over `asked` again, most find a free slot.
pub(crate) fn after_server_wait(asked: Duration, room: Duration, random: u64) -> Duration {
    let spare = room.saturating_sub(asked) / 2;
    let span = asked.min(spare).as_millis() as u64;
    let jitter = if span == 0 { 0 } else { random % (span + 1) };
    asked + Duration::from_millis(jitter)
}

/// The time left for an attempt before `deadline`, or the step that ends the run when
/// none is (the one "deadline reached" every client reports).
pub(crate) fn time_left<T, E: Failure>(deadline: Instant) -> Result<Duration, Step<T, E>> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(Step::Done(Err(E::deadline_reached())));
    }
    Ok(remaining)
}

/// HTTP statuses worth another attempt: throttling, timeouts and gateway trouble.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// What the loop is doing, for front ends that show progress (the loop itself never
/// prints). `reason` is the failed attempt's one-line detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RetryEvent<'a> {
    /// Attempt `number` (1-based) of at most `of` is about to start.
    Attempt { number: u32, of: u32 },
    /// Attempt `failed` failed with `reason`; attempt `failed + 1` of `of` follows after `wait`.
    Retry {
        failed: u32,
        of: u32,
        reason: &'a str,
        wait: Duration,
    },
}

/// One line for a person watching: "attempt 1/4 failed: HTTP 503: busy; retry 2/4 in 0.4 s".
impl std::fmt::Display for RetryEvent<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RetryEvent::Attempt { number, of } => write!(f, "attempt {number}/{of}"),
            RetryEvent::Retry {
                failed,
                of,
                reason,
                wait,
            } => write!(
                f,
                "attempt {failed}/{of} failed: {reason}; retry {}/{of} in {:.1} s",
                failed + 1,
                wait.as_secs_f64()
            ),
        }
    }
}

/// What one attempt produced.
pub(crate) enum Step<T, E> {
    Done(Result<T, E>),
    /// A failure that may pass; `retry_after` is the server's requested wait, if any.
    Retry {
        error: E,
        retry_after: Option<Duration>,
    },
}

/// Parse `Retry-After`: delay-seconds or an HTTP-date (relative to `now`).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for u64 is still "wait very long", not "no header".
        return Some(
            value
                .parse::<u64>()
                .map_or(Duration::MAX, Duration::from_secs),
        );
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Run `attempt` until it is done, retries are used up, or the deadline would pass.
/// Returns the result and the number of attempts made. `sleep` is injected so unit
/// tests can check the schedule without waiting; `observe` hears of every attempt
/// and every wait before it happens.
pub(crate) fn run<T, E: Failure>(
    policy: &RetryPolicy,
    deadline: Instant,
    mut attempt: impl FnMut(u32) -> Step<T, E>,
    mut sleep: impl FnMut(Duration),
    mut observe: impl FnMut(RetryEvent<'_>),
) -> (Result<T, E>, u32) {
    let mut made = 0u32;
    let of = policy.max_retries + 1;
    loop {
        made += 1;
        observe(RetryEvent::Attempt { number: made, of });
        let (error, retry_after) = match attempt(made) {
            Step::Done(result) => return (result, made),
            Step::Retry { error, retry_after } => (error, retry_after),
        };
        if made > policy.max_retries {
            let note = format!("gave up after {made} attempts");
            return (Err(error.annotate(&note, false)), made);
        }
        // A Retry-After of 0 (or a date in the past) still waits the shortest backoff,
        // so a throttling server is never hammered.
        let random = u64::from_le_bytes(crate::keys::random_bytes::<8>());
        let wait = match retry_after {
            Some(w) => w.max(policy.base_delay / 2),
            None => policy.backoff(made - 1, random),
        };
        // Compare durations, not instants: a huge Retry-After must not overflow Instant.
        let room = deadline.saturating_duration_since(Instant::now());
        if wait >= room {
            let note = match retry_after {
                Some(w) => format!(
                    "server asked to retry after {} s, past the run's deadline; gave up after {made} attempt(s)",
                    w.as_secs()
                ),
                None => format!("run deadline reached after {made} attempt(s)"),
            };
            return (Err(error.annotate(&note, true)), made);
        }
        let wait = match retry_after {
            Some(_) => after_server_wait(wait, room, random),
            None => wait,
        };
        log::debug!("attempt {made} failed; retrying in {} ms", wait.as_millis());
        observe(RetryEvent::Retry {
            failed: made,
            of,
            reason: error.detail(),
            wait,
        });
        sleep(wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client's error as the loop sees it: a reason, and whether the deadline ended it.
    #[derive(Debug, PartialEq)]
    struct Failed {
        detail: String,
        deadline: bool,
        gone: bool,
    }

    impl Failure for Failed {
        fn deadline_reached() -> Self {
            Failed {
                detail: "run deadline reached".into(),
                deadline: true,
                gone: false,
            }
        }
        fn not_http(detail: String) -> Self {
            Failed {
                detail,
                deadline: false,
                gone: true,
            }
        }
        fn detail(&self) -> &str {
            &self.detail
        }
        fn annotate(self, note: &str, deadline: bool) -> Self {
            Failed {
                detail: format!("{} ({note})", self.detail),
                deadline,
                ..self
            }
        }
    }

    fn unavailable(n: u32) -> Failed {
        Failed {
            detail: format!("HTTP 503 #{n}"),
            deadline: false,
            gone: false,
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_inside_bounds() {
        let p = RetryPolicy::default();
        for (retry, lo, hi) in [
            (0, 250, 500),
            (1, 500, 1000),
            (2, 1000, 2000),
            (5, 2500, 5000),
        ] {
            for r in [0u64, 1, 77, u64::MAX] {
                let d = p.backoff(retry, r).as_millis() as u64;
                assert!(
                    (lo..=hi).contains(&d),
                    "retry {retry}: {d} not in {lo}..={hi}"
                );
            }
        }
    }

    #[test]
    fn four_attempts_then_give_up() {
        let mut slept = vec![];
        let deadline = Instant::now() + Duration::from_secs(60);
        let (res, made) = run::<(), Failed>(
            &RetryPolicy::default(),
            deadline,
            |n| Step::Retry {
                error: unavailable(n),
                retry_after: None,
            },
            |d| slept.push(d),
            |_| {},
        );
        assert_eq!(made, 4);
        assert_eq!(slept.len(), 3);
        let err = res.unwrap_err();
        assert!(
            err.detail.contains("#4") && err.detail.contains("gave up after 4 attempts"),
            "{err:?}"
        );
    }

    #[test]
    fn retry_after_is_used_and_never_past_the_deadline() {
        let mut slept = vec![];
        let deadline = Instant::now() + Duration::from_secs(10);
        let (res, made) = run::<u32, Failed>(
            &RetryPolicy::default(),
            deadline,
            |n| match n {
                1 => Step::Retry {
                    error: unavailable(n),
                    retry_after: Some(Duration::from_secs(2)),
                },
                _ => Step::Done(Ok(n)),
            },
            |d| slept.push(d),
            |_| {},
        );
        assert_eq!((res.unwrap(), made), (2, 2));
        assert_eq!(slept.len(), 1);
        assert!(
            (Duration::from_secs(2)..=Duration::from_secs(4)).contains(&slept[0]),
            "{slept:?}"
        );

        let (res, made) = run::<(), Failed>(
            &RetryPolicy::default(),
            deadline,
            |n| Step::Retry {
                error: unavailable(n),
                retry_after: Some(Duration::from_secs(3600)),
            },
            |_| panic!("must not sleep past the deadline"),
            |_| {},
        );
        assert_eq!(made, 1);
        assert!(format!("{:?}", res.unwrap_err()).contains("past the run's deadline"));
    }

    #[test]
    fn an_enormous_retry_after_ends_the_run_instead_of_overflowing() {
        let (res, made) = run::<(), Failed>(
            &RetryPolicy::default(),
            Instant::now() + Duration::from_secs(30),
            |n| Step::Retry {
                error: unavailable(n),
                retry_after: parse_retry_after("18446744073709551615", SystemTime::now()),
            },
            |_| panic!("must not sleep"),
            |_| {},
        );
        assert_eq!(made, 1);
        assert!(res.unwrap_err().detail.contains("past the run's deadline"));
    }

    #[test]
    fn a_zero_retry_after_still_waits_the_shortest_backoff() {
        let mut slept = vec![];
        let (_, made) = run::<(), Failed>(
            &RetryPolicy::default(),
            Instant::now() + Duration::from_secs(30),
            |n| Step::Retry {
                error: unavailable(n),
                retry_after: Some(Duration::ZERO),
            },
            |d| slept.push(d),
            |_| {},
        );
        assert_eq!(made, 4);
        assert_eq!(slept.len(), 3);
        let (lo, hi) = (Duration::from_millis(250), Duration::from_millis(500));
        assert!(slept.iter().all(|d| (lo..=hi).contains(d)), "{slept:?}");
    }

    #[test]
    fn a_server_wait_is_never_shortened_and_spread_within_the_deadline() {
        let s = Duration::from_secs;
        for random in [0u64, 1, 7_777, 29_999, 30_000, u64::MAX] {
            let w = after_server_wait(s(20), s(120), random);
            assert!((s(20)..=s(40)).contains(&w), "{w:?}");
            // Little room left: the spread shrinks so half the rest stays for the attempt.
            let w = after_server_wait(s(60), s(64), random);
            assert!((s(60)..=s(62)).contains(&w), "{w:?}");
        }
        assert_eq!(after_server_wait(s(20), s(120), 0), s(20));
        assert_eq!(after_server_wait(s(20), s(120), 20_000), s(40));
        // The deadline caps the spread: 60 s asked, 90 s left, at most 75 s.
        assert_eq!(after_server_wait(s(60), s(90), 15_000), s(75));
        assert_eq!(after_server_wait(s(60), s(90), 15_001), s(60));
        assert_eq!(after_server_wait(s(5), s(5), 12_345), s(5));
    }

    #[test]
    fn done_errors_are_not_retried() {
        let (res, made) = run::<(), Failed>(
            &RetryPolicy::default(),
            Instant::now() + Duration::from_secs(10),
            |_| {
                Step::Done(Err(Failed {
                    gone: true,
                    ..unavailable(0)
                }))
            },
            |_| panic!("no sleep"),
            |_| {},
        );
        assert_eq!(made, 1);
        assert!(res.unwrap_err().gone);
    }

    #[test]
    fn the_observer_hears_every_attempt_and_wait_in_order() {
        let mut events = vec![];
        let (_, made) = run::<(), Failed>(
            &RetryPolicy::default(),
            Instant::now() + Duration::from_secs(30),
            |n| Step::Retry {
                error: unavailable(n),
                retry_after: Some(Duration::from_secs(1)),
            },
            |_| {},
            |e| events.push(format!("{e:?}")),
        );
        assert_eq!(made, 4);
        let attempts = events.iter().filter(|e| e.starts_with("Attempt")).count();
        let retries = events.iter().filter(|e| e.starts_with("Retry")).count();
        assert_eq!((attempts, retries), (4, 3), "{events:?}");
        assert!(events[1].contains("failed: 1, of: 4") && events[1].contains("HTTP 503 #1"));
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::MAX)
        );
        assert_eq!(parse_retry_after("1.5", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [400, 401, 403, 404, 409, 422, 501, 505] {
            assert!(!is_retryable_status(s));
        }
    }
}
