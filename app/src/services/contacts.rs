//! Contacts' email addresses: verification, and the wrong-person report that corrects them.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter,
    TransactionSession, TransactionTrait, prelude::*,
};
use serde_json::json;

use crate::entities::{account, contact, task};
use crate::error::AppError;
use crate::model::enums::{ActorKind, Channel, EmailStatus, LinkPurpose, TaskKind};
use crate::model::portal::WrongPersonReport;
use crate::services::audit::{self, Change};
use crate::services::{magic_links, mail, staff, tasks};

/// Records that a contact proved they read mail at their address.
///
/// # Errors
/// `NotFound` for an unknown contact; database errors as `Internal`.
pub async fn mark_email_verified(
    db: &impl ConnectionTrait,
    contact_id: i64,
    actor: ActorKind,
    channel: Channel,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    set_email_status(
        db,
        contact_id,
        EmailStatus::Verified,
        actor,
        Some(contact_id),
        channel,
        now,
    )
    .await
}

async fn set_email_status(
    db: &impl ConnectionTrait,
    contact_id: i64,
    status: EmailStatus,
    actor: ActorKind,
    actor_id: Option<i64>,
    channel: Channel,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let c = contact::Entity::find_by_id(contact_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if c.email_status == status {
        return Ok(());
    }
    contact::Entity::update_many()
        .col_expr(contact::Column::EmailStatus, Expr::value(status))
        .col_expr(
            contact::Column::Version,
            Expr::col(contact::Column::Version).add(1),
        )
        .col_expr(contact::Column::UpdatedAt, Expr::value(now))
        .filter(contact::COLUMN.id.eq(contact_id))
        .exec(db)
        .await?;
    audit::append(
        db,
        Change {
            actor_kind: actor,
            actor_id,
            channel,
            account_id: Some(c.account_id),
            entity: "contact",
            entity_id: Some(c.id),
            field: Some("email_status"),
            old_value: Some(c.email_status.to_string()),
            new_value: Some(status.to_string()),
        },
        now,
    )
    .await?;
    Ok(())
}

/// What a wrong-person report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub new_contact_id: i64,
    /// False when the same report had already been made (nothing was done again).
    pub first_time: bool,
}

