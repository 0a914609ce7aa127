//! Magic links: the only way a customer contact gets in.
//!
//! Opening a link (GET) only describes it; the button's POST consumes it, in one
//! conditional UPDATE, so a link is exchanged for at most one session.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait, prelude::*,
};

use crate::entities::{account, contact, magic_link};
use crate::error::AppError;
use crate::model::enums::{ActorKind, LinkPurpose};
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

/// Exchanges a token for a session scoped to the link's contact, account and purpose,
/// and returns the session's cookie secret.
///
/// # Errors
/// `NotFound` for every link that cannot be used, including one consumed a moment ago
/// by a concurrent request.
pub async fn consume(
    db: &(impl ConnectionTrait + TransactionTrait),
    token: &str,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let hash = hash_token(token);
    let txn = db.begin().await?;
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
    let secret = sessions::open_contact_session(
        &txn,
        link.contact_id,
        link.account_id,
        link.purpose,
        link.scope,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(secret)
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

/// Revokes every unused link of a contact and ends their sessions: staff asked for it,
/// or the contact's email changed.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn revoke_for_contact(db: &impl ConnectionTrait, contact_id: i64, now: DateTime<Utc>) -> Result<(), AppError> {
    magic_link::Entity::update_many()
        .col_expr(magic_link::Column::RevokedAt, Expr::value(now))
        .filter(magic_link::COLUMN.contact_id.eq(contact_id))
        .filter(magic_link::COLUMN.consumed_at.is_null())
        .filter(magic_link::COLUMN.revoked_at.is_null())
        .exec(db)
        .await?;
    sessions::revoke_all(db, crate::model::enums::PrincipalKind::Contact, contact_id, now).await
}
