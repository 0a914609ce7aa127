//! Staff users: created from the command line or by an admin, signed in with a password.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, prelude::*};

use crate::entities::staff_user;
use crate::error::AppError;
use crate::model::enums::StaffRole;

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
