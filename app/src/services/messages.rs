//! Secure messages: a customer writes from the portal (optionally about a document), it
//! lands in the staff inbox as a task; staff reply in Settle and the customer gets the reply
//! by email and in the portal thread. Every query is scoped by the account.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait, prelude::*,
};
use serde_json::json;

use crate::entities::{account, contact, document, message, staff_user, supplier, task};
use crate::error::AppError;
use crate::model::enums::{ActorKind, TaskKind, TaskStatus};
use crate::model::messages::{MessageView, StaffThread, ThreadSummary, check_body};
use crate::services::mail;
use crate::services::tasks;

/// Key of the email that carries a staff reply.
pub const REPLY_TEMPLATE: &str = "message_reply";
/// `tasks.related_kind` of the inbox task a customer's message opens.
pub const TASK_RELATED_KIND: &str = "messages";
/// How many messages a thread shows (the newest).
pub const THREAD_LIMIT: u64 = 200;

/// Records contact `contact_id`'s message to the supplier and opens (or keeps open) the
/// account's inbox task, in one transaction.
///
/// # Errors
/// `Validation` (`body`, `document_id`) for bad input or another account's document;
/// `Forbidden` when the contact is not the account's; database errors as `Internal`.
pub async fn send_from_contact(
    db: &(impl ConnectionTrait + TransactionTrait),
    contact_id: i64,
    account_id: i64,
    document_id: Option<i64>,
    body: &str,
    now: DateTime<Utc>,
) -> Result<MessageView, AppError> {
    let body = check_body(body).map_err(|m| AppError::validation("body", m))?;
    let txn = crate::db::begin_write(db).await?;
    let who = contact::Entity::find_by_id(contact_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if who.account_id != account_id {
        return Err(AppError::Forbidden);
    }
    let about = match document_id {
        Some(id) => Some(
            document::Entity::find_by_id(id)
                .filter(document::COLUMN.account_id.eq(account_id))
                .one(&txn)
                .await?
                .ok_or_else(|| {
                    AppError::validation("document_id", "that document is not on your account")
                })?,
        ),
        None => None,
    };
    let saved = message::ActiveModel {
        account_id: Set(account_id),
        document_id: Set(about.as_ref().map(|d| d.id)),
        author_kind: Set(ActorKind::Contact),
        author_contact_id: Set(Some(contact_id)),
        author_staff_id: Set(None),
        body: Set(body.clone()),
        created_at: Set(now),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let open_task = task::Entity::find()
        .filter(task::COLUMN.account_id.eq(account_id))
        .filter(task::COLUMN.kind.eq(TaskKind::Message))
        .filter(
            task::COLUMN
                .status
                .is_in([TaskStatus::Open, TaskStatus::InProgress]),
        )
        .one(&txn)
        .await?;
    if open_task.is_none() {
        let company = account::Entity::find_by_id(account_id)
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound)?;
        tasks::open(
            &txn,
            tasks::NewTask {
                account_id: Some(account_id),
                kind: TaskKind::Message,
                title: format!("Reply to {} ({})", who.name, company.display_name),
                related: Some((TASK_RELATED_KIND, saved.id)),
                due_date: now.date_naive() + chrono::Duration::days(1),
                priority: 2,
                assignee_id: company.collector_id,
            },
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(MessageView {
        id: saved.id,
        author: who.name,
        from_staff: false,
        body,
        document: about.map(|d| d.number),
        sent_at: now,
    })
}

/// The thread of `account_id`, oldest first (the newest [`THREAD_LIMIT`]).
///
/// # Errors
/// Database errors as `Internal`.
pub async fn thread(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Vec<MessageView>, AppError> {
    let mut rows = message::Entity::find()
        .filter(message::COLUMN.account_id.eq(account_id))
        .order_by_desc(message::COLUMN.created_at)
        .order_by_desc(message::COLUMN.id)
        .limit(THREAD_LIMIT)
        .all(db)
        .await?;
    rows.reverse();
    let contacts: HashMap<i64, String> = contact::Entity::find()
        .filter(
            contact::COLUMN
                .id
                .is_in(rows.iter().filter_map(|m| m.author_contact_id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let staff: HashMap<i64, String> = staff_user::Entity::find()
        .filter(
            staff_user::COLUMN
                .id
                .is_in(rows.iter().filter_map(|m| m.author_staff_id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let docs: HashMap<i64, String> = document::Entity::find()
        .filter(
            document::COLUMN
                .id
                .is_in(rows.iter().filter_map(|m| m.document_id)),
        )
        .filter(document::COLUMN.account_id.eq(account_id))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.number))
        .collect();
    Ok(rows
        .into_iter()
        .map(|m| {
            let from_staff = m.author_kind == ActorKind::Staff;
            let author = if from_staff {
                m.author_staff_id.and_then(|id| staff.get(&id).cloned())
            } else {
                m.author_contact_id
                    .and_then(|id| contacts.get(&id).cloned())
            };
            MessageView {
                id: m.id,
                author: author.unwrap_or_else(|| "Someone".to_owned()),
                from_staff,
                body: m.body,
                document: m.document_id.and_then(|id| docs.get(&id).cloned()),
                sent_at: m.created_at,
            }
        })
        .collect())
}

/// Every account with messages, the ones awaiting a reply first, then newest first.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn threads(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<ThreadSummary>, AppError> {
    // The newest message of each account (ids grow with time).
    let last_ids: Vec<(i64, i64)> = message::Entity::find()
        .select_only()
        .column(message::Column::AccountId)
        .column_as(message::Column::Id.max(), "last_id")
        .group_by(message::Column::AccountId)
        .order_by_desc(message::Column::Id.max())
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    let latest = message::Entity::find()
        .filter(message::COLUMN.id.is_in(last_ids.iter().map(|(_, id)| *id)))
        .all(db)
        .await?;
    let accounts: HashMap<i64, account::Model> = account::Entity::find()
        .filter(
            account::COLUMN
                .id
                .is_in(latest.iter().map(|m| m.account_id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let mut out: Vec<ThreadSummary> = latest
        .into_iter()
        .filter_map(|m| {
            accounts.get(&m.account_id).map(|a| ThreadSummary {
                account_id: a.id,
                account_name: a.display_name.clone(),
                account_number: a.account_number.clone(),
                last_body: m.body.chars().take(160).collect(),
                last_at: m.created_at,
                awaiting_reply: m.author_kind == ActorKind::Contact,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.awaiting_reply
            .cmp(&a.awaiting_reply)
            .then(b.last_at.cmp(&a.last_at))
    });
    Ok(out)
}

/// One account's thread for staff.
///
/// # Errors
/// `NotFound` for an unknown account; database errors as `Internal`.
pub async fn staff_thread(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<StaffThread, AppError> {
    let company = account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(StaffThread {
        account_id,
        account_name: company.display_name,
        account_number: company.account_number,
        messages: thread(db, account_id).await?,
    })
}

/// Staff member `staff_id` replies on `account_id`'s thread: the reply is saved, emailed to
/// the contact who wrote last (or the account's primary billing contact), and the account's
/// message task is closed — all in one transaction.
///
/// # Errors
/// `Validation` (`body`) for an empty or overlong reply, or when nobody on the account has
/// an email address; `NotFound` for an unknown account; database errors as `Internal`.
pub async fn reply_from_staff(
    db: &(impl ConnectionTrait + TransactionTrait),
    public_url: &str,
    staff_id: i64,
    account_id: i64,
    body: &str,
    now: DateTime<Utc>,
) -> Result<MessageView, AppError> {
    let body = check_body(body).map_err(|m| AppError::validation("body", m))?;
    let txn = crate::db::begin_write(db).await?;
    let me = staff_user::Entity::find_by_id(staff_id)
        .one(&txn)
        .await?
        .ok_or(AppError::Unauthorized)?;
    account::Entity::find_by_id(account_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let last_from_customer = message::Entity::find()
        .filter(message::COLUMN.account_id.eq(account_id))
        .filter(message::COLUMN.author_kind.eq(ActorKind::Contact))
        .order_by_desc(message::COLUMN.created_at)
        .order_by_desc(message::COLUMN.id)
        .one(&txn)
        .await?;
    let recipient = match last_from_customer
        .as_ref()
        .and_then(|m| m.author_contact_id)
    {
        Some(id) => Some(id),
        None => contact::Entity::find()
            .filter(contact::COLUMN.account_id.eq(account_id))
            .filter(contact::COLUMN.email.is_not_null())
            .order_by_desc(contact::COLUMN.is_primary_billing)
            .order_by_asc(contact::COLUMN.id)
            .one(&txn)
            .await?
            .map(|c| c.id),
    }
    .ok_or_else(|| AppError::validation("body", "nobody on this account has an email address"))?;
    let about = match last_from_customer.as_ref().and_then(|m| m.document_id) {
        Some(id) => document::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .map(|d| d.number),
        None => None,
    };
    let saved = message::ActiveModel {
        account_id: Set(account_id),
        document_id: Set(last_from_customer.as_ref().and_then(|m| m.document_id)),
        author_kind: Set(ActorKind::Staff),
        author_contact_id: Set(None),
        author_staff_id: Set(Some(staff_id)),
        body: Set(body.clone()),
        created_at: Set(now),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    message::Entity::update_many()
        .col_expr(message::Column::ReadAt, Expr::value(now))
        .filter(message::COLUMN.account_id.eq(account_id))
        .filter(message::COLUMN.author_kind.eq(ActorKind::Contact))
        .filter(message::COLUMN.read_at.is_null())
        .exec(&txn)
        .await?;
    task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(TaskStatus::Done))
        .col_expr(task::Column::Outcome, Expr::value("replied"))
        .col_expr(task::Column::CompletedAt, Expr::value(now))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::COLUMN.account_id.eq(account_id))
        .filter(task::COLUMN.kind.eq(TaskKind::Message))
        .filter(
            task::COLUMN
                .status
                .is_in([TaskStatus::Open, TaskStatus::InProgress]),
        )
        .exec(&txn)
        .await?;
    let supplier_name = supplier::Entity::find()
        .one(&txn)
        .await?
        .map_or_else(|| "We".to_owned(), |s| s.display_name);
    mail::send_to_contact(
        &txn,
        public_url,
        recipient,
        REPLY_TEMPLATE,
        json!({
            "supplier": supplier_name,
            "staff_name": me.name,
            "body": body,
            "document": about,
            "portal_link": format!("{public_url}/portal/messages"),
        }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(MessageView {
        id: saved.id,
        author: me.name,
        from_staff: true,
        body,
        document: about,
        sent_at: now,
    })
}
