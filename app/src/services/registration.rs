//! Registration for customers we only reach by post: the account number and a second fact
//! from the letter prove the account, and the billing contact they name gets a link to
//! confirm their email address.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionSession, TransactionTrait,
};
use serde_json::json;

use crate::entities::{account, address, contact, document};
use crate::error::AppError;
use crate::model::enums::{
    AccountKind, ActorKind, AddressKind, Channel, ContactRole, DocumentKind, DocumentStatus,
    EmailStatus, LinkPurpose,
};
use crate::model::promises::parse_amount;
use crate::model::registration::{
    NO_MATCH, Registration, check_phone, normalize_account_number, normalize_postal_code,
};
use crate::services::audit::{self, Change};
use crate::services::rate_limit::{self, Limit};
use crate::services::templates::VERIFY_CONTACT;
use crate::services::{magic_links, mail, staff};

/// Registration attempts per client address.
pub const ATTEMPTS_PER_CLIENT: Limit = Limit {
    max: 10,
    window: Duration::hours(1),
};
/// Registration attempts per account number, whoever makes them.
pub const ATTEMPTS_PER_ACCOUNT: Limit = Limit {
    max: 5,
    window: Duration::hours(1),
};

/// What a registration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub account_id: i64,
    pub contact_id: i64,
    /// False when the account already had a contact with this address.
    pub created: bool,
}

/// Checks the account number and second fact from a letter and, when both match, adds the
/// billing contact to the account (unverified) and mails them a confirmation link. Every
/// attempt with well-formed fields counts against the limits per client and per account
/// number, whether it matches or not.
///
/// # Errors
/// `Validation` naming the field for a missing or malformed field; `Validation` on
/// `account_number` with the same [`NO_MATCH`] message for an unknown account, a wrong
/// second fact and too many attempts alike; database and mail errors as `Internal`.
pub async fn register(
    db: &(impl ConnectionTrait + TransactionTrait),
    public_url: &str,
    form: &Registration,
    client_ip: &str,
    now: DateTime<Utc>,
) -> Result<Registered, AppError> {
    if let Some((field, message)) = form.first_error() {
        return Err(AppError::validation(field, message));
    }
    let email = form.email.trim().to_ascii_lowercase();
    if !staff::looks_like_email(&email) || email.len() > 254 {
        return Err(AppError::validation(
            "email",
            "enter an email address like name@example.com",
        ));
    }
    let phone = check_phone(form.phone.as_deref().unwrap_or_default())
        .map_err(|message| AppError::validation("phone", message))?;
    let name = form.name.trim();
    let number = normalize_account_number(&form.account_number);

    let by_client = rate_limit::hit(
        db,
        &format!("register:ip:{client_ip}"),
        ATTEMPTS_PER_CLIENT,
        now,
    )
    .await?;
    let by_account = rate_limit::hit(
        db,
        &format!("register:acct:{number}"),
        ATTEMPTS_PER_ACCOUNT,
        now,
    )
    .await?;
    let no_match = || AppError::validation("account_number", NO_MATCH);
    if !(by_client && by_account) {
        return Err(no_match());
    }
    let Some(company) = find_account(db, &number).await? else {
        return Err(no_match());
    };
    if !second_fact_matches(db, company.id, &form.second_fact).await? {
        return Err(no_match());
    }

    let txn = crate::db::begin_write(db).await?;
    let existing = contact::Entity::find()
        .filter(contact::COLUMN.account_id.eq(company.id))
        .filter(contact::COLUMN.email.eq(email.clone()))
        .one(&txn)
        .await?;
    let (person, created) = match existing {
        Some(c) => (c, false),
        None => {
            let has_primary = contact::Entity::find()
                .filter(contact::COLUMN.account_id.eq(company.id))
                .filter(contact::COLUMN.is_primary_billing.eq(true))
                .count(&txn)
                .await?
                > 0;
            let created = contact::ActiveModel {
                account_id: Set(company.id),
                external_id: Set(None),
                name: Set(name.to_owned()),
                email: Set(Some(email.clone())),
                phone: Set(phone),
                role: Set(ContactRole::Billing),
                is_primary_billing: Set(!has_primary),
                email_status: Set(EmailStatus::Unverified),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            (created, true)
        }
    };
    audit::append(
        &txn,
        Change {
            actor_kind: ActorKind::Contact,
            actor_id: Some(person.id),
            channel: Channel::Portal,
            account_id: Some(company.id),
            entity: "contact",
            entity_id: Some(person.id),
            field: Some("registered"),
            old_value: None,
            new_value: Some(magic_links::mask_email(&email)),
        },
        now,
    )
    .await?;
    let token = magic_links::issue(
        &txn,
        person.id,
        LinkPurpose::VerifyContact,
        None,
        magic_links::PURPOSE_TTL,
        magic_links::Creator {
            kind: ActorKind::Contact,
            id: Some(person.id),
        },
        now,
    )
    .await?;
    let base = public_url.trim_end_matches('/');
    let ctx = json!({ "link": format!("{base}/l/{token}") });
    mail::send_to_contact(&txn, public_url, person.id, VERIFY_CONTACT, ctx, now).await?;
    txn.commit().await?;
    Ok(Registered {
        account_id: company.id,
        contact_id: person.id,
        created,
    })
}

/// The customer account whose number, trimmed and in lower case, is `number`.
async fn find_account(
    db: &impl ConnectionTrait,
    number: &str,
) -> Result<Option<account::Model>, AppError> {
    let stored = Expr::expr(Func::lower(
        Func::cust("TRIM").arg(Expr::col(account::Column::AccountNumber)),
    ));
    Ok(account::Entity::find()
        .filter(stored.eq(number))
        .filter(account::COLUMN.kind.eq(AccountKind::Customer))
        .one(db)
        .await?)
}

/// Whether `fact` is the postal code of one of the account's billing or mailing addresses,
/// or the open amount of one of its open invoices.
async fn second_fact_matches(
    db: &impl ConnectionTrait,
    account_id: i64,
    fact: &str,
) -> Result<bool, AppError> {
    let code = normalize_postal_code(fact);
    let addresses = address::Entity::find()
        .filter(address::COLUMN.account_id.eq(account_id))
        .filter(address::Column::Kind.is_in([AddressKind::Billing, AddressKind::Mailing]))
        .all(db)
        .await?;
    if addresses
        .iter()
        .any(|a| normalize_postal_code(&a.postal_code) == code)
    {
        return Ok(true);
    }
    let Ok(amount) = parse_amount(fact) else {
        return Ok(false);
    };
    if amount <= 0 {
        return Ok(false);
    }
    let invoices = document::Entity::find()
        .filter(document::COLUMN.account_id.eq(account_id))
        .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
        .filter(
            document::Column::Status.is_in([DocumentStatus::Open, DocumentStatus::PaymentPending]),
        )
        .filter(document::COLUMN.open_minor.eq(amount))
        .count(db)
        .await?;
    Ok(invoices > 0)
}
