//! API keys for the REST API: created by admins, shown once, stored hashed, revocable.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionSession,
    TransactionTrait, prelude::*,
};

use crate::entities::{api_key, staff_user};
use crate::error::AppError;
use crate::model::api_keys::{ApiKeyView, check_name};
use crate::model::enums::{ActorKind, ApiScope, Channel};
use crate::services::audit::{self, Change};
use crate::services::tokens;

/// What every key starts with, so a leaked one is recognisable (secret scanners, logs).
pub const KEY_PREFIX: &str = "settle_";
/// How many of the key's first characters are kept for display.
pub const DISPLAY_CHARS: usize = 12;
/// `last_used_at` is written at most this often per key.
pub const LAST_USED_EVERY: Duration = Duration::minutes(1);

/// Who creates or revokes a key: a staff member, or the operator at the command line.
fn actor(staff_id: Option<i64>) -> (ActorKind, Channel) {
    match staff_id {
        Some(_) => (ActorKind::Staff, Channel::StaffUi),
        None => (ActorKind::System, Channel::System),
    }
}

/// Creates a key named `name` with `scope`; returns it with the whole key, which is never
/// stored (only its SHA-256) and so cannot be shown again.
///
/// # Errors
/// `Validation` on `name` for an empty or overlong name; database errors as `Internal`.
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    name: &str,
    scope: ApiScope,
    created_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(api_key::Model, String), AppError> {
    let name = check_name(name).map_err(|m| AppError::validation("name", m))?;
    let secret = format!("{KEY_PREFIX}{}", tokens::new_token());
    let prefix: String = secret.chars().take(DISPLAY_CHARS).collect();
    let txn = crate::db::begin_write(db).await?;
    let key = api_key::ActiveModel {
        name: Set(name.clone()),
        prefix: Set(prefix.clone()),
        secret_hash: Set(tokens::hash_token(&secret)),
        scope: Set(scope),
        created_by: Set(created_by),
        created_at: Set(now),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let (actor_kind, channel) = actor(created_by);
    audit::append(
        &txn,
        Change {
            actor_kind,
            actor_id: created_by,
            channel,
            account_id: None,
            entity: "api_key",
            entity_id: Some(key.id),
            field: Some("created"),
            old_value: None,
            new_value: Some(format!("{name} ({prefix}…, {scope})")),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((key, secret))
}

/// The key `presented` in an `Authorization: Bearer` header, if it is one Settle issued and
/// has not been revoked. Records the use (at most once per [`LAST_USED_EVERY`]).
///
/// # Errors
/// `Unauthorized` for an unknown or revoked key; database errors as `Internal`.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<api_key::Model, AppError> {
    let presented = presented.trim();
    if !presented.starts_with(KEY_PREFIX) {
        return Err(AppError::Unauthorized);
    }
    let mut key = api_key::Entity::find()
        .filter(
            api_key::COLUMN
                .secret_hash
                .eq(tokens::hash_token(presented)),
        )
        .one(db)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if key.revoked_at.is_some() {
        return Err(AppError::Unauthorized);
    }
    if key
        .last_used_at
        .is_none_or(|at| at + LAST_USED_EVERY <= now)
    {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
            .filter(api_key::COLUMN.id.eq(key.id))
            .exec(db)
            .await?;
        key.last_used_at = Some(now);
    }
    Ok(key)
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Every key, newest first, as the page lists them.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<ApiKeyView>, AppError> {
    let keys = api_key::Entity::find()
        .order_by_desc(api_key::COLUMN.id)
        .all(db)
        .await?;
    let staff: std::collections::HashMap<i64, String> = staff_user::Entity::find()
        .filter(
            staff_user::COLUMN
                .id
                .is_in(keys.iter().filter_map(|k| k.created_by)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    Ok(keys.into_iter().map(|k| view(k, &staff)).collect())
}

/// A key as the page shows it; `names` maps staff ids to names.
pub fn view(k: api_key::Model, names: &std::collections::HashMap<i64, String>) -> ApiKeyView {
    ApiKeyView {
        id: k.id,
        name: k.name,
        prefix: k.prefix,
        scope: k.scope,
        created_by: k.created_by.and_then(|id| names.get(&id).cloned()),
        created_at: when(k.created_at),
        last_used_at: k.last_used_at.map(when),
        revoked_at: k.revoked_at.map(when),
    }
}

/// Revokes key `id`: from now on it is refused. Revoking a revoked key changes nothing.
///
/// # Errors
/// `NotFound` for an unknown key; database errors as `Internal`.
pub async fn revoke(
    db: &(impl ConnectionTrait + TransactionTrait),
    id: i64,
    revoked_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<api_key::Model, AppError> {
    let txn = crate::db::begin_write(db).await?;
    // The write comes first, so SQLite takes its write lock at once.
    let changed = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(now))
        .filter(api_key::COLUMN.id.eq(id))
        .filter(api_key::COLUMN.revoked_at.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    let key = api_key::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if changed > 0 {
        let (actor_kind, channel) = actor(revoked_by);
        audit::append(
            &txn,
            Change {
                actor_kind,
                actor_id: revoked_by,
                channel,
                account_id: None,
                entity: "api_key",
                entity_id: Some(key.id),
                field: Some("revoked"),
                old_value: None,
                new_value: Some(format!("{} ({}…)", key.name, key.prefix)),
            },
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(key)
}
