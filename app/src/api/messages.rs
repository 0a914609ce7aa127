//! Secure messages: the portal contact's thread, and the staff inbox of threads with replies.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::messages::{MessageView, StaffThread, ThreadSummary};

/// Sends a message from the signed-in contact, optionally about one of the account's
/// documents.
#[server(endpoint = "portal/messages/send")]
pub async fn send_message(body: String, document_id: Option<i64>) -> Result<MessageView, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let caller = ctx::caller();
            let account_id = caller.portal_account()?;
            let (contact_id, ..) = caller.contact()?;
            crate::services::messages::send_from_contact(
                &state.db,
                contact_id,
                account_id,
                document_id,
                &body,
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// The signed-in contact's account thread.
#[server(endpoint = "portal/messages")]
pub async fn list_messages() -> Result<Vec<MessageView>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let account_id = ctx::caller().portal_account()?;
            crate::services::messages::thread(&state.db, account_id).await
        }
        .await,
    )
}

/// Threads for the staff inbox, the ones awaiting a reply first.
#[server(endpoint = "staff/messages")]
pub async fn list_threads() -> Result<Vec<ThreadSummary>, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            crate::services::messages::threads(&state.db, 100).await
        }
        .await,
    )
}

/// One account's thread, for staff.
#[server(endpoint = "staff/messages/thread")]
pub async fn get_thread(account_id: i64) -> Result<StaffThread, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            crate::services::messages::staff_thread(&state.db, account_id).await
        }
        .await,
    )
}

/// A staff reply on `account_id`'s thread; the customer gets it by email too.
#[server(endpoint = "staff/messages/reply")]
pub async fn reply(account_id: i64, body: String) -> Result<MessageView, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(StaffRole::Collector)?;
            let view = crate::services::messages::reply_from_staff(
                &state.db,
                &state.settings.public_url,
                staff_id,
                account_id,
                &body,
                state.clock.now(),
            )
            .await?;
            state.mail_wake.notify_one();
            Ok(view)
        }
        .await,
    )
}
