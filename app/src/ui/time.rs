//! Relative time ("5 min ago") from an RFC 3339 timestamp, with the absolute time (UTC) in the
//! element's title; English and Chinese. It follows the clock while the page is open.

use leptos::prelude::*;

use crate::i18n::{t_string, use_i18n};

/// Seconds since the Unix epoch of an RFC 3339 time such as `2026-11-30T05:44:52Z` or
/// `2026-11-30T13:44:52.5+08:00`; `None` for anything else.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut at = 19;
    if b[at] == b'.' {
        at += 1;
        let start = at;
        while at < b.len() && b[at].is_ascii_digit() {
            at += 1;
        }
        if at == start {
            return None;
        }
    }
    let offset = match b.get(at..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (digits(at + 1..at + 3)?, digits(at + 4..at + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let offset = h * 3600 + m * 60;
            if *sign == b'+' { offset } else { -offset }
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2026-11-30 05:44:52 UTC`.
pub fn format_utc(seconds: i64) -> String {
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// How long ago (or how far ahead) a time is, in the largest whole unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Span {
    /// Within ten seconds either way, or up to a minute ahead (clocks drift).
    JustNow,
    SecondsAgo(i64),
    MinutesAgo(i64),
    HoursAgo(i64),
    DaysAgo(i64),
    InMinutes(i64),
    InHours(i64),
    InDays(i64),
}

/// The span from `then` to `now` (both in Unix seconds).
pub fn span(then: i64, now: i64) -> Span {
    let ago = now.saturating_sub(then);
    match ago {
        -60..10 => Span::JustNow,
        10..60 => Span::SecondsAgo(ago),
        60..3600 => Span::MinutesAgo(ago / 60),
        3600..86_400 => Span::HoursAgo(ago / 3600),
        86_400.. => Span::DaysAgo(ago / 86_400),
        _ => {
            let ahead = -ago;
            if ahead < 3600 {
                Span::InMinutes((ahead + 59) / 60)
            } else if ahead < 86_400 {
                Span::InHours(ahead / 3600)
            } else {
                Span::InDays(ahead / 86_400)
            }
        }
    }
}

/// The clock, in Unix seconds.
pub fn now_seconds() -> i64 {
    #[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
    {
        (leptos::web_sys::js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(all(feature = "hydrate", target_arch = "wasm32")))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}

/// `at` (RFC 3339) as "5 min ago" in the user's language, the exact UTC time in its title.
/// Unparseable text shows as "unknown time" with the text in the title.
#[component]
pub fn RelativeTime(#[prop(into)] at: Signal<String>) -> impl IntoView {
    let i18n = use_i18n();
    let now = RwSignal::new(now_seconds());
    // In the browser: follow the clock (and replace the server's idea of now at once).
    Effect::new(move |_| {
        now.set(now_seconds());
        let tick = set_interval_with_handle(
            move || now.set(now_seconds()),
            std::time::Duration::from_secs(30),
        );
        if let Ok(handle) = tick {
            on_cleanup(move || handle.clear());
        }
    });
    let parsed = Memo::new(move |_| parse_rfc3339(&at.get()));
    let text = move || match parsed.get() {
        None => t_string!(i18n, ui.unknown_time).to_string(),
        Some(then) => match span(then, now.get()) {
            Span::JustNow => t_string!(i18n, ui.just_now).to_string(),
            Span::SecondsAgo(n) => t_string!(i18n, ui.seconds_ago, count = n).to_string(),
            Span::MinutesAgo(n) => t_string!(i18n, ui.minutes_ago, count = n).to_string(),
            Span::HoursAgo(n) => t_string!(i18n, ui.hours_ago, count = n).to_string(),
            Span::DaysAgo(n) => t_string!(i18n, ui.days_ago, count = n).to_string(),
            Span::InMinutes(n) => t_string!(i18n, ui.in_minutes, count = n).to_string(),
            Span::InHours(n) => t_string!(i18n, ui.in_hours, count = n).to_string(),
            Span::InDays(n) => t_string!(i18n, ui.in_days, count = n).to_string(),
        },
    };
    let title = move || parsed.get().map_or_else(|| at.get(), format_utc);
    view! {
        <time datetime=move || at.get() title=title class="whitespace-nowrap">
            {text}
        </time>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_parse_to_unix_seconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-11-30T05:44:52Z"), Some(1_796_017_492));
        assert_eq!(
            parse_rfc3339("2026-11-30T13:44:52.123+08:00"),
            Some(1_796_017_492)
        );
        assert_eq!(
            parse_rfc3339("2026-11-29t21:44:52-08:00"),
            Some(1_796_017_492)
        );
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        for bad in [
            "",
            "yesterday",
            "2026-11-30",
            "2026-11-30T05:44:52",
            "2026-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-11-30T24:00:00Z",
            "2026-11-30T05:44:52.Z",
            "2026-11-30T05:44:52+0800",
            "2026-11-30T05:44:52Zjunk",
            "२०२६-11-30T05:44:52Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn absolute_times_are_shown_in_utc() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(1_796_017_492), "2026-11-30 05:44:52 UTC");
        assert_eq!(format_utc(1_709_164_800), "2024-02-29 00:00:00 UTC");
        assert_eq!(format_utc(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn spans_use_the_largest_whole_unit() {
        let now = 1_796_017_492;
        assert_eq!(span(now, now), Span::JustNow);
        assert_eq!(span(now - 9, now), Span::JustNow);
        assert_eq!(span(now + 30, now), Span::JustNow);
        assert_eq!(span(now - 42, now), Span::SecondsAgo(42));
        assert_eq!(span(now - 60, now), Span::MinutesAgo(1));
        assert_eq!(span(now - 3599, now), Span::MinutesAgo(59));
        assert_eq!(span(now - 7200, now), Span::HoursAgo(2));
        assert_eq!(span(now - 86_400 * 3 - 5, now), Span::DaysAgo(3));
        assert_eq!(span(now + 61, now), Span::InMinutes(2));
        assert_eq!(span(now + 7200, now), Span::InHours(2));
        assert_eq!(span(now + 86_400 * 2, now), Span::InDays(2));
        assert_eq!(span(i64::MIN, i64::MAX), Span::DaysAgo(i64::MAX / 86_400));
    }

    proptest::proptest! {
        #[test]
        fn formatted_times_parse_back(seconds in -62_135_596_800i64..253_402_300_799) {
            let text = format_utc(seconds).replace(' ', "T").replace("TUTC", "Z");
            proptest::prop_assert_eq!(parse_rfc3339(&text), Some(seconds));
        }

        #[test]
        fn any_text_parses_or_is_refused_without_panicking(text in "\\PC{0,40}") {
            let _ = parse_rfc3339(&text);
        }
    }
}
