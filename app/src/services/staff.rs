//! Staff users: created from the command line or by an admin, signed in with a password.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, prelude::*};

use crate::entities::staff_user;
use crate::error::AppError;
use crate::model::enums::{PrincipalKind, StaffRole};
use crate::services::sessions;

/// Shortest password accepted for a staff user.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Adds a staff user with an argon2id hash of `password`.
///
/// # Errors
/// `Validation` for a malformed email, empty name or short password; `Conflict` when
/// the email is taken.
pub async fn add(
    db: &impl ConnectionTrait,
    email: &str,
    name: &str,
    role: StaffRole,
    password: &str,
    now: DateTime<Utc>,
) -> Result<staff_user::Model, AppError> {
    let email = email.trim().to_ascii_lowercase();
    if !looks_like_email(&email) {
        return Err(AppError::validation(
            "email",
            "enter an email address like name@example.com",
        ));
    }
    if name.trim().is_empty() {
        return Err(AppError::validation("name", "enter a name"));
    }
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::validation(
            "password",
            format!("use at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if staff_user::Entity::find()
        .filter(staff_user::COLUMN.email.eq(email.clone()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "a staff user with the email {email} already exists"
        )));
    }
    let password_hash = hash_password(password)?;
    Ok(staff_user::ActiveModel {
        email: Set(email),
        name: Set(name.trim().to_owned()),
        role: Set(role),
        password_hash: Set(password_hash),
        active: Set(true),
        failed_logins: Set(0),
        locked_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// An argon2id PHC string for `password`.
///
/// # Errors
/// `Internal` if hashing fails (it does not for valid parameters).
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let mut salt_bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|err| {
        tracing::error!(%err, "salt encoding failed");
        AppError::Internal
    })?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|err| {
            tracing::error!(%err, "password hashing failed");
            AppError::Internal
        })
}

/// A deliberately loose check: one `@`, something before it, a dot after it, no spaces.
pub fn looks_like_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email
                    .chars()
                    .any(|c| c.is_whitespace() || c == '<' || c == '>')
                && !domain.contains('@')
        }
        None => false,
    }
}

/// Failed attempts allowed before the account is locked for a while.
pub const FREE_ATTEMPTS: i32 = 5;
/// The longest lock after repeated failures.
const MAX_LOCK: Duration = Duration::hours(1);

/// Checks a staff user's email and password and opens a staff session; returns its cookie secret.
///
/// Every failure looks the same to the caller (`Unauthorized`), whether the email is
/// unknown, the password wrong or the account locked, and takes the time of one hash check.
/// After [`FREE_ATTEMPTS`] failures the account is locked for 1, 2, 4 … minutes (at most an hour).
///
/// # Errors
/// `Unauthorized` for any refusal; database errors as `Internal`.
pub async fn sign_in(
    db: &impl ConnectionTrait,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let email = email.trim().to_ascii_lowercase();
    let user = staff_user::Entity::find()
        .filter(staff_user::COLUMN.email.eq(email))
        .one(db)
        .await?;
    let Some(user) = user else {
        // Spend the same time as a real check so timing does not reveal unknown addresses.
        let _ = verify_password(password, dummy_hash());
        return Err(AppError::Unauthorized);
    };
    let locked = user.locked_until.is_some_and(|until| until > now);
    let verified = verify_password(password, &user.password_hash);
    if locked || !user.active || !verified {
        if !locked && !verified {
            record_failure(db, &user, now).await?;
        }
        return Err(AppError::Unauthorized);
    }
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::FailedLogins, Expr::value(0))
        .col_expr(
            staff_user::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(staff_user::COLUMN.id.eq(user.id))
        .exec(db)
        .await?;
    sessions::open_staff_session(db, user.id, now).await
}

async fn record_failure(
    db: &impl ConnectionTrait,
    user: &staff_user::Model,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let failures = user.failed_logins + 1;
    let locked_until = (failures >= FREE_ATTEMPTS).then(|| {
        let doublings = u32::try_from(failures - FREE_ATTEMPTS).unwrap_or(0).min(6);
        now + Duration::minutes(1i64 << doublings).min(MAX_LOCK)
    });
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::FailedLogins, Expr::value(failures))
        .col_expr(staff_user::Column::LockedUntil, Expr::value(locked_until))
        .col_expr(staff_user::Column::UpdatedAt, Expr::value(now))
        .filter(staff_user::COLUMN.id.eq(user.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Changes a staff user's password after checking the current one.
///
/// # Errors
/// `Validation` on `current_password` when it is wrong, on `new_password` when it is too short.
pub async fn change_password(
    db: &impl ConnectionTrait,
    staff_user_id: i64,
    current: &str,
    new: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let user = staff_user::Entity::find_by_id(staff_user_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if !verify_password(current, &user.password_hash) {
        return Err(AppError::validation(
            "current_password",
            "this is not your current password",
        ));
    }
    if new.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::validation(
            "new_password",
            format!("use at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    staff_user::Entity::update_many()
        .col_expr(
            staff_user::Column::PasswordHash,
            Expr::value(hash_password(new)?),
        )
        .col_expr(staff_user::Column::UpdatedAt, Expr::value(now))
        .filter(staff_user::COLUMN.id.eq(user.id))
        .exec(db)
        .await?;
    // Every other session of this user ends: a changed password should lock out whoever else had it.
    sessions::revoke_all(db, PrincipalKind::Staff, staff_user_id, now).await
}

/// A real argon2id hash of a random password, checked against when the email is unknown.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&super::tokens::new_token()).unwrap_or_default())
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}
