//! The accounting inbox: the task list (filtered, sorted and paged in SQL), dividing the
//! work (claim, assign, bulk-assign by filter), moving tasks along, logging calls with a
//! promise taken on the phone, and each collector's progress.
//!
//! Every change is a conditional update on what the caller last saw (who the task is
//! assigned to, its status), so a task claimed or closed by someone else meanwhile is
//! refused with a message instead of silently taken over.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{ExprTrait as _, Func, LikeExpr, NullOrdering, Query};
use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionSession, TransactionTrait, prelude::*,
};

use crate::entities::{account, document, staff_user, task};
use crate::error::AppError;
use crate::model::enums::{
    ActorKind, Channel, DocumentKind, DocumentStatus, StaffRole, TaskKind, TaskStatus,
};
use crate::model::inbox::{
    AssigneeFilter, CallForm, CallLogged, CallOutcome, CollectorProgress, DueFilter, InboxFilter,
    InboxList, OpenInvoice, PAGE_SIZE, StaffOption, StatusFilter, TaskRow, check_note, end_of_week,
    format_call_outcome, start_of_week,
};
use crate::model::promises::latest_date;
use crate::services::audit::{self, Change};
use crate::services::documents::contains_pattern;
use crate::services::promises;

/// The most open invoices the call form offers.
const MAX_INVOICES: u64 = 200;

/// The staff user acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub staff_id: i64,
    pub role: StaffRole,
}

impl Actor {
    fn may_work(self) -> Result<(), AppError> {
        match self.role {
            StaffRole::Admin | StaffRole::Collector => Ok(()),
            StaffRole::Viewer => Err(AppError::Forbidden),
        }
    }

    fn is_admin(self) -> bool {
        self.role == StaffRole::Admin
    }
}

/// A promise taken during a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromiseInput {
    pub document_ids: Vec<i64>,
    pub amount_minor: i64,
    pub date: NaiveDate,
}

/// A call to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInput {
    pub outcome: CallOutcome,
    pub note: Option<String>,
    /// Required when the outcome is [`CallOutcome::Promised`], refused otherwise.
    pub promise: Option<PromiseInput>,
}

const ACTIVE: [TaskStatus; 2] = [TaskStatus::Open, TaskStatus::InProgress];

/// The SQL condition of `filter` for staff user `me` on `today`; the list and the bulk
/// assignment share it, so "every task matching the filter" means the same rows.
fn condition(filter: &InboxFilter, me: i64, today: NaiveDate) -> Condition {
    let mut c = Condition::all();
    if let Some(kind) = filter.kind {
        c = c.add(task::COLUMN.kind.eq(kind));
    }
    c = match filter.status {
        StatusFilter::Active => c.add(task::COLUMN.status.is_in(ACTIVE)),
        StatusFilter::Any => c,
        StatusFilter::Only(s) => c.add(task::COLUMN.status.eq(s)),
    };
    c = match filter.assignee {
        AssigneeFilter::Anyone => c,
        AssigneeFilter::Me => c.add(task::COLUMN.assignee_id.eq(me)),
        AssigneeFilter::Unassigned => c.add(task::COLUMN.assignee_id.is_null()),
        AssigneeFilter::Staff(id) => c.add(task::COLUMN.assignee_id.eq(id)),
    };
    c = match filter.due {
        DueFilter::Any => c,
        DueFilter::Overdue => c.add(task::COLUMN.due_date.lt(today)),
        DueFilter::Today => c.add(task::COLUMN.due_date.eq(today)),
        DueFilter::Week => c
            .add(task::COLUMN.due_date.gte(today))
            .add(task::COLUMN.due_date.lte(end_of_week(today))),
    };
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = contains_pattern(&q.to_lowercase());
        let matches = |column: account::Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        let accounts = Query::select()
            .column(account::Column::Id)
            .from(account::Entity)
            .cond_where(
                Condition::any()
                    .add(matches(account::Column::DisplayName))
                    .add(matches(account::Column::LegalName))
                    .add(matches(account::Column::AccountNumber)),
            )
            .to_owned();
        c = c.add(task::Column::AccountId.in_subquery(accounts));
    }
    c
}

