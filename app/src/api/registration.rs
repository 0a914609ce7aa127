//! Registration from a paper letter, for customers with no email address on file.

use leptos::prelude::*;

use crate::error::AppError;

/// Checks the account number and second fact from the letter and, when both match, adds
/// the billing contact and mails them a confirmation link.
#[server(endpoint = "register")]
pub async fn register(
    account_number: String,
    second_fact: String,
    name: String,
    email: String,
    phone: Option<String>,
) -> Result<(), AppError> {
    use super::ctx;
    use crate::model::registration::Registration;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let form = Registration {
                account_number,
                second_fact,
                name,
                email,
                phone,
            };
            crate::services::registration::register(
                &state.db,
                &state.settings.public_url,
                &form,
                &ctx::client_ip(),
                state.clock.now(),
            )
            .await?;
            state.mail_wake.notify_one();
            leptos_axum::redirect("/register?done=1");
            Ok(())
        }
        .await,
    )
}
