//! Customers keep their own profile. Ordinary changes (company names, website, contacts'
//! names and phones, confirming the data is current) apply at once with an audit event.
//! Sensitive ones — bank details, the remit-to address, the TIN, the billing email — go
//! through three steps: sealed and held while a one-time code goes to the contact's current
//! address (a link alone is low assurance); once the code is entered, shown as "awaiting
//! review", the previous primary billing contact told by email and an approval task opened;
//! then staff approve (the change is applied) or reject with a reason.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionSession,
    TransactionTrait, prelude::*,
};
use serde_json::json;

use crate::entities::{account, address, contact, payment_method, profile_change, task};
use crate::error::AppError;
use crate::model::enums::{
    ActorKind, AddressKind, ChangeStatus, Channel, PaymentMethodKind, RecordStatus, TaskKind,
    TaskStatus,
};
use crate::model::profile::{
    AddressInput, ChangeView, Profile, ProfileAddress, ProfileContact, SensitiveChange, last4,
    mask_email,
};
use crate::services::audit::{self, Change};
use crate::services::crypto;
use crate::services::mail;
use crate::services::tasks;
use crate::services::tokens::hash_token;
use crate::state::SecretKey;

/// How long a step-up code works.
pub const CODE_TTL: Duration = Duration::minutes(10);
/// Wrong codes allowed before the change is dropped.
pub const CODE_ATTEMPTS: i32 = 5;
/// Key of the email carrying the step-up code.
pub const CODE_TEMPLATE: &str = "profile_step_up";
/// Key of the email telling the previous primary contact about a pending change.
pub const NOTICE_TEMPLATE: &str = "profile_change_notice";
/// Key of the email telling the requester staff's decision.
pub const DECISION_TEMPLATE: &str = "profile_change_decided";

fn address_text(a: &address::Model) -> String {
    let mut parts = vec![a.line1.clone()];
    if let Some(l2) = a.line2.as_deref().filter(|l| !l.is_empty()) {
        parts.push(l2.to_owned());
    }
    parts.push(format!("{}, {} {}", a.city, a.region, a.postal_code));
    parts.push(a.country.clone());
    parts.join(", ")
}

fn change_view(c: profile_change::Model, account: &str, requested_by: &str) -> ChangeView {
    ChangeView {
        id: c.id,
        kind: c.kind,
        summary: c.summary,
        status: c.status,
        created_at: c.created_at,
        decision_note: c.decision_note,
        account: account.to_owned(),
        requested_by: requested_by.to_owned(),
    }
}

