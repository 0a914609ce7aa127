//! Recording payments from provider events. Each event is handled in one transaction that
//! first inserts its (provider, event id) into `webhook_events`; a redelivery finds the row
//! there and changes nothing, however many arrive at once. The checkout's state decides what
//! a late or out-of-order event may still do: only a `created` or `pending` checkout can be
//! paid, only a `created` one can become pending or expire.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, TransactionSession, TransactionTrait, TryInsertResult, prelude::*,
};
use serde_json::json;

use super::Provider;
use super::event::{EventKind, ProviderEvent, parse};
use super::signature::{self, SignatureError};
use crate::entities::{
    document, payment, payment_application, payment_link, payment_link_document, webhook_event,
};
use crate::error::AppError;
use crate::model::enums::{
    ActorKind, Channel, DocumentStatus, PaymentChannel, PaymentLinkStatus, PaymentProvider,
    PaymentStatus,
};
use crate::model::portal::format_money;
use crate::services::audit::{self, Change};
use crate::services::mail;

/// Key of the receipt email.
pub const RECEIPT_TEMPLATE: &str = "payment_receipt";

/// What handling an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Money confirmed and applied; the receipt is queued.
    Paid,
    /// A bank debit is on its way; the invoices show "payment pending".
    Pending,
    /// A bank debit was returned; the invoices are open again.
    Failed,
    Expired,
    /// Seen before: nothing changed.
    Duplicate,
    /// Valid, but nothing to do (unknown checkout, other event type, or too late).
    Ignored,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Paid => "paid",
            Outcome::Pending => "pending",
            Outcome::Failed => "failed",
            Outcome::Expired => "expired",
            Outcome::Duplicate => "duplicate",
            Outcome::Ignored => "ignored",
        }
    }
}

/// Why a delivery was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Answer 400: the provider must not retry a forgery.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// Answer 400.
    #[error("{0}")]
    Body(String),
    /// Answer 500: the provider retries later.
    #[error("{0}")]
    Internal(AppError),
}

