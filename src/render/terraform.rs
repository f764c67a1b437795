//! The Terraform result, one flat JSON object of strings: what `data "external"` and
//! `ephemeral "local_command"` (through `jsondecode(...stdout)`) both read.

use serde::Serialize;

use super::Render;
use crate::fetch::Report;

/// What Terraform may keep in its state: the outcome of the read, never a credential.
/// Field names are the contract with users' HCL.
#[derive(Debug, Serialize)]
struct Outcome<'a> {
    status: &'a str,
    version_id: &'a str,
    updated_at: &'a str,
    /// Microseconds since the Unix epoch of `updated_at`: a number that grows with every
    /// vault version (WorkOS version ids are random tokens, not ordered), for
    /// `secret_string_wo_version`. Empty when `updated_at` is absent or unreadable.
    version_number: String,
    reason: &'a str,
}

/// The full result: the credentials and the outcome in one object.
#[derive(Debug, Serialize)]
struct Full<'a> {
    public_key: &'a str,
    secret_key: &'a str,
    relay_id: &'a str,
    sentry_dsn: &'a str,
    #[serde(flatten)]
    outcome: Outcome<'a>,
}

/// `outcome_only`: status, version and reason without the credential keys (query key
/// `outcome_only = "true"`), for a read whose result is stored in Terraform state.
pub(crate) struct TerraformResult {
    pub(crate) outcome_only: bool,
}

impl Render for TerraformResult {
    /// Every status yields the same keys; credential values are empty unless found,
    /// so `data.external.x.result.secret_key` always exists in the user's HCL.
    fn render(&self, report: &Report) -> String {
        let found = report.found();
        let creds = found.map(|f| &f.credentials);
        let reason = if found.is_some() {
            String::new()
        } else {
            report.reason()
        };
        let updated_at = found.and_then(|f| f.updated_at.as_deref()).unwrap_or("");
        let outcome = Outcome {
            status: report.status().as_str(),
            version_id: found.and_then(|f| f.version_id.as_deref()).unwrap_or(""),
            updated_at,
            version_number: micros_since_epoch(updated_at)
                .map(|n| n.to_string())
                .unwrap_or_default(),
            reason: &reason,
        };
        // Serializing plain string fields cannot fail.
        let mut out = if self.outcome_only {
            serde_json::to_string(&outcome)
        } else {
            serde_json::to_string(&Full {
                public_key: creds.map_or("", |c| c.public_key.as_str()),
                secret_key: creds.map_or("", |c| c.secret_key.expose()),
                relay_id: creds.map_or("", |c| c.relay_id.as_str()),
                sentry_dsn: creds.and_then(|c| c.sentry_dsn.as_deref()).unwrap_or(""),
                outcome,
            })
        }
        .unwrap_or_default();
        out.push('\n');
        out
    }
}

/// An RFC 3339 time (`2025-03-11T02:18:54.250931Z`, or with a `+hh:mm` offset) as
/// microseconds since the epoch; `None` for anything else or a time before 1970.
pub(crate) fn micros_since_epoch(t: &str) -> Option<u64> {
    let b = t.as_bytes();
    let num = |r| num_in(t, r);
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &t[19..];
    let mut micros = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        // Keep microseconds: WorkOS prints six digits; more are truncated.
        let kept = &frac[..digits.min(6)];
        micros = kept.parse::<i64>().ok()? * 10i64.pow(6 - kept.len() as u32);
        rest = &frac[digits..];
    }
    let offset_secs = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = (num_in(rest, 1..3)?, num_in(rest, 4..6)?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset_secs;
    u64::try_from(secs.checked_mul(1_000_000)?.checked_add(micros)?).ok()
}

