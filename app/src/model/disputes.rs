//! Smart Disputes: the rules a line annotation must meet and the running totals. The same
//! code runs in the browser (marking a field the moment it is wrong, totals as you type)
//! and on the server (which recomputes every amount from the stored lines).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::enums::{DisputeReason, DisputeStatus};
use super::promises::parse_amount;

/// The longest note on a line or message, in characters.
pub const NOTE_MAX_CHARS: usize = 1000;

/// Every reason, in the order the form offers them, with its label.
pub const REASONS: [(DisputeReason, &str); 7] = [
    (DisputeReason::Price, "Wrong price"),
    (DisputeReason::Quantity, "Wrong quantity"),
    (DisputeReason::Damaged, "Damaged"),
    (DisputeReason::NotReceived, "Not received"),
    (DisputeReason::Duplicate, "Billed twice"),
    (DisputeReason::Tax, "Wrong tax"),
    (DisputeReason::Other, "Other"),
];

/// The label of a reason.
pub fn reason_label(reason: DisputeReason) -> &'static str {
    REASONS
        .iter()
        .find(|(r, _)| *r == reason)
        .map_or("Other", |(_, l)| *l)
}

/// Whether a reason is measured in units (a disputed quantity) rather than money.
pub fn counts_units(reason: DisputeReason) -> bool {
    matches!(
        reason,
        DisputeReason::Quantity | DisputeReason::Damaged | DisputeReason::NotReceived
    )
}

/// A stored invoice line, as the invoice page shows it and the rules need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub id: i64,
    pub line_no: i32,
    pub sku: Option<String>,
    pub description: String,
    pub quantity_milli: i64,
    pub unit_price_minor: i64,
    pub amount_minor: i64,
    pub tax_minor: i64,
    /// Set when the line is under another open dispute: it cannot be annotated now.
    pub locked_by_dispute: Option<i64>,
}

impl InvoiceLine {
    /// What the customer is billed for the line: its amount plus its tax.
    pub fn value_minor(&self) -> i64 {
        self.amount_minor + self.tax_minor
    }
}

/// One line's annotation, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    pub line_id: i64,
    pub reason: DisputeReason,
    /// Units disputed, for [`counts_units`] reasons (like `"2"` or `"1.5"`).
    pub quantity: String,
    /// Money disputed, for the other reasons (like `"12.50"`).
    pub amount: String,
    pub note: String,
}

impl Annotation {
    /// A fresh annotation of `line`: the whole line, for the reason most people pick.
    pub fn new(line: &InvoiceLine) -> Self {
        Annotation {
            line_id: line.id,
            reason: DisputeReason::Price,
            quantity: format_quantity(line.quantity_milli),
            amount: super::promises::amount_input(line.value_minor()),
            note: String::new(),
        }
    }
}

/// What is wrong with an annotation, per field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnotationErrors {
    pub quantity: Option<String>,
    pub amount: Option<String>,
    pub note: Option<String>,
}

impl AnnotationErrors {
    pub fn is_empty(&self) -> bool {
        self.quantity.is_none() && self.amount.is_none() && self.note.is_none()
    }
}

/// A quantity in thousandths as people write it: `2`, `1.5`, `0.125`.
pub fn format_quantity(milli: i64) -> String {
    let sign = if milli < 0 { "-" } else { "" };
    let abs = milli.unsigned_abs();
    let whole = abs / 1000;
    let frac = abs % 1000;
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let digits = format!("{frac:03}");
        format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
    }
}

