//! The staff inbox's tasks: how every source (disputes, messages, approvals, promises,
//! bounces, wrong-person reports, reminder calls) opens one.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};

use crate::entities::task;
use crate::error::AppError;
use crate::model::enums::{TaskKind, TaskStatus};

/// A task to open: what it is about, when it is due, who should do it.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub account_id: Option<i64>,
    pub kind: TaskKind,
    pub title: String,
    /// The record it is about, as (`kind`, id): `("dispute", 7)`.
    pub related: Option<(&'static str, i64)>,
    pub due_date: NaiveDate,
    /// 1 is the most urgent.
    pub priority: i32,
    pub assignee_id: Option<i64>,
}

/// Opens `new` (status open) and returns its id; runs inside the caller's transaction.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn open(
    db: &impl ConnectionTrait,
    new: NewTask,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let (related_kind, related_id) = new
        .related
        .map_or((None, None), |(kind, id)| (Some(kind.to_owned()), Some(id)));
    let created = task::ActiveModel {
        account_id: Set(new.account_id),
        kind: Set(new.kind),
        title: Set(new.title),
        related_kind: Set(related_kind),
        related_id: Set(related_id),
        due_date: Set(Some(new.due_date)),
        priority: Set(new.priority),
        assignee_id: Set(new.assignee_id),
        status: Set(TaskStatus::Open),
        outcome: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        completed_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(created.id)
}
