//! The customer's documents: the filtered, paginated list, the file behind each one
//! (stored, or rendered by Settle) and the statement on demand. Every query is scoped by
//! the caller's account.

use chrono::{Duration, NaiveDate};
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, LikeExpr};
use sea_orm::{
    Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, prelude::*,
};

use crate::entities::{account, document, document_line, payment, stored_file, supplier};
use crate::error::AppError;
use crate::model::documents::{
    DocumentFilter, DocumentList, DocumentRow, KINDS, PAGE_SIZE, STATUSES, kind_label, status_label,
};
use crate::model::enums::{DocumentKind, DocumentStatus, PaymentStatus};
use crate::services::pdf;

/// How many days a statement covers when the customer does not say.
pub const DEFAULT_STATEMENT_DAYS: i64 = 90;

/// Turns the page's query parameters into a filter; empty values mean "any".
///
/// # Errors
/// `Validation` naming the parameter that is not a known kind, status or `YYYY-MM-DD` date.
pub fn parse_filter(
    kind: Option<&str>,
    status: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    q: Option<&str>,
) -> Result<DocumentFilter, AppError> {
    let kind = non_empty(kind)
        .map(|k| {
            KINDS
                .iter()
                .map(|(kind, _)| *kind)
                .find(|kind| kind.as_str() == k)
                .ok_or_else(|| AppError::validation("kind", "is not a kind of document"))
        })
        .transpose()?;
    let status = non_empty(status)
        .map(|s| {
            STATUSES
                .iter()
                .map(|(status, _)| *status)
                .find(|status| status.as_str() == s)
                .ok_or_else(|| AppError::validation("status", "is not a document status"))
        })
        .transpose()?;
    Ok(DocumentFilter {
        kind,
        status,
        from: non_empty(from).map(|d| parse_date("from", d)).transpose()?,
        to: non_empty(to).map(|d| parse_date("to", d)).transpose()?,
        q: non_empty(q).map(str::to_owned),
    })
}

/// The statement period from the query, defaulting to the last 90 days up to `today`.
///
/// # Errors
/// `Validation` when a date is not `YYYY-MM-DD` or `from` is after `to`.
pub fn parse_period(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), AppError> {
    let to = non_empty(to)
        .map(|d| parse_date("to", d))
        .transpose()?
        .unwrap_or(today);
    let from = non_empty(from)
        .map(|d| parse_date("from", d))
        .transpose()?
        .unwrap_or(to - Duration::days(DEFAULT_STATEMENT_DAYS));
    if from > to {
        return Err(AppError::validation(
            "from",
            "must not be after the end date",
        ));
    }
    Ok((from, to))
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn parse_date(field: &str, value: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| AppError::validation(field, "expected a date like 2026-11-23"))
}

/// A LIKE pattern (escape character `\`) that matches `text` literally anywhere.
pub fn contains_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// One page (zero-based) of the account's documents matching `filter`, newest first.
/// A page past the end gives the last page.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn list(
    db: &impl ConnectionTrait,
    account_id: i64,
    filter: &DocumentFilter,
    page: u64,
) -> Result<DocumentList, AppError> {
    let mut query = document::Entity::find().filter(document::COLUMN.account_id.eq(account_id));
    if let Some(kind) = filter.kind {
        query = query.filter(document::COLUMN.kind.eq(kind));
    }
    if let Some(status) = filter.status {
        query = query.filter(document::COLUMN.status.eq(status));
    }
    if let Some(from) = filter.from {
        query = query.filter(document::COLUMN.issue_date.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(document::COLUMN.issue_date.lte(to));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = contains_pattern(&q.to_lowercase());
        let matches = |column: document::Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        query = query.filter(
            Condition::any()
                .add(matches(document::Column::Number))
                .add(matches(document::Column::PoNumber)),
        );
    }
    let paginator = query
        .order_by_desc(document::COLUMN.issue_date)
        .order_by_desc(document::COLUMN.id)
        .paginate(db, PAGE_SIZE);
    let counts = paginator.num_items_and_pages().await?;
    let page = Ord::min(page, counts.number_of_pages.saturating_sub(1));
    let rows = paginator
        .fetch_page(page)
        .await?
        .into_iter()
        .map(|d| DocumentRow {
            id: d.id,
            kind: d.kind,
            number: d.number,
            po_number: d.po_number,
            issue_date: d.issue_date,
            due_date: d.due_date,
            currency: d.currency,
            total_minor: d.total_minor,
            open_minor: d.open_minor,
            status: d.status,
        })
        .collect();
    Ok(DocumentList {
        rows,
        page,
        pages: counts.number_of_pages,
        total: counts.number_of_items,
    })
}

/// What the download of a document sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    /// A file kept under the data directory, sent as stored.
    Stored {
        file_name: String,
        content_type: String,
        /// Relative to the data directory.
        storage_path: String,
    },
    /// A PDF Settle rendered.
    Rendered { file_name: String, bytes: Vec<u8> },
}

