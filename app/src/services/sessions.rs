//! Server-side sessions, kept in the database so several server processes share them.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, prelude::*,
};

use crate::entities::{session, staff_user};
use crate::error::AppError;
use crate::model::enums::{LinkPurpose, PrincipalKind, StaffRole};
use crate::services::tokens::{hash_token, new_token};

/// Name of the session cookie.
pub const COOKIE: &str = "settle_session";
/// A customer's session ends after this long without a request.
pub const CONTACT_IDLE: Duration = Duration::minutes(30);
/// A staff session ends after this long without a request.
pub const STAFF_IDLE: Duration = Duration::hours(8);
/// No session lives longer than this.
pub const ABSOLUTE: Duration = Duration::hours(12);
/// `last_seen_at` is written at most this often, so reads stay reads.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// Who is making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    Contact {
        session_id: i64,
        contact_id: i64,
        account_id: i64,
        purpose: LinkPurpose,
        scope: Option<String>,
    },
    Staff {
        session_id: i64,
        staff_user_id: i64,
        role: StaffRole,
    },
}

impl Caller {
    /// The staff user, when their role is at least `min` (admin > collector > viewer).
    ///
    /// # Errors
    /// `Unauthorized` when not signed in as staff, `Forbidden` when the role is too low.
    pub fn staff(&self, min: StaffRole) -> Result<(i64, StaffRole), AppError> {
        match self {
            Caller::Staff {
                staff_user_id,
                role,
                ..
            } if role_rank(*role) >= role_rank(min) => Ok((*staff_user_id, *role)),
            Caller::Staff { .. } => Err(AppError::Forbidden),
            _ => Err(AppError::Unauthorized),
        }
    }

    /// The account a portal contact may see; anything else is not signed in to the portal.
    ///
    /// # Errors
    /// `Unauthorized` unless the caller is a contact with a full portal session.
    pub fn portal_account(&self) -> Result<i64, AppError> {
        match self {
            Caller::Contact {
                account_id,
                purpose: LinkPurpose::Portal,
                ..
            } => Ok(*account_id),
            _ => Err(AppError::Unauthorized),
        }
    }
}

impl Caller {
    /// A contact signed in with any link: (contact, account, purpose, scope).
    ///
    /// # Errors
    /// `Unauthorized` unless the caller is a contact.
    pub fn contact(&self) -> Result<(i64, i64, LinkPurpose, Option<&str>), AppError> {
        match self {
            Caller::Contact {
                contact_id,
                account_id,
                purpose,
                scope,
                ..
            } => Ok((*contact_id, *account_id, *purpose, scope.as_deref())),
            _ => Err(AppError::Unauthorized),
        }
    }
}

fn role_rank(role: StaffRole) -> u8 {
    match role {
        StaffRole::Viewer => 0,
        StaffRole::Collector => 1,
        StaffRole::Admin => 2,
    }
}

/// Opens a session for a contact and returns the cookie secret (shown only to the client).
///
/// # Errors
/// The database refused the insert.
pub async fn open_contact_session(
    db: &impl ConnectionTrait,
    contact_id: i64,
    account_id: i64,
    purpose: LinkPurpose,
    scope: Option<String>,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let secret = new_token();
    session::ActiveModel {
        id_hash: Set(hash_token(&secret)),
        principal_kind: Set(PrincipalKind::Contact),
        contact_id: Set(Some(contact_id)),
        account_id: Set(Some(account_id)),
        staff_user_id: Set(None),
        purpose: Set(Some(purpose)),
        scope: Set(scope),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + ABSOLUTE),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(secret)
}

/// Opens a session for a staff user and returns the cookie secret.
///
/// # Errors
/// The database refused the insert.
pub async fn open_staff_session(
    db: &impl ConnectionTrait,
    staff_user_id: i64,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let secret = new_token();
    session::ActiveModel {
        id_hash: Set(hash_token(&secret)),
        principal_kind: Set(PrincipalKind::Staff),
        contact_id: Set(None),
        account_id: Set(None),
        staff_user_id: Set(Some(staff_user_id)),
        purpose: Set(None),
        scope: Set(None),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + ABSOLUTE),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(secret)
}