/// The profile of `account_id`, sensitive values masked.
///
/// # Errors
/// `NotFound` for an unknown account; database errors as `Internal`.
pub async fn profile(db: &impl ConnectionTrait, account_id: i64) -> Result<Profile, AppError> {
    let a = account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let addresses = address::Entity::find()
        .filter(address::COLUMN.account_id.eq(account_id))
        .order_by_asc(address::COLUMN.id)
        .all(db)
        .await?;
    let contacts = contact::Entity::find()
        .filter(contact::COLUMN.account_id.eq(account_id))
        .order_by_desc(contact::COLUMN.is_primary_billing)
        .order_by_asc(contact::COLUMN.id)
        .all(db)
        .await?;
    let banks = payment_method::Entity::find()
        .filter(payment_method::COLUMN.account_id.eq(account_id))
        .filter(
            payment_method::COLUMN
                .kind
                .eq(PaymentMethodKind::BankAccount),
        )
        .filter(payment_method::COLUMN.status.eq(RecordStatus::Active))
        .all(db)
        .await?;
    let changes = profile_change::Entity::find()
        .filter(profile_change::COLUMN.account_id.eq(account_id))
        .order_by_desc(profile_change::COLUMN.id)
        .all(db)
        .await?;
    let uploads = crate::entities::document::Entity::find()
        .filter(crate::entities::document::COLUMN.account_id.eq(account_id))
        .filter(
            crate::entities::document::COLUMN
                .kind
                .eq(crate::model::enums::DocumentKind::CustomerUpload),
        )
        .order_by_desc(crate::entities::document::COLUMN.id)
        .all(db)
        .await?;
    let documents = crate::model::profile::SUPPLIED_DOCUMENTS
        .iter()
        .map(|(kind, label)| crate::model::profile::SuppliedDocument {
            kind: (*kind).to_owned(),
            label: (*label).to_owned(),
            latest: uploads
                .iter()
                .find(|d| d.upload_kind.as_deref() == Some(*kind))
                .map(|d| (d.id, d.number.clone(), d.issue_date)),
        })
        .collect();
    Ok(Profile {
        documents,
        legal_name: a.legal_name,
        display_name: a.display_name.clone(),
        website: a.website.unwrap_or_default(),
        addresses: addresses
            .iter()
            .map(|ad| ProfileAddress {
                kind: ad.kind,
                text: address_text(ad),
                fields: AddressInput {
                    line1: ad.line1.clone(),
                    line2: ad.line2.clone().unwrap_or_default(),
                    city: ad.city.clone(),
                    region: ad.region.clone(),
                    postal_code: ad.postal_code.clone(),
                    country: ad.country.clone(),
                },
            })
            .collect(),
        contacts: contacts
            .into_iter()
            .map(|c| ProfileContact {
                id: c.id,
                name: c.name,
                email: c.email.unwrap_or_default(),
                phone: c.phone.unwrap_or_default(),
                role: c.role,
                is_primary_billing: c.is_primary_billing,
                email_status: c.email_status,
            })
            .collect(),
        bank_accounts: banks
            .iter()
            .map(|b| {
                format!(
                    "{} ••••{}",
                    b.holder_name.clone().unwrap_or_default(),
                    b.last4
                )
            })
            .collect(),
        tin_masked: a.tin_last4.map(|l| format!("•••••{l}")),
        verified_at: a.verified_at,
        verified_by: a.verified_by,
        changes: changes
            .into_iter()
            .map(|c| change_view(c, &a.display_name, ""))
            .collect(),
    })
}

async fn requester(
    db: &impl ConnectionTrait,
    contact_id: i64,
    account_id: i64,
) -> Result<contact::Model, AppError> {
    let who = contact::Entity::find_by_id(contact_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if who.account_id != account_id {
        return Err(AppError::Forbidden);
    }
    Ok(who)
}

fn contact_change<'a>(
    who: &contact::Model,
    entity: &'a str,
    entity_id: i64,
    field: &'a str,
    old: Option<String>,
    new: Option<String>,
) -> Change<'a> {
    Change {
        actor_kind: ActorKind::Contact,
        actor_id: Some(who.id),
        channel: Channel::Portal,
        account_id: Some(who.account_id),
        entity,
        entity_id: Some(entity_id),
        field: Some(field),
        old_value: old,
        new_value: new,
    }
}

/// Appends the audit event of a change the customer made to their own data, and queues the
/// `profile.changed` webhook for it in the same transaction.
async fn record_change(
    db: &impl ConnectionTrait,
    change: audit::Change<'_>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let event = audit::append(db, change, now).await?;
    crate::services::webhooks::profile_changed(db, &event, now).await?;
    Ok(())
}

