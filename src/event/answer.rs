//! What Sentry's answer to an envelope means: accepted (with its event id), worth another
//! attempt (throttled, timed out, a server error), or a refusal that the same envelope would
//! meet again. No HTTP library here: the status, two headers and the body are enough.
//!
//! `X-Sentry-Rate-Limits` is `<seconds>:<categories>:<scope>[:<reason>[:<namespaces>]]`, comma
//! separated, categories `;`-separated and empty for all of them (relay-server's
//! `utils/rate_limits.rs`, `format_rate_limits` / `parse_rate_limits`). An event is a
//! `transaction`: only limits on that category (or on all) hold it back.

use std::time::Duration;

use serde_json::Value;

use crate::http::retry::is_retryable_status;
use crate::http::{excerpt, sanitize_line};

/// The data category of a transaction event.
const CATEGORY: &str = "transaction";

/// How one answer ends the attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answered {
    /// Taken: Sentry's event id when its body names one.
    Accepted(Option<String>),
    /// May pass: wait `wait` (the server's own word) or the usual backoff.
    Retry {
        detail: String,
        wait: Option<Duration>,
    },
    /// The same envelope would be refused again.
    Refused(String),
}

/// One rate limit that applies to a transaction: how long, and Sentry's reason code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Limit {
    pub seconds: u64,
    pub scope: String,
    pub reason: Option<String>,
}

/// The longest limit in an `X-Sentry-Rate-Limits` value that holds back transactions.
pub(crate) fn transaction_limit(header: &str) -> Option<Limit> {
    header
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.trim().split(':');
            let seconds: f64 = parts.next()?.trim().parse().ok()?;
            if !(seconds.is_finite() && seconds >= 0.0) {
                return None;
            }
            let categories = parts.next().unwrap_or("");
            let applies = categories.split(';').all(str::is_empty)
                || categories.split(';').any(|c| c.trim() == CATEGORY);
            if !applies {
                return None;
            }
            let scope = parts.next().unwrap_or("").trim().to_string();
            let reason = parts
                .next()
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty());
            Some(Limit {
                seconds: seconds.ceil() as u64,
                scope,
                reason,
            })
        })
        .max_by_key(|l| l.seconds)
}

/// Classify Sentry's answer. `retry_after` is the parsed `Retry-After`, `rate_limits` the
/// raw `X-Sentry-Rate-Limits`, `location` a redirect's target host.
pub(crate) fn classify(
    status: u16,
    retry_after: Option<Duration>,
    rate_limits: Option<&str>,
    location: Option<&str>,
    body: &[u8],
) -> Answered {
    match status {
        200..=299 => Answered::Accepted(event_id_in(body)),
        300..=399 => Answered::Refused(format!(
            "HTTP {status}: a redirect to {} was not followed; use the DSN Sentry shows for the project",
            sanitize_line(location.unwrap_or("nowhere"))
        )),
        429 => {
            let limit = rate_limits.and_then(transaction_limit);
            let wait = limit
                .as_ref()
                .map(|l| Duration::from_secs(l.seconds))
                .or(retry_after);
            let detail = match &limit {
                Some(l) => format!(
                    "HTTP 429: rate limited for {} s (scope {}{})",
                    l.seconds,
                    sanitize_line(if l.scope.is_empty() { "unknown" } else { &l.scope }),
                    l.reason
                        .as_deref()
                        .map(|r| format!(", reason {}", sanitize_line(r)))
                        .unwrap_or_default()
                ),
                None => format!("HTTP 429: rate limited ({})", detail_of(body)),
            };
            Answered::Retry { detail, wait }
        }
        s if is_retryable_status(s) => Answered::Retry {
            detail: format!("HTTP {status} ({})", detail_of(body)),
            wait: retry_after,
        },
        413 => Answered::Refused(
            "HTTP 413: the event is larger than this Sentry accepts".to_string(),
        ),
        401 | 403 => Answered::Refused(format!(
            "HTTP {status}: {}; check the DSN's public key and project (is the key enabled?)",
            detail_of(body)
        )),
        _ => Answered::Refused(format!("HTTP {status}: {}", detail_of(body))),
    }
}

