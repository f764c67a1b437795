//! `--rate-limit N/PERIOD`: WorkOS's per-API-key limit (6,000 requests per 60 seconds), so a
//! fleet can be rehearsed on one machine.
//!
//! A sliding-window log per key: a request is admitted while fewer than N were admitted in
//! the last PERIOD; otherwise it gets WorkOS's 429 with a `Retry-After` (whole seconds, as
//! every WorkOS SDK parses it) saying when the oldest counted request leaves the window.
//! Refused requests are not counted against the window (WorkOS does not say whether they
//! are; counting them would let a retry storm lock a key out for good).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

use super::http::{Request, Response};

/// The largest N accepted: the log keeps one instant per admitted request.
const MAX_LIMIT: u32 = 1_000_000;

/// N requests per PERIOD, per API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u32,
    pub period: Duration,
}

impl RateLimit {
    /// WorkOS's general limit.
    pub const WORKOS: RateLimit = RateLimit {
        limit: 6000,
        period: Duration::from_secs(60),
    };

    /// `6000/60s`, `30/1m`, `600/6s` (the period in `--interval`'s units).
    pub fn parse(text: &str) -> Result<RateLimit, String> {
        let usage = || format!("{text:?} is not a rate limit; use N/PERIOD, e.g. 6000/60s");
        let (n, period) = text.trim().split_once('/').ok_or_else(usage)?;
        let limit: u32 = n.trim().parse().map_err(|_| usage())?;
        let period = parse_period(period).ok_or_else(usage)?;
        if !(1..=MAX_LIMIT).contains(&limit) || period.is_zero() {
            return Err(format!(
                "{text:?}: N must be 1 to {MAX_LIMIT} and PERIOD more than 0, e.g. 6000/60s"
            ));
        }
        Ok(RateLimit { limit, period })
    }
}

/// A PERIOD in the product's duration units (`--interval`'s): a number of seconds, or one
/// with `ms`, `s`, `m` or `h`; at most a day. The stand-in parses its own flag value, so it
/// depends on nothing in the product's command line.
fn parse_period(text: &str) -> Option<Duration> {
    let t = text.trim();
    let unit_at = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(unit_at);
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    let secs = number.parse::<f64>().ok()? * scale;
    (secs.is_finite() && (0.0..=86_400.0).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}s", self.limit, self.period.as_secs_f64())
    }
}

/// What one key has seen since the server started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyCounts {
    /// Requests let through to the API (whatever it answered).
    pub admitted: u64,
    /// Requests answered 429.
    pub limited: u64,
}

#[derive(Default)]
struct KeyWindow {
    /// When each request still inside the window was admitted, oldest first.
    admitted_at: VecDeque<Instant>,
    counts: KeyCounts,
}

pub(crate) struct Limiter {
    rate: RateLimit,
    keys: Mutex<HashMap<String, KeyWindow>>,
}

impl Limiter {
    pub(crate) fn new(rate: RateLimit) -> Self {
        Limiter {
            rate,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// `None`: admitted (answer normally); `Some`: the 429 to send instead. Requests with no
    /// bearer token are not limited (they get 401, and WorkOS limits those per IP).
    pub(crate) fn check(&self, req: &Request) -> Option<Response> {
        let key = bearer(req)?;
        let retry_after = self.decide(key, Instant::now())?;
        Some(too_many_requests(retry_after))
    }

    /// `None` if admitted, else the wait until a slot frees.
    fn decide(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut keys = super::lock(&self.keys);
        let window = keys.entry(key.to_string()).or_default();
        while let Some(&t) = window.admitted_at.front() {
            if now.saturating_duration_since(t) < self.rate.period {
                break;
            }
            window.admitted_at.pop_front();
        }
        if window.admitted_at.len() < self.rate.limit as usize {
            window.admitted_at.push_back(now);
            window.counts.admitted += 1;
            return None;
        }
        window.counts.limited += 1;
        let oldest = window.admitted_at.front().copied().unwrap_or(now);
        Some(
            self.rate
                .period
                .saturating_sub(now.saturating_duration_since(oldest)),
        )
    }

    pub(crate) fn counts(&self, key: &str) -> KeyCounts {
        super::lock(&self.keys)
            .get(key)
            .map(|w| w.counts)
            .unwrap_or_default()
    }
}

fn bearer(req: &Request) -> Option<&str> {
    let (scheme, token) = req.header("authorization")?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// WorkOS's 429: `{"message","code"}` and `Retry-After` in whole seconds, rounded up and at
/// least 1 (the Go SDK reads it with `strconv.Atoi`, so never a fraction).
fn too_many_requests(wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Response::json(
        429,
        &json!({"message": "Too many requests.", "code": "rate_limit_exceeded"}),
    )
    .with_header("Retry-After", secs.max(1).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_n_per_period() {
        assert_eq!(RateLimit::parse("6000/60s").unwrap(), RateLimit::WORKOS);
        assert_eq!(RateLimit::parse(" 6000 / 1m ").unwrap(), RateLimit::WORKOS);
        let r = RateLimit::parse("600/500ms").unwrap();
        assert_eq!((r.limit, r.period), (600, Duration::from_millis(500)));
        for bad in [
            "6000",
            "0/60s",
            "x/60s",
            "10/0s",
            "10/forever",
            "-1/1s",
            "2000000/1s",
        ] {
            assert!(RateLimit::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(RateLimit::WORKOS.to_string(), "6000/60s");
    }

    #[test]
    fn admits_n_per_sliding_window_per_key_and_says_when_a_slot_frees() {
        let l = Limiter::new(RateLimit {
            limit: 3,
            period: Duration::from_secs(10),
        });
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(l.decide("a", at(0)), None);
        assert_eq!(l.decide("a", at(1)), None);
        assert_eq!(l.decide("a", at(2)), None);
        assert_eq!(l.decide("a", at(4)), Some(Duration::from_secs(6)));
        // Another key has its own window.
        assert_eq!(l.decide("b", at(4)), None);
        // The request at 0 has left the window at 10; the one at 1 has not.
        assert_eq!(l.decide("a", at(10)), None);
        assert_eq!(l.decide("a", at(10)), Some(Duration::from_secs(1)));
        assert_eq!(
            l.counts("a"),
            KeyCounts {
                admitted: 4,
                limited: 2
            }
        );
        assert_eq!(l.counts("b").admitted, 1);
        assert_eq!(l.counts("nobody"), KeyCounts::default());
    }

    #[test]
    fn the_429_is_workos_shaped_with_whole_seconds() {
        let r = too_many_requests(Duration::from_millis(1500));
        assert_eq!(r.status, 429);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["code"], "rate_limit_exceeded");
        assert_eq!(
            super::super::http::find_header(&r.headers, "retry-after"),
            Some("2")
        );
        let r = too_many_requests(Duration::ZERO);
        assert_eq!(
            super::super::http::find_header(&r.headers, "retry-after"),
            Some("1")
        );
    }
}
