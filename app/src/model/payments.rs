//! Easy Pay: what the customer chooses before checkout, the rules each amount must meet
//! (shared by the browser, which marks a bad field as it is typed, and the server, which
//! checks again against the stored open balances), and the receipt the portal shows.

use serde::{Deserialize, Serialize};

use super::enums::{PaymentChannel, PaymentLinkStatus};
use super::promises::parse_amount;

/// The most invoices one checkout may cover.
pub const MAX_INVOICES: usize = 100;

/// One invoice of a payment and the amount (as typed, like `"1234.56"`) to pay on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayItem {
    pub document_id: i64,
    pub amount: String,
}

/// The methods a customer may pick, in the order the form offers them.
pub const METHODS: [(PaymentChannel, &str); 3] = [
    (PaymentChannel::Card, "Card"),
    (PaymentChannel::Ach, "Bank debit (ACH)"),
    (PaymentChannel::Wallet, "Wallet (Apple Pay, Google Pay)"),
];

/// Whether customers may pick `method` online (checks and wires are not paid through Settle).
pub fn is_online_method(method: PaymentChannel) -> bool {
    METHODS.iter().any(|(m, _)| *m == method)
}

/// Checks the amount typed for one invoice against its open balance and returns it in
/// minor units.
///
/// # Errors
/// The message to show beside the field.
pub fn check_item_amount(text: &str, open_minor: i64, currency: &str) -> Result<i64, String> {
    let minor = parse_amount(text)?;
    if minor <= 0 {
        return Err("enter an amount above zero".to_owned());
    }
    if minor > open_minor {
        return Err(format!(
            "at most {}, the open balance",
            super::portal::format_money(open_minor, currency)
        ));
    }
    Ok(minor)
}

/// One invoice on a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    pub number: String,
    /// What this checkout puts on the invoice.
    pub amount_minor: i64,
    /// The invoice's open balance now.
    pub open_minor: i64,
}

/// A checkout as the receipt page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub status: PaymentLinkStatus,
    pub amount_minor: i64,
    pub currency: String,
    pub method: Option<PaymentChannel>,
    pub lines: Vec<ReceiptLine>,
    /// Money paid beyond the invoices' open balances, kept as a credit on the account.
    pub unapplied_minor: i64,
    pub reference: String,
}

/// The one invoice a Pay link opens, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayLinkInvoice {
    pub company: String,
    pub number: String,
    pub due_date: Option<chrono::NaiveDate>,
    pub total_minor: i64,
    pub open_minor: i64,
    pub currency: String,
    /// False once the invoice is paid or a payment is pending.
    pub payable: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_amount_within_the_open_balance_is_accepted_in_minor_units() {
        assert_eq!(check_item_amount("12.50", 2_000, "USD"), Ok(1_250));
        assert_eq!(check_item_amount("20", 2_000, "USD"), Ok(2_000));
    }

    #[test]
    fn more_than_the_open_balance_is_refused_with_the_balance_named() {
        let err = check_item_amount("20.01", 2_000, "USD").unwrap_err();
        assert!(err.contains("$20.00"), "{err}");
    }

    #[test]
    fn zero_negative_and_garbage_are_refused() {
        assert!(check_item_amount("0", 2_000, "USD").is_err());
        assert!(check_item_amount("-5", 2_000, "USD").is_err());
        assert!(check_item_amount("ten", 2_000, "USD").is_err());
        assert!(check_item_amount("1.234", 2_000, "USD").is_err());
    }

    #[test]
    fn only_card_ach_and_wallet_are_offered_online() {
        assert!(is_online_method(PaymentChannel::Ach));
        assert!(!is_online_method(PaymentChannel::Check));
        assert!(!is_online_method(PaymentChannel::Wire));
    }
}
