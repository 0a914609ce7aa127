//! Staff views of accounts: the list with its filters, the account page, and the rules
//! every inline-editable field must meet (shared by the browser, which marks a bad value
//! as it is typed, and the server, which checks again before saving).

use serde::{Deserialize, Serialize};

use super::enums::{AccountStatus, ContactRole, EmailStatus};

/// Rows per page of the accounts list.
pub const PAGE_SIZE: u64 = 50;

/// What an account may be missing; the list can filter by each.
pub const GAPS: [(&str, &str); 4] = [
    ("email", "No usable email"),
    ("address", "No mailing address"),
    ("tin", "No TIN"),
    ("unverified", "Not verified in 12 months"),
];

/// The label of a gap key.
pub fn gap_label(key: &str) -> &'static str {
    GAPS.iter().find(|(k, _)| *k == key).map_or("", |(_, l)| *l)
}

/// One row of the accounts list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub status: AccountStatus,
    pub collector: Option<String>,
    pub has_bounced: bool,
    /// Keys of [`GAPS`] the account has.
    pub gaps: Vec<String>,
}

/// A page of the accounts list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountList {
    pub rows: Vec<AccountRow>,
    pub total: u64,
    pub page: u64,
    pub pages: u64,
    /// (id, name) of every staff member, for the collector filter.
    pub collectors: Vec<(i64, String)>,
}

/// An account field that staff edit in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountField {
    DisplayName,
    LegalName,
    Phone,
    Website,
    PaymentTermsDays,
    Segment,
    Status,
}

impl AccountField {
    pub const ALL: [AccountField; 7] = [
        AccountField::DisplayName,
        AccountField::LegalName,
        AccountField::Phone,
        AccountField::Website,
        AccountField::PaymentTermsDays,
        AccountField::Segment,
        AccountField::Status,
    ];

    /// The column's name (also the audit log's `field`).
    pub fn as_str(self) -> &'static str {
        match self {
            AccountField::DisplayName => "display_name",
            AccountField::LegalName => "legal_name",
            AccountField::Phone => "phone",
            AccountField::Website => "website",
            AccountField::PaymentTermsDays => "payment_terms_days",
            AccountField::Segment => "segment",
            AccountField::Status => "status",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AccountField::DisplayName => "Name",
            AccountField::LegalName => "Legal name",
            AccountField::Phone => "Phone",
            AccountField::Website => "Website",
            AccountField::PaymentTermsDays => "Payment terms (days)",
            AccountField::Segment => "Segment",
            AccountField::Status => "Status",
        }
    }
}

/// A contact field that staff edit in their table row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactField {
    Name,
    Email,
    Phone,
    Role,
}

impl ContactField {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactField::Name => "name",
            ContactField::Email => "email",
            ContactField::Phone => "phone",
            ContactField::Role => "role",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ContactField::Name => "Name",
            ContactField::Email => "Email",
            ContactField::Phone => "Phone",
            ContactField::Role => "Role",
        }
    }
}

fn required(text: &str, max: usize) -> Result<String, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("this cannot be empty".to_owned());
    }
    if t.chars().count() > max {
        return Err(format!("use at most {max} characters"));
    }
    Ok(t.to_owned())
}

fn optional(text: &str, max: usize) -> Result<String, String> {
    let t = text.trim();
    if t.chars().count() > max {
        return Err(format!("use at most {max} characters"));
    }
    Ok(t.to_owned())
}

/// A phone number: digits with spaces, `+`, `-`, `(`, `)`, `.`; at least 7 digits. Empty is allowed.
pub fn check_phone(text: &str) -> Result<String, String> {
    let t = optional(text, 40)?;
    if t.is_empty() {
        return Ok(t);
    }
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
    {
        return Err("use digits, spaces and + - ( ) only".to_owned());
    }
    if t.chars().filter(char::is_ascii_digit).count() < 7 {
        return Err("a phone number has at least 7 digits".to_owned());
    }
    Ok(t)
}

/// An email address as people type it, lower-cased; at most 254 characters.
pub fn check_email(text: &str) -> Result<String, String> {
    let t = text.trim().to_ascii_lowercase();
    let ok = t.len() <= 254
        && t.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !t.contains(char::is_whitespace)
                && t.matches('@').count() == 1
        });
    if ok {
        Ok(t)
    } else {
        Err("enter an email address like name@example.com".to_owned())
    }
}

