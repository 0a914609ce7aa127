//! Stripe Checkout over its REST API: `POST /v1/checkout/sessions` (form-encoded, with an
//! `Idempotency-Key`), the customer pays on Stripe's hosted page, and Stripe's signed
//! webhooks (`checkout.session.*`) record the payment. The API base is configurable so the
//! tests point it at a local mock server.

use std::time::Duration;

use serde::Deserialize;

use super::{BoxFuture, Checkout, CheckoutRequest, Provider};
use crate::error::AppError;
use crate::model::enums::{PaymentChannel, PaymentProvider};

/// The Stripe provider.
pub struct Stripe {
    api_base: String,
    secret_key: String,
    webhook_secret: Vec<u8>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl Stripe {
    /// A client of the API at `api_base` (normally `https://api.stripe.com`).
    ///
    /// # Errors
    /// The HTTP client cannot be built (no TLS roots).
    pub fn new(api_base: &str, secret_key: &str, webhook_secret: &str) -> Result<Self, AppError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| {
                tracing::error!(%e, "could not build the Stripe HTTP client");
                AppError::Internal
            })?;
        Ok(Stripe {
            api_base: api_base.trim_end_matches('/').to_owned(),
            secret_key: secret_key.to_owned(),
            webhook_secret: webhook_secret.as_bytes().to_vec(),
            client,
        })
    }
}

#[derive(Deserialize)]
struct Session {
    id: String,
    url: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: Option<String>,
}

/// The form Stripe's "create a Checkout Session" takes.
pub fn session_form(request: &CheckoutRequest) -> Vec<(String, String)> {
    let currency = request.currency.to_ascii_lowercase();
    let mut form = vec![
        ("mode".to_owned(), "payment".to_owned()),
        ("success_url".to_owned(), request.success_url.clone()),
        ("cancel_url".to_owned(), request.cancel_url.clone()),
        ("client_reference_id".to_owned(), request.reference.clone()),
        (
            "metadata[payment_link]".to_owned(),
            request.reference.clone(),
        ),
    ];
    let method = match request.method {
        PaymentChannel::Ach => "us_bank_account",
        // Wallets (Apple Pay, Google Pay) ride on the card method at Stripe.
        _ => "card",
    };
    form.push(("payment_method_types[0]".to_owned(), method.to_owned()));
    if let Some(email) = &request.customer_email {
        form.push(("customer_email".to_owned(), email.clone()));
    }
    for (i, (name, amount)) in request.items.iter().enumerate() {
        let p = format!("line_items[{i}]");
        form.push((format!("{p}[quantity]"), "1".to_owned()));
        form.push((format!("{p}[price_data][currency]"), currency.clone()));
        form.push((format!("{p}[price_data][unit_amount]"), amount.to_string()));
        form.push((format!("{p}[price_data][product_data][name]"), name.clone()));
    }
    form
}

impl Provider for Stripe {
    fn kind(&self) -> PaymentProvider {
        PaymentProvider::Stripe
    }

    fn webhook_secret(&self) -> &[u8] {
        &self.webhook_secret
    }

    fn create_checkout<'a>(
        &'a self,
        request: &'a CheckoutRequest,
    ) -> BoxFuture<'a, Result<Checkout, AppError>> {
        Box::pin(async move {
            let unavailable = || {
                AppError::Unavailable(
                    "The payment service did not answer. Nothing was charged; please try again in a minute."
                        .to_owned(),
                )
            };
            let response = self
                .client
                .post(format!("{}/v1/checkout/sessions", self.api_base))
                .bearer_auth(&self.secret_key)
                .header("Idempotency-Key", &request.idempotency_key)
                .form(&session_form(request))
                .send()
                .await
                .map_err(|e| {
                    tracing::error!(%e, "Stripe could not be reached");
                    unavailable()
                })?;
            let status = response.status();
            let body = response.bytes().await.map_err(|e| {
                tracing::error!(%e, "Stripe's answer was cut off");
                unavailable()
            })?;
            if !status.is_success() {
                let message = serde_json::from_slice::<ErrorBody>(&body)
                    .ok()
                    .and_then(|b| b.error.message)
                    .unwrap_or_default();
                tracing::error!(%status, message, "Stripe refused to open a checkout");
                return Err(unavailable());
            }
            let session: Session = serde_json::from_slice(&body).map_err(|e| {
                tracing::error!(%e, "Stripe's checkout session could not be read");
                unavailable()
            })?;
            let url = session.url.ok_or_else(unavailable)?;
            Ok(Checkout {
                session_id: session.id,
                url,
            })
        })
    }
}