/// Page `page` (zero-based; past the end gives the last) of the tasks matching `filter`,
/// by due date (soonest first), then priority, for `actor`.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &InboxFilter,
    actor: Actor,
    page: u64,
    today: NaiveDate,
) -> Result<InboxList, AppError> {
    let paginator = task::Entity::find()
        .filter(condition(filter, actor.staff_id, today))
        .order_by_with_nulls(task::Column::DueDate, Order::Asc, NullOrdering::Last)
        .order_by_asc(task::COLUMN.priority)
        .order_by_asc(task::COLUMN.id)
        .paginate(db, PAGE_SIZE);
    let counts = paginator.num_items_and_pages().await?;
    let page = Ord::min(page, counts.number_of_pages.saturating_sub(1));
    let tasks = paginator.fetch_page(page).await?;
    let staff = active_staff(db).await?;
    Ok(InboxList {
        rows: rows(db, tasks, &staff, today).await?,
        total: counts.number_of_items,
        page,
        pages: counts.number_of_pages,
        me: actor.staff_id,
        role: actor.role,
        staff,
    })
}

/// Active staff users by name.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn active_staff(db: &impl ConnectionTrait) -> Result<Vec<StaffOption>, AppError> {
    Ok(staff_user::Entity::find()
        .filter(staff_user::COLUMN.active.eq(true))
        .order_by_asc(staff_user::COLUMN.name)
        .order_by_asc(staff_user::COLUMN.id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| StaffOption {
            id: s.id,
            name: s.name,
            role: s.role,
        })
        .collect())
}

/// Inbox rows for `tasks`, with account and assignee names: one query, and a second only
/// when a task is assigned to someone no longer among the active `staff`.
async fn rows(
    db: &impl ConnectionTrait,
    tasks: Vec<task::Model>,
    staff: &[StaffOption],
    today: NaiveDate,
) -> Result<Vec<TaskRow>, AppError> {
    let accounts: HashMap<i64, String> = account::Entity::find()
        .filter(
            account::COLUMN
                .id
                .is_in(tasks.iter().filter_map(|t| t.account_id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, format!("{} ({})", a.display_name, a.account_number)))
        .collect();
    let mut names: HashMap<i64, String> = staff.iter().map(|s| (s.id, s.name.clone())).collect();
    let former: Vec<i64> = tasks
        .iter()
        .filter_map(|t| t.assignee_id)
        .filter(|id| !names.contains_key(id))
        .collect();
    if !former.is_empty() {
        names.extend(
            staff_user::Entity::find()
                .filter(staff_user::COLUMN.id.is_in(former))
                .all(db)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name)),
        );
    }
    Ok(tasks
        .into_iter()
        .map(|t| TaskRow {
            account: t.account_id.and_then(|id| accounts.get(&id).cloned()),
            assignee: t.assignee_id.and_then(|id| names.get(&id).cloned()),
            overdue: ACTIVE.contains(&t.status) && t.due_date.is_some_and(|d| d < today),
            id: t.id,
            account_id: t.account_id,
            kind: t.kind,
            title: t.title,
            due_date: t.due_date,
            priority: t.priority,
            assignee_id: t.assignee_id,
            status: t.status,
            outcome: t.outcome,
            completed_at: t.completed_at,
        })
        .collect())
}

/// Why a guarded change to task `id` touched nothing: it is gone, closed, or someone
/// else's.
async fn refusal(db: &impl ConnectionTrait, id: i64, actor: Actor) -> AppError {
    let found = match task::Entity::find_by_id(id).one(db).await {
        Ok(found) => found,
        Err(err) => return err.into(),
    };
    let Some(t) = found else {
        return AppError::NotFound;
    };
    if !ACTIVE.contains(&t.status) {
        return AppError::Conflict(format!(
            "This task is already {} (it changed meanwhile).",
            crate::model::inbox::status_label(t.status).to_lowercase()
        ));
    }
    match t.assignee_id {
        Some(other) if other != actor.staff_id => {
            let name = staff_user::Entity::find_by_id(other)
                .one(db)
                .await
                .ok()
                .flatten()
                .map_or_else(|| "Someone else".to_owned(), |s| s.name);
            AppError::Conflict(format!(
                "{name} has this task now; it was not changed. Ask an admin to reassign it."
            ))
        }
        _ => AppError::Conflict("This task changed meanwhile; reload and try again.".to_owned()),
    }
}

