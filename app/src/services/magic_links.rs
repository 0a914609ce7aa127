//! Magic links: the only way a customer contact gets in.
//!
//! Opening a link (GET) only describes it; the button's POST consumes it, in one
//! conditional UPDATE, so a link is exchanged for at most one session.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, TransactionSession,
    TransactionTrait, prelude::*,
};

use crate::entities::{account, contact, magic_link};
use crate::error::AppError;
use crate::model::enums::{ActorKind, Channel, LinkPurpose};
use crate::model::portal::LinkPreview;
use crate::services::sessions;
use crate::services::tokens::{hash_token, new_token};

/// How long a sign-in link that the contact asked for stays valid.
pub const SIGN_IN_TTL: Duration = Duration::minutes(15);
/// How long links inside mail Settle sends on its own stay valid.
pub const PURPOSE_TTL: Duration = Duration::days(14);

/// Who asked for a link to be made.
#[derive(Debug, Clone, Copy)]
pub struct Creator {
    pub kind: ActorKind,
    pub id: Option<i64>,
}

/// Makes a link for a contact and returns the token (it is not stored and cannot be shown again).
///
/// # Errors
/// `NotFound` if the contact does not exist; database errors as `Internal`.
pub async fn issue(
    db: &impl ConnectionTrait,
    contact_id: i64,
    purpose: LinkPurpose,
    scope: Option<String>,
    ttl: Duration,
    creator: Creator,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let contact = contact::Entity::find_by_id(contact_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let token = new_token();
    magic_link::ActiveModel {
        token_hash: Set(hash_token(&token)),
        contact_id: Set(contact.id),
        account_id: Set(contact.account_id),
        purpose: Set(purpose),
        scope: Set(scope),
        created_by_kind: Set(creator.kind),
        created_by_id: Set(creator.id),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        consumed_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// What the link page may show before the button is pressed; `None` for any link that
/// cannot be used (unknown, expired, consumed or revoked look the same).
///
/// # Errors
/// Database errors as `Internal`.
pub async fn describe(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<LinkPreview>, AppError> {
    let Some(link) = usable(db, token, now).await? else {
        return Ok(None);
    };
    let contact = contact::Entity::find_by_id(link.contact_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let account = account::Entity::find_by_id(link.account_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Some(LinkPreview {
        company: account.display_name,
        masked_email: contact.email.as_deref().map(mask_email).unwrap_or_default(),
        purpose: link.purpose,
    }))
}

/// What an exchanged link opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The new session's cookie secret.
    pub secret: String,
    pub purpose: LinkPurpose,
    pub contact_id: i64,
    pub account_id: i64,
}

/// Exchanges a token for a session scoped to the link's contact, account and purpose.
/// A `verify_contact` link also marks the contact's email verified and opens the portal.
///
/// # Errors
/// `NotFound` for every link that cannot be used, including one consumed a moment ago
/// by a concurrent request.
pub async fn consume(
    db: &(impl ConnectionTrait + TransactionTrait),
    token: &str,
    now: DateTime<Utc>,
) -> Result<Opened, AppError> {
    let hash = hash_token(token);
    let txn = crate::db::begin_write(db).await?;
    let claimed = magic_link::Entity::update_many()
        .col_expr(magic_link::Column::ConsumedAt, Expr::value(now))
        .filter(magic_link::COLUMN.token_hash.eq(hash.clone()))
        .filter(magic_link::COLUMN.consumed_at.is_null())
        .filter(magic_link::COLUMN.revoked_at.is_null())
        .filter(magic_link::COLUMN.expires_at.gt(now))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::NotFound);
    }
    let link = magic_link::Entity::find()
        .filter(magic_link::COLUMN.token_hash.eq(hash))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let opened = open_session_for(&txn, link, now).await?;
    txn.commit().await?;
    Ok(opened)
}

/// The session a consumed link grants.
async fn open_session_for(
    db: &impl ConnectionTrait,
    link: magic_link::Model,
    now: DateTime<Utc>,
) -> Result<Opened, AppError> {
    let purpose = if link.purpose == LinkPurpose::VerifyContact {
        super::contacts::mark_email_verified(
            db,
            link.contact_id,
            ActorKind::Contact,
            Channel::MagicLink,
            now,
        )
        .await?;
        LinkPurpose::Portal
    } else {
        link.purpose
    };
    let secret = sessions::open_contact_session(
        db,
        link.contact_id,
        link.account_id,
        purpose,
        link.scope,
        now,
    )
    .await?;
    Ok(Opened {
        secret,
        purpose,
        contact_id: link.contact_id,
        account_id: link.account_id,
    })
}

/// Number of wrong codes a sign-in link survives.
pub const CODE_ATTEMPTS: i32 = 5;
/// Letters and digits that cannot be mistaken for each other.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A fresh one-time code: 8 characters, 40 bits.
pub fn new_code() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..8)
        .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
        .collect()
}

fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Stores the hash of a one-time code on a link, for signing in on another device.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn attach_code(
    db: &impl ConnectionTrait,
    token: &str,
    code: &str,
) -> Result<(), AppError> {
    magic_link::Entity::update_many()
        .col_expr(
            magic_link::Column::CodeHash,
            Expr::value(hash_token(&normalize_code(code))),
        )
        .filter(magic_link::COLUMN.token_hash.eq(hash_token(token)))
        .exec(db)
        .await?;
    Ok(())
}

/// Exchanges a one-time code, typed with the email it was sent to, for a portal session.
/// Every wrong code counts against each of that address's open sign-in links.
///
/// # Errors
/// `NotFound` for a wrong, used up or expired code.
pub async fn redeem_code(
    db: &(impl ConnectionTrait + TransactionTrait),
    email: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Opened, AppError> {
    let email = email.trim().to_ascii_lowercase();
    let code_hash = hash_token(&normalize_code(code));
    let txn = crate::db::begin_write(db).await?;
    let contact_ids: Vec<i64> = contact::Entity::find()
        .filter(contact::COLUMN.email.eq(email))
        .all(&txn)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let open_codes = magic_link::Entity::find()
        .filter(magic_link::COLUMN.contact_id.is_in(contact_ids))
        .filter(magic_link::COLUMN.purpose.eq(LinkPurpose::Portal))
        .filter(magic_link::COLUMN.code_hash.is_not_null())
        .filter(magic_link::COLUMN.code_attempts.lt(CODE_ATTEMPTS))
        .filter(magic_link::COLUMN.consumed_at.is_null())
        .filter(magic_link::COLUMN.revoked_at.is_null())
        .filter(magic_link::COLUMN.expires_at.gt(now));
    let candidates = open_codes.all(&txn).await?;
    let Some(link) = candidates
        .iter()
        .find(|l| l.code_hash.as_deref() == Some(code_hash.as_str()))
        .cloned()
    else {
        let ids: Vec<i64> = candidates.iter().map(|l| l.id).collect();
        magic_link::Entity::update_many()
            .col_expr(
                magic_link::Column::CodeAttempts,
                Expr::col(magic_link::Column::CodeAttempts).add(1),
            )
            .filter(magic_link::COLUMN.id.is_in(ids))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        return Err(AppError::NotFound);
    };
    let claimed = magic_link::Entity::update_many()
        .col_expr(magic_link::Column::ConsumedAt, Expr::value(now))
        .filter(magic_link::COLUMN.id.eq(link.id))
        .filter(magic_link::COLUMN.consumed_at.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::NotFound);
    }
    let opened = open_session_for(&txn, link, now).await?;
    txn.commit().await?;
    Ok(opened)
}

async fn usable(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<magic_link::Model>, AppError> {
    Ok(magic_link::Entity::find()
        .filter(magic_link::COLUMN.token_hash.eq(hash_token(token)))
        .filter(magic_link::COLUMN.consumed_at.is_null())
        .filter(magic_link::COLUMN.revoked_at.is_null())
        .filter(magic_link::COLUMN.expires_at.gt(now))
        .one(db)
        .await?)
}

/// `jane.doe@example.com` → `j•••••••@example.com`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            let hidden = local.chars().count().saturating_sub(1).max(3);
            format!("{first}{}@{domain}", "•".repeat(hidden))
        }
        None => "•••".to_owned(),
    }
}

/// Revokes every unused link of a contact and ends their sessions: staff asked for it,
/// or the contact's email changed.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn revoke_for_contact(
    db: &impl ConnectionTrait,
    contact_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    magic_link::Entity::update_many()
        .col_expr(magic_link::Column::RevokedAt, Expr::value(now))
        .filter(magic_link::COLUMN.contact_id.eq(contact_id))
        .filter(magic_link::COLUMN.consumed_at.is_null())
        .filter(magic_link::COLUMN.revoked_at.is_null())
        .exec(db)
        .await?;
    sessions::revoke_all(
        db,
        crate::model::enums::PrincipalKind::Contact,
        contact_id,
        now,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::mask_email;

    #[test]
    fn email_is_masked_but_domain_kept() {
        assert_eq!(mask_email("jane@example.com"), "j•••@example.com");
        assert_eq!(mask_email("a@b.c"), "a•••@b.c");
        assert_eq!(mask_email("nonsense"), "•••");
    }
}
