//! What the customer portal shows.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::enums::{
    ContactRole, DisputeStatus, DocumentStatus, LinkPurpose, PaymentChannel, PaymentStatus,
};

/// Open balance split by days past due.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aging {
    pub current: i64,
    pub days_1_30: i64,
    pub days_31_60: i64,
    pub days_61_90: i64,
    pub days_over_90: i64,
}

impl Aging {
    /// Adds an open amount to the bucket its days past due falls in.
    pub fn add(&mut self, days_past_due: i64, minor: i64) {
        let bucket = match days_past_due {
            i64::MIN..=0 => &mut self.current,
            1..=30 => &mut self.days_1_30,
            31..=60 => &mut self.days_31_60,
            61..=90 => &mut self.days_61_90,
            _ => &mut self.days_over_90,
        };
        *bucket += minor;
    }

    pub fn total(&self) -> i64 {
        self.current + self.days_1_30 + self.days_31_60 + self.days_61_90 + self.days_over_90
    }

    /// The buckets with their labels, in order.
    pub fn buckets(&self) -> [(&'static str, i64); 5] {
        [
            ("Current", self.current),
            ("1–30", self.days_1_30),
            ("31–60", self.days_31_60),
            ("61–90", self.days_61_90),
            ("90+", self.days_over_90),
        ]
    }
}

/// An invoice with money still owed on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenInvoice {
    pub id: i64,
    pub number: String,
    pub po_number: Option<String>,
    #[serde(with = "super::iso_day")]
    pub issue_date: NaiveDate,
    #[serde(with = "super::iso_day::option")]
    pub due_date: Option<NaiveDate>,
    pub total_minor: i64,
    pub open_minor: i64,
    pub days_past_due: i64,
    pub status: DocumentStatus,
}

/// The account overview: the first page a customer sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub account_name: String,
    pub account_number: String,
    pub currency: String,
    #[serde(with = "super::iso_day")]
    pub as_of: NaiveDate,
    /// Open invoices less open credits and unapplied payments.
    pub balance_minor: i64,
    pub credits_minor: i64,
    pub aging: Aging,
    pub open_invoices: Vec<OpenInvoice>,
    /// The latest payments, newest first.
    pub recent_payments: Vec<PaymentSummary>,
    /// The newest disputes still being looked at (at most ten).
    pub open_disputes: Vec<DisputeSummary>,
    /// How many disputes are open, and their disputed total, listed or not.
    pub open_disputes_count: i64,
    pub open_disputes_minor: i64,
    /// Names this page view, so a doubled "Pay" click opens one checkout.
    pub pay_attempt: String,
}

/// A payment as the overview lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSummary {
    #[serde(with = "super::iso_day")]
    pub received_on: NaiveDate,
    pub amount_minor: i64,
    pub method: PaymentChannel,
    pub status: PaymentStatus,
    /// Invoice numbers the payment was applied to.
    pub invoices: Vec<String>,
}

/// A dispute as the overview lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeSummary {
    pub invoice: String,
    pub disputed_minor: i64,
    pub status: DisputeStatus,
    #[serde(with = "super::iso_day")]
    pub opened_on: NaiveDate,
}

/// What a magic-link page shows before its button is pressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkPreview {
    pub company: String,
    pub masked_email: String,
    pub purpose: LinkPurpose,
}

/// "Not the right person? Tell us who is": the person who should get our mail instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrongPersonReport {
    pub name: String,
    pub email: String,
    pub role: ContactRole,
    pub note: Option<String>,
}

/// Formats minor units as an amount with thousands separators: `-1234567` → `-12,345.67`,
/// prefixed with the currency's symbol where one is well known.
pub fn format_money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::with_capacity(units.len() + units.len() / 3);
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let symbol = match currency {
        "USD" | "CAD" | "AUD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        _ => "",
    };
    let amount = format!("{grouped}.{:02}", abs % 100);
    if symbol.is_empty() {
        format!("{sign}{amount} {currency}")
    } else {
        format!("{sign}{symbol}{amount}")
    }
}

/// A day as pages show it, `Dec 4, 2026`: what chrono's `format("%b %-d, %Y")` gives,
/// without its format-string interpreter in the browser's first module.
pub fn format_day(day: impl chrono::Datelike) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS
        .get(day.month0() as usize)
        .copied()
        .unwrap_or_default();
    format!("{month} {}, {}", day.day(), day.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_read_as_chrono_formats_them() {
        let mut day = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
        for _ in 0..800 {
            assert_eq!(format_day(day), day.format("%b %-d, %Y").to_string());
            day = day.succ_opt().unwrap_or_default();
        }
        let at =
            chrono::DateTime::<chrono::Utc>::from_timestamp(1_796_400_000, 0).unwrap_or_default();
        assert_eq!(format_day(at), "Dec 4, 2026");
    }

    #[test]
    fn money_is_grouped_and_signed() {
        assert_eq!(format_money(0, "USD"), "$0.00");
        assert_eq!(format_money(5, "USD"), "$0.05");
        assert_eq!(format_money(123_456_789, "USD"), "$1,234,567.89");
        assert_eq!(format_money(-100_000, "EUR"), "-€1,000.00");
        assert_eq!(format_money(12_345, "CHF"), "123.45 CHF");
    }

    #[test]
    fn aging_buckets_follow_days_past_due() {
        let mut aging = Aging::default();
        for (days, amount) in [
            (-5, 1),
            (0, 2),
            (1, 4),
            (30, 8),
            (31, 16),
            (60, 32),
            (61, 64),
            (90, 128),
            (91, 256),
        ] {
            aging.add(days, amount);
        }
        assert_eq!(
            aging,
            Aging {
                current: 3,
                days_1_30: 12,
                days_31_60: 48,
                days_61_90: 192,
                days_over_90: 256
            }
        );
        assert_eq!(aging.total(), 511);
    }
}
