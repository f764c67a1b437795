//! The deployment as Sentry receives it: one `transaction` event, in an envelope.
//!
//! The event has the fields, names and values of Runlayer's `capture-deployment-completion.sh`
//! (anysource-infra), whose users' queries and alerts read them: the transaction name and source,
//! platform, `contexts.trace` and `contexts.deployment`, seven tags, `extra.deployment_metadata`,
//! and a `duration` measurement in milliseconds when a start is known. What differs is on purpose:
//! the JSON comes from a serializer (a `"` in a customer id cannot break it), times carry
//! microseconds, and an error message is sent as given (no trailing newline added).
//!
//! The envelope (relay-server `envelope/mod.rs` and `envelope/item.rs`): a header line, then the
//! item's header line whose `length` is the payload's length in **bytes**, the payload, `\n`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::Deployment;
use crate::clock::format_timestamp;

/// The transaction's name and the tags' `event_type`, as the script sends them.
pub(crate) const TRANSACTION: &str = "deployment.completion";
pub(crate) const EVENT_TYPE: &str = "deployment_completion";

/// This run's side of the event: who, where, when, and fresh ids.
#[derive(Debug, Clone)]
pub(crate) struct Occasion {
    pub user: String,
    pub hostname: String,
    pub started: Option<SystemTime>,
    pub finished: SystemTime,
    /// 32 lowercase hex digits each.
    pub event_id: String,
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
}

impl Occasion {
    /// A deployment that ended at `finished`, reported by this user on this host, with random ids.
    pub(crate) fn new(started: Option<SystemTime>, finished: SystemTime) -> Occasion {
        Occasion {
            user: super::whoami(),
            hostname: super::hostname(),
            started,
            finished,
            event_id: crate::keys::hex(&crate::keys::random_bytes::<16>()),
            trace_id: crate::keys::hex(&crate::keys::random_bytes::<16>()),
            span_id: crate::keys::hex(&crate::keys::random_bytes::<8>()),
        }
    }

    /// Milliseconds from the start to the end, when a start is known.
    pub(crate) fn duration_ms(&self) -> Option<u64> {
        let started = self.started?;
        let d = self
            .finished
            .duration_since(started)
            .unwrap_or(Duration::ZERO);
        Some(d.as_millis() as u64)
    }
}

/// Seconds since the epoch with microseconds, as a JSON number.
fn epoch_seconds(t: SystemTime) -> Value {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    json!(d.as_secs() as f64 + f64::from(d.subsec_micros()) / 1e6)
}

/// The transaction event.
pub(crate) fn event(d: &Deployment, o: &Occasion) -> Value {
    let finished_at = format_timestamp(o.finished);
    let status = d.status.as_str();
    let (start, duration) = match (o.started, o.duration_ms()) {
        (Some(started), Some(ms)) => (started, Some(ms)),
        _ => (o.finished, None),
    };
    let mut metadata = Map::new();
    for (k, v) in [
        ("deployment_type", d.deployment_type.as_str()),
        ("customer_id", &d.customer_id),
        ("infra_version", &d.infra_version),
        ("environment", &d.environment),
        ("timestamp", &finished_at),
        ("user", &o.user),
        ("hostname", &o.hostname),
        ("status", status),
        ("error_message", d.error_message.as_deref().unwrap_or("")),
    ] {
        metadata.insert(k.into(), json!(v));
    }
    let mut measurements = Map::new();
    if let Some(ms) = duration {
        metadata.insert("duration_ms".into(), json!(ms));
        metadata.insert("started_at".into(), json!(format_timestamp(start)));
        metadata.insert("finished_at".into(), json!(finished_at));
        measurements.insert(
            "duration".into(),
            json!({"value": ms, "unit": "millisecond"}),
        );
    }
    json!({
        "type": "transaction",
        "event_id": o.event_id,
        "timestamp": epoch_seconds(o.finished),
        "start_timestamp": epoch_seconds(start),
        "platform": "other",
        "transaction": TRANSACTION,
        "transaction_info": {"source": "custom"},
        "contexts": {
            "trace": {
                "trace_id": o.trace_id,
                "span_id": o.span_id,
                "op": "deployment",
                "status": d.status.trace_status(),
            },
            "deployment": {
                "type": d.deployment_type.as_str(),
                "customer_id": d.customer_id,
                "environment": d.environment,
                "timestamp": finished_at,
                "operator": o.user,
                "hostname": o.hostname,
                "status": status,
                "infra_version": d.infra_version,
            },
        },
        "tags": {
            "customer_id": d.customer_id,
            "deployment_type": d.deployment_type.as_str(),
            "environment": d.environment,
            "event_type": EVENT_TYPE,
            "deployment_status": status,
            "initiated_by": o.user,
            "infra_version": d.infra_version,
        },
        "extra": {"deployment_metadata": metadata},
        "measurements": measurements,
        "spans": [],
    })
}

