//! Staff sign-in, the signed-in user, password change, and revoking a contact's access.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::staff::StaffMe;

/// Checks the password and opens a staff session. Every refusal says the same thing.
#[server(endpoint = "staff/sign-in")]
pub async fn staff_sign_in(email: String, password: String) -> Result<(), AppError> {
    use super::ctx;
    use crate::services::{rate_limit, staff};
    ctx::respond(
        async {
            let state = ctx::state()?;
            let now = state.clock.now();
            let key = format!("staff-sign-in:ip:{}", ctx::client_ip());
            if !rate_limit::hit(&state.db, &key, rate_limit::STAFF_SIGN_IN, now).await? {
                return Err(AppError::RateLimited);
            }
            let secret = staff::sign_in(&state.db, &email, &password, now).await?;
            super::links::set_session_cookie(&state, &secret, false);
            leptos_axum::redirect("/staff");
            Ok(())
        }
        .await,
    )
}

/// The signed-in staff user.
#[server(endpoint = "staff/me")]
pub async fn get_staff_me() -> Result<StaffMe, AppError> {
    use super::ctx;
    use crate::entities::staff_user;
    use crate::model::enums::StaffRole;
    use sea_orm::EntityTrait;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (id, _) = ctx::caller().staff(StaffRole::Viewer)?;
            let user = staff_user::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .ok_or(AppError::Unauthorized)?;
            Ok(StaffMe {
                name: user.name,
                email: user.email,
                role: user.role,
            })
        }
        .await,
    )
}

/// Changes the signed-in staff user's password; their other sessions end.
#[server(endpoint = "staff/password")]
pub async fn change_staff_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (id, _) = ctx::caller().staff(StaffRole::Viewer)?;
            let now = state.clock.now();
            crate::services::staff::change_password(
                &state.db,
                id,
                &current_password,
                &new_password,
                now,
            )
            .await?;
            // This device stays signed in with a fresh session.
            let secret = crate::services::sessions::open_staff_session(&state.db, id, now).await?;
            super::links::set_session_cookie(&state, &secret, false);
            Ok(())
        }
        .await,
    )
}

/// Revokes a contact's unused links and ends their sessions (collectors and admins).
#[server(endpoint = "staff/contacts/revoke-access")]
pub async fn revoke_contact_access(contact_id: i64) -> Result<(), AppError> {
    use super::ctx;
    use crate::entities::contact;
    use crate::model::enums::StaffRole;
    use sea_orm::EntityTrait;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Collector)?;
            contact::Entity::find_by_id(contact_id)
                .one(&state.db)
                .await?
                .ok_or(AppError::NotFound)?;
            crate::services::magic_links::revoke_for_contact(
                &state.db,
                contact_id,
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}