/// `actor` (a collector or admin) takes task `id`, when it is open or in progress and
/// unassigned or already theirs.
///
/// # Errors
/// `Forbidden` for viewers; `NotFound`; `Conflict` (with who has it) when someone else
/// claimed it meanwhile or it is closed; database errors as `Internal`.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: i64,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    actor.may_work()?;
    let done = task::Entity::update_many()
        .col_expr(task::Column::AssigneeId, Expr::value(Some(actor.staff_id)))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::COLUMN.id.eq(id))
        .filter(task::COLUMN.status.is_in(ACTIVE))
        .filter(
            Condition::any()
                .add(task::COLUMN.assignee_id.is_null())
                .add(task::COLUMN.assignee_id.eq(actor.staff_id)),
        )
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(refusal(db, id, actor).await);
    }
    Ok(())
}

/// Checks that `assignee_id` is an active staff user.
async fn check_assignee(db: &impl ConnectionTrait, assignee_id: i64) -> Result<(), AppError> {
    let found = staff_user::Entity::find_by_id(assignee_id)
        .filter(staff_user::COLUMN.active.eq(true))
        .one(db)
        .await?;
    if found.is_none() {
        return Err(AppError::validation(
            "assignee_id",
            "choose an active staff user",
        ));
    }
    Ok(())
}

/// An admin assigns task `id` to `assignee_id` (an active staff user), or to nobody.
///
/// # Errors
/// `Forbidden` unless `actor` is an admin; `Validation` (`assignee_id`) for an unknown or
/// inactive user; `NotFound`; database errors as `Internal`.
pub async fn assign(
    db: &impl ConnectionTrait,
    id: i64,
    assignee_id: Option<i64>,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden);
    }
    if let Some(who) = assignee_id {
        check_assignee(db, who).await?;
    }
    let done = task::Entity::update_many()
        .col_expr(task::Column::AssigneeId, Expr::value(assignee_id))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::COLUMN.id.eq(id))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// An admin assigns every task matching `filter` (as the list shows it to them on
/// `now`'s date) to `assignee_id`, in one statement; returns how many tasks that was.
///
/// # Errors
/// `Forbidden` unless `actor` is an admin; `Validation` (`assignee_id`); database errors
/// as `Internal`.
pub async fn bulk_assign(
    db: &impl ConnectionTrait,
    filter: &InboxFilter,
    assignee_id: i64,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden);
    }
    check_assignee(db, assignee_id).await?;
    let done = task::Entity::update_many()
        .col_expr(task::Column::AssigneeId, Expr::value(Some(assignee_id)))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(condition(filter, actor.staff_id, now.date_naive()))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// The guard of a change to `t`: it still has the status and assignee that were read.
fn unchanged(t: &task::Model) -> Condition {
    Condition::all()
        .add(task::COLUMN.id.eq(t.id))
        .add(task::COLUMN.status.eq(t.status))
        .add(match t.assignee_id {
            Some(who) => task::COLUMN.assignee_id.eq(who),
            None => task::COLUMN.assignee_id.is_null(),
        })
}

/// Reads task `id` for `actor` to work on: it must be open or in progress, and a
/// collector may only work tasks that are unassigned or theirs.
async fn workable(
    db: &impl ConnectionTrait,
    id: i64,
    actor: Actor,
) -> Result<task::Model, AppError> {
    let t = task::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let someone_elses = t.assignee_id.is_some_and(|who| who != actor.staff_id);
    if !ACTIVE.contains(&t.status) || (someone_elses && !actor.is_admin()) {
        return Err(refusal(db, id, actor).await);
    }
    Ok(t)
}

