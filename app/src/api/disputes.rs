//! Smart Disputes for the signed-in portal contact: the invoice page, submitting annotated
//! lines, the dispute thread, withdrawing, and paying the undisputed remainder.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::disputes::{Annotation, DisputeView, InvoicePage};

/// Invoice `id` of the caller's account, with its lines and disputes.
#[server(endpoint = "portal/invoice")]
pub async fn get_invoice(id: i64) -> Result<InvoicePage, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let account_id = ctx::caller().portal_account()?;
            crate::services::disputes::invoice_page(&state.db, account_id, id).await
        }
        .await,
    )
}

/// Submits the annotated lines of invoice `document_id` as one dispute, with the uploaded
/// files `file_ids` attached. Every amount is recomputed on the server.
#[server(endpoint = "portal/disputes/submit")]
pub async fn submit_dispute(
    document_id: i64,
    // An empty list is sent as no field at all.
    #[server(default)] annotations: Vec<Annotation>,
    #[server(default)] file_ids: Vec<i64>,
) -> Result<DisputeView, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let caller = ctx::caller();
            let account_id = caller.portal_account()?;
            let (contact_id, ..) = caller.contact()?;
            let view = crate::services::disputes::submit(
                &state.db,
                &state.settings.public_url,
                contact_id,
                account_id,
                document_id,
                &annotations,
                &file_ids,
                state.clock.now(),
            )
            .await?;
            state.mail_wake.notify_one();
            Ok(view)
        }
        .await,
    )
}

/// Withdraws the caller's open dispute `id`.
#[server(endpoint = "portal/disputes/withdraw")]
pub async fn withdraw_dispute(id: i64) -> Result<DisputeView, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let caller = ctx::caller();
            let account_id = caller.portal_account()?;
            let (contact_id, ..) = caller.contact()?;
            crate::services::disputes::withdraw(
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

/// Adds a message (and optionally an uploaded file) to the caller's dispute `id`.
#[server(endpoint = "portal/disputes/message")]
pub async fn add_dispute_message(
    id: i64,
    body: String,
    file_id: Option<i64>,
) -> Result<DisputeView, AppError> {
    use super::ctx;
    use crate::services::disputes::{self, Author};
    ctx::respond(
        async {
            let state = ctx::state()?;
            let caller = ctx::caller();
            let account_id = caller.portal_account()?;
            let (contact_id, ..) = caller.contact()?;
            disputes::add_message(
                &state.db,
                Author::Contact {
                    contact_id,
                    account_id,
                },
                id,
                &body,
                file_id,
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// Opens Easy Pay for what invoice `document_id` still owes apart from its disputed
/// amount; returns the checkout's address.
#[server(endpoint = "portal/disputes/pay-undisputed")]
pub async fn pay_undisputed(document_id: i64) -> Result<String, AppError> {
    use super::ctx;
    use crate::model::enums::PaymentChannel;
    use crate::model::payments::PayItem;
    use crate::model::promises::amount_input;
    use crate::services::easy_pay::{self, Payer};
    ctx::respond(
        async {
            let state = ctx::state()?;
            let caller = ctx::caller();
            let account_id = caller.portal_account()?;
            let (contact_id, ..) = caller.contact()?;
            let page =
                crate::services::disputes::invoice_page(&state.db, account_id, document_id).await?;
            let remainder = page.open_minor - page.disputed_minor;
            if remainder <= 0 {
                return Err(AppError::validation(
                    "items",
                    "nothing undisputed is left to pay",
                ));
            }
            easy_pay::start_checkout(
                &state.db,
                state.pay.as_ref(),
                &state.settings.public_url,
                Payer {
                    account_id,
                    contact_id,
                    only_document: None,
                },
                &[PayItem {
                    document_id,
                    amount: amount_input(remainder),
                }],
                PaymentChannel::Card,
                // The same invoice state gives the same key: a doubled click, one checkout.
                &format!("undisputed-{}-{}", page.open_minor, page.disputed_minor),
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}
