//! The customer portal's server functions.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::portal::Overview;

/// The signed-in contact's account overview.
#[server(endpoint = "portal/overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let account_id = ctx::caller().portal_account()?;
            crate::services::portal::overview(&state.db, account_id, state.clock.today()).await
        }
        .await,
    )
}

/// Ends the caller's session on the server and clears the cookie.
#[server(endpoint = "portal/sign-out")]
pub async fn sign_out() -> Result<(), AppError> {
    use super::ctx;
    use crate::services::sessions::{self, Caller};
    ctx::respond(
        async {
            let state = ctx::state()?;
            match ctx::caller() {
                Caller::Contact { session_id, .. } | Caller::Staff { session_id, .. } => {
                    sessions::revoke(&state.db, session_id, state.clock.now()).await?;
                }
                Caller::Anonymous => {}
            }
            super::links::set_session_cookie(&state, "", true);
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// The contact who followed a "not the right person" link names who should get our mail.
#[server(endpoint = "portal/wrong-person")]
pub async fn report_wrong_person(
    name: String,
    email: String,
    role: crate::model::enums::ContactRole,
    note: Option<String>,
) -> Result<(), AppError> {
    use super::ctx;
    use crate::model::enums::LinkPurpose;
    use crate::model::portal::WrongPersonReport;
    use crate::services::sessions::Caller;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let Caller::Contact {
                contact_id,
                purpose: LinkPurpose::WrongPerson | LinkPurpose::Portal,
                ..
            } = ctx::caller()
            else {
                return Err(AppError::Unauthorized);
            };
            let report = WrongPersonReport {
                name,
                email,
                role,
                note,
            };
            crate::services::contacts::report_wrong_person(
                &state.db,
                &state.settings.public_url,
                contact_id,
                &report,
                state.clock.now(),
            )
            .await?;
            state.mail_wake.notify_one();
            leptos_axum::redirect("/portal/wrong-person?done=1");
            Ok(())
        }
        .await,
    )
}