/// Updates the company's names and website (not sensitive: applied at once, audited).
///
/// # Errors
/// `Validation` naming the field; database errors as `Internal`.
pub async fn update_company(
    db: &(impl ConnectionTrait + TransactionTrait),
    contact_id: i64,
    account_id: i64,
    legal_name: &str,
    display_name: &str,
    website: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    use crate::model::accounts::{AccountField, check_account_field};
    let check = |f: AccountField, v: &str| {
        check_account_field(f, v).map_err(|m| AppError::validation(f.as_str(), m))
    };
    let legal = check(AccountField::LegalName, legal_name)?;
    let display = check(AccountField::DisplayName, display_name)?;
    let site = check(AccountField::Website, website)?;
    let who = requester(db, contact_id, account_id).await?;
    let txn = crate::db::begin_write(db).await?;
    let before = account::Entity::find_by_id(account_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let changes = [
        ("legal_name", before.legal_name.clone(), legal.clone()),
        ("display_name", before.display_name.clone(), display.clone()),
        (
            "website",
            before.website.clone().unwrap_or_default(),
            site.clone(),
        ),
    ];
    if changes.iter().all(|(_, old, new)| old == new) {
        return Ok(());
    }
    account::Entity::update_many()
        .col_expr(account::Column::LegalName, Expr::value(legal))
        .col_expr(account::Column::DisplayName, Expr::value(display))
        .col_expr(
            account::Column::Website,
            Expr::value((!site.is_empty()).then_some(site)),
        )
        .col_expr(account::Column::Version, Expr::value(before.version + 1))
        .col_expr(account::Column::UpdatedAt, Expr::value(now))
        .filter(account::COLUMN.id.eq(account_id))
        .exec(&txn)
        .await?;
    for (field, old, new) in changes.iter().filter(|(_, o, n)| o != n) {
        record_change(
            &txn,
            contact_change(
                &who,
                "account",
                account_id,
                field,
                Some(old.clone()),
                Some(new.clone()),
            ),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Sets the company's mailing address (not sensitive: applied at once, audited; the
/// remit-to address is the sensitive one).
///
/// # Errors
/// `Validation` naming the field; database errors as `Internal`.
pub async fn update_mailing_address(
    db: &(impl ConnectionTrait + TransactionTrait),
    contact_id: i64,
    account_id: i64,
    input: &AddressInput,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let a = crate::model::profile::check_address(input)
        .map_err(|(field, message)| AppError::validation(field, message))?;
    let who = requester(db, contact_id, account_id).await?;
    let before = address::Entity::find()
        .filter(address::COLUMN.account_id.eq(account_id))
        .filter(address::COLUMN.kind.eq(AddressKind::Mailing))
        .one(db)
        .await?;
    let line2 = (!a.line2.is_empty()).then(|| a.line2.clone());
    let txn = crate::db::begin_write(db).await?;
    let after = match &before {
        Some(old) => {
            address::Entity::update_many()
                .col_expr(address::Column::Line1, Expr::value(a.line1.clone()))
                .col_expr(address::Column::Line2, Expr::value(line2))
                .col_expr(address::Column::City, Expr::value(a.city.clone()))
                .col_expr(address::Column::Region, Expr::value(a.region.clone()))
                .col_expr(
                    address::Column::PostalCode,
                    Expr::value(a.postal_code.clone()),
                )
                .col_expr(address::Column::Country, Expr::value(a.country.clone()))
                .col_expr(address::Column::Version, Expr::value(old.version + 1))
                .col_expr(address::Column::UpdatedAt, Expr::value(now))
                .filter(address::COLUMN.id.eq(old.id))
                .exec(&txn)
                .await?;
            address::Entity::find_by_id(old.id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound)?
        }
        None => {
            address::ActiveModel {
                account_id: Set(account_id),
                kind: Set(AddressKind::Mailing),
                line1: Set(a.line1.clone()),
                line2: Set(line2),
                city: Set(a.city.clone()),
                region: Set(a.region.clone()),
                postal_code: Set(a.postal_code.clone()),
                country: Set(a.country.clone()),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
    };
    let old_text = before.as_ref().map(address_text);
    let new_text = address_text(&after);
    if old_text.as_deref() != Some(new_text.as_str()) {
        record_change(
            &txn,
            contact_change(
                &who,
                "address",
                after.id,
                "mailing",
                old_text,
                Some(new_text),
            ),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Confirms the profile is current, even when nothing changed: records when and by whom.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn verify(
    db: &(impl ConnectionTrait + TransactionTrait),
    contact_id: i64,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let who = requester(db, contact_id, account_id).await?;
    let by = format!("{} <{}>", who.name, who.email.clone().unwrap_or_default());
    let txn = crate::db::begin_write(db).await?;
    account::Entity::update_many()
        .col_expr(account::Column::VerifiedAt, Expr::value(now))
        .col_expr(account::Column::VerifiedBy, Expr::value(by.clone()))
        .col_expr(account::Column::UpdatedAt, Expr::value(now))
        .filter(account::COLUMN.id.eq(account_id))
        .exec(&txn)
        .await?;
    audit::append(
        &txn,
        contact_change(&who, "account", account_id, "verified_at", None, Some(by)),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A six-digit code.
fn new_code() -> String {
    format!("{:06}", rand::random::<u32>() % 1_000_000)
}

fn code_hash(change_id: i64, code: &str) -> String {
    hash_token(&format!("{change_id}:{}", code.trim()))
}

/// Holds a sensitive change and emails a step-up code to the contact's current address.
/// Returns the change's id, to confirm with [`confirm`].
///
/// # Errors
/// `Validation` naming the bad field; `Validation` (`email`) when the contact has no email
/// address to send the code to; database errors as `Internal`.
#[allow(clippy::too_many_arguments)]
pub async fn request_change(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &SecretKey,
    public_url: &str,
    contact_id: i64,
    account_id: i64,
    change: &SensitiveChange,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let change = change
        .checked()
        .map_err(|(field, message)| AppError::validation(field, message))?;
    let who = requester(db, contact_id, account_id).await?;
    let payload = serde_json::to_vec(&change).map_err(|_| AppError::Internal)?;
    let code = new_code();
    let txn = crate::db::begin_write(db).await?;
    let held = profile_change::ActiveModel {
        account_id: Set(account_id),
        contact_id: Set(Some(who.id)),
        kind: Set(change.kind()),
        payload_encrypted: Set(crypto::seal(key, &payload)?),
        summary: Set(change.summary()),
        status: Set(ChangeStatus::AwaitingCode),
        code_hash: Set(None),
        code_expires_at: Set(Some(now + CODE_TTL)),
        code_attempts: Set(0),
        decision_note: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    profile_change::Entity::update_many()
        .col_expr(
            profile_change::Column::CodeHash,
            Expr::value(code_hash(held.id, &code)),
        )
        .filter(profile_change::COLUMN.id.eq(held.id))
        .exec(&txn)
        .await?;
    mail::send_to_contact(
        &txn,
        public_url,
        who.id,
        CODE_TEMPLATE,
        json!({ "code": code, "summary": held.summary, "minutes": CODE_TTL.num_minutes() }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(held.id)
}

/// Checks the step-up code of change `change_id`. Right: the change waits for staff, the
/// previous primary billing contact is told, an approval task opens. Wrong: counted; after
/// [`CODE_ATTEMPTS`] or [`CODE_TTL`] the change is dropped.
///
/// # Errors
/// `Validation` (`code`) for a wrong or expired code; `NotFound` for another contact's change.
pub async fn confirm(
    db: &(impl ConnectionTrait + TransactionTrait),
    public_url: &str,
    contact_id: i64,
    change_id: i64,
    code: &str,
    now: DateTime<Utc>,
) -> Result<ChangeView, AppError> {
    let held = profile_change::Entity::find_by_id(change_id)
        .filter(profile_change::COLUMN.contact_id.eq(contact_id))
        .filter(profile_change::COLUMN.status.eq(ChangeStatus::AwaitingCode))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let expired =
        held.code_expires_at.is_none_or(|at| at < now) || held.code_attempts >= CODE_ATTEMPTS;
    if expired || held.code_hash.as_deref() != Some(code_hash(change_id, code).as_str()) {
        let attempts = held.code_attempts + 1;
        let dead = expired || attempts >= CODE_ATTEMPTS;
        profile_change::Entity::update_many()
            .col_expr(profile_change::Column::CodeAttempts, Expr::value(attempts))
            .col_expr(
                profile_change::Column::Status,
                Expr::value(if dead {
                    ChangeStatus::Expired
                } else {
                    ChangeStatus::AwaitingCode
                }),
            )
            .filter(profile_change::COLUMN.id.eq(change_id))
            .exec(db)
            .await?;
        return Err(AppError::validation(
            "code",
            if dead {
                "this code has expired; please make the change again"
            } else {
                "that code is not right; check the email and try again"
            },
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let moved = profile_change::Entity::update_many()
        .col_expr(
            profile_change::Column::Status,
            Expr::value(ChangeStatus::PendingReview),
        )
        .col_expr(
            profile_change::Column::CodeHash,
            Expr::value(Option::<String>::None),
        )
        .filter(profile_change::COLUMN.id.eq(change_id))
        .filter(profile_change::COLUMN.status.eq(ChangeStatus::AwaitingCode))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict(
            "this change was already confirmed".to_owned(),
        ));
    }
    let who = requester(&txn, contact_id, held.account_id).await?;
    let company = account::Entity::find_by_id(held.account_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::append(
        &txn,
        contact_change(
            &who,
            "profile_change",
            change_id,
            held.kind.as_str(),
            None,
            Some(format!("requested: {}", held.summary)),
        ),
        now,
    )
    .await?;
    tasks::open(
        &txn,
        tasks::NewTask {
            account_id: Some(held.account_id),
            kind: TaskKind::Approval,
            title: format!("Approve {} for {}", held.summary, company.display_name),
            related: Some(("profile_change", change_id)),
            due_date: now.date_naive() + Duration::days(1),
            priority: 1,
            assignee_id: company.collector_id,
        },
        now,
    )
    .await?;
    // The previous primary billing contact hears of it — someone else may be at work.
    let primary = contact::Entity::find()
        .filter(contact::COLUMN.account_id.eq(held.account_id))
        .filter(contact::COLUMN.is_primary_billing.eq(true))
        .filter(contact::COLUMN.email.is_not_null())
        .one(&txn)
        .await?
        .unwrap_or(who.clone());
    match mail::send_to_contact(
        &txn,
        public_url,
        primary.id,
        NOTICE_TEMPLATE,
        json!({
            "summary": held.summary,
            "requested_by": format!("{} ({})", who.name, mask_email(who.email.as_deref().unwrap_or_default())),
        }),
        now,
    )
    .await
    {
        Ok(_) | Err(AppError::Validation { .. }) => {}
        Err(err) => return Err(err),
    }
    txn.commit().await?;
    let after = profile_change::Entity::find_by_id(change_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(change_view(after, &company.display_name, &who.name))
}

/// Changes waiting for staff, oldest first.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn pending(db: &impl ConnectionTrait) -> Result<Vec<ChangeView>, AppError> {
    let rows = profile_change::Entity::find()
        .filter(
            profile_change::COLUMN
                .status
                .eq(ChangeStatus::PendingReview),
        )
        .order_by_asc(profile_change::COLUMN.id)
        .all(db)
        .await?;
    // Companies and requesters in one query each, whatever the number of changes.
    let companies: std::collections::HashMap<i64, String> = account::Entity::find()
        .filter(account::COLUMN.id.is_in(rows.iter().map(|c| c.account_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.display_name))
        .collect();
    let people: std::collections::HashMap<i64, String> = contact::Entity::find()
        .filter(
            contact::COLUMN
                .id
                .is_in(rows.iter().filter_map(|c| c.contact_id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|c| {
            let company = companies.get(&c.account_id).cloned().unwrap_or_default();
            let who = c
                .contact_id
                .and_then(|id| people.get(&id).cloned())
                .unwrap_or_default();
            change_view(c, &company, &who)
        })
        .collect())
}

/// Staff decide a pending change: approving applies it (sealed values stay sealed);
/// rejecting needs a reason. The requester is emailed either way; the audit log records it.
///
/// # Errors
/// `Validation` (`note`) for a rejection without a reason; `Conflict` when the change was
/// already decided; database errors as `Internal`.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &SecretKey,
    public_url: &str,
    staff_id: i64,
    change_id: i64,
    approve: bool,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let note = note.trim();
    if !approve && note.is_empty() {
        return Err(AppError::validation(
            "note",
            "say why the change is rejected",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let status = if approve {
        ChangeStatus::Approved
    } else {
        ChangeStatus::Rejected
    };
    let moved = profile_change::Entity::update_many()
        .col_expr(profile_change::Column::Status, Expr::value(status))
        .col_expr(profile_change::Column::DecidedBy, Expr::value(staff_id))
        .col_expr(profile_change::Column::DecidedAt, Expr::value(now))
        .col_expr(
            profile_change::Column::DecisionNote,
            Expr::value((!note.is_empty()).then(|| note.to_owned())),
        )
        .filter(profile_change::COLUMN.id.eq(change_id))
        .filter(
            profile_change::COLUMN
                .status
                .eq(ChangeStatus::PendingReview),
        )
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict(
            "this change was already decided".to_owned(),
        ));
    }
    let held = profile_change::Entity::find_by_id(change_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if approve {
        let payload = crypto::open(key, &held.payload_encrypted)?;
        let change: SensitiveChange =
            serde_json::from_slice(&payload).map_err(|_| AppError::Internal)?;
        apply(&txn, key, &held, &change, now).await?;
    }
    let decided = audit::append(
        &txn,
        Change {
            actor_kind: ActorKind::Staff,
            actor_id: Some(staff_id),
            channel: Channel::StaffUi,
            account_id: Some(held.account_id),
            entity: "profile_change",
            entity_id: Some(change_id),
            field: Some(held.kind.as_str()),
            old_value: Some("pending_review".to_owned()),
            new_value: Some(format!("{status}: {}", held.summary)),
        },
        now,
    )
    .await?;
    if approve {
        crate::services::webhooks::profile_changed(&txn, &decided, now).await?;
    }
    task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(TaskStatus::Done))
        .col_expr(task::Column::Outcome, Expr::value(status.as_str()))
        .col_expr(task::Column::CompletedAt, Expr::value(now))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::COLUMN.kind.eq(TaskKind::Approval))
        .filter(task::COLUMN.related_id.eq(change_id))
        .exec(&txn)
        .await?;
    if let Some(contact_id) = held.contact_id {
        match mail::send_to_contact(
            &txn,
            public_url,
            contact_id,
            DECISION_TEMPLATE,
            json!({
                "summary": held.summary,
                "approved": approve,
                "note": (!note.is_empty()).then_some(note),
            }),
            now,
        )
        .await
        {
            Ok(_) | Err(AppError::Validation { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    txn.commit().await?;
    Ok(())
}

async fn apply(
    txn: &impl ConnectionTrait,
    key: &SecretKey,
    held: &profile_change::Model,
    change: &SensitiveChange,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    match change {
        SensitiveChange::BankAccount {
            holder,
            routing,
            account,
        } => {
            payment_method::Entity::update_many()
                .col_expr(payment_method::Column::IsDefault, Expr::value(false))
                .filter(payment_method::COLUMN.account_id.eq(held.account_id))
                .exec(txn)
                .await?;
            payment_method::ActiveModel {
                account_id: Set(held.account_id),
                kind: Set(PaymentMethodKind::BankAccount),
                brand: Set(None),
                last4: Set(last4(account)),
                holder_name: Set(Some(holder.clone())),
                routing_number: Set(Some(routing.clone())),
                account_number_encrypted: Set(Some(crypto::seal(key, account.as_bytes())?)),
                is_default: Set(true),
                status: Set(RecordStatus::Active),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
        SensitiveChange::RemitTo(a) => {
            address::Entity::delete_many()
                .filter(address::COLUMN.account_id.eq(held.account_id))
                .filter(address::COLUMN.kind.eq(AddressKind::RemitTo))
                .exec(txn)
                .await?;
            address::ActiveModel {
                account_id: Set(held.account_id),
                kind: Set(AddressKind::RemitTo),
                line1: Set(a.line1.clone()),
                line2: Set((!a.line2.is_empty()).then(|| a.line2.clone())),
                city: Set(a.city.clone()),
                region: Set(a.region.clone()),
                postal_code: Set(a.postal_code.clone()),
                country: Set(a.country.clone()),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
        SensitiveChange::Tin(tin) => {
            account::Entity::update_many()
                .col_expr(
                    account::Column::TinEncrypted,
                    Expr::value(crypto::seal(key, tin.as_bytes())?),
                )
                .col_expr(account::Column::TinLast4, Expr::value(last4(tin)))
                .col_expr(account::Column::UpdatedAt, Expr::value(now))
                .filter(account::COLUMN.id.eq(held.account_id))
                .exec(txn)
                .await?;
        }
        SensitiveChange::BillingEmail(email) => {
            let primary = contact::Entity::find()
                .filter(contact::COLUMN.account_id.eq(held.account_id))
                .filter(contact::COLUMN.is_primary_billing.eq(true))
                .one(txn)
                .await?;
            // A colleague already on the account takes the billing role as they are.
            let colleague = contact::Entity::find()
                .filter(contact::COLUMN.account_id.eq(held.account_id))
                .filter(contact::COLUMN.email.eq(email.clone()))
                .one(txn)
                .await?;
            if let Some(colleague) = colleague {
                contact::Entity::update_many()
                    .col_expr(contact::Column::IsPrimaryBilling, Expr::value(false))
                    .col_expr(contact::Column::UpdatedAt, Expr::value(now))
                    .filter(contact::COLUMN.account_id.eq(held.account_id))
                    .filter(contact::COLUMN.id.ne(colleague.id))
                    .exec(txn)
                    .await?;
                contact::Entity::update_many()
                    .col_expr(contact::Column::IsPrimaryBilling, Expr::value(true))
                    .col_expr(contact::Column::Version, Expr::value(colleague.version + 1))
                    .col_expr(contact::Column::UpdatedAt, Expr::value(now))
                    .filter(contact::COLUMN.id.eq(colleague.id))
                    .exec(txn)
                    .await?;
                return Ok(());
            }
            let target = match primary {
                Some(p) => p.id,
                None => held.contact_id.ok_or(AppError::NotFound)?,
            };
            contact::Entity::update_many()
                .col_expr(contact::Column::Email, Expr::value(Some(email.clone())))
                .col_expr(
                    contact::Column::EmailStatus,
                    Expr::value(crate::model::enums::EmailStatus::Unverified),
                )
                .col_expr(contact::Column::IsPrimaryBilling, Expr::value(true))
                .col_expr(contact::Column::UpdatedAt, Expr::value(now))
                .filter(contact::COLUMN.id.eq(target))
                .exec(txn)
                .await?;
            crate::services::magic_links::revoke_for_contact(txn, target, now).await?;
        }
    }
    Ok(())
}

/// A contact as the customer enters it on the profile page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactInput {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub role: crate::model::enums::ContactRole,
}

fn checked_contact(input: &ContactInput, with_email: bool) -> Result<ContactInput, AppError> {
    use crate::model::accounts::{ContactField, check_contact_field};
    let check = |f: ContactField, v: &str| {
        check_contact_field(f, v).map_err(|m| AppError::validation(f.as_str(), m))
    };
    let email = if with_email {
        let e = check(ContactField::Email, &input.email)?;
        if e.is_empty() {
            return Err(AppError::validation(
                "email",
                "enter an email address like name@example.com",
            ));
        }
        e
    } else {
        String::new()
    };
    Ok(ContactInput {
        name: check(ContactField::Name, &input.name)?,
        email,
        phone: check(ContactField::Phone, &input.phone)?,
        role: input.role,
    })
}

/// Adds a contact to the caller's account; the address starts unverified.
///
/// # Errors
/// `Validation` naming the field (also for an address already on the account).
pub async fn add_contact(
    db: &(impl ConnectionTrait + TransactionTrait),
    contact_id: i64,
    account_id: i64,
    input: &ContactInput,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let input = checked_contact(input, true)?;
    let who = requester(db, contact_id, account_id).await?;
    let txn = crate::db::begin_write(db).await?;
    let taken = contact::Entity::find()
        .filter(contact::COLUMN.account_id.eq(account_id))
        .filter(contact::COLUMN.email.eq(input.email.clone()))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(AppError::validation(
            "email",
            "this address is already a contact of yours",
        ));
    }
    let added = contact::ActiveModel {
        account_id: Set(account_id),
        name: Set(input.name.clone()),
        email: Set(Some(input.email.clone())),
        phone: Set((!input.phone.is_empty()).then(|| input.phone.clone())),
        role: Set(input.role),
        is_primary_billing: Set(false),
        email_status: Set(crate::model::enums::EmailStatus::Unverified),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record_change(
        &txn,
        contact_change(
            &who,
            "contact",
            added.id,
            "added",
            None,
            Some(format!("{} <{}>", input.name, input.email)),
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(added.id)
}

/// Changes a contact's name, phone and role (its email goes through the billing-email
/// change when it is the billing contact, or remove-and-add otherwise).
///
/// # Errors
/// `Validation` naming the field; `NotFound` for another account's contact.
pub async fn update_contact(
    db: &(impl ConnectionTrait + TransactionTrait),
    contact_id: i64,
    account_id: i64,
    target_id: i64,
    input: &ContactInput,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let input = checked_contact(input, false)?;
    let who = requester(db, contact_id, account_id).await?;
    let txn = crate::db::begin_write(db).await?;
    let before = contact::Entity::find_by_id(target_id)
        .filter(contact::COLUMN.account_id.eq(account_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    contact::Entity::update_many()
        .col_expr(contact::Column::Name, Expr::value(input.name.clone()))
        .col_expr(
            contact::Column::Phone,
            Expr::value((!input.phone.is_empty()).then(|| input.phone.clone())),
        )
        .col_expr(contact::Column::Role, Expr::value(input.role))
        .col_expr(contact::Column::Version, Expr::value(before.version + 1))
        .col_expr(contact::Column::UpdatedAt, Expr::value(now))
        .filter(contact::COLUMN.id.eq(target_id))
        .exec(&txn)
        .await?;
    let changes = [
        ("name", before.name.clone(), input.name.clone()),
        (
            "phone",
            before.phone.clone().unwrap_or_default(),
            input.phone.clone(),
        ),
        (
            "role",
            before.role.as_str().to_owned(),
            input.role.as_str().to_owned(),
        ),
    ];
    for (field, old, new) in changes.iter().filter(|(_, o, n)| o != n) {
        record_change(
            &txn,
            contact_change(
                &who,
                "contact",
                target_id,
                field,
                Some(old.clone()),
                Some(new.clone()),
            ),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Removes a contact of the caller's account — not the billing contact and not oneself.
///
/// # Errors
/// `Validation` (`contact`) for the billing contact or oneself; `NotFound` for another
/// account's contact.
pub async fn remove_contact(
    db: &(impl ConnectionTrait + TransactionTrait),
    contact_id: i64,
    account_id: i64,
    target_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let who = requester(db, contact_id, account_id).await?;
    if target_id == contact_id {
        return Err(AppError::validation(
            "contact",
            "you cannot remove yourself; ask a colleague or us",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let before = contact::Entity::find_by_id(target_id)
        .filter(contact::COLUMN.account_id.eq(account_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if before.is_primary_billing {
        return Err(AppError::validation(
            "contact",
            "the billing contact cannot be removed; change the billing email first",
        ));
    }
    contact::Entity::delete_by_id(target_id).exec(&txn).await?;
    record_change(
        &txn,
        contact_change(
            &who,
            "contact",
            target_id,
            "removed",
            Some(format!(
                "{} <{}>",
                before.name,
                before.email.clone().unwrap_or_default()
            )),
            None,
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Files an uploaded file (`file_id`, the account's own) as the document of `kind` (a key of
/// `model::profile::SUPPLIED_DOCUMENTS`): a customer-upload document staff see in the
/// account's documents. Returns its id.
///
/// # Errors
/// `Validation` (`kind`, `file`) for an unknown kind or a file that is not the account's.
pub async fn supply_document(
    db: &(impl ConnectionTrait + TransactionTrait),
    contact_id: i64,
    account_id: i64,
    kind: &str,
    file_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    use crate::entities::{document, stored_file};
    use crate::model::enums::{DocumentKind, DocumentStatus};
    let (kind, label) = crate::model::profile::SUPPLIED_DOCUMENTS
        .iter()
        .find(|(k, _)| *k == kind)
        .ok_or_else(|| {
            AppError::validation(
                "kind",
                "choose W-9, credit application or exemption certificate",
            )
        })?;
    let who = requester(db, contact_id, account_id).await?;
    let file = stored_file::Entity::find_by_id(file_id)
        .filter(stored_file::COLUMN.account_id.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::validation("file", "upload the file first"))?;
    let txn = crate::db::begin_write(db).await?;
    let doc = document::ActiveModel {
        account_id: Set(account_id),
        kind: Set(DocumentKind::CustomerUpload),
        number: Set(format!(
            "{}-{}-{}",
            kind.to_uppercase(),
            now.format("%Y%m%d"),
            file.id
        )),
        external_id: Set(None),
        po_number: Set(None),
        issue_date: Set(now.date_naive()),
        due_date: Set(None),
        currency: Set("USD".to_owned()),
        total_minor: Set(0),
        tax_minor: Set(0),
        open_minor: Set(0),
        disputed_minor: Set(0),
        status: Set(DocumentStatus::Open),
        file_id: Set(Some(file.id)),
        upload_kind: Set(Some((*kind).to_owned())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        contact_change(
            &who,
            "document",
            doc.id,
            "supplied",
            None,
            Some(format!("{label}: {}", file.file_name)),
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(doc.id)
}