/// Moves task `id` to `status` with an optional outcome `note`: open → in progress →
/// done or skipped (and back from in progress to open). Done and skipped set
/// `completed_at`. Starting or closing an unassigned task assigns it to `actor`.
///
/// # Errors
/// `Forbidden` for viewers; `Validation` (`note`, `status`); `NotFound`; `Conflict` when
/// the task is closed, someone else's, or changed meanwhile; database errors as
/// `Internal`.
pub async fn set_status(
    db: &impl ConnectionTrait,
    id: i64,
    status: TaskStatus,
    note: Option<&str>,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    actor.may_work()?;
    let note = check_note(note).map_err(|m| AppError::validation("note", m))?;
    let t = workable(db, id, actor).await?;
    if t.status == status {
        return Ok(());
    }
    let closing = matches!(status, TaskStatus::Done | TaskStatus::Skipped);
    let assignee = match status {
        TaskStatus::Open => t.assignee_id,
        _ => t.assignee_id.or(Some(actor.staff_id)),
    };
    let mut update = task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(status))
        .col_expr(task::Column::AssigneeId, Expr::value(assignee))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            task::Column::CompletedAt,
            Expr::value(closing.then_some(now)),
        );
    if note.is_some() {
        update = update.col_expr(task::Column::Outcome, Expr::value(note));
    }
    let done = update.filter(unchanged(&t)).exec(db).await?;
    if done.rows_affected == 0 {
        return Err(refusal(db, id, actor).await);
    }
    Ok(())
}

/// What the call form for task `id` needs: the task and its account's open invoices.
///
/// # Errors
/// `NotFound`; `Validation` (`task`) when the task is not about an account; database
/// errors as `Internal`.
pub async fn call_form(
    db: &impl ConnectionTrait,
    id: i64,
    today: NaiveDate,
) -> Result<CallForm, AppError> {
    let t = task::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(account_id) = t.account_id else {
        return Err(AppError::validation(
            "task",
            "this task is not about an account",
        ));
    };
    let invoices = document::Entity::find()
        .filter(document::COLUMN.account_id.eq(account_id))
        .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
        .filter(
            document::COLUMN
                .status
                .is_in([DocumentStatus::Open, DocumentStatus::PaymentPending]),
        )
        .filter(document::COLUMN.open_minor.gt(0))
        .order_by_with_nulls(document::Column::DueDate, Order::Asc, NullOrdering::Last)
        .order_by_asc(document::COLUMN.id)
        .limit(MAX_INVOICES)
        .all(db)
        .await?
        .into_iter()
        .map(|d| OpenInvoice {
            id: d.id,
            number: d.number,
            due_date: d.due_date,
            open_minor: d.open_minor,
            currency: d.currency,
        })
        .collect();
    let task = rows(db, vec![t], &[], today)
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    Ok(CallForm {
        task,
        invoices,
        today,
        latest: latest_date(today),
    })
}

