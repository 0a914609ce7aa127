//! What the customer's Documents page shows and how it is filtered.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::enums::{DocumentKind, DocumentStatus};

/// Documents listed per page.
pub const PAGE_SIZE: u64 = 25;

/// Every kind, in the order the filter offers them, with its label.
pub const KINDS: [(DocumentKind, &str); 6] = [
    (DocumentKind::Invoice, "Invoice"),
    (DocumentKind::CreditMemo, "Credit memo"),
    (DocumentKind::Statement, "Statement"),
    (DocumentKind::PurchaseOrder, "Purchase order"),
    (DocumentKind::BillOfLading, "Bill of lading"),
    (DocumentKind::CustomerUpload, "Your upload"),
];

/// Every status, in the order the filter offers them, with its label.
pub const STATUSES: [(DocumentStatus, &str); 5] = [
    (DocumentStatus::Open, "Open"),
    (DocumentStatus::PaymentPending, "Payment pending"),
    (DocumentStatus::Paid, "Paid"),
    (DocumentStatus::Void, "Void"),
    (DocumentStatus::Closed, "Closed"),
];

/// The human label of a document kind.
pub fn kind_label(kind: DocumentKind) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("Document", |(_, label)| label)
}

/// The human label of a document status.
pub fn status_label(status: DocumentStatus) -> &'static str {
    STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map_or("", |(_, label)| label)
}

/// The filters of the Documents page; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentFilter {
    pub kind: Option<DocumentKind>,
    pub status: Option<DocumentStatus>,
    /// Issued on or after.
    pub from: Option<NaiveDate>,
    /// Issued on or before.
    pub to: Option<NaiveDate>,
    /// Part of the document number or PO number, matched literally.
    pub q: Option<String>,
}

/// One row of the Documents page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRow {
    pub id: i64,
    pub kind: DocumentKind,
    pub number: String,
    pub po_number: Option<String>,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub currency: String,
    pub total_minor: i64,
    pub open_minor: i64,
    pub status: DocumentStatus,
}

/// One page of documents, newest first, with the total across all pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentList {
    pub rows: Vec<DocumentRow>,
    /// Zero-based page number.
    pub page: u64,
    pub pages: u64,
    pub total: u64,
}
