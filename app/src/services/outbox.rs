//! The email outbox. Sending an email is inserting a row in the transaction of the change
//! that caused it; a worker claims due rows with a lease, delivers them, and records the
//! outcome. Delivery is at least once, under a `Message-ID` fixed at enqueue.
//!
//! Claims are atomic across server processes: on PostgreSQL the due rows are selected
//! `FOR UPDATE SKIP LOCKED` and marked in the same transaction; on SQLite each row is
//! taken by a conditional `UPDATE` that succeeds only while it is still claimable. A row
//! whose claimer died becomes claimable again when its lease (`claimed_until`) passes.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait, prelude::*,
};

use crate::entities::{contact, outbox_email, task};
use crate::error::AppError;
use crate::model::enums::{EmailStatus, OutboxStatus, TaskKind, TaskStatus};
use crate::services::staff::looks_like_email;
use crate::services::tasks;

/// Failed attempts before a row may be given up (`dead`)...
pub const MAX_ATTEMPTS: i32 = 8;
/// ...and how old it must be by then: a mail server down for hours (a night, a weekend
/// morning) delays mail, it does not lose it.
pub const GIVE_UP_AFTER: Duration = Duration::hours(24);
/// Wait after the first failed attempt; each further failure doubles it.
pub const FIRST_BACKOFF: Duration = Duration::seconds(30);
/// The longest wait between two attempts: mail is sent within half an hour of the server
/// coming back.
pub const MAX_BACKOFF: Duration = Duration::minutes(30);
/// Domain of Message-IDs when no public URL names a host.
pub const DEFAULT_MESSAGE_DOMAIN: &str = "settle.localhost";
/// `tasks.related_kind` of the task a bounce creates; `related_id` is the contact.
pub const BOUNCE_RELATED_KIND: &str = "contact";
/// Priority of a bounce task.
pub const BOUNCE_TASK_PRIORITY: i32 = 2;

/// An email to put in the outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewEmail {
    /// The recipient's address.
    pub to: String,
    /// The contact the address belongs to, so a bounce can be recorded against it.
    pub to_contact_id: Option<i64>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// The template it was rendered from, for the record.
    pub template_key: Option<String>,
    /// Domain of the generated Message-ID (see [`domain_of`]); `None` is
    /// [`DEFAULT_MESSAGE_DOMAIN`].
    pub message_domain: Option<String>,
}

/// Puts an email in the outbox, due now, and returns its Message-ID (`<random@domain>`).
/// Call it inside the transaction of the change that caused the email: a rollback then
/// takes the email with it.
///
/// # Errors
/// `Validation` (field `to`) for an address that is not an email address, (field
/// `subject`) for an empty subject; database errors as `Internal`.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    email: NewEmail,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let to = email.to.trim().to_owned();
    if !looks_like_email(&to) {
        return Err(AppError::validation(
            "to",
            format!("`{to}` is not an email address"),
        ));
    }
    if email.subject.trim().is_empty() {
        return Err(AppError::validation("subject", "an email needs a subject"));
    }
    let domain = email
        .message_domain
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| DEFAULT_MESSAGE_DOMAIN.to_owned());
    let message_id = new_message_id(&domain);
    outbox_email::ActiveModel {
        message_id: Set(message_id.clone()),
        to_address: Set(to),
        to_contact_id: Set(email.to_contact_id),
        subject: Set(email.subject),
        body_text: Set(email.text),
        body_html: Set(email.html),
        template_key: Set(email.template_key),
        status: Set(OutboxStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(message_id)
}

/// Claims up to `limit` rows that are due at `now` (pending and due, or sending with a
/// lease that has passed) for `lease`, and returns them with `status = sending`. Two
/// concurrent claimers never get the same row while its lease runs.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn claim_due(
    db: &(impl ConnectionTrait + TransactionTrait),
    now: DateTime<Utc>,
    limit: u64,
    lease: Duration,
) -> Result<Vec<outbox_email::Model>, AppError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let until = now + lease;
    let due = outbox_email::Entity::find()
        .filter(claimable(now))
        .order_by_asc(outbox_email::Column::NextAttemptAt)
        .order_by_asc(outbox_email::Column::Id)
        .limit(limit);
    let mark = outbox_email::Entity::update_many()
        .col_expr(
            outbox_email::Column::Status,
            Expr::value(OutboxStatus::Sending),
        )
        .col_expr(outbox_email::Column::ClaimedUntil, Expr::value(until));
    let mut claimed = crate::services::claims::claim(
        db,
        due,
        mark,
        claimable(now),
        outbox_email::Column::Id,
        |row| row.id,
    )
    .await?;
    claimed.sort_by_key(|row| (row.next_attempt_at, row.id));
    Ok(claimed)
}

