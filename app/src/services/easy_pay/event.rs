//! Provider events in Stripe's shape (`{"id", "type", "data": {"object": <checkout
//! session>}}`); the sandbox emits the same shape, so one parser serves both.

use serde::Deserialize;
use serde_json::json;

use crate::error::AppError;

/// What an event says happened to a checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The customer finished checkout; `paid` tells whether the money is confirmed (card,
    /// wallet) or still on its way (a bank debit).
    Completed { paid: bool },
    /// A bank debit cleared.
    AsyncSucceeded,
    /// A bank debit was returned.
    AsyncFailed,
    /// The checkout timed out unused.
    Expired,
    /// Anything else; acknowledged and ignored.
    Other,
}

/// The fields of an event that Settle acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    pub id: String,
    pub type_name: String,
    pub kind: EventKind,
    /// The checkout session the event is about.
    pub session_id: Option<String>,
    /// What the customer paid, in minor units, as the provider reports it.
    pub amount_total: Option<i64>,
    pub currency: Option<String>,
    /// The provider's reference of the money movement (a payment intent).
    pub payment_ref: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    type_name: String,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    object: Session,
}

#[derive(Deserialize)]
struct Session {
    id: Option<String>,
    object: Option<String>,
    payment_status: Option<String>,
    amount_total: Option<i64>,
    currency: Option<String>,
    payment_intent: Option<String>,
}

/// Reads an event body.
///
/// # Errors
/// `Validation` (field `body`) when it is not an event.
pub fn parse(body: &[u8]) -> Result<ProviderEvent, AppError> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| AppError::validation("body", format!("not a provider event: {e}")))?;
    let session = envelope.data.object;
    let is_session = session.object.as_deref() == Some("checkout.session");
    let kind = match envelope.type_name.as_str() {
        "checkout.session.completed" if is_session => EventKind::Completed {
            paid: session.payment_status.as_deref() == Some("paid"),
        },
        "checkout.session.async_payment_succeeded" if is_session => EventKind::AsyncSucceeded,
        "checkout.session.async_payment_failed" if is_session => EventKind::AsyncFailed,
        "checkout.session.expired" if is_session => EventKind::Expired,
        _ => EventKind::Other,
    };
    Ok(ProviderEvent {
        id: envelope.id,
        type_name: envelope.type_name,
        kind,
        session_id: session.id,
        amount_total: session.amount_total,
        currency: session.currency,
        payment_ref: session.payment_intent,
    })
}

/// The body of a checkout-session event, as Stripe would send it (the sandbox's callbacks
/// and the tests use it).
pub fn session_event(
    event_id: &str,
    type_name: &str,
    session_id: &str,
    payment_status: &str,
    amount_total: i64,
    currency: &str,
    created: i64,
) -> Vec<u8> {
    json!({
        "id": event_id,
        "object": "event",
        "type": type_name,
        "created": created,
        "data": { "object": {
            "id": session_id,
            "object": "checkout.session",
            "payment_status": payment_status,
            "amount_total": amount_total,
            "currency": currency.to_ascii_lowercase(),
            "payment_intent": format!("pi_{}", session_id.trim_start_matches("cs_")),
        }}
    })
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paid_completion_is_read_with_its_amount() {
        let body = session_event(
            "evt_1",
            "checkout.session.completed",
            "cs_1",
            "paid",
            1_250,
            "USD",
            0,
        );
        let event = parse(&body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(event.kind, EventKind::Completed { paid: true });
        assert_eq!(event.session_id.as_deref(), Some("cs_1"));
        assert_eq!(event.amount_total, Some(1_250));
        assert_eq!(event.currency.as_deref(), Some("usd"));
    }

    #[test]
    fn an_unpaid_completion_is_a_pending_bank_debit() {
        let body = session_event(
            "evt_1",
            "checkout.session.completed",
            "cs_1",
            "unpaid",
            1,
            "USD",
            0,
        );
        assert_eq!(
            parse(&body).map(|e| e.kind).ok(),
            Some(EventKind::Completed { paid: false })
        );
    }

    #[test]
    fn other_event_types_are_other() {
        let body = session_event("evt_1", "invoice.paid", "cs_1", "paid", 1, "USD", 0);
        assert_eq!(parse(&body).map(|e| e.kind).ok(), Some(EventKind::Other));
    }

    #[test]
    fn a_body_that_is_not_an_event_is_refused() {
        assert!(parse(b"{}").is_err());
        assert!(parse(b"not json").is_err());
    }
}
