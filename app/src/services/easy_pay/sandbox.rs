//! The sandbox provider: a hosted-checkout page inside Settle that says plainly it is a
//! test. Its buttons produce the events a real provider would send — signed with the
//! sandbox's secret and fed through [`record::receive`], the same path as a real webhook —
//! so the whole flow, including bank debits that clear later or come back, can be tried
//! without any account at a provider.

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait, prelude::*,
};
use sha2::{Digest, Sha256};

use super::event::session_event;
use super::record::{self, WebhookError};
use super::signature::sign;
use super::{BoxFuture, Checkout, CheckoutRequest, Provider, receipt_path};
use crate::entities::{document, payment_link, payment_link_document, supplier};
use crate::error::AppError;
use crate::model::enums::{PaymentChannel, PaymentLinkStatus, PaymentProvider};
use crate::services::tokens::new_token;

/// The sandbox provider.
pub struct Sandbox {
    secret: Vec<u8>,
    public_url: String,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// A sandbox whose callbacks are signed with `secret`.
    pub fn new(secret: Vec<u8>, public_url: &str) -> Self {
        Sandbox {
            secret,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }
}

/// The path of a sandbox checkout page.
pub fn checkout_path(session_id: &str) -> String {
    format!("/pay/sandbox/{session_id}")
}

impl Provider for Sandbox {
    fn kind(&self) -> PaymentProvider {
        PaymentProvider::Sandbox
    }

    fn webhook_secret(&self) -> &[u8] {
        &self.secret
    }

    fn create_checkout<'a>(
        &'a self,
        request: &'a CheckoutRequest,
    ) -> BoxFuture<'a, Result<Checkout, AppError>> {
        Box::pin(async move {
            // Derived from the idempotency key: a retried request gets the same session.
            let mut hasher = Sha256::new();
            hasher.update(&self.secret);
            hasher.update(request.idempotency_key.as_bytes());
            let session_id = format!("cs_sandbox_{}", &hex::encode(hasher.finalize())[..32]);
            let url = format!("{}{}", self.public_url, checkout_path(&session_id));
            Ok(Checkout { session_id, url })
        })
    }
}

/// What the sandbox page shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SandboxView {
    pub session_id: String,
    pub payee: String,
    pub amount_minor: i64,
    pub currency: String,
    pub method: PaymentChannel,
    pub status: PaymentLinkStatus,
    /// (invoice number, amount) per line.
    pub items: Vec<(String, i64)>,
}

/// The sandbox checkout `session_id`.
///
/// # Errors
/// `NotFound` for an unknown session; database errors as `Internal`.
pub async fn view(db: &impl ConnectionTrait, session_id: &str) -> Result<SandboxView, AppError> {
    let link = payment_link::Entity::find()
        .filter(payment_link::COLUMN.provider.eq(PaymentProvider::Sandbox))
        .filter(payment_link::COLUMN.provider_session_id.eq(session_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let parts = payment_link_document::Entity::find()
        .filter(payment_link_document::COLUMN.payment_link_id.eq(link.id))
        .order_by_asc(payment_link_document::COLUMN.id)
        .all(db)
        .await?;
    let docs = document::Entity::find()
        .filter(
            document::COLUMN
                .id
                .is_in(parts.iter().map(|p| p.document_id)),
        )
        .all(db)
        .await?;
    let payee = supplier::Entity::find()
        .one(db)
        .await?
        .map_or_else(|| "Settle".to_owned(), |s| s.display_name);
    Ok(SandboxView {
        session_id: session_id.to_owned(),
        payee,
        amount_minor: link.amount_minor,
        currency: link.currency,
        method: link.method.unwrap_or(PaymentChannel::Card),
        status: link.status,
        items: parts
            .iter()
            .filter_map(|p| {
                docs.iter()
                    .find(|d| d.id == p.document_id)
                    .map(|d| (d.number.clone(), p.amount_minor))
            })
            .collect(),
    })
}

/// A button on the sandbox page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Pay with the method: card and wallet are confirmed at once; a bank debit completes
    /// unpaid and clears later.
    Pay(PaymentChannel),
    /// The card is declined: no event, nothing changes.
    Decline,
    /// The bank confirms a pending debit.
    ClearDebit,
    /// The bank returns a pending debit.
    ReturnDebit,
}

/// Carries out a button press: builds the event a provider would send, signs it and hands
/// it to [`record::receive`]. Returns where to send the browser.
///
/// # Errors
/// `NotFound` for an unknown session; `Conflict` when the button does not fit the
/// checkout's state; database errors as `Internal`.
pub async fn press(
    db: &(impl ConnectionTrait + TransactionTrait),
    sandbox: &dyn Provider,
    public_url: &str,
    session_id: &str,
    choice: Choice,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let view = view(db, session_id).await?;
    let (type_name, payment_status) = match (choice, view.status) {
        (Choice::Decline, PaymentLinkStatus::Created) => {
            return Ok(format!("{}?declined=1", checkout_path(session_id)));
        }
        (Choice::Pay(PaymentChannel::Ach), PaymentLinkStatus::Created) => {
            ("checkout.session.completed", "unpaid")
        }
        (Choice::Pay(_), PaymentLinkStatus::Created) => ("checkout.session.completed", "paid"),
        (Choice::ClearDebit, PaymentLinkStatus::Pending) => {
            ("checkout.session.async_payment_succeeded", "paid")
        }
        (Choice::ReturnDebit, PaymentLinkStatus::Pending) => {
            ("checkout.session.async_payment_failed", "unpaid")
        }
        _ => {
            return Err(AppError::Conflict(format!(
                "this checkout is {}; that button no longer applies",
                view.status
            )));
        }
    };
    if let Choice::Pay(method) = choice
        && method != view.method
    {
        payment_link::Entity::update_many()
            .col_expr(payment_link::Column::Method, Expr::value(method))
            .filter(payment_link::COLUMN.provider_session_id.eq(session_id))
            .exec(db)
            .await?;
    }
    let body = session_event(
        &format!("evt_sandbox_{}", new_token()),
        type_name,
        session_id,
        payment_status,
        view.amount_minor,
        &view.currency,
        now.timestamp(),
    );
    let header = sign(sandbox.webhook_secret(), now.timestamp(), &body);
    match record::receive(db, sandbox, public_url, Some(&header), &body, now).await {
        Ok(_) => Ok(receipt_path(session_id)),
        Err(WebhookError::Internal(err)) => Err(err),
        Err(other) => {
            tracing::error!(%other, "the sandbox's own callback was refused");
            Err(AppError::Internal)
        }
    }
}