/// Verifies a delivery's signature with the provider's secret, then handles it.
///
/// # Errors
/// See [`WebhookError`].
pub async fn receive(
    db: &(impl ConnectionTrait + TransactionTrait),
    provider: &dyn Provider,
    public_url: &str,
    signature_header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Outcome, WebhookError> {
    signature::verify(provider.webhook_secret(), signature_header, body, now)?;
    let event = parse(body).map_err(|e| WebhookError::Body(e.to_string()))?;
    handle(db, provider.kind(), public_url, &event, now)
        .await
        .map_err(WebhookError::Internal)
}

/// Applies one verified event, exactly once.
///
/// # Errors
/// Database errors as `Internal` (nothing is written then; the provider will retry).
pub async fn handle(
    db: &(impl ConnectionTrait + TransactionTrait),
    provider: PaymentProvider,
    public_url: &str,
    event: &ProviderEvent,
    now: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    let txn = crate::db::begin_write(db).await?;
    let seen = webhook_event::Entity::insert(webhook_event::ActiveModel {
        provider: Set(provider),
        event_id: Set(event.id.clone()),
        event_type: Set(event.type_name.clone()),
        outcome: Set("received".to_owned()),
        received_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([
        webhook_event::Column::Provider,
        webhook_event::Column::EventId,
    ])
    .exec(&txn)
    .await?;
    let TryInsertResult::Inserted(inserted) = seen else {
        return Ok(Outcome::Duplicate);
    };
    let outcome = apply(&txn, provider, public_url, event, now).await?;
    webhook_event::Entity::update_many()
        .col_expr(
            webhook_event::Column::Outcome,
            Expr::value(outcome.as_str()),
        )
        .filter(webhook_event::COLUMN.id.eq(inserted.last_insert_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(outcome)
}

/// Rows read to be changed are locked on PostgreSQL; SQLite has one writer at a time.
fn for_update<E: EntityTrait>(select: Select<E>, db: &impl ConnectionTrait) -> Select<E> {
    if db.get_database_backend() == DbBackend::Postgres {
        select.lock_exclusive()
    } else {
        select
    }
}

async fn apply(
    txn: &impl ConnectionTrait,
    provider: PaymentProvider,
    public_url: &str,
    event: &ProviderEvent,
    now: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    let Some(session_id) = event.session_id.as_deref() else {
        return Ok(Outcome::Ignored);
    };
    let Some(link) = for_update(
        payment_link::Entity::find()
            .filter(payment_link::COLUMN.provider.eq(provider))
            .filter(payment_link::COLUMN.provider_session_id.eq(session_id)),
        txn,
    )
    .one(txn)
    .await?
    else {
        tracing::warn!(event = %event.id, session_id, "webhook for an unknown checkout");
        return Ok(Outcome::Ignored);
    };
    if let Some(currency) = &event.currency
        && !currency.eq_ignore_ascii_case(&link.currency)
    {
        tracing::error!(event = %event.id, "webhook currency differs from the checkout's");
        return Ok(Outcome::Ignored);
    }
    let open = matches!(
        link.status,
        PaymentLinkStatus::Created | PaymentLinkStatus::Pending
    );
    match event.kind {
        EventKind::Completed { paid: true } | EventKind::AsyncSucceeded if open => {
            settle(txn, &link, event, public_url, now).await
        }
        EventKind::Completed { paid: false } if link.status == PaymentLinkStatus::Created => {
            mark_pending(txn, &link, event, now).await
        }
        EventKind::AsyncFailed if open => mark_failed(txn, &link, now).await,
        EventKind::Expired if link.status == PaymentLinkStatus::Created => {
            set_link_status(txn, link.id, PaymentLinkStatus::Expired, now).await?;
            Ok(Outcome::Expired)
        }
        _ => Ok(Outcome::Ignored),
    }
}

async fn set_link_status(
    txn: &impl ConnectionTrait,
    link_id: i64,
    status: PaymentLinkStatus,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    payment_link::Entity::update_many()
        .col_expr(payment_link::Column::Status, Expr::value(status))
        .col_expr(payment_link::Column::UpdatedAt, Expr::value(now))
        .filter(payment_link::COLUMN.id.eq(link_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// The checkout's documents, locked, with the amount the checkout puts on each, in the
/// order they were chosen.
async fn parts(
    txn: &impl ConnectionTrait,
    link_id: i64,
) -> Result<Vec<(payment_link_document::Model, document::Model)>, AppError> {
    let parts = payment_link_document::Entity::find()
        .filter(payment_link_document::COLUMN.payment_link_id.eq(link_id))
        .order_by_asc(payment_link_document::COLUMN.id)
        .all(txn)
        .await?;
    let mut docs: BTreeMap<i64, document::Model> = for_update(
        document::Entity::find()
            .filter(
                document::COLUMN
                    .id
                    .is_in(parts.iter().map(|p| p.document_id)),
            )
            .order_by_asc(document::COLUMN.id),
        txn,
    )
    .all(txn)
    .await?
    .into_iter()
    .map(|d| (d.id, d))
    .collect();
    Ok(parts
        .into_iter()
        .filter_map(|p| docs.remove(&p.document_id).map(|d| (p, d)))
        .collect())
}

async fn set_document(
    txn: &impl ConnectionTrait,
    id: i64,
    open_minor: i64,
    status: DocumentStatus,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    document::Entity::update_many()
        .col_expr(document::Column::OpenMinor, Expr::value(open_minor))
        .col_expr(document::Column::Status, Expr::value(status))
        .col_expr(document::Column::UpdatedAt, Expr::value(now))
        .filter(document::COLUMN.id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

fn method_of(link: &payment_link::Model) -> PaymentChannel {
    link.method.unwrap_or(PaymentChannel::Card)
}

async fn pending_payment(
    txn: &impl ConnectionTrait,
    link: &payment_link::Model,
) -> Result<Option<payment::Model>, AppError> {
    let Some(session) = &link.provider_session_id else {
        return Ok(None);
    };
    Ok(payment::Entity::find()
        .filter(payment::COLUMN.provider_ref.eq(session.as_str()))
        .filter(payment::COLUMN.account_id.eq(link.account_id))
        .filter(payment::COLUMN.status.eq(PaymentStatus::Pending))
        .one(txn)
        .await?)
}

/// Money confirmed: record (or confirm) the payment, apply it to the checkout's invoices —
/// never more than an invoice's open balance now; the rest stays on the account as an
/// unapplied credit — and queue the receipt.
async fn settle(
    txn: &impl ConnectionTrait,
    link: &payment_link::Model,
    event: &ProviderEvent,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    let paid = event.amount_total.unwrap_or(link.amount_minor).max(0);
    let payment = match pending_payment(txn, link).await? {
        Some(pending) => {
            payment::Entity::update_many()
                .col_expr(
                    payment::Column::Status,
                    Expr::value(PaymentStatus::Succeeded),
                )
                .col_expr(payment::Column::AmountMinor, Expr::value(paid))
                .col_expr(payment::Column::ReceivedAt, Expr::value(now))
                .filter(payment::COLUMN.id.eq(pending.id))
                .exec(txn)
                .await?;
            pending
        }
        None => {
            payment::ActiveModel {
                account_id: Set(link.account_id),
                external_id: Set(None),
                provider: Set(link.provider),
                provider_event_id: Set(Some(event.id.clone())),
                provider_ref: Set(link.provider_session_id.clone()),
                method: Set(method_of(link)),
                amount_minor: Set(paid),
                unapplied_minor: Set(0),
                currency: Set(link.currency.clone()),
                status: Set(PaymentStatus::Succeeded),
                received_at: Set(now),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?
        }
    };

    let mut remaining = paid;
    let mut lines = Vec::new();
    for (part, doc) in parts(txn, link.id).await? {
        let payable = matches!(
            doc.status,
            DocumentStatus::Open | DocumentStatus::PaymentPending
        );
        let applied = if payable {
            part.amount_minor.min(doc.open_minor).min(remaining).max(0)
        } else {
            0
        };
        let open_after = doc.open_minor - applied;
        if applied > 0 {
            payment_application::ActiveModel {
                payment_id: Set(payment.id),
                document_id: Set(doc.id),
                amount_minor: Set(applied),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            remaining -= applied;
        }
        if payable {
            let status = if open_after == 0 {
                DocumentStatus::Paid
            } else {
                DocumentStatus::Open
            };
            set_document(txn, doc.id, open_after, status, now).await?;
        }
        lines.push(json!({
            "number": doc.number,
            "amount": format_money(applied, &link.currency),
            "open": format_money(open_after, &link.currency),
        }));
    }
    payment::Entity::update_many()
        .col_expr(payment::Column::UnappliedMinor, Expr::value(remaining))
        .filter(payment::COLUMN.id.eq(payment.id))
        .exec(txn)
        .await?;
    set_link_status(txn, link.id, PaymentLinkStatus::Completed, now).await?;
    crate::services::webhooks::payment_received(txn, payment.id, now).await?;
    audit::append(
        txn,
        Change {
            actor_kind: ActorKind::System,
            actor_id: None,
            channel: Channel::System,
            account_id: Some(link.account_id),
            entity: "payment",
            entity_id: Some(payment.id),
            field: Some("status"),
            old_value: None,
            new_value: Some(format!(
                "succeeded {} via {} (event {})",
                format_money(paid, &link.currency),
                link.provider,
                event.id
            )),
        },
        now,
    )
    .await?;
    if let Some(contact_id) = link.contact_id {
        let ctx = json!({
            "amount": format_money(paid, &link.currency),
            "method": method_label(method_of(link)),
            "reference": format!("EP-{}", link.id),
            "lines": lines,
            "credit": (remaining > 0).then(|| format_money(remaining, &link.currency)),
            "portal_link": format!("{public_url}/portal/sign-in"),
        });
        match mail::send_to_contact(txn, public_url, contact_id, RECEIPT_TEMPLATE, ctx, now).await {
            // A contact without an address still paid; the receipt is on the portal.
            Ok(_) | Err(AppError::Validation { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(Outcome::Paid)
}

fn method_label(method: PaymentChannel) -> &'static str {
    match method {
        PaymentChannel::Card => "card",
        PaymentChannel::Ach => "bank debit",
        PaymentChannel::Wallet => "wallet",
        PaymentChannel::Check => "check",
        PaymentChannel::Wire => "wire",
    }
}

/// A bank debit was started: the invoices wait as "payment pending"; no receipt yet.
async fn mark_pending(
    txn: &impl ConnectionTrait,
    link: &payment_link::Model,
    event: &ProviderEvent,
    now: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    payment::ActiveModel {
        account_id: Set(link.account_id),
        external_id: Set(None),
        provider: Set(link.provider),
        provider_event_id: Set(Some(event.id.clone())),
        provider_ref: Set(link.provider_session_id.clone()),
        method: Set(method_of(link)),
        amount_minor: Set(event.amount_total.unwrap_or(link.amount_minor).max(0)),
        unapplied_minor: Set(0),
        currency: Set(link.currency.clone()),
        status: Set(PaymentStatus::Pending),
        received_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    for (_, doc) in parts(txn, link.id).await? {
        if doc.status == DocumentStatus::Open {
            set_document(
                txn,
                doc.id,
                doc.open_minor,
                DocumentStatus::PaymentPending,
                now,
            )
            .await?;
        }
    }
    set_link_status(txn, link.id, PaymentLinkStatus::Pending, now).await?;
    Ok(Outcome::Pending)
}

/// A bank debit came back: nothing was paid; the invoices are open again.
async fn mark_failed(
    txn: &impl ConnectionTrait,
    link: &payment_link::Model,
    now: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    if let Some(pending) = pending_payment(txn, link).await? {
        payment::Entity::update_many()
            .col_expr(payment::Column::Status, Expr::value(PaymentStatus::Failed))
            .filter(payment::COLUMN.id.eq(pending.id))
            .exec(txn)
            .await?;
    }
    for (_, doc) in parts(txn, link.id).await? {
        if doc.status == DocumentStatus::PaymentPending {
            set_document(txn, doc.id, doc.open_minor, DocumentStatus::Open, now).await?;
        }
    }
    set_link_status(txn, link.id, PaymentLinkStatus::Failed, now).await?;
    Ok(Outcome::Failed)
}
