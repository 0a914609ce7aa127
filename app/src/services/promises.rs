//! Promise to Pay: a customer promises an amount by a date for some open invoices; we
//! confirm it, remind them shortly before the date, and afterwards decide from the payments
//! applied whether it was kept.
//!
//! A reminder is recorded as an audit event (`entity = "promise"`, `field =
//! "reminder_sent"`) in the transaction that queues its email; that event is what keeps a
//! promise from being reminded twice. No new column is needed.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait, prelude::*,
};
use serde_json::json;

use crate::entities::{
    account, audit_event, contact, document, payment_application, promise, promise_document,
};
use crate::error::AppError;
use crate::model::enums::{
    ActorKind, Channel, DocumentKind, DocumentStatus, PromiseStatus, TaskKind,
};
use crate::model::portal::format_money;
use crate::model::promises::{
    PROMISE_REMINDER_DAYS, PromiseView, check_amount, check_date, check_note,
};
use crate::services::audit::{self, Change};
use crate::services::mail;
use crate::services::tasks;

/// Key of the confirmation email (ctx: `amount`, `date`, `invoices`, `note`).
pub const CONFIRMATION_TEMPLATE: &str = "promise_confirmation";
/// Key of the reminder email (ctx: `amount`, `date`, `invoices`).
pub const REMINDER_TEMPLATE: &str = "promise_reminder";
/// `audit_events.field` of the event that records a sent reminder.
pub const REMINDER_AUDIT_FIELD: &str = "reminder_sent";
/// The most invoices one promise may cover.
pub const MAX_INVOICES: usize = 200;

