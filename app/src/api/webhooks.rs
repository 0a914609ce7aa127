//! Server functions of the webhooks page: admins register endpoints, choose their events,
//! see recent deliveries with the receiver's last answer, and redeliver dead ones. The
//! forms post plain fields (one per event checkbox), so they work before the wasm arrives.

// The add form posts one field per event checkbox; the macro-made client function takes them all.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::enums::WebhookEventKind;
use crate::model::webhooks::{CreatedEndpoint, EndpointView, EndpointWithDeliveries};

/// Deliveries shown per endpoint.
pub const RECENT_DELIVERIES: u64 = 20;

/// The events whose checkbox was ticked, in the order of the checkbox fields.
#[cfg(feature = "ssr")]
#[allow(clippy::too_many_arguments)]
fn ticked(
    profile_changed: Option<String>,
    payment_received: Option<String>,
    promise_made: Option<String>,
    promise_broken: Option<String>,
    dispute_opened: Option<String>,
    dispute_resolved: Option<String>,
) -> Vec<WebhookEventKind> {
    [
        (profile_changed, WebhookEventKind::ProfileChanged),
        (payment_received, WebhookEventKind::PaymentReceived),
        (promise_made, WebhookEventKind::PromiseMade),
        (promise_broken, WebhookEventKind::PromiseBroken),
        (dispute_opened, WebhookEventKind::DisputeOpened),
        (dispute_resolved, WebhookEventKind::DisputeResolved),
    ]
    .into_iter()
    .filter(|(on, _)| on.as_deref().is_some_and(|v| !v.is_empty() && v != "false"))
    .map(|(_, event)| event)
    .collect()
}

/// Every endpoint with its recent deliveries, newest first (admins only).
#[server(endpoint = "staff/webhooks")]
pub async fn list_webhooks() -> Result<Vec<EndpointWithDeliveries>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(crate::model::enums::StaffRole::Admin)?;
            crate::services::webhooks::overview(&state.db, RECENT_DELIVERIES).await
        }
        .await,
    )
}

/// Registers an endpoint for the ticked events; the answer carries its signing secret,
/// shown this once (admins only).
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "staff/webhooks/create")]
pub async fn create_webhook_endpoint(
    url: String,
    description: Option<String>,
    profile_changed: Option<String>,
    payment_received: Option<String>,
    promise_made: Option<String>,
    promise_broken: Option<String>,
    dispute_opened: Option<String>,
    dispute_resolved: Option<String>,
) -> Result<CreatedEndpoint, AppError> {
    use super::ctx;
    use crate::services::webhooks::{NewEndpoint, create_endpoint};
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(crate::model::enums::StaffRole::Admin)?;
            let events = ticked(
                profile_changed,
                payment_received,
                promise_made,
                promise_broken,
                dispute_opened,
                dispute_resolved,
            );
            create_endpoint(
                &state.db,
                &state.settings.secret_key,
                staff_id,
                NewEndpoint {
                    url,
                    description: description.unwrap_or_default(),
                    events,
                },
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// Sets which events endpoint `id` receives (admins only).
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "staff/webhooks/events")]
pub async fn set_webhook_events(
    id: i64,
    profile_changed: Option<String>,
    payment_received: Option<String>,
    promise_made: Option<String>,
    promise_broken: Option<String>,
    dispute_opened: Option<String>,
    dispute_resolved: Option<String>,
) -> Result<EndpointView, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(crate::model::enums::StaffRole::Admin)?;
            let events = ticked(
                profile_changed,
                payment_received,
                promise_made,
                promise_broken,
                dispute_opened,
                dispute_resolved,
            );
            crate::services::webhooks::set_events(
                &state.db,
                staff_id,
                id,
                &events,
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// Turns endpoint `id` on (`active` = `true`) or off (admins only).
#[server(endpoint = "staff/webhooks/active")]
pub async fn set_webhook_active(id: i64, active: String) -> Result<EndpointView, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(crate::model::enums::StaffRole::Admin)?;
            crate::services::webhooks::set_active(
                &state.db,
                staff_id,
                id,
                active == "true",
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// Gives endpoint `id` a new signing secret, shown this once (admins only).
#[server(endpoint = "staff/webhooks/rotate")]
pub async fn rotate_webhook_secret(id: i64) -> Result<CreatedEndpoint, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(crate::model::enums::StaffRole::Admin)?;
            crate::services::webhooks::rotate_secret(
                &state.db,
                &state.settings.secret_key,
                staff_id,
                id,
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// Removes endpoint `id` and its deliveries (admins only).
#[server(endpoint = "staff/webhooks/delete")]
pub async fn delete_webhook_endpoint(id: i64) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(crate::model::enums::StaffRole::Admin)?;
            crate::services::webhooks::delete_endpoint(&state.db, staff_id, id, state.clock.now())
                .await
        }
        .await,
    )
}

/// Queues delivery `id` again, due now, when it is dead or was delivered (admins only).
#[server(endpoint = "staff/webhooks/redeliver")]
pub async fn redeliver_webhook(id: i64) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(crate::model::enums::StaffRole::Admin)?;
            crate::services::webhooks::redeliver(&state.db, staff_id, id, state.clock.now())
                .await
                .map(|_| ())
        }
        .await,
    )
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn ticked_boxes_name_their_events() {
        let on = || Some("on".to_owned());
        assert_eq!(
            ticked(None, on(), None, on(), None, Some(String::new())),
            vec![
                WebhookEventKind::PaymentReceived,
                WebhookEventKind::PromiseBroken
            ]
        );
        assert!(ticked(None, None, None, None, None, None).is_empty());
    }
}
