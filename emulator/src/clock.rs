//! Now, and times as AWS writes them.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

/// Now, as EKS reports timestamps: epoch seconds, millisecond precision.
pub(crate) fn now_epoch_seconds() -> f64 {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    millis as f64 / 1000.0
}

/// Whole seconds since the epoch (0 before it).
pub(crate) fn epoch_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// time → `YYYY-MM-DDTHH:MM:SSZ` (ISO 8601 in whole seconds, as IAM and STS write dates).
pub(crate) fn format_iso8601(time: SystemTime) -> String {
    let seconds = i64::try_from(epoch_seconds(time)).unwrap_or(i64::MAX);
    // Only years past 9999 fail to format; the emulator's times are now plus hours.
    DateTime::from_secs(seconds).fmt(Format::DateTime).unwrap_or_default()
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` → time; `None` for other text and for times before the epoch.
pub(crate) fn parse_iso8601(text: &str) -> Option<SystemTime> {
    let time = DateTime::from_str(text, Format::DateTime).ok()?;
    let time = SystemTime::try_from(time).ok()?;
    time.duration_since(UNIX_EPOCH).is_ok().then_some(time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn iso8601_round_trips_in_whole_seconds() {
        let time = UNIX_EPOCH + Duration::from_millis(1_709_251_199_750);
        assert_eq!(format_iso8601(time), "2024-02-29T23:59:59Z");
        assert_eq!(
            parse_iso8601("2024-02-29T23:59:59Z"),
            Some(UNIX_EPOCH + Duration::from_secs(1_709_251_199))
        );
        assert_eq!(
            format_iso8601(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00Z"
        );
        for bad in [
            "",
            "2024-02-30T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2024-02-29 23:59:59Z",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }
}