/// Rows a claimer may take at `now`.
fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(outbox_email::Column::Status.eq(OutboxStatus::Pending))
                .add(outbox_email::COLUMN.next_attempt_at.lte(now)),
        )
        .add(
            Condition::all()
                .add(outbox_email::Column::Status.eq(OutboxStatus::Sending))
                .add(outbox_email::COLUMN.claimed_until.lte(now)),
        )
}

/// Records that a row was delivered.
///
/// # Errors
/// `NotFound` when the row does not exist; database errors as `Internal`.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let done = outbox_email::Entity::update_many()
        .col_expr(
            outbox_email::Column::Status,
            Expr::value(OutboxStatus::Sent),
        )
        .col_expr(outbox_email::Column::SentAt, Expr::value(now))
        .col_expr(
            outbox_email::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(outbox_email::COLUMN.id.eq(id))
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// How long to wait after the `failed_attempts`-th failure: 30 s, 1 min, 2 min, …,
/// doubling, at most 30 min.
pub fn backoff(failed_attempts: i32) -> Duration {
    let doublings = failed_attempts.saturating_sub(1).clamp(0, 20) as u32;
    let wait = FIRST_BACKOFF
        .num_seconds()
        .saturating_mul(1i64 << doublings);
    Duration::seconds(wait).min(MAX_BACKOFF)
}

/// Records a failed delivery of a row that is being sent and returns the row as it is
/// now. A `permanent` failure, or one after [`MAX_ATTEMPTS`] attempts of a row older than
/// [`GIVE_UP_AFTER`], makes the row `dead`; any other goes back to `pending`, due after
/// [`backoff`].
///
/// # Errors
/// `NotFound` when the row does not exist; `Conflict` when it is not being sent (it was
/// delivered or given up meanwhile); database errors as `Internal`.
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    id: i64,
    error: &str,
    permanent: bool,
    now: DateTime<Utc>,
) -> Result<outbox_email::Model, AppError> {
    let row = outbox_email::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.status != OutboxStatus::Sending {
        return Err(AppError::Conflict(format!(
            "email {} is {}, not being sent",
            row.message_id, row.status
        )));
    }
    let attempts = row.attempts.saturating_add(1);
    let dead = permanent || (attempts >= MAX_ATTEMPTS && now - row.created_at >= GIVE_UP_AFTER);
    let (status, next_attempt_at) = if dead {
        (OutboxStatus::Dead, row.next_attempt_at)
    } else {
        (OutboxStatus::Pending, now + backoff(attempts))
    };
    let error: String = error.chars().take(2000).collect();
    let done = outbox_email::Entity::update_many()
        .col_expr(outbox_email::Column::Status, Expr::value(status))
        .col_expr(outbox_email::Column::Attempts, Expr::value(attempts))
        .col_expr(
            outbox_email::Column::NextAttemptAt,
            Expr::value(next_attempt_at),
        )
        .col_expr(
            outbox_email::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(outbox_email::Column::LastError, Expr::value(error.clone()))
        .filter(outbox_email::COLUMN.id.eq(id))
        .filter(outbox_email::Column::Status.eq(OutboxStatus::Sending))
        .filter(outbox_email::COLUMN.attempts.eq(row.attempts))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "email {} changed while its failure was recorded",
            row.message_id
        )));
    }
    Ok(outbox_email::Model {
        status,
        attempts,
        next_attempt_at,
        claimed_until: None,
        last_error: Some(error),
        ..row
    })
}