/// Logs a call made for task `id`, in one transaction: a call task is closed as done with
/// the outcome (any other task of the account stays as it is and a done call task is
/// added beside it); a promise taken on the phone is recorded for the account (same rules
/// as the portal's); an audit event names the call.
///
/// # Errors
/// `Forbidden` for viewers; `Validation` (`note`, `outcome`, `task`, or the promise's
/// `document_ids`, `amount`, `date`) with nothing written; `NotFound`; `Conflict` when the
/// task is closed, someone else's or changed meanwhile; database errors as `Internal`.
pub async fn log_call(
    db: &(impl ConnectionTrait + TransactionTrait),
    id: i64,
    call: CallInput,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<CallLogged, AppError> {
    actor.may_work()?;
    let note = check_note(call.note.as_deref()).map_err(|m| AppError::validation("note", m))?;
    match (call.outcome, &call.promise) {
        (CallOutcome::Promised, None) => {
            return Err(AppError::validation(
                "outcome",
                "record the promise: invoices, amount and date",
            ));
        }
        (o, Some(_)) if o != CallOutcome::Promised => {
            return Err(AppError::validation(
                "outcome",
                "a promise goes with the outcome “Promised to pay”",
            ));
        }
        _ => {}
    }
    let t = workable(db, id, actor).await?;
    let Some(account_id) = t.account_id else {
        return Err(AppError::validation(
            "task",
            "this task is not about an account",
        ));
    };
    let outcome = format_call_outcome(call.outcome, note.as_deref());

    let txn = crate::db::begin_write(db).await?;
    let call_task_id = if t.kind == TaskKind::Call {
        let done = task::Entity::update_many()
            .col_expr(task::Column::Status, Expr::value(TaskStatus::Done))
            .col_expr(
                task::Column::AssigneeId,
                Expr::value(t.assignee_id.or(Some(actor.staff_id))),
            )
            .col_expr(task::Column::Outcome, Expr::value(Some(outcome.clone())))
            .col_expr(task::Column::UpdatedAt, Expr::value(now))
            .col_expr(task::Column::CompletedAt, Expr::value(Some(now)))
            .filter(unchanged(&t))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            drop(txn);
            return Err(refusal(db, id, actor).await);
        }
        t.id
    } else {
        task::ActiveModel {
            account_id: Set(Some(account_id)),
            kind: Set(TaskKind::Call),
            title: Set(format!("Call about: {}", t.title)),
            related_kind: Set(Some("task".to_owned())),
            related_id: Set(Some(t.id)),
            due_date: Set(Some(now.date_naive())),
            priority: Set(t.priority),
            assignee_id: Set(Some(actor.staff_id)),
            status: Set(TaskStatus::Done),
            outcome: Set(Some(outcome.clone())),
            created_at: Set(now),
            updated_at: Set(now),
            completed_at: Set(Some(now)),
            ..Default::default()
        }
        .insert(&txn)
        .await?
        .id
    };
    let promise_id = match call.promise {
        Some(p) => Some(
            promises::record_promise_by_staff(
                &txn,
                actor.staff_id,
                account_id,
                &p.document_ids,
                p.amount_minor,
                p.date,
                None,
                now,
            )
            .await?
            .id,
        ),
        None => None,
    };
    audit::append(
        &txn,
        Change {
            actor_kind: ActorKind::Staff,
            actor_id: Some(actor.staff_id),
            channel: Channel::StaffUi,
            account_id: Some(account_id),
            entity: "task",
            entity_id: Some(call_task_id),
            field: Some("call"),
            old_value: None,
            new_value: Some(match promise_id {
                Some(p) => format!("{outcome} (promise #{p})"),
                None => outcome,
            }),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(CallLogged {
        task_id: call_task_id,
        promise_id,
    })
}

/// Per assignee, how many tasks match `condition`.
async fn count_by_assignee(
    db: &impl ConnectionTrait,
    condition: Condition,
) -> Result<HashMap<i64, u64>, AppError> {
    let counts: Vec<(Option<i64>, i64)> = task::Entity::find()
        .select_only()
        .column(task::Column::AssigneeId)
        .column_as(task::Column::Id.count(), "n")
        .filter(condition)
        .filter(task::COLUMN.assignee_id.is_not_null())
        .group_by(task::Column::AssigneeId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts
        .into_iter()
        .filter_map(|(who, n)| who.map(|w| (w, u64::try_from(n).unwrap_or_default())))
        .collect())
}

/// For each active collector and admin (by name): open tasks (open or in progress), and
/// tasks done since midnight UTC today and since Monday of this week.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn progress(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<CollectorProgress>, AppError> {
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let open =
        count_by_assignee(db, Condition::all().add(task::COLUMN.status.is_in(ACTIVE))).await?;
    let done_since = |since: DateTime<Utc>| {
        Condition::all()
            .add(task::COLUMN.status.eq(TaskStatus::Done))
            .add(task::COLUMN.completed_at.gte(since))
            .add(task::COLUMN.completed_at.lte(now))
    };
    let today = count_by_assignee(db, done_since(midnight)).await?;
    let week = count_by_assignee(db, done_since(start_of_week(now))).await?;
    Ok(active_staff(db)
        .await?
        .into_iter()
        .filter(|s| s.role != StaffRole::Viewer)
        .map(|s| CollectorProgress {
            open: open.get(&s.id).copied().unwrap_or_default(),
            done_today: today.get(&s.id).copied().unwrap_or_default(),
            done_week: week.get(&s.id).copied().unwrap_or_default(),
            staff_id: s.id,
            name: s.name,
        })
        .collect())
}
