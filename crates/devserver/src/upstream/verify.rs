//! Sentry's check of a relay request signature (relay-auth `PublicKey::verify_timestamp`,
//! as Sentry's relay endpoints call it). The stand-in's own judge, written apart from the
//! product's signer (`src/upstream/sign.rs`): a shared copy would mirror a bug in it.
//!
//! The value is `base64url(signature) "." base64url(header JSON)`, both without padding;
//! Ed25519 signs the header's JSON bytes, a NUL byte and the body; the header's `t` is when
//! it was signed (RFC 3339).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{UnparsedPublicKey, ED25519};

/// Why a signature was refused (what the stand-in upstream answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    Malformed,
    BadSignature,
    Expired,
}

/// Check `signature` over `body` with `public_key` and that its timestamp is at most
/// `max_age` old (or from the future by more than that: a skewed clock), as Sentry does.
pub fn verify(
    public_key: &str,
    body: &[u8],
    signature: &str,
    max_age: Duration,
    now: SystemTime,
) -> Result<(), VerifyError> {
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| VerifyError::Malformed)
    };
    let (sig, header) = signature.split_once('.').ok_or(VerifyError::Malformed)?;
    let (sig, header, key) = (decode(sig)?, decode(header)?, decode(public_key)?);
    let mut message = Vec::with_capacity(header.len() + 1 + body.len());
    message.extend_from_slice(&header);
    message.push(0);
    message.extend_from_slice(body);
    UnparsedPublicKey::new(&ED25519, key)
        .verify(&message, &sig)
        .map_err(|_| VerifyError::BadSignature)?;
    let header: serde_json::Value =
        serde_json::from_slice(&header).map_err(|_| VerifyError::Malformed)?;
    // relay treats a header without a timestamp as never expiring; so does Sentry.
    let Some(t) = header.get("t").and_then(serde_json::Value::as_str) else {
        return Ok(());
    };
    let signed_at = parse_rfc3339(t).ok_or(VerifyError::Malformed)?;
    let age = match now.duration_since(signed_at) {
        Ok(age) => age,
        Err(ahead) => ahead.duration(),
    };
    if age > max_age {
        return Err(VerifyError::Expired);
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` as an instant; `None` for anything
/// else or a time before 1970. Fractions beyond nanoseconds are cut.
fn parse_rfc3339(t: &str) -> Option<SystemTime> {
    let field = |from: usize, len: usize| -> Option<i64> {
        let s = t.get(from..from + len)?;
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let sep = |at: usize, allowed: &[u8]| t.as_bytes().get(at).is_some_and(|b| allowed.contains(b));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (field(0, 4)?, field(5, 2)?, field(8, 2)?);
    let (hour, minute, second) = (field(11, 2)?, field(14, 2)?, field(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &t[19..];
    let mut nanos: u32 = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        for (i, b) in fraction.bytes().take(digits.min(9)).enumerate() {
            nanos += u32::from(b - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &fraction[digits..];
    }
    let east_of_utc = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (
                rest[1..3].parse::<i64>().ok()?,
                rest[4..6].parse::<i64>().ok()?,
            );
            if h > 23
                || m > 59
                || !rest[1..3]
                    .bytes()
                    .chain(rest[4..6].bytes())
                    .all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let secs = h * 3600 + m * 60;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let secs = days_since_epoch(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - east_of_utc;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// Days from 1970-01-01 to the given date of the proleptic Gregorian calendar.
fn days_since_epoch(year: i64, month: i64, day: i64) -> i64 {
    let is_leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    // Whole years since 1970 (leap days counted by the 4/100/400 rule), then months.
    let before = |y: i64| (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400;
    let mut days = (year - 1970) * 365 + before(year) - before(1970);
    const CUMULATIVE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    days += CUMULATIVE[(month - 1) as usize];
    if month > 2 && is_leap(year) {
        days += 1;
    }
    days + day - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(t: &str) -> Option<u128> {
        parse_rfc3339(t).map(|s| s.duration_since(UNIX_EPOCH).unwrap().as_micros())
    }

    #[test]
    fn reads_the_timestamps_relay_signs() {
        assert_eq!(micros("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            micros("2025-03-11T02:18:54.250931Z"),
            Some(1_741_659_534_250_931)
        );
        assert_eq!(
            micros("2025-03-11T02:18:54.25Z"),
            Some(1_741_659_534_250_000)
        );
        assert_eq!(
            micros("2025-03-11T04:18:54.250931+02:00"),
            Some(1_741_659_534_250_931)
        );
        assert_eq!(
            micros("2000-02-29T00:00:00.000001Z"),
            Some(951_782_400_000_001)
        );
        assert_eq!(micros("2100-03-01T00:00:00Z"), Some(4_107_542_400_000_000));
        for bad in [
            "",
            "2025-03-11",
            "2025-03-11T02:18:54",
            "2025-13-11T02:18:54Z",
            "2025-03-11T02:18:54.Z",
            "2025-03-11T02:18:54+2:00",
            "1969-12-31T23:59:59Z",
            "+025-03-11T02:18:54Z",
        ] {
            assert_eq!(micros(bad), None, "{bad}");
        }
    }
}
