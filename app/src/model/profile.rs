//! The customer's own profile: what the page shows, and the rules for the values a
//! customer may enter — shared by the browser (marks a field as it is typed) and the server.
//! Sensitive values are shown masked; their full form never leaves the server.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::enums::{AddressKind, ChangeKind, ChangeStatus, ContactRole, EmailStatus};

/// A postal address as entered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressInput {
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
}

/// A sensitive change as the customer enters it; the server seals it until staff decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SensitiveChange {
    BankAccount {
        holder: String,
        routing: String,
        account: String,
    },
    RemitTo(AddressInput),
    Tin(String),
    BillingEmail(String),
}

impl SensitiveChange {
    pub fn kind(&self) -> ChangeKind {
        match self {
            SensitiveChange::BankAccount { .. } => ChangeKind::BankAccount,
            SensitiveChange::RemitTo(_) => ChangeKind::RemitTo,
            SensitiveChange::Tin(_) => ChangeKind::Tin,
            SensitiveChange::BillingEmail(_) => ChangeKind::BillingEmail,
        }
    }

    /// Checks every value and returns the change as it will be stored.
    ///
    /// # Errors
    /// (field, message) of the first bad value.
    pub fn checked(&self) -> Result<SensitiveChange, (&'static str, String)> {
        Ok(match self {
            SensitiveChange::BankAccount {
                holder,
                routing,
                account,
            } => SensitiveChange::BankAccount {
                holder: required(holder, 200).map_err(|m| ("holder", m))?,
                routing: check_routing(routing).map_err(|m| ("routing", m))?,
                account: check_bank_account(account).map_err(|m| ("account", m))?,
            },
            SensitiveChange::RemitTo(a) => SensitiveChange::RemitTo(check_address(a)?),
            SensitiveChange::Tin(t) => SensitiveChange::Tin(check_tin(t).map_err(|m| ("tin", m))?),
            SensitiveChange::BillingEmail(e) => SensitiveChange::BillingEmail(
                super::accounts::check_email(e).map_err(|m| ("email", m))?,
            ),
        })
    }

    /// What the change does, with sensitive values masked: safe to show, log and email.
    pub fn summary(&self) -> String {
        match self {
            SensitiveChange::BankAccount {
                holder, account, ..
            } => format!("bank account of {holder} ending {}", last4(account)),
            SensitiveChange::RemitTo(a) => {
                format!("remit-to address {}, {} {}", a.line1, a.city, a.postal_code)
            }
            SensitiveChange::Tin(t) => format!("TIN ending {}", last4(t)),
            SensitiveChange::BillingEmail(e) => format!("billing email {}", mask_email(e)),
        }
    }
}

/// The last four digits of a number.
pub fn last4(text: &str) -> String {
    let digits: Vec<char> = text.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(4)..].iter().collect()
}

/// `pat@acme.test` → `p••@acme.test`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}••@{domain}")
        }
        None => "••".to_owned(),
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

/// Checks an address; `line2` may be empty, the country defaults to US.
///
/// # Errors
/// (field, message) of the first bad part.
pub fn check_address(a: &AddressInput) -> Result<AddressInput, (&'static str, String)> {
    let country = if a.country.trim().is_empty() {
        "US".to_owned()
    } else {
        required(&a.country, 60).map_err(|m| ("country", m))?
    };
    let postal_code = required(&a.postal_code, 12).map_err(|m| ("postal_code", m))?;
    if country == "US" {
        let digits: String = postal_code.chars().filter(|c| *c != '-').collect();
        if !(digits.len() == 5 || digits.len() == 9) || !digits.chars().all(|c| c.is_ascii_digit())
        {
            return Err((
                "postal_code",
                "a US ZIP code is 5 digits, or ZIP+4".to_owned(),
            ));
        }
    }
    Ok(AddressInput {
        line1: required(&a.line1, 200).map_err(|m| ("line1", m))?,
        line2: a.line2.trim().chars().take(200).collect(),
        city: required(&a.city, 100).map_err(|m| ("city", m))?,
        region: required(&a.region, 60).map_err(|m| ("region", m))?,
        postal_code,
        country,
    })
}

/// A US taxpayer id: an EIN `NN-NNNNNNN` with a prefix the IRS assigns, or an SSN
/// `NNN-NN-NNNN` that is not obviously invalid (area 000, 666 or 9xx; group 00; serial 0000).
/// Returned in its dashed form.
///
/// # Errors
/// The message for the field.
pub fn check_tin(text: &str) -> Result<String, String> {
    let t = text.trim();
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let shape_ok = t.chars().all(|c| c.is_ascii_digit() || c == '-');
    if !shape_ok || digits.len() != 9 {
        return Err("enter an EIN like 12-3456789 or an SSN like 123-45-6789".to_owned());
    }
    let is_ssn = t.len() == 11 && t.as_bytes().get(3) == Some(&b'-');
    if is_ssn {
        let (area, group, serial) = (&digits[0..3], &digits[3..5], &digits[5..9]);
        if area == "000"
            || area == "666"
            || area.starts_with('9')
            || group == "00"
            || serial == "0000"
        {
            return Err("this is not a valid SSN".to_owned());
        }
        return Ok(format!("{area}-{group}-{serial}"));
    }
    let prefix: u32 = digits[0..2].parse().unwrap_or(0);
    const INVALID: [u32; 14] = [0, 7, 8, 9, 17, 18, 19, 28, 29, 49, 69, 70, 89, 96];
    if INVALID.contains(&prefix) || prefix == 78 || prefix == 79 || prefix == 97 {
        return Err("no EIN starts with these two digits".to_owned());
    }
    Ok(format!("{}-{}", &digits[0..2], &digits[2..9]))
}