/// Records a promise by contact `contact_id` of account `account_id` to pay `amount_minor`
/// by `date` for the open invoices `document_ids`. The amount is checked against the
/// invoices' stored open amounts. An open promise that already covers one of these invoices
/// is marked `replaced`. Writes the promise, its documents, an audit event, a staff task and
/// the confirmation email in one transaction.
///
/// # Errors
/// `Validation` naming the field (`document_ids`, `amount`, `date`, `note`) for bad input,
/// including invoices that are not the account's or not open; `Forbidden` when the contact
/// is not the account's; database errors as `Internal`.
#[allow(clippy::too_many_arguments)]
pub async fn record_promise(
    db: &(impl ConnectionTrait + TransactionTrait),
    public_url: &str,
    contact_id: i64,
    account_id: i64,
    document_ids: &[i64],
    amount_minor: i64,
    date: NaiveDate,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<PromiseView, AppError> {
    let (ids, note) = check_request(document_ids, date, note, now)?;
    let txn = crate::db::begin_write(db).await?;
    let who = contact::Entity::find_by_id(contact_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if who.account_id != account_id {
        return Err(AppError::Forbidden);
    }
    let (company, view) = write_promise(
        &txn,
        Promisor::Contact(contact_id),
        account_id,
        &ids,
        amount_minor,
        date,
        note,
        now,
    )
    .await?;
    let amount = format_money(amount_minor, &company.currency);
    tasks::open(
        &txn,
        tasks::NewTask {
            account_id: Some(account_id),
            kind: TaskKind::Review,
            title: format!(
                "{} promised to pay {amount} by {date} for {} ({})",
                who.name,
                company.display_name,
                view.invoices.join(", ")
            ),
            related: Some(("promise", view.id)),
            due_date: date,
            priority: 3,
            assignee_id: company.collector_id,
        },
        now,
    )
    .await?;
    mail::send_to_contact(
        &txn,
        public_url,
        contact_id,
        CONFIRMATION_TEMPLATE,
        json!({
            "amount": amount,
            "date": date.format("%B %-d, %Y").to_string(),
            "invoices": &view.invoices,
            "note": &view.note,
        }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// The open promises of `account_id`, soonest date first.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn list_open(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Vec<PromiseView>, AppError> {
    let promises = promise::Entity::find()
        .filter(promise::COLUMN.account_id.eq(account_id))
        .filter(promise::COLUMN.status.eq(PromiseStatus::Open))
        .order_by_asc(promise::COLUMN.promised_date)
        .order_by_asc(promise::COLUMN.id)
        .all(db)
        .await?;
    let mut numbers = invoice_numbers(db, promises.iter().map(|p| p.id)).await?;
    Ok(promises
        .into_iter()
        .map(|p| PromiseView {
            invoices: numbers.remove(&p.id).unwrap_or_default(),
            id: p.id,
            amount_minor: p.amount_minor,
            currency: p.currency,
            promised_date: p.promised_date,
            status: p.status,
            note: p.note,
        })
        .collect())
}

/// Invoice numbers by promise id, in one statement.
async fn invoice_numbers(
    db: &impl ConnectionTrait,
    promise_ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, Vec<String>>, AppError> {
    #[derive(sea_orm::FromQueryResult)]
    struct Covered {
        promise_id: i64,
        number: String,
    }
    let rows = promise_document::Entity::find()
        .select_only()
        .column(promise_document::Column::PromiseId)
        .column_as(document::Column::Number, "number")
        .join(
            sea_orm::JoinType::InnerJoin,
            promise_document::Entity::belongs_to(document::Entity)
                .from(promise_document::Column::DocumentId)
                .to(document::Column::Id)
                .into(),
        )
        .filter(promise_document::COLUMN.promise_id.is_in(promise_ids))
        .order_by_asc(document::Column::Number)
        .into_model::<Covered>()
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for row in rows {
        out.entry(row.promise_id).or_default().push(row.number);
    }
    Ok(out)
}

/// What one [`follow_up`] run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FollowUpReport {
    pub reminded: usize,
    pub kept: usize,
    pub partially_kept: usize,
    pub broken: usize,
}

/// Follows up open promises as of `now`:
///
/// - [`PROMISE_REMINDER_DAYS`] days before the date (and until the day before it), one
///   reminder email, unless the promise was made inside that window (its confirmation is
///   fresh) or is already paid in full;
/// - on the date, a promise already paid in full is `kept`; after the date, one paid in part
///   is `partially_kept` and one not paid at all `broken`, each with a staff task.
///
/// "Paid" counts payment applications to the covered invoices made since the promise was.
/// Each promise is handled in its own transaction; a decision is a conditional update, so
/// two runs at once decide a promise once.
///
/// # Errors
/// Database and template errors as `Internal`/`Validation`; promises handled before the
/// error stay handled.
pub async fn follow_up(
    db: &(impl ConnectionTrait + TransactionTrait),
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<FollowUpReport, AppError> {
    let today = now.date_naive();
    let due = promise::Entity::find()
        .filter(promise::COLUMN.status.eq(PromiseStatus::Open))
        .filter(
            promise::COLUMN
                .promised_date
                .lte(today + Duration::days(PROMISE_REMINDER_DAYS)),
        )
        .order_by_asc(promise::COLUMN.id)
        .all(db)
        .await?;
    let mut report = FollowUpReport::default();
    for p in due {
        let txn = crate::db::begin_write(db).await?;
        let paid = paid_since(&txn, &p).await?;
        if today < p.promised_date {
            let window_start = p.promised_date - Duration::days(PROMISE_REMINDER_DAYS);
            if paid < p.amount_minor
                && p.created_at.date_naive() < window_start
                && remind(&txn, public_url, &p, now).await?
            {
                report.reminded += 1;
            }
        } else if paid >= p.amount_minor || today > p.promised_date {
            let status = if paid >= p.amount_minor {
                PromiseStatus::Kept
            } else if paid > 0 {
                PromiseStatus::PartiallyKept
            } else {
                PromiseStatus::Broken
            };
            if decide(&txn, &p, status, paid, now).await? {
                match status {
                    PromiseStatus::Kept => report.kept += 1,
                    PromiseStatus::PartiallyKept => report.partially_kept += 1,
                    _ => report.broken += 1,
                }
            }
        }
        txn.commit().await?;
    }
    Ok(report)
}

/// What was applied to the promise's invoices since it was made.
async fn paid_since(db: &impl ConnectionTrait, p: &promise::Model) -> Result<i64, AppError> {
    let docs: Vec<i64> = promise_document::Entity::find()
        .filter(promise_document::COLUMN.promise_id.eq(p.id))
        .all(db)
        .await?
        .into_iter()
        .map(|pd| pd.document_id)
        .collect();
    Ok(payment_application::Entity::find()
        .filter(payment_application::COLUMN.document_id.is_in(docs))
        .filter(payment_application::COLUMN.created_at.gte(p.created_at))
        .all(db)
        .await?
        .iter()
        .map(|a| a.amount_minor)
        .sum())
}

/// Sends the reminder unless one was sent; true when it sent one.
async fn remind(
    db: &impl ConnectionTrait,
    public_url: &str,
    p: &promise::Model,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let sent = audit_event::Entity::find()
        .filter(audit_event::COLUMN.entity.eq("promise"))
        .filter(audit_event::COLUMN.entity_id.eq(p.id))
        .filter(audit_event::COLUMN.field.eq(REMINDER_AUDIT_FIELD))
        .count(db)
        .await?
        > 0;
    let Some(contact_id) = p.contact_id else {
        return Ok(false);
    };
    if sent {
        return Ok(false);
    }
    let numbers = invoice_numbers(db, [p.id])
        .await?
        .remove(&p.id)
        .unwrap_or_default();
    let message_id = mail::send_to_contact(
        db,
        public_url,
        contact_id,
        REMINDER_TEMPLATE,
        json!({
            "amount": format_money(p.amount_minor, &p.currency),
            "date": p.promised_date.format("%B %-d, %Y").to_string(),
            "invoices": numbers,
        }),
        now,
    )
    .await?;
    audit::append(
        db,
        Change {
            actor_kind: ActorKind::System,
            actor_id: None,
            channel: Channel::System,
            account_id: Some(p.account_id),
            entity: "promise",
            entity_id: Some(p.id),
            field: Some(REMINDER_AUDIT_FIELD),
            old_value: None,
            new_value: Some(message_id),
        },
        now,
    )
    .await?;
    Ok(true)
}

/// Resolves an open promise as `status`; true when this call resolved it.
async fn decide(
    db: &impl ConnectionTrait,
    p: &promise::Model,
    status: PromiseStatus,
    paid: i64,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let done = promise::Entity::update_many()
        .col_expr(promise::Column::Status, Expr::value(status))
        .col_expr(promise::Column::ResolvedAt, Expr::value(Some(now)))
        .filter(promise::COLUMN.id.eq(p.id))
        .filter(promise::COLUMN.status.eq(PromiseStatus::Open))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Ok(false);
    }
    audit::append(
        db,
        Change {
            actor_kind: ActorKind::System,
            actor_id: None,
            channel: Channel::System,
            account_id: Some(p.account_id),
            entity: "promise",
            entity_id: Some(p.id),
            field: Some("status"),
            old_value: Some(PromiseStatus::Open.to_string()),
            new_value: Some(status.to_string()),
        },
        now,
    )
    .await?;
    if status != PromiseStatus::Kept {
        crate::services::webhooks::promise_event(
            db,
            crate::model::enums::WebhookEventKind::PromiseBroken,
            p.id,
            now,
        )
        .await?;
        let company = account::Entity::find_by_id(p.account_id)
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?;
        let what = if status == PromiseStatus::Broken {
            "broken"
        } else {
            "partially kept"
        };
        tasks::open(
            db,
            tasks::NewTask {
                account_id: Some(p.account_id),
                kind: TaskKind::BrokenPromise,
                title: format!(
                    "Promise {what}: {} promised {} by {}, {} received",
                    company.display_name,
                    format_money(p.amount_minor, &p.currency),
                    p.promised_date,
                    format_money(paid, &p.currency)
                ),
                related: Some(("promise", p.id)),
                due_date: now.date_naive(),
                priority: 2,
                assignee_id: company.collector_id,
            },
            now,
        )
        .await?;
    }
    Ok(true)
}

/// Records a promise taken by staff user `staff_id` on behalf of account `account_id` (on
/// the phone, say), inside the caller's transaction: the same rules as
/// [`record_promise`] (open invoices of the account, amount within their open total,
/// date within the horizon, note length), and an older open promise on these invoices is
/// replaced the same way. The promise has no contact, so no confirmation email and no
/// review task; the audit events name the staff user and the staff UI.
///
/// # Errors
/// `Validation` naming the field (`document_ids`, `amount`, `date`, `note`);
/// `NotFound` for an unknown account; database errors as `Internal`.
#[allow(clippy::too_many_arguments)]
pub async fn record_promise_by_staff(
    db: &impl ConnectionTrait,
    staff_id: i64,
    account_id: i64,
    document_ids: &[i64],
    amount_minor: i64,
    date: NaiveDate,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<PromiseView, AppError> {
    let (ids, note) = check_request(document_ids, date, note, now)?;
    let (_, view) = write_promise(
        db,
        Promisor::Staff(staff_id),
        account_id,
        &ids,
        amount_minor,
        date,
        note,
        now,
    )
    .await?;
    Ok(view)
}

/// Who records a promise: a contact of the account in the portal, or a staff member on
/// the account's behalf (on the phone, say).
#[derive(Debug, Clone, Copy)]
enum Promisor {
    Contact(i64),
    Staff(i64),
}

impl Promisor {
    fn change(
        self,
        account_id: i64,
        promise_id: i64,
        old: Option<String>,
        new: String,
    ) -> Change<'static> {
        let (actor_kind, actor_id, channel) = match self {
            Self::Contact(id) => (ActorKind::Contact, id, Channel::Portal),
            Self::Staff(id) => (ActorKind::Staff, id, Channel::StaffUi),
        };
        Change {
            actor_kind,
            actor_id: Some(actor_id),
            channel,
            account_id: Some(account_id),
            entity: "promise",
            entity_id: Some(promise_id),
            field: Some("status"),
            old_value: old,
            new_value: Some(new),
        }
    }
}

/// Checks a promise's invoices, date and note before anything is read; returns the
/// invoice ids and the trimmed note.
fn check_request(
    document_ids: &[i64],
    date: NaiveDate,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(BTreeSet<i64>, Option<String>), AppError> {
    let ids: BTreeSet<i64> = document_ids.iter().copied().collect();
    if ids.is_empty() {
        return Err(AppError::validation(
            "document_ids",
            "choose at least one open invoice",
        ));
    }
    if ids.len() > MAX_INVOICES {
        return Err(AppError::validation(
            "document_ids",
            format!("choose at most {MAX_INVOICES} invoices"),
        ));
    }
    check_date(date, now.date_naive()).map_err(|m| AppError::validation("date", m))?;
    let note = check_note(note).map_err(|m| AppError::validation("note", m))?;
    Ok((ids, note))
}

/// The promise itself, inside the caller's transaction: the invoices must be open invoices
/// of the account and the amount within their open total; the amount is spread over them
/// oldest due first; an older open promise on any of them is marked `replaced`; the audit
/// events and the `promise.made` webhook are written. Returns the account and the promise.
#[allow(clippy::too_many_arguments)]
async fn write_promise(
    db: &impl ConnectionTrait,
    by: Promisor,
    account_id: i64,
    ids: &BTreeSet<i64>,
    amount_minor: i64,
    date: NaiveDate,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<(account::Model, PromiseView), AppError> {
    let company = account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let docs = document::Entity::find()
        .filter(document::COLUMN.id.is_in(ids.iter().copied()))
        .filter(document::COLUMN.account_id.eq(account_id))
        .order_by_asc(document::COLUMN.due_date)
        .order_by_asc(document::COLUMN.id)
        .all(db)
        .await?;
    if docs.len() != ids.len() {
        let whose = match by {
            Promisor::Contact(_) => "your",
            Promisor::Staff(_) => "this",
        };
        return Err(AppError::validation(
            "document_ids",
            format!("one of the chosen invoices is not on {whose} account"),
        ));
    }
    if let Some(closed) = docs.iter().find(|d| {
        d.kind != DocumentKind::Invoice
            || !matches!(
                d.status,
                DocumentStatus::Open | DocumentStatus::PaymentPending
            )
            || d.open_minor <= 0
    }) {
        return Err(AppError::validation(
            "document_ids",
            format!("invoice {} is not open", closed.number),
        ));
    }
    let open_total: i64 = docs.iter().map(|d| d.open_minor).sum();
    check_amount(amount_minor, open_total).map_err(|m| AppError::validation("amount", m))?;

    let created = promise::ActiveModel {
        account_id: Set(account_id),
        contact_id: Set(match by {
            Promisor::Contact(id) => Some(id),
            Promisor::Staff(_) => None,
        }),
        amount_minor: Set(amount_minor),
        currency: Set(company.currency.clone()),
        promised_date: Set(date),
        note: Set(note.clone()),
        status: Set(PromiseStatus::Open),
        created_at: Set(now),
        resolved_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    // An older open promise on any of these invoices gives way to this one.
    let older_ids: BTreeSet<i64> = promise_document::Entity::find()
        .filter(
            promise_document::COLUMN
                .document_id
                .is_in(ids.iter().copied()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|pd| pd.promise_id)
        .collect();
    // Spread the amount over the invoices, oldest due first.
    let mut left = amount_minor;
    let rows: Vec<promise_document::ActiveModel> = docs
        .iter()
        .map(|d| {
            let part = d.open_minor.min(left);
            left -= part;
            promise_document::ActiveModel {
                promise_id: Set(created.id),
                document_id: Set(d.id),
                amount_minor: Set(part),
            }
        })
        .collect();
    promise_document::Entity::insert_many(rows).exec(db).await?;
    let older = promise::Entity::find()
        .filter(promise::COLUMN.id.is_in(older_ids))
        .filter(promise::COLUMN.account_id.eq(account_id))
        .filter(promise::COLUMN.status.eq(PromiseStatus::Open))
        .all(db)
        .await?;
    for old in older {
        let marker = format!(
            "[{}: replaced by promise #{}]",
            now.date_naive(),
            created.id
        );
        let old_note = match old.note.as_deref() {
            Some(n) if !n.is_empty() => format!("{n}\n{marker}"),
            _ => marker,
        };
        promise::Entity::update_many()
            .col_expr(
                promise::Column::Status,
                Expr::value(PromiseStatus::Replaced),
            )
            .col_expr(promise::Column::ResolvedAt, Expr::value(Some(now)))
            .col_expr(promise::Column::Note, Expr::value(Some(old_note)))
            .filter(promise::COLUMN.id.eq(old.id))
            .filter(promise::COLUMN.status.eq(PromiseStatus::Open))
            .exec(db)
            .await?;
        audit::append(
            db,
            by.change(
                account_id,
                old.id,
                Some(PromiseStatus::Open.to_string()),
                format!("{} by #{}", PromiseStatus::Replaced, created.id),
            ),
            now,
        )
        .await?;
    }
    let amount = format_money(amount_minor, &company.currency);
    let numbers: Vec<String> = docs.iter().map(|d| d.number.clone()).collect();
    let taken_by = match by {
        Promisor::Contact(_) => "",
        Promisor::Staff(_) => " (taken by staff)",
    };
    audit::append(
        db,
        by.change(
            account_id,
            created.id,
            None,
            format!(
                "{}: {amount} by {date} for {}{taken_by}",
                PromiseStatus::Open,
                numbers.join(", ")
            ),
        ),
        now,
    )
    .await?;
    crate::services::webhooks::promise_event(
        db,
        crate::model::enums::WebhookEventKind::PromiseMade,
        created.id,
        now,
    )
    .await?;
    let view = PromiseView {
        id: created.id,
        amount_minor,
        currency: company.currency.clone(),
        promised_date: date,
        status: PromiseStatus::Open,
        invoices: numbers,
        note,
    };
    Ok((company, view))
}