/// Records that the recipient's server refused the address for good (a 5xx reply to the
/// recipient): the row becomes `dead`, and when the address is still the contact's, the
/// contact's email becomes `bounced` and staff get an open `bounce` task for the account
/// (one open task per contact). All in one transaction.
///
/// # Errors
/// As [`mark_failed`]; database errors as `Internal`.
pub async fn record_bounce(
    db: &(impl ConnectionTrait + TransactionTrait),
    id: i64,
    error: &str,
    now: DateTime<Utc>,
) -> Result<outbox_email::Model, AppError> {
    let txn = crate::db::begin_write(db).await?;
    let row = mark_failed(&txn, id, error, true, now).await?;
    if let Some(contact_id) = row.to_contact_id
        && let Some(contact) = contact::Entity::find_by_id(contact_id).one(&txn).await?
        && contact
            .email
            .as_deref()
            .is_some_and(|e| e.trim().eq_ignore_ascii_case(&row.to_address))
    {
        if contact.email_status != EmailStatus::Bounced {
            contact::ActiveModel {
                id: Set(contact.id),
                email_status: Set(EmailStatus::Bounced),
                version: Set(contact.version.saturating_add(1)),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(&txn)
            .await?;
        }
        let open_task = task::Entity::find()
            .filter(task::Column::Kind.eq(TaskKind::Bounce))
            .filter(task::Column::Status.eq(TaskStatus::Open))
            .filter(task::COLUMN.related_kind.eq(BOUNCE_RELATED_KIND))
            .filter(task::COLUMN.related_id.eq(contact.id))
            .one(&txn)
            .await?;
        if open_task.is_none() {
            tasks::open(
                &txn,
                tasks::NewTask {
                    account_id: Some(contact.account_id),
                    kind: TaskKind::Bounce,
                    title: format!(
                        "Email to {} bounced: fix the address of {}",
                        row.to_address, contact.name
                    ),
                    related: Some((BOUNCE_RELATED_KIND, contact.id)),
                    due_date: now.date_naive(),
                    priority: BOUNCE_TASK_PRIORITY,
                    assignee_id: None,
                },
                now,
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(row)
}

/// Puts a `dead` row back in the queue, due now, with its attempts reset.
///
/// # Errors
/// `NotFound` when no dead row has that id; database errors as `Internal`.
pub async fn retry_dead(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<outbox_email::Model, AppError> {
    let done = outbox_email::Entity::update_many()
        .col_expr(
            outbox_email::Column::Status,
            Expr::value(OutboxStatus::Pending),
        )
        .col_expr(outbox_email::Column::Attempts, Expr::value(0))
        .col_expr(outbox_email::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            outbox_email::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(outbox_email::COLUMN.id.eq(id))
        .filter(outbox_email::Column::Status.eq(OutboxStatus::Dead))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::NotFound);
    }
    outbox_email::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The emails Settle gave up on, newest first, for staff to see and retry.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn list_dead(db: &impl ConnectionTrait) -> Result<Vec<outbox_email::Model>, AppError> {
    Ok(outbox_email::Entity::find()
        .filter(outbox_email::Column::Status.eq(OutboxStatus::Dead))
        .order_by_desc(outbox_email::Column::CreatedAt)
        .order_by_desc(outbox_email::Column::Id)
        .all(db)
        .await?)
}

/// The host of a public URL, for Message-IDs: `https://billing.example.com:8443/x` →
/// `billing.example.com`; [`DEFAULT_MESSAGE_DOMAIN`] when there is none.
pub fn domain_of(public_url: &str) -> String {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    if valid {
        host.to_ascii_lowercase()
    } else {
        DEFAULT_MESSAGE_DOMAIN.to_owned()
    }
}

fn new_message_id(domain: &str) -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("<{}@{domain}>", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_up_to_half_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(3), Duration::seconds(120));
        assert_eq!(backoff(6), Duration::seconds(30 * 32));
        assert_eq!(backoff(7), MAX_BACKOFF);
        assert_eq!(backoff(20), MAX_BACKOFF);
        assert_eq!(backoff(i32::MAX), MAX_BACKOFF);
        assert_eq!(backoff(0), Duration::seconds(30));
    }

    #[test]
    fn message_ids_use_the_public_host() {
        assert_eq!(
            domain_of("https://billing.example.com"),
            "billing.example.com"
        );
        assert_eq!(domain_of("http://127.0.0.1:3000/"), "127.0.0.1");
        assert_eq!(domain_of("https://u@Host.Test:8443/x?y"), "host.test");
        assert_eq!(domain_of("http://[::1]:3000"), "[::1]");
        assert_eq!(domain_of(""), DEFAULT_MESSAGE_DOMAIN);
        let id = new_message_id("x.test");
        assert!(id.starts_with('<') && id.ends_with("@x.test>"), "{id}");
        assert_eq!(id.len(), 1 + 32 + 1 + 6 + 1);
        assert_ne!(id, new_message_id("x.test"));
    }
}