/// A US bank routing (ABA) number: nine digits whose checksum holds.
///
/// # Errors
/// The message for the field.
pub fn check_routing(text: &str) -> Result<String, String> {
    let digits: Vec<u32> = text.trim().chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 9 || text.trim().chars().any(|c| !c.is_ascii_digit()) {
        return Err("a routing number is 9 digits".to_owned());
    }
    let sum = 3 * (digits[0] + digits[3] + digits[6])
        + 7 * (digits[1] + digits[4] + digits[7])
        + (digits[2] + digits[5] + digits[8]);
    if !sum.is_multiple_of(10) {
        return Err("this routing number does not exist (check the digits)".to_owned());
    }
    Ok(text.trim().to_owned())
}

/// A bank account number: 4 to 17 digits.
///
/// # Errors
/// The message for the field.
pub fn check_bank_account(text: &str) -> Result<String, String> {
    let t: String = text.trim().chars().filter(|c| *c != ' ').collect();
    if !(4..=17).contains(&t.len()) || !t.chars().all(|c| c.is_ascii_digit()) {
        return Err("an account number is 4 to 17 digits".to_owned());
    }
    Ok(t)
}

/// A contact as the profile page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileContact {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub role: ContactRole,
    pub is_primary_billing: bool,
    pub email_status: EmailStatus,
}

/// An address as the profile page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileAddress {
    pub kind: AddressKind,
    pub text: String,
    /// The same address by field, to edit it.
    pub fields: AddressInput,
}

/// A sensitive change as its requester and staff see it (masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeView {
    pub id: i64,
    pub kind: ChangeKind,
    pub summary: String,
    pub status: ChangeStatus,
    pub created_at: DateTime<Utc>,
    pub decision_note: Option<String>,
    /// For staff: the account and who asked.
    pub account: String,
    pub requested_by: String,
}

/// The profile page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub legal_name: String,
    pub display_name: String,
    pub website: String,
    pub addresses: Vec<ProfileAddress>,
    pub contacts: Vec<ProfileContact>,
    /// Masked bank accounts: "Holder ••••1234".
    pub bank_accounts: Vec<String>,
    pub tin_masked: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub verified_by: Option<String>,
    pub changes: Vec<ChangeView>,
    pub documents: Vec<SuppliedDocument>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eins_and_ssns_are_checked_and_normalised() {
        assert_eq!(check_tin("12-3456789"), Ok("12-3456789".to_owned()));
        assert_eq!(check_tin("123-45-6789"), Ok("123-45-6789".to_owned()));
        for bad in [
            "07-1234567",
            "00-1234567",
            "89-1234567",
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "123-00-4567",
            "123-45-0000",
            "12345",
            "ab-cdefghi",
        ] {
            assert!(check_tin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn routing_numbers_need_a_valid_checksum() {
        assert_eq!(check_routing("021000021"), Ok("021000021".to_owned()));
        assert!(check_routing("021000022").is_err());
        assert!(check_routing("02100002").is_err());
    }

    #[test]
    fn summaries_never_show_full_values() {
        let bank = SensitiveChange::BankAccount {
            holder: "Acme".into(),
            routing: "021000021".into(),
            account: "123456789".into(),
        };
        let s = bank.summary();
        assert!(
            s.ends_with("6789") && !s.contains("12345") && !s.contains("021000021"),
            "{s}"
        );
        assert_eq!(
            SensitiveChange::Tin("12-3456789".into()).summary(),
            "TIN ending 6789"
        );
        assert_eq!(
            SensitiveChange::BillingEmail("pat@acme.test".into()).summary(),
            "billing email p••@acme.test"
        );
    }

    #[test]
    fn addresses_need_their_parts_and_a_real_zip() {
        let a = AddressInput {
            line1: "1 Main St".into(),
            city: "Springfield".into(),
            region: "IL".into(),
            postal_code: "62701".into(),
            ..Default::default()
        };
        assert!(check_address(&a).is_ok());
        let bad = AddressInput {
            postal_code: "6270".into(),
            ..a.clone()
        };
        assert_eq!(check_address(&bad).map_err(|e| e.0), Err("postal_code"));
    }
}

/// Documents a customer is asked to supply, as (upload kind, label).
pub const SUPPLIED_DOCUMENTS: [(&str, &str); 3] = [
    ("w9", "W-9"),
    ("credit_application", "Credit application"),
    ("exemption_certificate", "Sales tax exemption certificate"),
];

/// One document to supply and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppliedDocument {
    pub kind: String,
    pub label: String,
    /// `None` while missing; otherwise the latest upload's document id, file name and date.
    pub latest: Option<(i64, String, chrono::NaiveDate)>,
}
