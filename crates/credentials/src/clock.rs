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
}
