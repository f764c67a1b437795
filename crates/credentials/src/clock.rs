//! Timestamps in the shape WorkOS returns and relay signs (`2025-03-11T02:18:54.250931Z`), formatted by
//! hand so the crate needs no date library.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time as a WorkOS timestamp.
pub fn now() -> String {
    format_timestamp(SystemTime::now())
}

/// RFC 3339 in UTC with microseconds and a `Z` suffix. Times before 1970 (only a broken
/// clock gives them) are clamped to the epoch rather than failing a request.
pub fn format_timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// An RFC 3339 time (`2025-03-11T02:18:54.250931Z`, or with a `+hh:mm` offset) as
/// microseconds since the epoch; `None` for anything else or a time before 1970.
pub fn micros_since_epoch(t: &str) -> Option<u64> {
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
    use std::time::Duration;

    fn at(secs: u64, micros: u32) -> String {
        format_timestamp(
            UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros.into()),
        )
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        // The example from the WorkOS docs.
        assert_eq!(at(1_741_659_534, 250_931), "2025-03-11T02:18:54.250931Z");
        // Leap day and end of a leap year.
        assert_eq!(at(951_782_400, 1), "2000-02-29T00:00:00.000001Z");
        assert_eq!(at(1_735_689_599, 999_999), "2024-12-31T23:59:59.999999Z");
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000000Z");
    }

    #[test]
    fn times_before_the_epoch_clamp() {
        let before = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(format_timestamp(before), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn now_has_the_workos_shape() {
        let s = now();
        assert_eq!(s.len(), 27, "{s}");
        assert!(s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.as_bytes()[19] == b'.');
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
