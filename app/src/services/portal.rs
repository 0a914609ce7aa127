//! The customer's view of their account. Every query is scoped by the caller's account.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, prelude::*};

use crate::entities::{account, document, payment};
use crate::error::AppError;
use crate::model::enums::{DocumentKind, DocumentStatus, PaymentStatus};
use crate::model::portal::{Aging, OpenInvoice, Overview};

/// Balance, aging and open invoices of `account_id` as of `today`.
///
/// # Errors
/// `NotFound` if the account does not exist; database errors as `Internal`.
pub async fn overview(
    db: &impl ConnectionTrait,
    account_id: i64,
    today: NaiveDate,
) -> Result<Overview, AppError> {
    let account = account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let open = document::Entity::find()
        .filter(document::COLUMN.account_id.eq(account_id))
        .filter(
            document::COLUMN
                .kind
                .is_in([DocumentKind::Invoice, DocumentKind::CreditMemo]),
        )
        .filter(
            document::COLUMN
                .status
                .is_in([DocumentStatus::Open, DocumentStatus::PaymentPending]),
        )
        .filter(document::COLUMN.open_minor.ne(0))
        .order_by_asc(document::COLUMN.due_date)
        .order_by_asc(document::COLUMN.id)
        .all(db)
        .await?;
    let unapplied: i64 = payment::Entity::find()
        .filter(payment::COLUMN.account_id.eq(account_id))
        .filter(payment::COLUMN.status.eq(PaymentStatus::Succeeded))
        .filter(payment::COLUMN.unapplied_minor.gt(0))
        .all(db)
        .await?
        .iter()
        .map(|p| p.unapplied_minor)
        .sum();

    let mut aging = Aging::default();
    let mut credits = unapplied;
    let mut open_invoices = Vec::new();
    for doc in open {
        if doc.kind == DocumentKind::CreditMemo {
            credits += doc.open_minor;
            continue;
        }
        let days_past_due = doc.due_date.map_or(0, |due| (today - due).num_days());
        aging.add(days_past_due, doc.open_minor);
        open_invoices.push(OpenInvoice {
            id: doc.id,
            number: doc.number,
            po_number: doc.po_number,
            issue_date: doc.issue_date,
            due_date: doc.due_date,
            total_minor: doc.total_minor,
            open_minor: doc.open_minor,
            days_past_due,
            status: doc.status,
        });
    }
    Ok(Overview {
        account_name: account.display_name,
        account_number: account.account_number,
        currency: account.currency,
        as_of: today,
        balance_minor: aging.total() - credits,
        credits_minor: credits,
        aging,
        open_invoices,
    })
}