/// The recipient of our mail says someone else should get it: add (or find) that person on
/// the account as unverified, send them a verification link, mark the reporter's address as
/// reported wrong, log it all, and put a task in the staff inbox. Repeating a report changes nothing.
///
/// # Errors
/// `Validation` naming the field for bad input; database errors as `Internal`.
pub async fn report_wrong_person(
    db: &(impl ConnectionTrait + TransactionTrait),
    public_url: &str,
    reporter_id: i64,
    report: &WrongPersonReport,
    now: DateTime<Utc>,
) -> Result<Reported, AppError> {
    let name = report.name.trim();
    let email = report.email.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Err(AppError::validation(
            "name",
            "enter the name of the person who should get these",
        ));
    }
    if name.chars().count() > 200 {
        return Err(AppError::validation("name", "use at most 200 characters"));
    }
    if !staff::looks_like_email(&email) || email.len() > 254 {
        return Err(AppError::validation(
            "email",
            "enter an email address like name@example.com",
        ));
    }
    let note = report
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 2000) {
        return Err(AppError::validation("note", "use at most 2,000 characters"));
    }

    let txn = crate::db::begin_write(db).await?;
    let reporter = contact::Entity::find_by_id(reporter_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if reporter.email.as_deref() == Some(email.as_str()) {
        return Err(AppError::validation(
            "email",
            "this is the address our mail already goes to; name someone else",
        ));
    }
    let company = account::Entity::find_by_id(reporter.account_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let existing = contact::Entity::find()
        .filter(contact::COLUMN.account_id.eq(reporter.account_id))
        .filter(contact::COLUMN.email.eq(email.clone()))
        .one(&txn)
        .await?;
    let actor =
        |field: &'static str, entity_id: i64, old: Option<String>, new: Option<String>| Change {
            actor_kind: ActorKind::Contact,
            actor_id: Some(reporter.id),
            channel: Channel::MagicLink,
            account_id: Some(reporter.account_id),
            entity: "contact",
            entity_id: Some(entity_id),
            field: Some(field),
            old_value: old,
            new_value: new,
        };
    let new_contact = match existing {
        Some(c) => c,
        None => {
            let created = contact::ActiveModel {
                account_id: Set(reporter.account_id),
                external_id: Set(None),
                name: Set(name.to_owned()),
                email: Set(Some(email.clone())),
                phone: Set(None),
                role: Set(report.role),
                is_primary_billing: Set(false),
                email_status: Set(EmailStatus::Unverified),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            audit::append(
                &txn,
                actor("email", created.id, None, Some(email.clone())),
                now,
            )
            .await?;
            created
        }
    };
    let already = task::Entity::find()
        .filter(task::COLUMN.kind.eq(TaskKind::WrongPerson))
        .filter(task::COLUMN.related_kind.eq("contact"))
        .filter(task::COLUMN.related_id.eq(new_contact.id))
        .count(&txn)
        .await?
        > 0;
    if already && reporter.email_status == EmailStatus::ReportedWrong {
        txn.commit().await?;
        return Ok(Reported {
            new_contact_id: new_contact.id,
            first_time: false,
        });
    }

    set_email_status(
        &txn,
        reporter.id,
        EmailStatus::ReportedWrong,
        ActorKind::Contact,
        Some(reporter.id),
        Channel::MagicLink,
        now,
    )
    .await?;
    let reporter_label = reporter
        .email
        .clone()
        .unwrap_or_else(|| reporter.name.clone());
    let detail = note.map(|n| format!(" Note: {n}")).unwrap_or_default();
    tasks::open(
        &txn,
        tasks::NewTask {
            account_id: Some(reporter.account_id),
            kind: TaskKind::WrongPerson,
            title: format!(
                "{reporter_label} says mail for {} should go to {name} <{email}>.{detail}",
                company.display_name
            ),
            related: Some(("contact", new_contact.id)),
            due_date: now.date_naive(),
            priority: 2,
            assignee_id: company.collector_id,
        },
        now,
    )
    .await?;
    if new_contact.email_status != EmailStatus::Verified {
        let token = magic_links::issue(
            &txn,
            new_contact.id,
            LinkPurpose::VerifyContact,
            None,
            magic_links::PURPOSE_TTL,
            magic_links::Creator {
                kind: ActorKind::Contact,
                id: Some(reporter.id),
            },
            now,
        )
        .await?;
        let ctx =
            json!({ "link": format!("{public_url}/l/{token}"), "reporter_name": reporter.name });
        mail::send_to_contact(&txn, public_url, new_contact.id, "verify_contact", ctx, now).await?;
    }
    txn.commit().await?;
    Ok(Reported {
        new_contact_id: new_contact.id,
        first_time: true,
    })
}

/// Changes a contact's email address: the new one starts unverified, every link and session
/// of the contact ends (they were sent to the old address), and the change is logged.
///
/// # Errors
/// `Validation` on `email`; `NotFound` for an unknown contact.
pub async fn change_email(
    db: &(impl ConnectionTrait + TransactionTrait),
    contact_id: i64,
    new_email: &str,
    actor: (ActorKind, Option<i64>, Channel),
    now: DateTime<Utc>,
) -> Result<contact::Model, AppError> {
    let email = new_email.trim().to_ascii_lowercase();
    if !staff::looks_like_email(&email) || email.len() > 254 {
        return Err(AppError::validation(
            "email",
            "enter an email address like name@example.com",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let before = contact::Entity::find_by_id(contact_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if before.email.as_deref() == Some(email.as_str()) {
        txn.commit().await?;
        return Ok(before);
    }
    contact::Entity::update_many()
        .col_expr(contact::Column::Email, Expr::value(Some(email.clone())))
        .col_expr(
            contact::Column::EmailStatus,
            Expr::value(EmailStatus::Unverified),
        )
        .col_expr(
            contact::Column::Version,
            Expr::col(contact::Column::Version).add(1),
        )
        .col_expr(contact::Column::UpdatedAt, Expr::value(now))
        .filter(contact::COLUMN.id.eq(contact_id))
        .exec(&txn)
        .await?;
    magic_links::revoke_for_contact(&txn, contact_id, now).await?;
    let (actor_kind, actor_id, channel) = actor;
    let event = audit::append(
        &txn,
        Change {
            actor_kind,
            actor_id,
            channel,
            account_id: Some(before.account_id),
            entity: "contact",
            entity_id: Some(contact_id),
            field: Some("email"),
            old_value: before.email.clone(),
            new_value: Some(email),
        },
        now,
    )
    .await?;
    crate::services::webhooks::profile_changed(&txn, &event, now).await?;
    let after = contact::Entity::find_by_id(contact_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(after)
}