/// Parses a quantity typed by a person into thousandths.
///
/// # Errors
/// A message for the field.
pub fn parse_quantity(text: &str) -> Result<i64, String> {
    const BAD: &str = "enter a quantity like 2 or 1.5";
    let t = text.trim().replace(',', "");
    if t.is_empty() {
        return Err("enter how many units are disputed".to_owned());
    }
    let (whole, frac) = t.split_once('.').unwrap_or((t.as_str(), ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 3
        || whole.len() > 12
    {
        return Err(BAD.to_owned());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| BAD.to_owned())?
    };
    let frac: i64 = format!("{frac:0<3}").parse().map_err(|_| BAD.to_owned())?;
    Ok(whole * 1000 + frac)
}

/// Checks an annotation against its line and returns the disputed amount in minor units.
/// Unit reasons price the disputed quantity at the line's value per unit (tax included);
/// money reasons take the amount as typed. Never more than the line (or, for tax, its tax);
/// "Other" needs a note.
///
/// # Errors
/// The message for each failing field.
pub fn check_annotation(a: &Annotation, line: &InvoiceLine) -> Result<i64, AnnotationErrors> {
    let mut errors = AnnotationErrors::default();
    let note_chars = a.note.trim().chars().count();
    if note_chars > NOTE_MAX_CHARS {
        errors.note = Some(format!("keep the note under {NOTE_MAX_CHARS} characters"));
    } else if a.reason == DisputeReason::Other && note_chars == 0 {
        errors.note = Some("tell us what is wrong".to_owned());
    }
    let disputed = if counts_units(a.reason) {
        match parse_quantity(&a.quantity) {
            Err(m) => {
                errors.quantity = Some(m);
                0
            }
            Ok(0) => {
                errors.quantity = Some("enter more than zero units".to_owned());
                0
            }
            Ok(q) if q > line.quantity_milli => {
                errors.quantity = Some(format!(
                    "at most {}, the quantity billed",
                    format_quantity(line.quantity_milli)
                ));
                0
            }
            Ok(q) => units_value(q, line),
        }
    } else {
        let cap = if a.reason == DisputeReason::Tax {
            line.tax_minor
        } else {
            line.value_minor()
        };
        match parse_amount(&a.amount) {
            Err(m) => {
                errors.amount = Some(m);
                0
            }
            Ok(m) if m <= 0 => {
                errors.amount = Some("enter an amount above zero".to_owned());
                0
            }
            Ok(m) if m > cap => {
                errors.amount = Some(if a.reason == DisputeReason::Tax {
                    format!(
                        "at most {}, the line's tax",
                        super::promises::amount_input(cap)
                    )
                } else {
                    format!(
                        "at most {}, the line's total",
                        super::promises::amount_input(cap)
                    )
                });
                0
            }
            Ok(m) => m,
        }
    };
    if errors.is_empty() {
        Ok(disputed)
    } else {
        Err(errors)
    }
}

/// The value of `quantity_milli` units of `line`, rounded half up to the cent.
fn units_value(quantity_milli: i64, line: &InvoiceLine) -> i64 {
    if line.quantity_milli <= 0 {
        return 0;
    }
    let value = i128::from(line.value_minor()) * i128::from(quantity_milli);
    let q = i128::from(line.quantity_milli);
    let rounded = (value * 2 + q) / (2 * q);
    i64::try_from(rounded)
        .unwrap_or(i64::MAX)
        .min(line.value_minor())
}

/// Running totals of a set of annotations against an invoice's open balance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub disputed_minor: i64,
    /// What remains to pay: the open balance less the disputed amount (never below zero).
    pub undisputed_minor: i64,
    /// Lines whose annotation has an error (they count zero until fixed).
    pub invalid_lines: usize,
}

/// Totals of `annotations` on an invoice with `open_minor` still open.
pub fn totals(annotations: &[Annotation], lines: &[InvoiceLine], open_minor: i64) -> Totals {
    let mut t = Totals::default();
    for a in annotations {
        match lines
            .iter()
            .find(|l| l.id == a.line_id)
            .map(|l| check_annotation(a, l))
        {
            Some(Ok(minor)) => t.disputed_minor += minor,
            _ => t.invalid_lines += 1,
        }
    }
    t.undisputed_minor = (open_minor - t.disputed_minor).max(0);
    t
}

/// An invoice as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicePage {
    pub id: i64,
    pub number: String,
    pub po_number: Option<String>,
    pub issue_date: chrono::NaiveDate,
    pub due_date: Option<chrono::NaiveDate>,
    pub currency: String,
    pub total_minor: i64,
    pub open_minor: i64,
    pub disputed_minor: i64,
    pub lines: Vec<InvoiceLine>,
    /// The caller's unsubmitted annotations, as last saved.
    pub draft: Vec<Annotation>,
    /// Disputes on this invoice, newest first.
    pub disputes: Vec<DisputeView>,
}

/// One annotated line of a dispute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputedLine {
    /// The annotation's own id (what a partial credit names).
    pub dispute_line_id: i64,
    /// The invoice line's id.
    pub line_id: i64,
    pub line_no: i32,
    pub description: String,
    pub reason: DisputeReason,
    pub quantity_milli: Option<i64>,
    pub disputed_minor: i64,
    pub credited_minor: Option<i64>,
    pub note: Option<String>,
}

/// A message or attachment on a dispute's thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeMessageView {
    pub id: i64,
    pub author: String,
    pub from_staff: bool,
    pub body: String,
    /// (file id, file name) of an attachment.
    pub file: Option<(i64, String)>,
    pub sent_at: DateTime<Utc>,
}

/// A dispute as the customer and staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeView {
    pub id: i64,
    pub document_id: i64,
    pub invoice: String,
    pub account: String,
    pub status: DisputeStatus,
    pub disputed_minor: i64,
    pub credited_minor: i64,
    pub currency: String,
    pub resolution_note: Option<String>,
    pub assignee: Option<String>,
    pub version: i32,
    pub opened_at: DateTime<Utc>,
    pub lines: Vec<DisputedLine>,
    pub messages: Vec<DisputeMessageView>,
}

/// A file uploaded for a dispute that is not submitted yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftFile {
    pub id: i64,
    pub file_name: String,
}

