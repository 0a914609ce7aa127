//! A day in JSON as chrono writes it (`"2026-12-04"`), read without chrono's format-string
//! parser. For the overview's DTOs, which the browser's first module deserializes: chrono's
//! parser (every format it knows, RFC 2822 included) was about 15 KB of that module.
//! Use with `#[serde(with = "crate::model::iso_day")]`, or `iso_day::option` for an
//! `Option<NaiveDate>`.

use chrono::NaiveDate;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

/// `2026-12-04` (a year of four or more digits, optionally signed, as chrono writes years
/// outside 0–9999) as a day; `None` for anything else or a day that does not exist.
pub fn parse(text: &str) -> Option<NaiveDate> {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let mut parts = rest.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str, len: usize| s.len() >= len && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(year, 4)
        || month.len() != 2
        || day.len() != 2
        || !digits(month, 2)
        || !digits(day, 2)
    {
        return None;
    }
    NaiveDate::from_ymd_opt(
        sign * year.parse::<i32>().ok()?,
        month.parse().ok()?,
        day.parse().ok()?,
    )
}

pub fn serialize<S: Serializer>(day: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(day)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
    parse(&text).ok_or_else(|| D::Error::custom(format!("not a day (YYYY-MM-DD): {text}")))
}

/// The same for an optional day (`null` for none).
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(
        day: &Option<NaiveDate>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match day {
            Some(day) => serializer.collect_str(day),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<NaiveDate>, D::Error> {
        let text = Option::<std::borrow::Cow<str>>::deserialize(deserializer)?;
        text.map(|text| {
            parse(&text).ok_or_else(|| D::Error::custom(format!("not a day (YYYY-MM-DD): {text}")))
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, Deserialize)]
    struct Days {
        #[serde(with = "super")]
        day: NaiveDate,
        #[serde(with = "super::option")]
        due: Option<NaiveDate>,
    }

    #[test]
    fn reads_what_chrono_writes() {
        let mut day = NaiveDate::from_ymd_opt(1999, 12, 25).unwrap_or_default();
        for _ in 0..2_000 {
            assert_eq!(parse(&day.to_string()), Some(day), "{day}");
            day += chrono::Duration::days(1);
        }
        for far in [
            NaiveDate::from_ymd_opt(-44, 3, 15),
            NaiveDate::from_ymd_opt(12_345, 6, 7),
            NaiveDate::from_ymd_opt(1, 1, 1),
        ]
        .into_iter()
        .flatten()
        {
            assert_eq!(parse(&far.to_string()), Some(far), "{far}");
        }
    }

    #[test]
    fn the_wire_format_is_chronos() {
        let days = Days {
            day: NaiveDate::from_ymd_opt(2026, 2, 28).unwrap_or_default(),
            due: NaiveDate::from_ymd_opt(2026, 3, 1),
        };
        let text = serde_json::to_string(&days).unwrap_or_default();
        assert_eq!(text, r#"{"day":"2026-02-28","due":"2026-03-01"}"#);
        assert_eq!(serde_json::from_str::<Days>(&text).ok(), Some(days));
        let none: Days = serde_json::from_slice(br#"{"day":"2026-02-28","due":null}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(none.due, None);
    }

    #[test]
    fn refuses_what_is_not_a_day() {
        for bad in [
            "",
            "2026-02-30",
            "2026-2-03",
            "26-02-03",
            "2026-02-03T00:00",
            "2026/02/03",
            "２０２６-02-03",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        let err = serde_json::from_str::<Days>(r#"{"day":"2026-13-01","due":null}"#);
        assert!(err.is_err_and(|e| e.to_string().contains("not a day")));
    }
}
