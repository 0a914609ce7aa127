//! Promise to Pay server functions for the signed-in portal contact.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::promises::PromiseView;

/// Records the caller's promise to pay `amount` (like `"1234.56"`) by `date`
/// (`YYYY-MM-DD`) for the open invoices `document_ids`. The open total is recomputed on
/// the server from the stored invoices.
#[server(endpoint = "portal/promises/record")]
pub async fn record_promise(
    // An empty list is sent as no field at all.
    #[server(default)] document_ids: Vec<i64>,
    amount: String,
    date: String,
    note: Option<String>,
) -> Result<PromiseView, AppError> {
    use super::ctx;
    use crate::model::promises::{parse_amount, parse_date};
    use crate::services::sessions::Caller;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let caller = ctx::caller();
            let account_id = caller.portal_account()?;
            let Caller::Contact { contact_id, .. } = caller else {
                return Err(AppError::Unauthorized);
            };
            let amount_minor =
                parse_amount(&amount).map_err(|m| AppError::validation("amount", m))?;
            let date = parse_date(&date).map_err(|m| AppError::validation("date", m))?;
            let view = crate::services::promises::record_promise(
                &state.db,
                &state.settings.public_url,
                contact_id,
                account_id,
                &document_ids,
                amount_minor,
                date,
                note.as_deref(),
                state.clock.now(),
            )
            .await?;
            state.mail_wake.notify_one();
            Ok(view)
        }
        .await,
    )
}

/// The open promises of the caller's account.
#[server(endpoint = "portal/promises")]
pub async fn list_promises() -> Result<Vec<PromiseView>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let account_id = ctx::caller().portal_account()?;
            crate::services::promises::list_open(&state.db, account_id).await
        }
        .await,
    )
}