/// What the browser keeps of an unsubmitted dispute, so it survives a reload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub annotations: Vec<Annotation>,
    pub files: Vec<DraftFile>,
}

/// One row of the staff disputes queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRow {
    pub id: i64,
    pub invoice: String,
    pub account: String,
    pub status: DisputeStatus,
    pub disputed_minor: i64,
    pub currency: String,
    pub reasons: Vec<DisputeReason>,
    pub age_days: i64,
}

/// Lines disputed for one reason, over the whole filtered queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonTotal {
    pub reason: DisputeReason,
    pub lines: u64,
    pub disputed_minor: i64,
}

/// The staff disputes queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    /// How many disputes match (the rows are the newest of them).
    pub total: u64,
    pub by_reason: Vec<ReasonTotal>,
    pub rows: Vec<QueueRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> InvoiceLine {
        InvoiceLine {
            id: 7,
            line_no: 1,
            sku: None,
            description: "Widget".to_owned(),
            quantity_milli: 3_000,
            unit_price_minor: 1_000,
            amount_minor: 3_000,
            tax_minor: 300,
            locked_by_dispute: None,
        }
    }

    fn note(reason: DisputeReason, quantity: &str, amount: &str, note: &str) -> Annotation {
        Annotation {
            line_id: 7,
            reason,
            quantity: quantity.to_owned(),
            amount: amount.to_owned(),
            note: note.to_owned(),
        }
    }

    #[test]
    fn units_are_priced_at_the_line_value_per_unit_tax_included() {
        let a = note(DisputeReason::Damaged, "1", "", "");
        assert_eq!(check_annotation(&a, &line()), Ok(1_100));
        let a = note(DisputeReason::NotReceived, "3", "", "");
        assert_eq!(check_annotation(&a, &line()), Ok(3_300));
        let a = note(DisputeReason::Quantity, "0.5", "", "");
        assert_eq!(check_annotation(&a, &line()), Ok(550));
    }

    #[test]
    fn more_units_than_billed_are_refused_on_the_quantity() {
        let err =
            check_annotation(&note(DisputeReason::Quantity, "3.001", "", ""), &line()).unwrap_err();
        assert_eq!(
            err.quantity.as_deref(),
            Some("at most 3, the quantity billed")
        );
        let err =
            check_annotation(&note(DisputeReason::Damaged, "0", "", ""), &line()).unwrap_err();
        assert!(err.quantity.is_some());
        let err =
            check_annotation(&note(DisputeReason::Damaged, "1.2345", "", ""), &line()).unwrap_err();
        assert!(err.quantity.is_some());
    }

    #[test]
    fn money_reasons_are_capped_by_the_line_or_its_tax() {
        assert_eq!(
            check_annotation(&note(DisputeReason::Price, "", "33.00", ""), &line()),
            Ok(3_300)
        );
        let err =
            check_annotation(&note(DisputeReason::Price, "", "33.01", ""), &line()).unwrap_err();
        assert_eq!(
            err.amount.as_deref(),
            Some("at most 33.00, the line's total")
        );
        let err = check_annotation(&note(DisputeReason::Tax, "", "3.01", ""), &line()).unwrap_err();
        assert_eq!(err.amount.as_deref(), Some("at most 3.00, the line's tax"));
        assert!(check_annotation(&note(DisputeReason::Duplicate, "", "-1", ""), &line()).is_err());
    }

    #[test]
    fn other_needs_a_note_and_notes_have_a_limit() {
        let err = check_annotation(&note(DisputeReason::Other, "", "5", " "), &line()).unwrap_err();
        assert!(err.note.is_some());
        assert_eq!(
            check_annotation(&note(DisputeReason::Other, "", "5", "why"), &line()),
            Ok(500)
        );
        let long = "x".repeat(NOTE_MAX_CHARS + 1);
        assert!(check_annotation(&note(DisputeReason::Price, "", "5", &long), &line()).is_err());
    }

    #[test]
    fn totals_add_valid_lines_and_count_invalid_ones() {
        let lines = [line()];
        let a = [
            note(DisputeReason::Damaged, "1", "", ""),
            note(DisputeReason::Price, "", "99", ""),
        ];
        let t = totals(&a, &lines, 3_300);
        assert_eq!(
            t,
            Totals {
                disputed_minor: 1_100,
                undisputed_minor: 2_200,
                invalid_lines: 1
            }
        );
    }

    #[test]
    fn quantities_round_trip() {
        for (text, milli) in [("2", 2_000), ("1.5", 1_500), ("0.125", 125), (".5", 500)] {
            assert_eq!(parse_quantity(text), Ok(milli), "{text}");
        }
        assert_eq!(format_quantity(1_500), "1.5");
        assert_eq!(format_quantity(2_000), "2");
        assert!(parse_quantity("abc").is_err());
        assert!(parse_quantity(".").is_err());
    }
}
