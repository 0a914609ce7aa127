//! The value formats of import files: dates `YYYY-MM-DD`, amounts with a dot and at most
//! two decimals, quantities with at most three, currencies, yes/no.

use chrono::NaiveDate;

/// A decimal with at most `decimals` digits after a dot, in units of 10^-decimals:
/// `"12.5"` with 2 decimals is 1250. A leading `-` is allowed; no thousands separators.
///
/// # Errors
/// What is wrong with the text.
pub fn decimal(text: &str, decimals: u32) -> Result<i64, String> {
    let bad = || {
        format!(
            "not a number with a dot and at most {decimals} decimals (like 1234.{})",
            "5".repeat(decimals as usize)
        )
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || (digits.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    if fraction.len() > decimals as usize {
        return Err(format!("at most {decimals} decimals"));
    }
    let scale = 10_i64.pow(decimals);
    let too_big = || "the number is too large".to_owned();
    let whole: i64 = whole.parse().map_err(|_| too_big())?;
    let mut frac: i64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| bad())?
    };
    frac *= 10_i64.pow(decimals - fraction.len() as u32);
    let value = whole
        .checked_mul(scale)
        .and_then(|v| v.checked_add(frac))
        .filter(|v| *v <= 1_000_000_000_000_000)
        .ok_or_else(too_big)?;
    Ok(if negative { -value } else { value })
}

/// An amount in minor units (two decimals).
///
/// # Errors
/// What is wrong with the text.
pub fn amount(text: &str) -> Result<i64, String> {
    decimal(text, 2)
}

/// A quantity in thousandths (three decimals).
///
/// # Errors
/// What is wrong with the text.
pub fn quantity(text: &str) -> Result<i64, String> {
    decimal(text, 3)
}

/// A date `YYYY-MM-DD`.
///
/// # Errors
/// What is wrong with the text.
pub fn date(text: &str) -> Result<NaiveDate, String> {
    if text.len() != 10 {
        return Err("not a date like 2026-01-31".to_owned());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| "not a date like 2026-01-31".into())
}

/// An ISO 4217 currency code: three letters, stored in upper case.
///
/// # Errors
/// What is wrong with the text.
pub fn currency(text: &str) -> Result<String, String> {
    if text.len() == 3 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(text.to_ascii_uppercase())
    } else {
        Err("not a three-letter currency code like USD".to_owned())
    }
}

/// `true`/`false`, `yes`/`no`, `1`/`0` (any case).
///
/// # Errors
/// What is wrong with the text.
pub fn yes_no(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Ok(true),
        "false" | "no" | "n" | "0" | "" => Ok(false),
        _ => Err("not true or false".to_owned()),
    }
}

/// `quantity_milli × unit_price_minor / 1000`, rounded half away from zero.
pub fn line_amount(quantity_milli: i64, unit_price_minor: i64) -> Option<i64> {
    let product = i128::from(quantity_milli) * i128::from(unit_price_minor);
    let rounded = if product >= 0 {
        (product + 500) / 1000
    } else {
        (product - 500) / 1000
    };
    i64::try_from(rounded).ok()
}

/// Text of at most `max` characters; required ones must not be empty.
///
/// # Errors
/// What is wrong with the text.
pub fn text(value: &str, required: bool, max: usize) -> Result<String, String> {
    if required && value.is_empty() {
        return Err("required".to_owned());
    }
    if value.chars().count() > max {
        return Err(format!("longer than {max} characters"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_have_a_dot_and_two_decimals_at_most() {
        assert_eq!(amount("12"), Ok(1200));
        assert_eq!(amount("12.5"), Ok(1250));
        assert_eq!(amount("-0.05"), Ok(-5));
        assert!(amount("12.345").is_err());
        assert!(amount("1,50").is_err());
        assert!(amount("1.").is_err());
        assert!(amount(".5").is_err());
        assert!(amount("").is_err());
        assert!(amount("99999999999999999999").is_err());
        assert_eq!(quantity("2.125"), Ok(2125));
    }

    #[test]
    fn line_amounts_round_half_away_from_zero() {
        assert_eq!(line_amount(1500, 333), Some(500));
        assert_eq!(line_amount(1000, -333), Some(-333));
        assert_eq!(line_amount(1500, -333), Some(-500));
    }

    #[test]
    fn dates_are_iso() {
        assert!(date("2026-02-30").is_err());
        assert!(date("2026-2-3").is_err());
        assert!(date("02/03/2026").is_err());
        assert!(date("2026-02-03").is_ok());
    }
}
