//! Timestamps in the shape WorkOS returns and relay signs (`2025-03-11T02:18:54.250931Z`), formatted by
//! hand so the crate needs no date library.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time as a WorkOS timestamp.
#[cfg(feature = "dev-server")]
pub(crate) fn now() -> String {
    format_timestamp(SystemTime::now())
}

/// RFC 3339 in UTC with microseconds and a `Z` suffix. Times before 1970 (only a broken
/// clock gives them) are clamped to the epoch rather than failing a request.
pub(crate) fn format_timestamp(t: SystemTime) -> String {
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

/// Parse an RFC 3339 timestamp (`2026-12-03T10:00:00Z`, `2026-12-03T10:00:00.25+02:00`; a lower-case
/// `t`/`z` or a space for `T` as RFC 3339 allows). `None` for anything else, or a time before 1970.
pub(crate) fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let sep = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    // 60: a leap second, read as the next second's start.
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if sep(i, b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        // Nanoseconds from the first nine digits; more are below what a clock gives.
        for k in 0..9 {
            let d = if start + k < i {
                u32::from(b[start + k] - b'0')
            } else {
                0
            };
            nanos = nanos * 10 + d;
        }
    }
    let offset = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [s @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let hours = i64::from(h1 - b'0') * 10 + i64::from(h2 - b'0');
            let minutes = i64::from(m1 - b'0') * 10 + i64::from(m2 - b'0');
            if hours > 23 || minutes > 59 {
                return None;
            }
            let sign = if *s == b'-' { -1 } else { 1 };
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return None,
    };
    let secs =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + std::time::Duration::new(secs, nanos))
}

/// (year, month, day) to days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    fn rfc3339_parses_what_it_formats_and_offsets() {
        for (secs, micros) in [
            (0, 0),
            (1_741_659_534, 250_931),
            (951_782_400, 1),
            (4_107_542_400, 0),
        ] {
            let t = UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros);
            assert_eq!(parse_rfc3339(&format_timestamp(t)), Some(t));
        }
        let at = |s| parse_rfc3339(s).map(|t| t.duration_since(UNIX_EPOCH).unwrap());
        assert_eq!(
            at("2025-03-11T02:18:54Z"),
            Some(Duration::from_secs(1_741_659_534))
        );
        assert_eq!(
            at("2025-03-11T04:18:54+02:00"),
            Some(Duration::from_secs(1_741_659_534))
        );
        assert_eq!(
            at("2025-03-10t21:18:54.5-05:00"),
            Some(Duration::from_millis(1_741_659_534_500))
        );
        assert_eq!(
            at("2024-02-29 00:00:00z"),
            Some(Duration::from_secs(1_709_164_800))
        );
        for bad in [
            "",
            "2025-03-11",
            "2025-03-11T02:18:54",
            "2025-02-30T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-03-11T24:00:00Z",
            "2025-03-11T02:18:54.Z",
            "2025-03-11T02:18:54+2:00",
            "1969-12-31T23:59:59Z",
            "2025-03-11T02:18:54Zjunk",
            "２０２５-03-11T02:18:54Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
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
}
