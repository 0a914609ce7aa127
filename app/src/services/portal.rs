//! The customer's view of their account. Every query is scoped by the caller's account.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, prelude::*};

use crate::entities::{account, dispute, document, payment, payment_application};
use crate::error::AppError;
use crate::model::enums::{DisputeStatus, DocumentKind, DocumentStatus, PaymentStatus};
use crate::model::portal::{Aging, DisputeSummary, OpenInvoice, Overview, PaymentSummary};

/// How many payments the overview lists.
pub const RECENT_PAYMENTS: u64 = 5;
/// How many open disputes the overview lists, newest first; its count and total cover all.
pub const RECENT_DISPUTES: u64 = 10;

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
    let recent = payment::Entity::find()
        .filter(payment::COLUMN.account_id.eq(account_id))
        .filter(
            payment::COLUMN
                .status
                .is_in([PaymentStatus::Succeeded, PaymentStatus::Pending]),
        )
        .order_by_desc(payment::COLUMN.received_at)
        .order_by_desc(payment::COLUMN.id)
        .limit(RECENT_PAYMENTS)
        .all(db)
        .await?;
    let applied = payment_application::Entity::find()
        .filter(
            payment_application::COLUMN
                .payment_id
                .is_in(recent.iter().map(|p| p.id)),
        )
        .all(db)
        .await?;
    // The newest open disputes, with the count and total of all of them from the same
    // statement: a thousand open disputes are summed in the database, not sent and rendered
    // (the window still reads every open dispute of the account; see README, Load).
    let disputes: Vec<(i64, i64, DisputeStatus, DateTimeUtc, i64, i64)> = dispute::Entity::find()
        .select_only()
        .column(dispute::Column::DocumentId)
        .column(dispute::Column::DisputedMinor)
        .column(dispute::Column::Status)
        .column(dispute::Column::CreatedAt)
        .column_as(Expr::cust("COUNT(*) OVER ()"), "open_count")
        .column_as(
            Expr::cust("CAST(SUM(disputed_minor) OVER () AS BIGINT)"),
            "open_total",
        )
        .filter(dispute::COLUMN.account_id.eq(account_id))
        .filter(dispute::COLUMN.status.eq(DisputeStatus::Open))
        .order_by_desc(dispute::COLUMN.created_at)
        .order_by_desc(dispute::COLUMN.id)
        .limit(RECENT_DISPUTES)
        .into_tuple()
        .all(db)
        .await?;
    let (open_disputes_count, open_disputes_minor) = disputes
        .first()
        .map_or((0, 0), |&(_, _, _, _, count, total)| (count, total));
    // One query names every invoice the payments and disputes refer to.
    let numbers: HashMap<i64, String> = document::Entity::find()
        .filter(
            document::COLUMN.id.is_in(
                applied
                    .iter()
                    .map(|a| a.document_id)
                    .chain(disputes.iter().map(|d| d.0)),
            ),
        )
        .filter(document::COLUMN.account_id.eq(account_id))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.number))
        .collect();
    let recent_payments = recent
        .iter()
        .map(|p| PaymentSummary {
            received_on: p.received_at.date_naive(),
            amount_minor: p.amount_minor,
            method: p.method,
            status: p.status,
            invoices: applied
                .iter()
                .filter(|a| a.payment_id == p.id)
                .filter_map(|a| numbers.get(&a.document_id).cloned())
                .collect(),
        })
        .collect();
    let open_disputes = disputes
        .into_iter()
        .map(
            |(document_id, disputed_minor, status, created_at, _, _)| DisputeSummary {
                invoice: numbers.get(&document_id).cloned().unwrap_or_default(),
                disputed_minor,
                status,
                opened_on: created_at.date_naive(),
            },
        )
        .collect();
    Ok(Overview {
        account_name: account.display_name,
        account_number: account.account_number,
        currency: account.currency,
        as_of: today,
        balance_minor: aging.total() - credits,
        credits_minor: credits,
        aging,
        open_invoices,
        recent_payments,
        open_disputes,
        open_disputes_count,
        open_disputes_minor,
        pay_attempt: crate::services::tokens::new_token(),
    })
}