/// The envelope: header line, item header line (length in bytes), payload, newline.
pub(crate) fn envelope(event: &Value, event_id: &str, sent_at: SystemTime) -> Vec<u8> {
    let payload = event.to_string().into_bytes();
    let header = json!({"event_id": event_id, "sent_at": format_timestamp(sent_at)});
    let item = json!({
        "type": "transaction",
        "length": payload.len(),
        "content_type": "application/json",
    });
    let mut out = Vec::with_capacity(payload.len() + 256);
    out.extend_from_slice(header.to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(item.to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&payload);
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{DeploymentStatus, DeploymentType};

    fn deployment(error: Option<&str>) -> Deployment {
        Deployment {
            deployment_type: DeploymentType::Eks,
            customer_id: "acme \"corp\" ünïcødé".into(),
            infra_version: "2.1.0".into(),
            environment: "production".into(),
            status: if error.is_some() {
                DeploymentStatus::Failure
            } else {
                DeploymentStatus::Success
            },
            error_message: error.map(str::to_string),
        }
    }

    fn occasion(started: Option<u64>) -> Occasion {
        Occasion {
            user: "deployer".into(),
            hostname: "ci-1".into(),
            started: started.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
            finished: UNIX_EPOCH + Duration::from_micros(1_765_000_100_250_000),
            event_id: "a".repeat(32),
            trace_id: "b".repeat(32),
            span_id: "c".repeat(16),
        }
    }

    /// Split an envelope the way relay does: header line, item header line, `length` bytes, newline.
    fn items(bytes: &[u8]) -> (Value, Value, Value) {
        let first = bytes.iter().position(|b| *b == b'\n').unwrap();
        let header: Value = serde_json::from_slice(&bytes[..first]).unwrap();
        let rest = &bytes[first + 1..];
        let second = rest.iter().position(|b| *b == b'\n').unwrap();
        let item: Value = serde_json::from_slice(&rest[..second]).unwrap();
        let len = item["length"].as_u64().unwrap() as usize;
        let payload = &rest[second + 1..second + 1 + len];
        assert_eq!(
            &rest[second + 1 + len..],
            b"\n",
            "payload then exactly one newline"
        );
        (header, item, serde_json::from_slice(payload).unwrap())
    }

    #[test]
    fn length_counts_bytes_and_the_payload_round_trips() {
        let message = "line one\nline two \u{2028} \"quoted\" ✓ 🎉";
        let d = deployment(Some(message));
        let o = occasion(Some(1_765_000_000));
        let e = event(&d, &o);
        let bytes = envelope(&e, &o.event_id, o.finished);
        let (header, item, payload) = items(&bytes);
        assert_eq!(header["event_id"], o.event_id.as_str());
        assert_eq!(item["type"], "transaction");
        assert!(item["length"].as_u64().unwrap() as usize > e.to_string().chars().count());
        assert_eq!(payload, e);
        let meta = &payload["extra"]["deployment_metadata"];
        assert_eq!(
            meta["error_message"], message,
            "sent as given, no newline added"
        );
        assert_eq!(payload["tags"]["customer_id"], d.customer_id.as_str());
    }

    #[test]
    fn a_known_start_gives_the_duration_in_milliseconds() {
        let e = event(&deployment(None), &occasion(Some(1_765_000_000)));
        assert_eq!(
            e["measurements"]["duration"],
            json!({"value": 100_250, "unit": "millisecond"})
        );
        assert_eq!(e["extra"]["deployment_metadata"]["duration_ms"], 100_250);
        assert_eq!(e["start_timestamp"], json!(1_765_000_000.0));
        assert_eq!(e["timestamp"], json!(1_765_000_100.25));
        assert_eq!(e["contexts"]["trace"]["status"], "ok");
        let e = event(&deployment(Some("x")), &occasion(None));
        assert_eq!(e["measurements"], json!({}));
        assert_eq!(e["start_timestamp"], e["timestamp"]);
        assert!(e["extra"]["deployment_metadata"]
            .get("duration_ms")
            .is_none());
        assert_eq!(e["contexts"]["trace"]["status"], "internal_error");
    }
}
