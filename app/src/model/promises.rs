//! Promise to Pay: the rules a promise must meet, shared by the browser (to mark bad fields
//! as they are typed) and the server (which checks again against stored amounts).

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::enums::PromiseStatus;

/// How far ahead a promised date may lie, in days from today.
pub const PROMISE_HORIZON_DAYS: i64 = 60;
/// The longest note a customer may add to a promise, in characters.
pub const NOTE_MAX_CHARS: usize = 1000;
/// How many days before the promised date the reminder email goes out.
pub const PROMISE_REMINDER_DAYS: i64 = 2;

/// A promise as the portal lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromiseView {
    pub id: i64,
    pub amount_minor: i64,
    pub currency: String,
    #[serde(with = "super::iso_day")]
    pub promised_date: NaiveDate,
    pub status: PromiseStatus,
    /// Numbers of the invoices the promise covers.
    pub invoices: Vec<String>,
    pub note: Option<String>,
}

/// A promise's fields that did not pass, each with the message to show beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors {
    pub invoices: Option<String>,
    pub amount: Option<String>,
    pub date: Option<String>,
    pub note: Option<String>,
}

impl FieldErrors {
    /// True when every field passed.
    pub fn is_empty(&self) -> bool {
        self.invoices.is_none()
            && self.amount.is_none()
            && self.date.is_none()
            && self.note.is_none()
    }

    /// The first failing field as (field name, message), in form order.
    pub fn first(&self) -> Option<(&'static str, String)> {
        [
            ("document_ids", &self.invoices),
            ("amount", &self.amount),
            ("date", &self.date),
            ("note", &self.note),
        ]
        .into_iter()
        .find_map(|(field, message)| message.clone().map(|m| (field, m)))
    }
}

/// Parses an amount typed by a person, like `1234.56`, `1,234.5` or `$1,234`, into minor
/// units (cents).
///
/// # Errors
/// A message for the field when the text is not an amount with at most two decimals.
pub fn parse_amount(text: &str) -> Result<i64, String> {
    const BAD: &str = "enter an amount like 1234.56";
    let cleaned: String = text
        .trim()
        .trim_start_matches(['$', '€', '£'])
        .chars()
        .filter(|c| *c != ',' && !c.is_whitespace())
        .collect();
    if cleaned.is_empty() {
        return Err("enter the amount you will pay".to_owned());
    }
    let (units, cents) = match cleaned.split_once('.') {
        Some((u, c)) => (u, c),
        None => (cleaned.as_str(), ""),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (units.is_empty() && cents.is_empty()) || !digits(units) || !digits(cents) {
        return Err(BAD.to_owned());
    }
    if cents.len() > 2 {
        return Err("use at most two decimals".to_owned());
    }
    let units: i64 = if units.is_empty() {
        0
    } else {
        units.parse().map_err(|_| BAD.to_owned())?
    };
    let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| BAD.to_owned())?;
    units
        .checked_mul(100)
        .and_then(|u| u.checked_add(cents))
        .ok_or_else(|| BAD.to_owned())
}

/// Minor units as an input field shows them: `123456` → `1234.56`.
pub fn amount_input(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Checks a promised amount against the open total of the chosen invoices.
///
/// # Errors
/// A message when the amount is not above zero or exceeds `open_total`.
pub fn check_amount(amount_minor: i64, open_total: i64) -> Result<(), String> {
    if amount_minor <= 0 {
        return Err("the amount must be more than zero".to_owned());
    }
    if amount_minor > open_total {
        return Err(format!(
            "the amount cannot be more than the {} open on the chosen invoices",
            amount_input(open_total)
        ));
    }
    Ok(())
}

/// Parses a date from a form (`YYYY-MM-DD`).
///
/// # Errors
/// A message when the text is empty or not a date.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("choose the date you will pay by".to_owned());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| "enter a date like 2026-12-31".to_owned())
}

/// The latest date a promise made on `today` may name.
pub fn latest_date(today: NaiveDate) -> NaiveDate {
    today + Duration::days(PROMISE_HORIZON_DAYS)
}

/// Checks a promised date: not in the past, at most [`PROMISE_HORIZON_DAYS`] ahead.
///
/// # Errors
/// A message for the field when the date is out of range.
pub fn check_date(date: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if date < today {
        return Err("the date cannot be in the past".to_owned());
    }
    if date > latest_date(today) {
        return Err(format!(
            "choose a date within {PROMISE_HORIZON_DAYS} days (by {})",
            latest_date(today)
        ));
    }
    Ok(())
}