/// The file behind document `document_id` of `account_id`: the stored file when there
/// is one, otherwise a PDF rendered from the document's data. `public_url` goes into the
/// "Pay online" line of an open invoice.
///
/// # Errors
/// `NotFound` when the document does not exist or belongs to another account; database
/// errors as `Internal`.
pub async fn download(
    db: &impl ConnectionTrait,
    account_id: i64,
    document_id: i64,
    public_url: &str,
) -> Result<Download, AppError> {
    let doc = document::Entity::find_by_id(document_id)
        .filter(document::COLUMN.account_id.eq(account_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(file_id) = doc.file_id
        && let Some(file) = stored_file::Entity::find_by_id(file_id).one(db).await?
    {
        let file_name = if file.content_type == "application/pdf" {
            format!("{}.pdf", safe_file_name(&doc.number))
        } else {
            safe_file_name(&file.file_name)
        };
        return Ok(Download::Stored {
            file_name,
            content_type: file.content_type,
            storage_path: file.storage_path,
        });
    }
    let account = account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let (supplier_name, remit_to) = supplier_lines(db).await?;
    let lines = document_line::Entity::find()
        .filter(document_line::COLUMN.document_id.eq(doc.id))
        .order_by_asc(document_line::COLUMN.line_no)
        .all(db)
        .await?
        .into_iter()
        .map(|l| pdf::PdfLine {
            description: l.description,
            quantity_milli: l.quantity_milli,
            unit_price_minor: l.unit_price_minor,
            amount_minor: l.amount_minor,
        })
        .collect();
    let payable = doc.kind == DocumentKind::Invoice
        && matches!(
            doc.status,
            DocumentStatus::Open | DocumentStatus::PaymentPending
        )
        && doc.open_minor > 0;
    let bytes = pdf::document(&pdf::DocumentPdf {
        supplier_name,
        remit_to,
        title: kind_label(doc.kind).to_owned(),
        number: doc.number.clone(),
        account_name: account.display_name,
        account_number: account.account_number,
        po_number: doc.po_number,
        issue_date: doc.issue_date,
        due_date: doc.due_date,
        currency: doc.currency,
        lines,
        tax_minor: doc.tax_minor,
        total_minor: doc.total_minor,
        open_minor: doc.open_minor,
        status: status_label(doc.status).to_owned(),
        pay_url: payable.then(|| format!("{}/portal", public_url.trim_end_matches('/'))),
    });
    Ok(Download::Rendered {
        file_name: format!("{}.pdf", safe_file_name(&doc.number)),
        bytes,
    })
}

/// A statement of `account_id` from `from` to `to` (both inclusive): invoices, credit
/// memos and payments with the running balance. Returns the file name and the PDF.
///
/// # Errors
/// `NotFound` when the account does not exist; database errors as `Internal`.
pub async fn statement(
    db: &impl ConnectionTrait,
    account_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(String, Vec<u8>), AppError> {
    let account = account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let (supplier_name, remit_to) = supplier_lines(db).await?;
    let end = to + Duration::days(1);

    // (date, order within a day, description, signed amount)
    let mut opening = 0_i64;
    let mut rows: Vec<(NaiveDate, u8, String, i64)> = Vec::new();
    let docs = document::Entity::find()
        .filter(document::COLUMN.account_id.eq(account_id))
        .filter(
            document::COLUMN
                .kind
                .is_in([DocumentKind::Invoice, DocumentKind::CreditMemo]),
        )
        .filter(document::COLUMN.status.ne(DocumentStatus::Void))
        .filter(document::COLUMN.issue_date.lt(end))
        .all(db)
        .await?;
    for doc in docs {
        let (order, amount) = if doc.kind == DocumentKind::Invoice {
            (0, doc.total_minor)
        } else {
            (1, -doc.total_minor)
        };
        if doc.issue_date < from {
            opening += amount;
        } else {
            let label = format!("{} {}", kind_label(doc.kind), doc.number);
            rows.push((doc.issue_date, order, label, amount));
        }
    }
    let start_of = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let payments = payment::Entity::find()
        .filter(payment::COLUMN.account_id.eq(account_id))
        .filter(payment::COLUMN.status.eq(PaymentStatus::Succeeded))
        .filter(payment::COLUMN.received_at.lt(start_of(end)))
        .all(db)
        .await?;
    for p in payments {
        let date = p.received_at.date_naive();
        if date < from {
            opening -= p.amount_minor;
        } else {
            let label = match &p.provider_ref {
                Some(r) => format!("Payment ({}) {r}", p.method),
                None => format!("Payment ({})", p.method),
            };
            rows.push((date, 2, label, -p.amount_minor));
        }
    }
    rows.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
    let mut balance = opening;
    let entries = rows
        .into_iter()
        .map(|(date, _, description, amount_minor)| {
            balance += amount_minor;
            pdf::StatementEntry {
                date,
                description,
                amount_minor,
                balance_minor: balance,
            }
        })
        .collect();
    let bytes = pdf::statement(&pdf::StatementPdf {
        supplier_name,
        remit_to,
        account_name: account.display_name,
        account_number: account.account_number.clone(),
        currency: account.currency,
        from,
        to,
        opening_balance_minor: opening,
        entries,
        closing_balance_minor: balance,
    });
    let file_name = format!(
        "statement-{}-{from}-{to}.pdf",
        safe_file_name(&account.account_number)
    );
    Ok((file_name, bytes))
}

/// The supplier's name and remit-to address (the first supplier row).
async fn supplier_lines(db: &impl ConnectionTrait) -> Result<(String, String), AppError> {
    Ok(supplier::Entity::find()
        .order_by_asc(supplier::COLUMN.id)
        .one(db)
        .await?
        .map(|s| (s.display_name, s.remit_to))
        .unwrap_or_default())
}

/// A file name safe inside a quoted `Content-Disposition` parameter.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.trim_matches('.').is_empty() {
        "document".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(contains_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(safe_file_name("INV-1001"), "INV-1001");
        assert_eq!(safe_file_name("a\"b/c"), "a_b_c");
        assert_eq!(safe_file_name(".."), "document");
    }

    #[test]
    fn statement_period_defaults_and_validates() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
        let (from, to) = parse_period(None, None, today).expect("default");
        assert_eq!((to - from).num_days(), 90);
        assert!(parse_period(Some("2026-13-01"), None, today).is_err());
        assert!(parse_period(Some("2026-11-02"), Some("2026-11-01"), today).is_err());
    }
}
