//! Easy Pay server functions: start a checkout from the portal or from a Pay link, and
//! read a receipt. Amounts are checked on the server against stored balances.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::enums::PaymentChannel;
use crate::model::payments::{PayItem, PayLinkInvoice, Receipt};

/// Sends the browser to `url`: a redirect for a plain form post; with JavaScript the
/// caller reads the returned address and navigates.
#[cfg(feature = "ssr")]
fn go_to(url: &str) {
    leptos_axum::redirect(url);
}

/// Opens a checkout for the chosen invoices of the caller's account and returns the
/// address of the provider's page. `attempt` names the page view, so a doubled click
/// opens one checkout.
#[server(endpoint = "portal/pay/start")]
pub async fn start_payment(
    items: Vec<PayItem>,
    method: PaymentChannel,
    attempt: String,
) -> Result<String, AppError> {
    use super::ctx;
    use crate::services::easy_pay::{self, Payer};
    ctx::respond(
        async {
            let state = ctx::state()?;
            let caller = ctx::caller();
            let account_id = caller.portal_account()?;
            let (contact_id, ..) = caller.contact()?;
            let url = easy_pay::start_checkout(
                &state.db,
                state.pay.as_ref(),
                &state.settings.public_url,
                Payer {
                    account_id,
                    contact_id,
                    only_document: None,
                },
                &items,
                method,
                &attempt,
                state.clock.now(),
            )
            .await?;
            Ok(url)
        }
        .await,
    )
}

/// The one invoice the caller's Pay link opens.
#[server(endpoint = "portal/pay/invoice")]
pub async fn get_pay_link_invoice() -> Result<PayLinkInvoice, AppError> {
    use super::ctx;
    use crate::model::enums::LinkPurpose;
    use crate::services::easy_pay;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let caller = ctx::caller();
            let (_, account_id, purpose, scope) = caller.contact()?;
            let document_id = easy_pay::scoped_document(scope)
                .filter(|_| purpose == LinkPurpose::Pay)
                .ok_or(AppError::Unauthorized)?;
            easy_pay::pay_link_invoice(&state.db, account_id, document_id).await
        }
        .await,
    )
}

/// Opens a checkout for the whole open balance of the Pay link's invoice.
#[server(endpoint = "portal/pay/invoice/start")]
pub async fn pay_link_checkout(method: PaymentChannel) -> Result<String, AppError> {
    use super::ctx;
    use crate::model::enums::LinkPurpose;
    use crate::model::promises::amount_input;
    use crate::services::easy_pay::{self, Payer};
    ctx::respond(
        async {
            let state = ctx::state()?;
            let caller = ctx::caller();
            let Caller::Contact { session_id, .. } = &caller else {
                return Err(AppError::Unauthorized);
            };
            let (contact_id, account_id, purpose, scope) = caller.contact()?;
            let document_id = easy_pay::scoped_document(scope)
                .filter(|_| purpose == LinkPurpose::Pay)
                .ok_or(AppError::Unauthorized)?;
            let invoice = easy_pay::pay_link_invoice(&state.db, account_id, document_id).await?;
            let url = easy_pay::start_checkout(
                &state.db,
                state.pay.as_ref(),
                &state.settings.public_url,
                Payer {
                    account_id,
                    contact_id,
                    only_document: Some(document_id),
                },
                &[PayItem {
                    document_id,
                    amount: amount_input(invoice.open_minor),
                }],
                method,
                &format!("pay-link-session-{session_id}"),
                state.clock.now(),
            )
            .await?;
            go_to(&url);
            Ok(url)
        }
        .await,
    )
}

/// The receipt of checkout `session_id`, for a contact of the account that paid.
#[server(endpoint = "portal/receipt")]
pub async fn get_receipt(session_id: String) -> Result<Receipt, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (_, account_id, ..) = ctx::caller().contact()?;
            crate::services::easy_pay::receipt(&state.db, account_id, &session_id).await
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
use crate::services::sessions::Caller;
