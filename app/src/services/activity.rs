//! An account's activity timeline: emails, letters, calls, payments, promises, disputes
//! and profile changes in one list, newest first.
//!
//! Each source is one query, limited to the requested number of entries, so the timeline
//! costs the same few queries whatever the account's history.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{ExprTrait as _, Query};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, prelude::*};

use crate::entities::{
    account, audit_event, campaign, campaign_target, contact, dispute, outbox_email, payment,
    promise, task,
};
use crate::error::AppError;
use crate::model::enums::{
    CampaignKind, DisputeStatus, OutboxStatus, PromiseStatus, TaskKind, TaskStatus,
};
use crate::model::inbox::{
    AccountActivity, ActivityEntry, ActivityKind, MAX_ACTIVITY, parse_call_outcome,
};
use crate::model::portal::format_money;

/// Audit entities the timeline shows from their own tables rather than as profile changes.
const NOT_PROFILE: [&str; 4] = ["promise", "dispute", "task", "payment"];

/// The newest `limit` (at most [`MAX_ACTIVITY`]) entries of account `account_id`'s
/// timeline, of kind `only` or of every kind.
///
/// # Errors
/// `NotFound` for an unknown account; database errors as `Internal`.
pub async fn timeline(
    db: &impl ConnectionTrait,
    account_id: i64,
    only: Option<ActivityKind>,
    limit: u64,
) -> Result<AccountActivity, AppError> {
    let company = account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let limit = limit.clamp(1, MAX_ACTIVITY);
    let wanted = |kind: ActivityKind| only.is_none_or(|k| k == kind);
    let mut entries = Vec::new();
    if wanted(ActivityKind::Email) {
        entries.extend(emails(db, account_id, limit).await?);
    }
    if wanted(ActivityKind::Letter) {
        entries.extend(letters(db, account_id, limit).await?);
    }
    if wanted(ActivityKind::Call) {
        entries.extend(calls(db, account_id, limit).await?);
    }
    if wanted(ActivityKind::Payment) {
        entries.extend(payments(db, account_id, limit).await?);
    }
    if wanted(ActivityKind::Promise) {
        entries.extend(promises(db, account_id, limit).await?);
    }
    if wanted(ActivityKind::Dispute) {
        entries.extend(disputes(db, account_id, limit).await?);
    }
    if wanted(ActivityKind::Profile) {
        entries.extend(profile_changes(db, account_id, limit).await?);
    }
    entries.sort_by(|a, b| {
        b.at.cmp(&a.at)
            .then_with(|| a.kind.as_str().cmp(b.kind.as_str()))
    });
    entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(AccountActivity {
        account_id,
        account: company.display_name,
        number: company.account_number,
        entries,
    })
}

fn entry(
    at: DateTime<Utc>,
    kind: ActivityKind,
    title: String,
    detail: Option<String>,
    status: Option<&str>,
) -> ActivityEntry {
    ActivityEntry {
        at,
        kind,
        title,
        detail,
        status: status.map(str::to_owned),
    }
}

/// Emails queued to the account's contacts.
async fn emails(
    db: &impl ConnectionTrait,
    account_id: i64,
    limit: u64,
) -> Result<Vec<ActivityEntry>, AppError> {
    let contacts = Query::select()
        .column(contact::Column::Id)
        .from(contact::Entity)
        .and_where(Expr::col(contact::Column::AccountId).eq(account_id))
        .to_owned();
    Ok(outbox_email::Entity::find()
        .filter(outbox_email::Column::ToContactId.in_subquery(contacts))
        .order_by_desc(outbox_email::COLUMN.created_at)
        .order_by_desc(outbox_email::COLUMN.id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let status = match m.status {
                OutboxStatus::Sent => "sent",
                OutboxStatus::Dead => "dead",
                OutboxStatus::Pending | OutboxStatus::Sending => "pending",
            };
            entry(
                m.sent_at.unwrap_or(m.created_at),
                ActivityKind::Email,
                m.subject,
                Some(format!("To {}", m.to_address)),
                Some(status),
            )
        })
        .collect())
}

/// Letters: direct-mail campaigns that wrote to the account, and letter tasks.
async fn letters(
    db: &impl ConnectionTrait,
    account_id: i64,
    limit: u64,
) -> Result<Vec<ActivityEntry>, AppError> {
    let direct_mail = Query::select()
        .column(campaign::Column::Id)
        .from(campaign::Entity)
        .and_where(Expr::col(campaign::Column::Kind).eq(CampaignKind::DirectMail.as_str()))
        .to_owned();
    let mut out: Vec<ActivityEntry> = campaign_target::Entity::find()
        .filter(campaign_target::COLUMN.account_id.eq(account_id))
        .filter(campaign_target::COLUMN.last_sent_at.is_not_null())
        .filter(campaign_target::Column::CampaignId.in_subquery(direct_mail))
        .order_by_desc(campaign_target::COLUMN.last_sent_at)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|t| {
            t.last_sent_at.map(|at| {
                entry(
                    at,
                    ActivityKind::Letter,
                    "Letter sent (direct-mail campaign)".to_owned(),
                    None,
                    Some(t.status.as_str()),
                )
            })
        })
        .collect();
    // Letter tasks, whatever the kind is named by the reminders that open them.
    let tasks = task::Entity::find()
        .filter(task::COLUMN.account_id.eq(account_id))
        .filter(Expr::col(task::Column::Kind).eq("letter"))
        .order_by_desc(task::COLUMN.created_at)
        .limit(limit)
        .all(db)
        .await?;
    out.extend(tasks.into_iter().map(|t| {
        entry(
            t.completed_at.unwrap_or(t.created_at),
            ActivityKind::Letter,
            t.title,
            t.outcome,
            Some(t.status.as_str()),
        )
    }));
    Ok(out)
}