/// `{"id": "<32 hex>"}`, Sentry's and relay's answer to an accepted envelope.
fn event_id_in(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let id = v.get("id")?.as_str()?;
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id.to_ascii_lowercase())
}

/// Sentry's own words (`detail`, with relay's `causes`), or the start of the body, on one line.
fn detail_of(body: &[u8]) -> String {
    if body.is_empty() {
        return "empty body".into();
    }
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if let Some(d) = v.get("detail").and_then(Value::as_str) {
            let causes: Vec<&str> = v
                .get("causes")
                .and_then(Value::as_array)
                .map(|c| c.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            return match causes.is_empty() {
                true => sanitize_line(d),
                false => sanitize_line(&format!("{d}: {}", causes.join(": "))),
            };
        }
    }
    excerpt(&String::from_utf8_lossy(body), 80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_that_hold_back_transactions() {
        let l = |h| transaction_limit(h);
        assert_eq!(l("60:transaction:key").unwrap().seconds, 60);
        assert_eq!(
            l("60::organization").unwrap().seconds,
            60,
            "empty: every category"
        );
        assert_eq!(l("60:error;default:project"), None);
        let got = l("10:error:project, 2700:transaction;error:organization:usage_exceeded, 30:transaction:key").unwrap();
        assert_eq!(
            got,
            Limit {
                seconds: 2700,
                scope: "organization".into(),
                reason: Some("usage_exceeded".into())
            }
        );
        assert_eq!(l("1.5:transaction:key").unwrap().seconds, 2);
        assert_eq!(l("garbage"), None);
        assert_eq!(l(""), None);
        assert_eq!(l("-5:transaction:key"), None);
    }

    #[test]
    fn answers_are_classified() {
        let ok = classify(
            200,
            None,
            None,
            None,
            br#"{"id":"0123456789ABCDEF0123456789abcdef"}"#,
        );
        assert_eq!(
            ok,
            Answered::Accepted(Some("0123456789abcdef0123456789abcdef".into()))
        );
        assert_eq!(
            classify(202, None, None, None, b""),
            Answered::Accepted(None)
        );
        let throttled = classify(
            429,
            Some(Duration::from_secs(5)),
            Some("120:transaction:key:too_many"),
            None,
            b"",
        );
        match throttled {
            Answered::Retry { detail, wait } => {
                assert_eq!(wait, Some(Duration::from_secs(120)));
                assert!(detail.contains("scope key, reason too_many"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        // A limit on another category does not say when transactions may come back.
        assert!(matches!(
            classify(429, Some(Duration::from_secs(5)), Some("60:error:key"), None, b""),
            Answered::Retry { wait: Some(w), .. } if w == Duration::from_secs(5)
        ));
        assert!(matches!(
            classify(503, None, None, None, b"busy"),
            Answered::Retry { wait: None, .. }
        ));
        for s in [301, 302, 400, 401, 403, 404, 413, 501] {
            assert!(
                matches!(
                    classify(s, None, None, Some("x.example"), b"{}"),
                    Answered::Refused(_)
                ),
                "{s}"
            );
        }
        let bad = classify(
            400,
            None,
            None,
            None,
            br#"{"detail":"invalid envelope","causes":["missing newline after header or payload"]}"#,
        );
        assert_eq!(
            bad,
            Answered::Refused(
                "HTTP 400: invalid envelope: missing newline after header or payload".into()
            )
        );
        let line = match classify(500, None, None, None, "a\nb\u{2028}c".as_bytes()) {
            Answered::Retry { detail, .. } => detail,
            other => panic!("{other:?}"),
        };
        assert!(!line.contains('\n') && !line.contains('\u{2028}'), "{line}");
    }
}