/// The decimal digits at `r` of `s` (only digits: no sign, no spaces).
fn num_in(s: &str, r: std::ops::Range<usize>) -> Option<i64> {
    let part = s.get(r)?;
    part.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| part.parse().ok())?
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::Status;
    use crate::render::fixtures;
    use serde_json::{Map, Value};

    const FULL_KEYS: [&str; 9] = [
        "public_key",
        "secret_key",
        "relay_id",
        "sentry_dsn",
        "status",
        "version_id",
        "updated_at",
        "version_number",
        "reason",
    ];
    const OUTCOME_KEYS: [&str; 5] = [
        "status",
        "version_id",
        "updated_at",
        "version_number",
        "reason",
    ];

    fn parse(s: &str) -> Map<String, Value> {
        serde_json::from_str::<Value>(s)
            .unwrap()
            .as_object()
            .unwrap()
            .clone()
    }

    fn keys(m: &Map<String, Value>) -> Vec<&str> {
        let mut k: Vec<&str> = m.keys().map(String::as_str).collect();
        k.sort();
        k
    }

    fn sorted<const N: usize>(k: [&'static str; N]) -> Vec<&'static str> {
        let mut k = k.to_vec();
        k.sort();
        k
    }

    const FULL: TerraformResult = TerraformResult {
        outcome_only: false,
    };
    const OUTCOME: TerraformResult = TerraformResult { outcome_only: true };

    #[test]
    fn found_has_all_keys_as_strings() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let m = parse(&FULL.render(&r));
        assert_eq!(keys(&m), sorted(FULL_KEYS));
        assert!(m.values().all(Value::is_string));
        assert_eq!(m["secret_key"], c.secret_key.expose());
        assert_eq!(m["relay_id"], c.relay_id.as_str());
        assert_eq!(m["status"], "found");
        assert_eq!(m["version_id"], "Wq49AmJIR7QI0kSwfY9BZ6vNsOq6AO_X");
        assert_eq!(m["version_number"], "1741659534250931");
        assert_eq!(m["reason"], "");
    }

    #[test]
    fn missing_has_the_same_keys_empty() {
        for status in Status::ALL.into_iter().filter(|s| *s != Status::Found) {
            let m = parse(&FULL.render(&fixtures::missing(status)));
            assert_eq!(keys(&m), sorted(FULL_KEYS));
            for k in [
                "public_key",
                "secret_key",
                "relay_id",
                "sentry_dsn",
                "version_id",
                "updated_at",
                "version_number",
            ] {
                assert_eq!(m[k], "", "{k}");
            }
            assert_eq!(m["status"], status.as_str());
            assert!(m["reason"].as_str().unwrap().contains("req_2"));
        }
    }

    #[test]
    fn outcome_only_never_holds_a_credential() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let text = OUTCOME.render(&r);
        let m = parse(&text);
        assert_eq!(keys(&m), sorted(OUTCOME_KEYS));
        assert!(m.values().all(Value::is_string));
        assert_eq!(m["status"], "found");
        assert_eq!(m["version_number"], "1741659534250931");
        for secret in [
            c.secret_key.expose(),
            c.public_key.as_str(),
            c.relay_id.as_str(),
            c.sentry_dsn.as_deref().unwrap(),
        ] {
            assert!(!text.contains(secret), "{text}");
        }
        for status in Status::ALL.into_iter().filter(|s| *s != Status::Found) {
            let m = parse(&OUTCOME.render(&fixtures::missing(status)));
            assert_eq!(keys(&m), sorted(OUTCOME_KEYS));
            assert_eq!(m["status"], status.as_str());
        }
    }

    #[test]
    fn version_numbers_follow_time() {
        assert_eq!(micros_since_epoch("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            micros_since_epoch("2025-03-11T02:18:54.250931Z"),
            Some(1_741_659_534_250_931)
        );
        // Fewer or more fraction digits, an offset, a leap day.
        assert_eq!(
            micros_since_epoch("2025-03-11T02:18:54.25Z"),
            Some(1_741_659_534_250_000)
        );
        assert_eq!(
            micros_since_epoch("2025-03-11T02:18:54.250931999Z"),
            Some(1_741_659_534_250_931)
        );
        assert_eq!(
            micros_since_epoch("2025-03-11T04:18:54.250931+02:00"),
            Some(1_741_659_534_250_931)
        );
        assert_eq!(
            micros_since_epoch("2000-02-29T00:00:00.000001Z"),
            Some(951_782_400_000_001)
        );
        // Later versions, larger numbers, down to the microsecond.
        let a = micros_since_epoch("2025-12-31T23:59:59.999999Z").unwrap();
        let b = micros_since_epoch("2026-01-01T00:00:00.000000Z").unwrap();
        assert_eq!(b - a, 1);
        for bad in [
            "",
            "yesterday",
            "2025-03-11",
            "2025-13-11T02:18:54Z",
            "2025-03-11T02:18:54",
            "2025-03-11T02:18:54.Z",
            "2025-03-11T02:18:54+0200",
            "1969-12-31T23:59:59Z",
            "2025-03-11T02:18:5xZ",
        ] {
            assert_eq!(micros_since_epoch(bad), None, "{bad}");
        }
    }
}
