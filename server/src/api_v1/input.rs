//! Checks of request bodies shared by the writes: every failure is a 422 naming the field.

use app::error::AppError;

use super::problem::Problem;

pub fn invalid(field: &str, message: impl Into<String>) -> Problem {
    AppError::validation(field, message).into()
}

/// Trimmed text of 1 to `max` characters without control characters (PostgreSQL refuses NUL).
///
/// # Errors
/// 422 naming `field`.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, Problem> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// Like [`text`], but absent or blank is `None`.
///
/// # Errors
/// 422 naming `field`.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, Problem> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

/// An ISO 4217 code: three capital letters.
///
/// # Errors
/// 422 naming `field`.
pub fn currency(field: &str, value: &str) -> Result<String, Problem> {
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(value.to_owned())
    } else {
        Err(invalid(field, "must be an ISO 4217 code such as USD"))
    }
}

/// The largest amount the API accepts, in minor units (a trillion in major units).
pub const MAX_AMOUNT_MINOR: i64 = 100_000_000_000_000;

/// An amount in minor units between `min` and [`MAX_AMOUNT_MINOR`].
///
/// # Errors
/// 422 naming `field`.
pub fn amount(field: &str, value: i64, min: i64) -> Result<i64, Problem> {
    if value < min {
        return Err(invalid(field, format!("must be at least {min}")));
    }
    if value > MAX_AMOUNT_MINOR {
        return Err(invalid(
            field,
            format!("must be at most {MAX_AMOUNT_MINOR}"),
        ));
    }
    Ok(value)
}
