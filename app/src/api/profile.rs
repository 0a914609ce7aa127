//! The customer's profile (for a portal session or a `profile` link's session), and the
//! staff review of sensitive changes.

// The sensitive-change form posts every field of every kind; the macro-made client
// function takes them all.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::profile::{ChangeView, Profile};

/// The contact and account of a session that may edit the profile.
#[cfg(feature = "ssr")]
fn profile_caller() -> Result<(i64, i64), AppError> {
    use crate::model::enums::LinkPurpose;
    let caller = super::ctx::caller();
    let (contact_id, account_id, purpose, _) = caller.contact()?;
    if matches!(purpose, LinkPurpose::Portal | LinkPurpose::Profile) {
        Ok((contact_id, account_id))
    } else {
        Err(AppError::Unauthorized)
    }
}

/// The caller's company profile, sensitive values masked.
#[server(endpoint = "portal/profile")]
pub async fn get_profile() -> Result<Profile, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (_, account_id) = profile_caller()?;
            crate::services::profile::profile(&state.db, account_id).await
        }
        .await,
    )
}

/// Saves the company's legal name, name and website.
#[server(endpoint = "portal/profile/company")]
pub async fn update_company(
    legal_name: String,
    display_name: String,
    website: String,
) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (contact_id, account_id) = profile_caller()?;
            crate::services::profile::update_company(
                &state.db,
                contact_id,
                account_id,
                &legal_name,
                &display_name,
                &website,
                state.clock.now(),
            )
            .await?;
            crate::services::campaigns::mark_completed(&state.db, account_id, state.clock.now())
                .await?;
            Ok(())
        }
        .await,
    )
}

/// Saves the company's mailing address.
#[server(endpoint = "portal/profile/mailing")]
pub async fn update_mailing_address(
    line1: String,
    line2: String,
    city: String,
    region: String,
    postal_code: String,
) -> Result<(), AppError> {
    use super::ctx;
    use crate::model::profile::AddressInput;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (contact_id, account_id) = profile_caller()?;
            crate::services::profile::update_mailing_address(
                &state.db,
                contact_id,
                account_id,
                &AddressInput {
                    line1,
                    line2,
                    city,
                    region,
                    postal_code,
                    country: String::new(),
                },
                state.clock.now(),
            )
            .await?;
            crate::services::campaigns::mark_completed(&state.db, account_id, state.clock.now())
                .await?;
            Ok(())
        }
        .await,
    )
}

/// Confirms that the profile is current.
#[server(endpoint = "portal/profile/verify")]
pub async fn verify_profile() -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (contact_id, account_id) = profile_caller()?;
            crate::services::profile::verify(&state.db, contact_id, account_id, state.clock.now())
                .await?;
            crate::services::campaigns::mark_completed(&state.db, account_id, state.clock.now())
                .await?;
            Ok(())
        }
        .await,
    )
}

/// Starts a sensitive change; `kind` is `bank_account`, `remit_to`, `tin` or
/// `billing_email`, and only that kind's fields are read. Returns the change's id; a code
/// is emailed to the caller's address.
#[server(endpoint = "portal/profile/sensitive")]
pub async fn request_sensitive_change(
    kind: String,
    holder: Option<String>,
    routing: Option<String>,
    account: Option<String>,
    tin: Option<String>,
    email: Option<String>,
    line1: Option<String>,
    line2: Option<String>,
    city: Option<String>,
    region: Option<String>,
    postal_code: Option<String>,
) -> Result<i64, AppError> {
    use super::ctx;
    use crate::model::profile::{AddressInput, SensitiveChange};
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (contact_id, account_id) = profile_caller()?;
            let text = |v: Option<String>| v.unwrap_or_default();
            let change = match kind.as_str() {
                "bank_account" => SensitiveChange::BankAccount {
                    holder: text(holder),
                    routing: text(routing),
                    account: text(account),
                },
                "tin" => SensitiveChange::Tin(text(tin)),
                "billing_email" => SensitiveChange::BillingEmail(text(email)),
                "remit_to" => SensitiveChange::RemitTo(AddressInput {
                    line1: text(line1),
                    line2: text(line2),
                    city: text(city),
                    region: text(region),
                    postal_code: text(postal_code),
                    country: String::new(),
                }),
                _ => return Err(AppError::validation("kind", "unknown change")),
            };
            let id = crate::services::profile::request_change(
                &state.db,
                &state.settings.secret_key,
                &state.settings.public_url,
                contact_id,
                account_id,
                &change,
                state.clock.now(),
            )
            .await?;
            state.mail_wake.notify_one();
            Ok(id)
        }
        .await,
    )
}

