//! Times as the audit trail shows them: milliseconds since the Unix epoch written as an
//! RFC 3339 UTC timestamp (`2026-12-07T18:30:05.123Z`), without a date library.

/// `millis` (since the Unix epoch) as an RFC 3339 timestamp in UTC, to the millisecond.
pub fn utc_text(millis: i64) -> String {
    let seconds = millis.div_euclid(1000);
    let milli = millis.rem_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(utc_text(0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day of a century leap year), 12:34:56.789.
        assert_eq!(utc_text(951_827_696_789), "2000-02-29T12:34:56.789Z");
        assert_eq!(utc_text(1_798_761_599_999), "2026-12-31T23:59:59.999Z");
        assert_eq!(utc_text(-1), "1969-12-31T23:59:59.999Z");
    }
}
