//! RFC 3339 instants (`2024-01-01T00:00:00Z`), the start of a virtual clock.

use anyhow::{bail, Context, Result};

/// Seconds and nanoseconds since the Unix epoch of an RFC 3339 date-time:
/// `YYYY-MM-DDTHH:MM:SS`, an optional fraction of a second, then `Z` or an
/// offset `+HH:MM`/`-HH:MM`. Instants before 1970 are refused: the wall
/// clock counts up from the epoch.
///
/// ```
/// let (seconds, nanoseconds) = wasi_virt::parse_instant("1970-01-01T00:01:00.5+00:00")?;
/// assert_eq!((seconds, nanoseconds), (60, 500_000_000));
/// assert!(wasi_virt::parse_instant("1969-12-31T23:59:59Z").is_err());
/// # anyhow::Ok(())
/// ```
pub fn parse(text: &str) -> Result<(u64, u32)> {
    parse_fields(text).with_context(|| {
        format!("`{text}` is not an RFC 3339 date-time such as `2024-01-01T00:00:00Z`")
    })
}

fn parse_fields(text: &str) -> Result<(u64, u32)> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        bail!("expected `YYYY-MM-DDTHH:MM:SS` and a zone");
    }
    if b[13] != b':' || b[16] != b':' {
        bail!("expected `HH:MM:SS` after the date");
    }
    let num = |range: std::ops::Range<usize>| -> Result<i64> {
        let digits = &text[range];
        if !digits.bytes().all(|c| c.is_ascii_digit()) {
            bail!("`{digits}` is not a number");
        }
        Ok(digits.parse()?)
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        bail!("there is no day {year:04}-{month:02}-{day:02}");
    }
    if hour > 23 || minute > 59 || second > 59 {
        bail!("there is no time {hour:02}:{minute:02}:{second:02}");
    }
    let (nanos, zone) = fraction(&text[19..])?;
    let offset = zone_offset(zone)?;
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second - offset;
    let seconds = u64::try_from(seconds)
        .ok()
        .context("instants before 1970 are not supported")?;
    Ok((seconds, nanos))
}

/// The nanoseconds of an optional `.fraction`, and the rest (the zone).
fn fraction(rest: &str) -> Result<(u32, &str)> {
    let Some(digits) = rest.strip_prefix('.') else {
        return Ok((0, rest));
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    if end == 0 || end > 9 {
        bail!("a fraction of a second has 1 to 9 digits");
    }
    let nanos: u32 = digits[..end].parse()?;
    Ok((nanos * 10u32.pow(9 - end as u32), &digits[end..]))
}

/// The zone's offset from UTC, in seconds.
fn zone_offset(zone: &str) -> Result<i64> {
    if zone == "Z" || zone == "z" {
        return Ok(0);
    }
    let b = zone.as_bytes();
    if b.len() != 6 || !matches!(b[0], b'+' | b'-') || b[3] != b':' {
        bail!("expected `Z` or an offset such as `+01:00`");
    }
    let hours: i64 = zone[1..3].parse().context("bad offset hours")?;
    let minutes: i64 = zone[4..6].parse().context("bad offset minutes")?;
    if hours > 23 || minutes > 59 {
        bail!("there is no offset {zone}");
    }
    let sign = if b[0] == b'-' { -1 } else { 1 };
    Ok(sign * (hours * 3_600 + minutes * 60))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse("1970-01-01T00:00:00Z").unwrap(), (0, 0));
        assert_eq!(parse("2024-01-01T00:00:00Z").unwrap(), (1_704_067_200, 0));
        assert_eq!(
            parse("2000-02-29T12:34:56.5Z").unwrap(),
            (951_827_696, 500_000_000)
        );
        assert_eq!(
            parse("2024-01-01T01:00:00+01:00").unwrap(),
            (1_704_067_200, 0)
        );
        assert_eq!(
            parse("2023-12-31T23:00:00-01:00").unwrap(),
            (1_704_067_200, 0)
        );
        assert_eq!(
            parse("2038-01-19t03:14:08.000000001z").unwrap(),
            (2_147_483_648, 1)
        );
    }

    #[test]
    fn bad_instants() {
        for bad in [
            "",
            "2024-01-01",
            "2024-01-01T00:00:00",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+1:00",
            "1969-12-31T23:59:59Z",
            "+024-01-01T00:00:00Z",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(format!("{err:#}").contains("RFC 3339"), "{bad}: {err:#}");
        }
    }
}