/// Ends every open session of a contact or staff user.
///
/// # Errors
/// The database could not be written.
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    kind: PrincipalKind,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let owner = match kind {
        PrincipalKind::Contact => session::COLUMN.contact_id.eq(id),
        PrincipalKind::Staff => session::COLUMN.staff_user_id.eq(id),
    };
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(owner)
        .filter(session::COLUMN.revoked_at.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Resolves a cookie secret to the caller, ending sessions that idled out.
///
/// # Errors
/// The database could not be read.
pub async fn resolve(
    db: &impl ConnectionTrait,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Caller, AppError> {
    // One statement: the session and, for staff, whether the user may still sign in.
    let Some(SessionRow {
        session: row,
        staff_role,
        staff_active,
    }) = session::Entity::find()
        .join(
            sea_orm::JoinType::LeftJoin,
            session::Entity::belongs_to(staff_user::Entity)
                .from(session::Column::StaffUserId)
                .to(staff_user::Column::Id)
                .into(),
        )
        .column_as(staff_user::Column::Role, "staff_role")
        .column_as(staff_user::Column::Active, "staff_active")
        .filter(session::COLUMN.id_hash.eq(hash_token(secret)))
        .into_model::<SessionRow>()
        .one(db)
        .await?
    else {
        return Ok(Caller::Anonymous);
    };
    let idle = match row.principal_kind {
        PrincipalKind::Contact => CONTACT_IDLE,
        PrincipalKind::Staff => STAFF_IDLE,
    };
    if row.revoked_at.is_some() || now >= row.expires_at || now - row.last_seen_at >= idle {
        return Ok(Caller::Anonymous);
    }
    if now - row.last_seen_at >= TOUCH_EVERY {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::COLUMN.id.eq(row.id))
            .exec(db)
            .await?;
    }
    let caller = match row.principal_kind {
        PrincipalKind::Contact => match (row.contact_id, row.account_id, row.purpose) {
            (Some(contact_id), Some(account_id), Some(purpose)) => Caller::Contact {
                session_id: row.id,
                contact_id,
                account_id,
                purpose,
                scope: row.scope,
            },
            _ => Caller::Anonymous,
        },
        PrincipalKind::Staff => match (row.staff_user_id, staff_role, staff_active) {
            (Some(staff_user_id), Some(role), Some(true)) => Caller::Staff {
                session_id: row.id,
                staff_user_id,
                role,
            },
            _ => Caller::Anonymous,
        },
    };
    Ok(caller)
}

/// A session with its staff user's role and standing (both `None` for a customer's).
#[derive(Debug, sea_orm::FromQueryResult)]
struct SessionRow {
    #[sea_orm(nested)]
    session: session::Model,
    staff_role: Option<StaffRole>,
    staff_active: Option<bool>,
}

/// Ends a session on the server.
///
/// # Errors
/// The database could not be written.
pub async fn revoke(
    db: &impl ConnectionTrait,
    session_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::COLUMN.id.eq(session_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes sessions and magic links that ended more than a day ago; returns how many rows went.
///
/// # Errors
/// The database could not be written.
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, AppError> {
    use crate::entities::magic_link;
    let cutoff = now - Duration::days(1);
    let sessions = session::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(session::COLUMN.expires_at.lt(cutoff))
                .add(session::COLUMN.revoked_at.lt(cutoff))
                .add(session::COLUMN.last_seen_at.lt(cutoff)),
        )
        .exec(db)
        .await?;
    let links = magic_link::Entity::delete_many()
        .filter(magic_link::COLUMN.expires_at.lt(cutoff))
        .exec(db)
        .await?;
    Ok(sessions.rows_affected + links.rows_affected)
}