/// The note as it is stored: trimmed, `None` when blank.
///
/// # Errors
/// A message when the note is longer than [`NOTE_MAX_CHARS`].
pub fn check_note(note: Option<&str>) -> Result<Option<String>, String> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > NOTE_MAX_CHARS) {
        return Err(format!("use at most {NOTE_MAX_CHARS} characters"));
    }
    Ok(note.map(str::to_owned))
}

/// Checks every field of a promise form at once: `invoice_count` invoices chosen whose open
/// amounts add up to `open_total`, the typed amount and date, and the note.
pub fn validate_form(
    invoice_count: usize,
    open_total: i64,
    amount: &str,
    date: &str,
    note: Option<&str>,
    today: NaiveDate,
) -> FieldErrors {
    FieldErrors {
        invoices: (invoice_count == 0).then(|| "choose at least one open invoice".to_owned()),
        amount: parse_amount(amount)
            .and_then(|minor| {
                if invoice_count == 0 {
                    Ok(())
                } else {
                    check_amount(minor, open_total)
                }
            })
            .err(),
        date: parse_date(date).and_then(|d| check_date(d, today)).err(),
        note: check_note(note).err(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn amounts_parse_to_cents() {
        assert_eq!(parse_amount("1234.56"), Ok(123_456));
        assert_eq!(parse_amount(" $1,234.5 "), Ok(123_450));
        assert_eq!(parse_amount("12"), Ok(1_200));
        assert_eq!(parse_amount(".05"), Ok(5));
        assert_eq!(parse_amount("0"), Ok(0));
        for bad in ["", "abc", "1.234", "-5", "1.2.3", ".", "12a"] {
            assert!(parse_amount(bad).is_err(), "{bad:?}");
        }
        assert_eq!(amount_input(123_456), "1234.56");
        assert_eq!(amount_input(5), "0.05");
        assert_eq!(parse_amount(&amount_input(987_654_321)), Ok(987_654_321));
    }

    #[test]
    fn amounts_must_be_positive_and_within_the_open_total() {
        assert!(check_amount(0, 100).is_err());
        assert!(check_amount(-1, 100).is_err());
        assert!(check_amount(101, 100).is_err());
        assert_eq!(check_amount(100, 100), Ok(()));
        assert_eq!(check_amount(1, 100), Ok(()));
    }

    #[test]
    fn dates_lie_between_today_and_the_horizon() {
        let today = day(2026, 11, 23);
        assert!(check_date(day(2026, 11, 22), today).is_err());
        assert_eq!(check_date(today, today), Ok(()));
        assert_eq!(check_date(day(2027, 1, 22), today), Ok(()));
        assert!(check_date(day(2027, 1, 23), today).is_err());
        assert_eq!(parse_date("2026-12-01"), Ok(day(2026, 12, 1)));
        assert!(parse_date("").is_err());
        assert!(parse_date("12/01/2026").is_err());
    }

    #[test]
    fn notes_are_trimmed_and_limited() {
        assert_eq!(check_note(None), Ok(None));
        assert_eq!(check_note(Some("  ")), Ok(None));
        assert_eq!(check_note(Some(" hi ")), Ok(Some("hi".to_owned())));
        assert!(check_note(Some(&"é".repeat(NOTE_MAX_CHARS))).is_ok());
        assert!(check_note(Some(&"é".repeat(NOTE_MAX_CHARS + 1))).is_err());
    }

    #[test]
    fn the_form_reports_every_bad_field() {
        let today = day(2026, 11, 23);
        let errors = validate_form(0, 0, "x", "2026-11-01", Some(&"a".repeat(1001)), today);
        assert!(errors.invoices.is_some() && errors.amount.is_some());
        assert!(errors.date.is_some() && errors.note.is_some());
        assert_eq!(errors.first().map(|f| f.0), Some("document_ids"));
        let ok = validate_form(2, 50_000, "500.00", "2026-12-01", None, today);
        assert!(ok.is_empty(), "{ok:?}");
        let over = validate_form(2, 50_000, "500.01", "2026-12-01", None, today);
        assert_eq!(over.first().map(|f| f.0), Some("amount"));
    }
}
