//! Registration from a paper letter: what the form sends, and the checks of each field's
//! shape that the browser and the server share. Whether the account and its detail match
//! is decided on the server only.

use serde::{Deserialize, Serialize};

/// The one answer for a wrong account number, a wrong detail and too many attempts, so the
/// form never tells which of them it was.
pub const NO_MATCH: &str = "We could not match that account number and detail. \
                            Check your letter and try again in a while.";
/// The longest account number or second fact the form accepts, in characters.
pub const FACT_MAX_CHARS: usize = 64;
/// The longest contact name, in characters.
pub const NAME_MAX_CHARS: usize = 200;
/// The longest phone number, in characters.
pub const PHONE_MAX_CHARS: usize = 40;

/// The registration form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The account number printed on the letter.
    pub account_number: String,
    /// The billing ZIP / postal code, or the amount of one open invoice.
    pub second_fact: String,
    /// The billing contact's name.
    pub name: String,
    /// The billing contact's email address.
    pub email: String,
    /// The billing contact's phone number, if they gave one.
    pub phone: Option<String>,
}

impl Registration {
    /// The first field whose shape is wrong, as (field name, message), in form order.
    /// The email address is checked on the server.
    pub fn first_error(&self) -> Option<(&'static str, String)> {
        [
            ("account_number", check_account_number(&self.account_number)),
            ("second_fact", check_second_fact(&self.second_fact)),
            ("name", check_name(&self.name)),
            (
                "phone",
                check_phone(self.phone.as_deref().unwrap_or_default()).map(|_| ()),
            ),
        ]
        .into_iter()
        .find_map(|(field, result)| result.err().map(|message| (field, message)))
    }
}

/// Checks that an account number was typed and is not absurdly long.
///
/// # Errors
/// A message for the field.
pub fn check_account_number(text: &str) -> Result<(), String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("enter the account number printed on your letter".to_owned());
    }
    if text.chars().count() > FACT_MAX_CHARS {
        return Err(format!("use at most {FACT_MAX_CHARS} characters"));
    }
    Ok(())
}

/// Checks that a ZIP code or an amount was typed and is not absurdly long.
///
/// # Errors
/// A message for the field.
pub fn check_second_fact(text: &str) -> Result<(), String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("enter your billing ZIP code, or the amount of one open invoice".to_owned());
    }
    if text.chars().count() > FACT_MAX_CHARS {
        return Err(format!("use at most {FACT_MAX_CHARS} characters"));
    }
    Ok(())
}

/// Checks the contact's name: present, at most [`NAME_MAX_CHARS`].
///
/// # Errors
/// A message for the field.
pub fn check_name(text: &str) -> Result<(), String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("enter the name of the person who pays our invoices".to_owned());
    }
    if text.chars().count() > NAME_MAX_CHARS {
        return Err(format!("use at most {NAME_MAX_CHARS} characters"));
    }
    Ok(())
}

/// Checks an optional phone number and returns it trimmed (`None` when left empty).
///
/// # Errors
/// A message for the field when it is longer than [`PHONE_MAX_CHARS`] or holds anything
/// but digits, spaces, `+`, `-`, `(` and `)`.
pub fn check_phone(text: &str) -> Result<Option<String>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > PHONE_MAX_CHARS {
        return Err(format!("use at most {PHONE_MAX_CHARS} characters"));
    }
    if !text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'))
    {
        return Err("use only digits, spaces, +, -, ( and )".to_owned());
    }
    Ok(Some(text.to_owned()))
}

/// An account number as it is compared: trimmed and in lower case.
pub fn normalize_account_number(text: &str) -> String {
    text.trim().to_lowercase()
}

/// A postal code as it is compared: without spaces and in lower case.
pub fn normalize_postal_code(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> Registration {
        Registration {
            account_number: "C-1001".to_owned(),
            second_fact: "60601".to_owned(),
            name: "Pat Payer".to_owned(),
            email: "pat@example.com".to_owned(),
            phone: Some(" +1 (312) 555-0100 ".to_owned()),
        }
    }

    #[test]
    fn a_complete_form_passes() {
        assert_eq!(form().first_error(), None);
        assert_eq!(
            check_phone(" +1 (312) 555-0100 "),
            Ok(Some("+1 (312) 555-0100".to_owned()))
        );
        assert_eq!(check_phone("  "), Ok(None));
    }

    #[test]
    fn bad_fields_are_named_in_form_order() {
        let empty = Registration::default();
        assert_eq!(empty.first_error().map(|e| e.0), Some("account_number"));
        let cases = [
            (
                Registration {
                    second_fact: " ".to_owned(),
                    ..form()
                },
                "second_fact",
            ),
            (
                Registration {
                    name: "x".repeat(NAME_MAX_CHARS + 1),
                    ..form()
                },
                "name",
            ),
            (
                Registration {
                    phone: Some("call me".to_owned()),
                    ..form()
                },
                "phone",
            ),
            (
                Registration {
                    phone: Some("1".repeat(PHONE_MAX_CHARS + 1)),
                    ..form()
                },
                "phone",
            ),
        ];
        for (input, field) in cases {
            assert_eq!(input.first_error().map(|e| e.0), Some(field));
        }
    }

    #[test]
    fn codes_and_numbers_compare_loosely() {
        assert_eq!(normalize_postal_code(" sw1a 1aa "), "sw1a1aa");
        assert_eq!(normalize_postal_code("SW1A1AA"), "sw1a1aa");
        assert_eq!(normalize_account_number("  C-1001 "), "c-1001");
    }
}