/// Confirms sensitive change `id` with the emailed code.
#[server(endpoint = "portal/profile/confirm")]
pub async fn confirm_change(id: i64, code: String) -> Result<ChangeView, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (contact_id, account_id) = profile_caller()?;
            let view = crate::services::profile::confirm(
                &state.db,
                &state.settings.public_url,
                contact_id,
                id,
                &code,
                state.clock.now(),
            )
            .await?;
            crate::services::campaigns::mark_completed(&state.db, account_id, state.clock.now())
                .await?;
            state.mail_wake.notify_one();
            Ok(view)
        }
        .await,
    )
}

/// Sensitive changes waiting for staff.
#[server(endpoint = "staff/approvals")]
pub async fn list_approvals() -> Result<Vec<ChangeView>, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            crate::services::profile::pending(&state.db).await
        }
        .await,
    )
}

/// Approves or rejects (with `note`) sensitive change `id`.
#[server(endpoint = "staff/approvals/decide")]
pub async fn decide_change(id: i64, approve: bool, note: String) -> Result<(), AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(StaffRole::Collector)?;
            crate::services::profile::decide(
                &state.db,
                &state.settings.secret_key,
                &state.settings.public_url,
                staff_id,
                id,
                approve,
                &note,
                state.clock.now(),
            )
            .await?;
            state.mail_wake.notify_one();
            Ok(())
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<crate::model::enums::ContactRole, AppError> {
    crate::model::accounts::parse_role(role)
        .ok_or_else(|| AppError::validation("role", "choose AP, billing, primary or other"))
}

/// Adds a contact to the caller's account.
#[server(endpoint = "portal/profile/contacts/add")]
pub async fn add_profile_contact(
    name: String,
    email: String,
    phone: String,
    role: String,
) -> Result<i64, AppError> {
    use super::ctx;
    use crate::services::profile::{ContactInput, add_contact};
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (contact_id, account_id) = profile_caller()?;
            let input = ContactInput {
                name,
                email,
                phone,
                role: parse_role(&role)?,
            };
            add_contact(&state.db, contact_id, account_id, &input, state.clock.now()).await
        }
        .await,
    )
}

/// Changes a contact's name, phone and role.
#[server(endpoint = "portal/profile/contacts/update")]
pub async fn update_profile_contact(
    id: i64,
    name: String,
    phone: String,
    role: String,
) -> Result<(), AppError> {
    use super::ctx;
    use crate::services::profile::{ContactInput, update_contact};
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (contact_id, account_id) = profile_caller()?;
            let input = ContactInput {
                name,
                email: String::new(),
                phone,
                role: parse_role(&role)?,
            };
            update_contact(
                &state.db,
                contact_id,
                account_id,
                id,
                &input,
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// Removes a contact of the caller's account.
#[server(endpoint = "portal/profile/contacts/remove")]
pub async fn remove_profile_contact(id: i64) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (contact_id, account_id) = profile_caller()?;
            crate::services::profile::remove_contact(
                &state.db,
                contact_id,
                account_id,
                id,
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// Files an uploaded file as a document the supplier asked for (`kind`: `w9`,
/// `credit_application`, `exemption_certificate`).
#[server(endpoint = "portal/profile/documents")]
pub async fn supply_document(kind: String, file_id: i64) -> Result<i64, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (contact_id, account_id) = profile_caller()?;
            crate::services::profile::supply_document(
                &state.db,
                contact_id,
                account_id,
                &kind,
                file_id,
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}