/// Checks a value typed for an account field and returns it as it will be stored.
///
/// # Errors
/// The message to show under the field.
pub fn check_account_field(field: AccountField, text: &str) -> Result<String, String> {
    match field {
        AccountField::DisplayName | AccountField::LegalName => required(text, 200),
        AccountField::Phone => check_phone(text),
        AccountField::Website => {
            let t = optional(text, 200)?;
            if t.is_empty() || t.starts_with("https://") || t.starts_with("http://") {
                Ok(t)
            } else if t.contains('.') && !t.contains(char::is_whitespace) {
                Ok(format!("https://{t}"))
            } else {
                Err("enter a web address like example.com".to_owned())
            }
        }
        AccountField::PaymentTermsDays => match text.trim().parse::<i32>() {
            Ok(days) if (0..=365).contains(&days) => Ok(days.to_string()),
            _ => Err("enter a number of days from 0 to 365".to_owned()),
        },
        AccountField::Segment => optional(text, 60),
        AccountField::Status => parse_status(text)
            .map(|s| s.as_str().to_owned())
            .ok_or_else(|| "choose onboarding, active or on hold".to_owned()),
    }
}

/// An account status from its stored name.
pub fn parse_status(text: &str) -> Option<AccountStatus> {
    [
        AccountStatus::Onboarding,
        AccountStatus::Active,
        AccountStatus::OnHold,
    ]
    .into_iter()
    .find(|s| s.as_str() == text.trim())
}

/// A contact role from its stored name.
pub fn parse_role(text: &str) -> Option<ContactRole> {
    [
        ContactRole::Ap,
        ContactRole::Billing,
        ContactRole::Primary,
        ContactRole::Other,
    ]
    .into_iter()
    .find(|r| r.as_str() == text.trim())
}

/// Checks a value typed for a contact field and returns it as it will be stored.
///
/// # Errors
/// The message to show under the field.
pub fn check_contact_field(field: ContactField, text: &str) -> Result<String, String> {
    match field {
        ContactField::Name => required(text, 200),
        ContactField::Email => {
            if text.trim().is_empty() {
                Ok(String::new())
            } else {
                check_email(text)
            }
        }
        ContactField::Phone => check_phone(text),
        ContactField::Role => parse_role(text)
            .map(|r| r.as_str().to_owned())
            .ok_or_else(|| "choose AP, billing, primary or other".to_owned()),
    }
}

/// A contact as the account page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRow {
    pub id: i64,
    pub version: i32,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub role: ContactRole,
    pub is_primary_billing: bool,
    pub email_status: EmailStatus,
}

/// The account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDetail {
    pub id: i64,
    pub number: String,
    pub version: i32,
    /// Each editable field with its current value, in form order.
    pub fields: Vec<(AccountField, String)>,
    pub contacts: Vec<ContactRow>,
    pub gaps: Vec<String>,
    pub tin_masked: Option<String>,
    pub can_edit: bool,
}

/// The answer to an inline save.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Saved {
    /// Stored; the record's new version and the value as stored.
    Done { version: i32, value: String },
    /// Someone changed this field since it was loaded: nothing was written. The current
    /// value and version let the editor choose "use theirs" or "keep mine".
    Stale { version: i32, current: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_required_and_trimmed() {
        assert_eq!(
            check_account_field(AccountField::DisplayName, "  Acme  "),
            Ok("Acme".to_owned())
        );
        assert!(check_account_field(AccountField::DisplayName, "   ").is_err());
        assert!(check_account_field(AccountField::LegalName, &"x".repeat(201)).is_err());
    }

    #[test]
    fn phones_need_seven_digits_and_no_letters() {
        assert_eq!(
            check_phone("+1 (555) 010-2000"),
            Ok("+1 (555) 010-2000".to_owned())
        );
        assert_eq!(check_phone(""), Ok(String::new()));
        assert!(check_phone("555-12").is_err());
        assert!(check_phone("call me").is_err());
    }

    #[test]
    fn terms_are_days_within_a_year() {
        assert_eq!(
            check_account_field(AccountField::PaymentTermsDays, " 45 "),
            Ok("45".to_owned())
        );
        assert!(check_account_field(AccountField::PaymentTermsDays, "400").is_err());
        assert!(check_account_field(AccountField::PaymentTermsDays, "net 30").is_err());
    }

    #[test]
    fn websites_get_a_scheme_and_status_must_be_known() {
        assert_eq!(
            check_account_field(AccountField::Website, "acme.test"),
            Ok("https://acme.test".to_owned())
        );
        assert!(check_account_field(AccountField::Website, "not a site").is_err());
        assert_eq!(
            check_account_field(AccountField::Status, "on_hold"),
            Ok("on_hold".to_owned())
        );
        assert!(check_account_field(AccountField::Status, "closed").is_err());
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            check_contact_field(ContactField::Email, " Pat@Acme.Test "),
            Ok("pat@acme.test".to_owned())
        );
        assert_eq!(
            check_contact_field(ContactField::Email, ""),
            Ok(String::new())
        );
        for bad in [
            "pat",
            "pat@acme",
            "pat@@acme.test",
            "p t@acme.test",
            "pat@.test",
        ] {
            assert!(
                check_contact_field(ContactField::Email, bad).is_err(),
                "{bad}"
            );
        }
    }
}