/// Calls: call tasks done, with their outcome.
async fn calls(
    db: &impl ConnectionTrait,
    account_id: i64,
    limit: u64,
) -> Result<Vec<ActivityEntry>, AppError> {
    Ok(task::Entity::find()
        .filter(task::COLUMN.account_id.eq(account_id))
        .filter(task::COLUMN.kind.eq(TaskKind::Call))
        .filter(task::COLUMN.status.eq(TaskStatus::Done))
        .order_by_desc(task::COLUMN.completed_at)
        .order_by_desc(task::COLUMN.id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|t| {
            let (title, detail) = match t.outcome.as_deref().and_then(parse_call_outcome) {
                Some((outcome, note)) => (format!("Call: {}", outcome.label()), note),
                None => ("Call".to_owned(), t.outcome.clone()),
            };
            entry(
                t.completed_at.unwrap_or(t.updated_at),
                ActivityKind::Call,
                title,
                Some(match detail {
                    Some(note) => format!("{} — {note}", t.title),
                    None => t.title,
                }),
                None,
            )
        })
        .collect())
}

async fn payments(
    db: &impl ConnectionTrait,
    account_id: i64,
    limit: u64,
) -> Result<Vec<ActivityEntry>, AppError> {
    Ok(payment::Entity::find()
        .filter(payment::COLUMN.account_id.eq(account_id))
        .order_by_desc(payment::COLUMN.received_at)
        .order_by_desc(payment::COLUMN.id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|p| {
            entry(
                p.received_at,
                ActivityKind::Payment,
                format!(
                    "Payment of {} by {}",
                    format_money(p.amount_minor, &p.currency),
                    p.method.as_str().replace('_', " ")
                ),
                p.provider_ref.clone(),
                Some(p.status.as_str()),
            )
        })
        .collect())
}

/// Promises: when each was made and, once decided, when it was kept or broken.
async fn promises(
    db: &impl ConnectionTrait,
    account_id: i64,
    limit: u64,
) -> Result<Vec<ActivityEntry>, AppError> {
    let mut out = Vec::new();
    for p in promise::Entity::find()
        .filter(promise::COLUMN.account_id.eq(account_id))
        .order_by_desc(promise::COLUMN.created_at)
        .order_by_desc(promise::COLUMN.id)
        .limit(limit)
        .all(db)
        .await?
    {
        let amount = format_money(p.amount_minor, &p.currency);
        let by = if p.contact_id.is_some() {
            "in the portal"
        } else {
            "to staff"
        };
        out.push(entry(
            p.created_at,
            ActivityKind::Promise,
            format!("Promise made {by}: {amount} by {}", p.promised_date),
            p.note.clone(),
            Some(PromiseStatus::Open.as_str()),
        ));
        if let Some(at) = p.resolved_at {
            out.push(entry(
                at,
                ActivityKind::Promise,
                format!(
                    "Promise {}: {amount} by {}",
                    p.status.as_str().replace('_', " "),
                    p.promised_date
                ),
                None,
                Some(p.status.as_str()),
            ));
        }
    }
    Ok(out)
}

/// Disputes: opened and, once resolved, resolved.
async fn disputes(
    db: &impl ConnectionTrait,
    account_id: i64,
    limit: u64,
) -> Result<Vec<ActivityEntry>, AppError> {
    let mut out = Vec::new();
    for d in dispute::Entity::find()
        .filter(dispute::COLUMN.account_id.eq(account_id))
        .filter(dispute::COLUMN.status.ne(DisputeStatus::Draft))
        .order_by_desc(dispute::COLUMN.created_at)
        .order_by_desc(dispute::COLUMN.id)
        .limit(limit)
        .all(db)
        .await?
    {
        out.push(entry(
            d.created_at,
            ActivityKind::Dispute,
            format!("Dispute #{} opened", d.id),
            None,
            Some(DisputeStatus::Open.as_str()),
        ));
        if let Some(at) = d.resolved_at {
            out.push(entry(
                at,
                ActivityKind::Dispute,
                format!("Dispute #{} {}", d.id, d.status.as_str().replace('_', " ")),
                d.resolution_note.clone(),
                Some(d.status.as_str()),
            ));
        }
    }
    Ok(out)
}

/// Profile changes: the account's audit events other than those shown from their own
/// tables. Values are as the audit log keeps them (sensitive ones masked).
async fn profile_changes(
    db: &impl ConnectionTrait,
    account_id: i64,
    limit: u64,
) -> Result<Vec<ActivityEntry>, AppError> {
    Ok(audit_event::Entity::find()
        .filter(audit_event::COLUMN.account_id.eq(account_id))
        .filter(audit_event::COLUMN.entity.is_not_in(NOT_PROFILE))
        .order_by_desc(audit_event::COLUMN.occurred_at)
        .order_by_desc(audit_event::COLUMN.id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|e| {
            let what = match e.field.as_deref() {
                Some(f) => format!("{} {}", e.entity.replace('_', " "), f.replace('_', " ")),
                None => e.entity.replace('_', " "),
            };
            let change = match (e.old_value.as_deref(), e.new_value.as_deref()) {
                (Some(old), Some(new)) => Some(format!("{old} → {new}")),
                (None, Some(new)) => Some(new.to_owned()),
                (Some(old), None) => Some(format!("{old} → (removed)")),
                (None, None) => None,
            };
            entry(
                e.occurred_at,
                ActivityKind::Profile,
                format!("Changed {what} ({} via {})", e.actor_kind, e.channel),
                change,
                None,
            )
        })
        .collect())
}
