//! The staff dashboard: receivables and collection KPIs, each computed by an SQL aggregate
//! on the server and shown with its definition beside it.
//!
//! Amounts are integer minor units in the supplier's currency. Settle does not convert:
//! accounts are billed in one currency in practice (the supplier's), so sums over
//! accounts are meaningful; an account in another currency would be summed as if it were
//! the supplier's.
//!
//! Ratios are integer tenths (`415` is 41.5) so they stay exact across the wire; `None`
//! means "no data" (the denominator was zero), never a division by zero.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::enums::DisputeReason;
use super::portal::Aging;

/// Days of credit sales DSO compares the receivables with.
pub const DSO_DAYS: i64 = 90;
/// Days of the period the Collection Effectiveness Index measures.
pub const CEI_DAYS: i64 = 30;
/// Days back that resolved promises, invoices for the wrong-address share and credit
/// sales for DSO are counted.
pub const RECENT_DAYS: i64 = 90;
/// Share of invoices sent to the wrong address that the industry reports (10–12%), in
/// tenths of a percent: the low end, for comparison with ours.
pub const INDUSTRY_MISDIRECTED_TENTHS: i64 = 100;

/// Every number on the staff dashboard, as of `as_of`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub as_of: NaiveDate,
    /// The supplier's currency.
    pub currency: String,
    /// Open balances of open invoices (not void, paid or closed). Open credit memos and
    /// unapplied payments are not netted off; they are [`Self::unapplied_credits_minor`].
    pub total_ar_minor: i64,
    /// [`Self::total_ar_minor`] by days past due (an invoice without a due date is current).
    pub aging: Aging,
    /// Credit customers hold that is not yet applied to an invoice: open credit memos and
    /// unapplied succeeded payments, as a positive amount.
    pub unapplied_credits_minor: i64,
    /// Invoice totals (not void) issued in the last [`DSO_DAYS`] days, today included.
    pub credit_sales_90_minor: i64,
    /// Total AR ÷ credit sales of the last 90 days × 90, in tenths of a day.
    pub dso_tenths: Option<i64>,
    /// Receivables at the start of the [`CEI_DAYS`]-day period (see the service).
    pub beginning_ar_minor: i64,
    /// Invoice totals (not void) issued in the last [`CEI_DAYS`] days, today included.
    pub credit_sales_30_minor: i64,
    /// (beginning AR + credit sales − ending total AR) ÷ (beginning AR + credit sales −
    /// ending current AR) × 100, in tenths of a percent.
    pub cei_tenths: Option<i64>,
    /// Promises resolved in the last [`RECENT_DAYS`] days as kept.
    pub promises_kept: i64,
    /// Promises resolved in the last [`RECENT_DAYS`] days as kept, partially kept or broken
    /// (replaced promises are not resolved by the customer and do not count).
    pub promises_resolved: i64,
    /// Kept ÷ resolved, in tenths of a percent.
    pub promises_kept_tenths: Option<i64>,
    /// Promises still open, whenever made.
    pub promises_open: i64,
    /// Disputes in status open, and the amount they dispute.
    pub open_disputes: i64,
    pub open_disputed_minor: i64,
    /// Lines of open disputes grouped by reason, largest amount first.
    pub disputes_by_reason: Vec<ReasonTotal>,
    /// Active customer accounts, and those without any gap of `model::accounts::GAPS`.
    pub active_customers: i64,
    pub complete_profiles: i64,
    /// Complete ÷ active, in tenths of a percent.
    pub complete_tenths: Option<i64>,
    /// Contacts whose email bounced, and contacts reported as the wrong person.
    pub bounced_contacts: i64,
    pub reported_wrong_contacts: i64,
    /// Invoices (not void) issued in the last [`RECENT_DAYS`] days, and those of them whose
    /// account's primary billing contact bounced or was reported wrong.
    pub recent_invoices: i64,
    pub misdirected_invoices: i64,
    /// Misdirected ÷ recent invoices, in tenths of a percent.
    pub misdirected_tenths: Option<i64>,
    /// Open or in-progress inbox tasks due today or earlier.
    pub tasks_due: i64,
}

/// The open dispute lines of one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonTotal {
    pub reason: DisputeReason,
    /// Open disputes with at least one line of this reason.
    pub disputes: i64,
    pub lines: i64,
    pub amount_minor: i64,
}

/// `numerator ÷ denominator × scale` in tenths, rounded half away from zero; `None` when
/// the denominator is not positive.
pub fn ratio_tenths(numerator: i64, denominator: i64, scale: i64) -> Option<i64> {
    if denominator <= 0 {
        return None;
    }
    let n = i128::from(numerator) * i128::from(scale) * 10;
    let d = i128::from(denominator);
    let rounded = if n >= 0 {
        (2 * n + d) / (2 * d)
    } else {
        -((-2 * n + d) / (2 * d))
    };
    i64::try_from(rounded).ok()
}

/// Tenths as a decimal ("41.5"), or "—" for no data.
pub fn format_tenths(tenths: Option<i64>) -> String {
    match tenths {
        Some(t) => {
            let sign = if t < 0 { "-" } else { "" };
            let abs = t.unsigned_abs();
            format!("{sign}{}.{}", abs / 10, abs % 10)
        }
        None => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{format_tenths, ratio_tenths};

    #[test]
    fn ratios_round_to_tenths_and_refuse_zero_denominators() {
        assert_eq!(ratio_tenths(1, 3, 100), Some(333));
        assert_eq!(ratio_tenths(2, 3, 100), Some(667));
        assert_eq!(ratio_tenths(-1, 3, 100), Some(-333));
        assert_eq!(ratio_tenths(5, 0, 100), None);
        assert_eq!(format_tenths(Some(415)), "41.5");
        assert_eq!(format_tenths(Some(-5)), "-0.5");
        assert_eq!(format_tenths(None), "—");
    }
}
