//! "Email me a sign-in link": the portal's only front door.
//!
//! The answer never tells whether an address is known: the request is counted against
//! rate limits the same way for every address, and the lookup and mail happen after the
//! answer has gone (see [`send_links`]).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait};
use serde_json::json;

use crate::entities::contact;
use crate::error::AppError;
use crate::model::enums::{ActorKind, EmailStatus, LinkPurpose};
use crate::services::{magic_links, mail, rate_limit, staff};

/// Counts a sign-in request against the per-address and per-client limits.
///
/// # Errors
/// `Validation` for something that is not an email address, `RateLimited` over a limit.
pub async fn admit_request(
    db: &impl ConnectionTrait,
    email: &str,
    client_ip: &str,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let email = email.trim().to_ascii_lowercase();
    if !staff::looks_like_email(&email) || email.len() > 254 {
        return Err(AppError::validation(
            "email",
            "enter an email address like name@example.com",
        ));
    }
    let by_address = rate_limit::hit(
        db,
        &format!("sign-in:email:{email}"),
        rate_limit::SIGN_IN_REQUESTS,
        now,
    )
    .await?;
    let by_client = rate_limit::hit(
        db,
        &format!("sign-in:ip:{client_ip}"),
        rate_limit::SIGN_IN_REQUESTS,
        now,
    )
    .await?;
    if by_address && by_client {
        Ok(email)
    } else {
        Err(AppError::RateLimited)
    }
}

/// Mails a portal link with a one-time code to every contact with this address whose mail
/// does not bounce; returns how many were sent (0 for an unknown address).
///
/// # Errors
/// Database errors as `Internal`; nothing is sent unless everything is recorded.
pub async fn send_links(
    db: &(impl ConnectionTrait + TransactionTrait),
    public_url: &str,
    email: &str,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let txn = crate::db::begin_write(db).await?;
    let contacts = contact::Entity::find()
        .filter(contact::COLUMN.email.eq(email))
        .all(&txn)
        .await?;
    let mut sent = 0;
    for c in contacts
        .into_iter()
        .filter(|c| c.email_status != EmailStatus::Bounced)
    {
        let token = magic_links::issue(
            &txn,
            c.id,
            LinkPurpose::Portal,
            None,
            magic_links::SIGN_IN_TTL,
            magic_links::Creator {
                kind: ActorKind::Contact,
                id: Some(c.id),
            },
            now,
        )
        .await?;
        let code = magic_links::new_code();
        magic_links::attach_code(&txn, &token, &code).await?;
        let ctx = json!({
            "link": format!("{public_url}/l/{token}"),
            "code": format!("{}-{}", &code[..4], &code[4..]),
            "minutes": magic_links::SIGN_IN_TTL.num_minutes(),
        });
        mail::send_to_contact(&txn, public_url, c.id, "portal_sign_in", ctx, now).await?;
        sent += 1;
    }
    txn.commit().await?;
    Ok(sent)
}
