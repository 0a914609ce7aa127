//! Easy Pay: the customer picks invoices and amounts, Settle opens a checkout at the
//! payment provider (hosted, so card and bank numbers never touch Settle), and the
//! provider's signed webhook — never the browser — records the payment.
//!
//! - [`Provider`] is what a payment provider must do: open a hosted checkout and name the
//!   secret its webhooks are signed with. [`sandbox::Sandbox`] (the default) is a checkout
//!   page inside Settle that says it is a test; [`stripe::Stripe`] talks to Stripe Checkout.
//! - [`start_checkout`] checks the choice against the stored open balances and opens (or, for
//!   a retried click, reopens) one checkout per idempotency key.
//! - [`record::receive`] verifies and applies webhook events exactly once.

pub mod event;
pub mod record;
pub mod sandbox;
pub mod signature;
pub mod stripe;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionSession,
    TransactionTrait, prelude::*,
};
use sha2::{Digest, Sha256};

use crate::entities::{account, contact, document, payment, payment_link, payment_link_document};
use crate::error::AppError;
use crate::model::enums::{
    DocumentKind, DocumentStatus, PaymentChannel, PaymentLinkStatus, PaymentProvider,
};
use crate::model::payments::{
    MAX_INVOICES, PayItem, PayLinkInvoice, Receipt, ReceiptLine, check_item_amount,
    is_online_method,
};

/// A boxed future, so providers can be used as `dyn Provider`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a checkout is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// The same key for a retried request, so the provider opens one checkout.
    pub idempotency_key: String,
    /// Settle's id of the payment link, for the provider's records.
    pub reference: String,
    pub currency: String,
    /// One line per invoice: its name on the checkout page and the amount.
    pub items: Vec<(String, i64)>,
    pub method: PaymentChannel,
    pub customer_email: Option<String>,
    /// Where the provider sends the customer afterwards; `{CHECKOUT_SESSION_ID}` is
    /// replaced by the session's id.
    pub success_url: String,
    pub cancel_url: String,
}

/// An opened checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub session_id: String,
    pub url: String,
}

/// A payment provider.
pub trait Provider: Send + Sync + std::fmt::Debug {
    fn kind(&self) -> PaymentProvider;

    /// The secret webhook deliveries are signed with.
    fn webhook_secret(&self) -> &[u8];

    /// Opens a hosted checkout.
    fn create_checkout<'a>(
        &'a self,
        request: &'a CheckoutRequest,
    ) -> BoxFuture<'a, Result<Checkout, AppError>>;
}

/// The placeholder providers replace with the checkout session's id.
pub const SESSION_PLACEHOLDER: &str = "{CHECKOUT_SESSION_ID}";

/// Who is paying: a contact of an account, either with the whole portal or with a Pay
/// link that opens one invoice only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payer {
    pub account_id: i64,
    pub contact_id: i64,
    /// Set for a Pay link: the one invoice it may pay.
    pub only_document: Option<i64>,
}

/// Where the browser goes after [`start_checkout`].
pub fn receipt_path(session_id: &str) -> String {
    format!("/portal/receipt/{session_id}")
}

/// Checks the customer's choice against the stored invoices (the account's, open, each
/// amount above zero and at most its open balance — the browser's numbers are never
/// trusted), records a payment link for it and opens a checkout at the provider. Returns
/// the address to send the customer to.
///
/// `attempt` names the page view the choice was made on: the same attempt with the same
/// choice gives the same idempotency key, so a retried or doubled click reopens the same
/// checkout instead of making a second one.
///
/// # Errors
/// `Validation` naming the field (`items`, `method`, `amount-{document id}`); `Forbidden`
/// when a Pay link tries another invoice; `Unavailable` when the provider does not answer;
/// database errors as `Internal`.
#[allow(clippy::too_many_arguments)]
pub async fn start_checkout(
    db: &(impl ConnectionTrait + TransactionTrait),
    provider: &dyn Provider,
    public_url: &str,
    payer: Payer,
    items: &[PayItem],
    method: PaymentChannel,
    attempt: &str,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    if items.is_empty() {
        return Err(AppError::validation(
            "items",
            "choose at least one open invoice",
        ));
    }
    if items.len() > MAX_INVOICES {
        return Err(AppError::validation(
            "items",
            format!("pay at most {MAX_INVOICES} invoices at once"),
        ));
    }
    if !is_online_method(method) {
        return Err(AppError::validation(
            "method",
            "choose card, bank debit or wallet",
        ));
    }
    let mut wanted: BTreeMap<i64, &str> = BTreeMap::new();
    for item in items {
        if wanted.insert(item.document_id, &item.amount).is_some() {
            return Err(AppError::validation("items", "an invoice is chosen twice"));
        }
    }
    if let Some(only) = payer.only_document
        && wanted.keys().any(|id| *id != only)
    {
        return Err(AppError::Forbidden);
    }
    let company = account::Entity::find_by_id(payer.account_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let docs = document::Entity::find()
        .filter(document::COLUMN.id.is_in(wanted.keys().copied()))
        .filter(document::COLUMN.account_id.eq(payer.account_id))
        .order_by_asc(document::COLUMN.id)
        .all(db)
        .await?;
    if docs.len() != wanted.len() {
        return Err(AppError::validation(
            "items",
            "one of the chosen invoices is not on your account",
        ));
    }
    let mut lines = Vec::with_capacity(docs.len());
    for doc in &docs {
        if doc.kind != DocumentKind::Invoice
            || doc.status != DocumentStatus::Open
            || doc.open_minor <= 0
        {
            let why = if doc.status == DocumentStatus::PaymentPending {
                "has a payment on its way"
            } else {
                "is not open"
            };
            return Err(AppError::validation(
                "items",
                format!("invoice {} {why}", doc.number),
            ));
        }
        let text = wanted.get(&doc.id).copied().unwrap_or_default();
        let minor = check_item_amount(text, doc.open_minor, &doc.currency)
            .map_err(|m| AppError::validation(&format!("amount-{}", doc.id), m))?;
        lines.push((doc, minor));
    }
    let total: i64 = lines.iter().map(|(_, m)| m).sum();

    let mut hasher = Sha256::new();
    hasher.update(format!(
        "{}|{}|{attempt}|{method}",
        payer.account_id, payer.contact_id
    ));
    for (doc, minor) in &lines {
        hasher.update(format!("|{}={minor}", doc.id));
    }
    let key = hex::encode(hasher.finalize());

    let link = match find_by_key(db, &key).await? {
        Some(existing) => existing,
        None => match insert_link(
            db,
            provider.kind(),
            payer,
            &company.currency,
            &lines,
            total,
            method,
            &key,
            now,
        )
        .await
        {
            Ok(link) => link,
            // Two clicks raced: the other one's row is the link.
            Err(err) => find_by_key(db, &key).await?.ok_or(err)?,
        },
    };
    match (link.status, &link.checkout_url, &link.provider_session_id) {
        (PaymentLinkStatus::Created, Some(url), Some(_)) => return Ok(url.clone()),
        (PaymentLinkStatus::Created, _, _) => {}
        (_, _, Some(session)) => return Ok(format!("{public_url}{}", receipt_path(session))),
        _ => {
            return Err(AppError::Conflict(
                "this payment can no longer be started; please choose the invoices again".into(),
            ));
        }
    }

    let email = contact::Entity::find_by_id(payer.contact_id)
        .one(db)
        .await?
        .and_then(|c| c.email);
    let request = CheckoutRequest {
        idempotency_key: key,
        reference: link.id.to_string(),
        currency: company.currency.clone(),
        items: lines
            .iter()
            .map(|(doc, minor)| (format!("Invoice {}", doc.number), *minor))
            .collect(),
        method,
        customer_email: email,
        success_url: format!("{public_url}{}", receipt_path(SESSION_PLACEHOLDER)),
        cancel_url: format!(
            "{public_url}{}",
            if payer.only_document.is_some() {
                "/portal/pay"
            } else {
                "/portal"
            }
        ),
    };
    let checkout = provider.create_checkout(&request).await?;
    payment_link::Entity::update_many()
        .col_expr(
            payment_link::Column::ProviderSessionId,
            Expr::value(checkout.session_id.clone()),
        )
        .col_expr(
            payment_link::Column::CheckoutUrl,
            Expr::value(checkout.url.clone()),
        )
        .col_expr(payment_link::Column::UpdatedAt, Expr::value(now))
        .filter(payment_link::COLUMN.id.eq(link.id))
        .exec(db)
        .await?;
    Ok(checkout.url)
}

async fn find_by_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<payment_link::Model>, AppError> {
    Ok(payment_link::Entity::find()
        .filter(payment_link::COLUMN.idempotency_key.eq(key))
        .one(db)
        .await?)
}

#[allow(clippy::too_many_arguments)]
async fn insert_link(
    db: &(impl ConnectionTrait + TransactionTrait),
    provider: PaymentProvider,
    payer: Payer,
    currency: &str,
    lines: &[(&document::Model, i64)],
    total: i64,
    method: PaymentChannel,
    key: &str,
    now: DateTime<Utc>,
) -> Result<payment_link::Model, AppError> {
    let txn = crate::db::begin_write(db).await?;
    let ids: Vec<String> = lines.iter().map(|(d, _)| d.id.to_string()).collect();
    let link = payment_link::ActiveModel {
        account_id: Set(payer.account_id),
        contact_id: Set(Some(payer.contact_id)),
        provider: Set(provider),
        provider_session_id: Set(None),
        idempotency_key: Set(key.to_owned()),
        document_ids: Set(ids.join(",")),
        amount_minor: Set(total),
        currency: Set(currency.to_owned()),
        status: Set(PaymentLinkStatus::Created),
        created_at: Set(now),
        updated_at: Set(now),
        checkout_url: Set(None),
        method: Set(Some(method)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    payment_link_document::Entity::insert_many(lines.iter().map(|(doc, minor)| {
        payment_link_document::ActiveModel {
            payment_link_id: Set(link.id),
            document_id: Set(doc.id),
            amount_minor: Set(*minor),
            ..Default::default()
        }
    }))
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Ok(link)
}

/// The receipt of checkout `session_id`, if it is `account_id`'s.
///
/// # Errors
/// `NotFound` for another account's or an unknown checkout; database errors as `Internal`.
pub async fn receipt(
    db: &impl ConnectionTrait,
    account_id: i64,
    session_id: &str,
) -> Result<Receipt, AppError> {
    let link = payment_link::Entity::find()
        .filter(payment_link::COLUMN.provider_session_id.eq(session_id))
        .filter(payment_link::COLUMN.account_id.eq(account_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let parts = payment_link_document::Entity::find()
        .filter(payment_link_document::COLUMN.payment_link_id.eq(link.id))
        .order_by_asc(payment_link_document::COLUMN.id)
        .all(db)
        .await?;
    let docs: BTreeMap<i64, document::Model> = document::Entity::find()
        .filter(
            document::COLUMN
                .id
                .is_in(parts.iter().map(|p| p.document_id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let paid = payment::Entity::find()
        .filter(payment::COLUMN.provider_ref.eq(session_id))
        .filter(payment::COLUMN.account_id.eq(account_id))
        .one(db)
        .await?;
    Ok(Receipt {
        status: link.status,
        amount_minor: paid.as_ref().map_or(link.amount_minor, |p| p.amount_minor),
        currency: link.currency,
        method: link.method,
        lines: parts
            .iter()
            .filter_map(|p| {
                docs.get(&p.document_id).map(|d| ReceiptLine {
                    number: d.number.clone(),
                    amount_minor: p.amount_minor,
                    open_minor: d.open_minor,
                })
            })
            .collect(),
        unapplied_minor: paid.map_or(0, |p| p.unapplied_minor),
        reference: format!("EP-{}", link.id),
    })
}

/// The invoice a Pay link opens (`document_id` of `account_id`).
///
/// # Errors
/// `NotFound` when it is not the account's invoice; database errors as `Internal`.
pub async fn pay_link_invoice(
    db: &impl ConnectionTrait,
    account_id: i64,
    document_id: i64,
) -> Result<PayLinkInvoice, AppError> {
    let doc = document::Entity::find_by_id(document_id)
        .filter(document::COLUMN.account_id.eq(account_id))
        .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let company = account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(PayLinkInvoice {
        company: company.display_name,
        number: doc.number,
        due_date: doc.due_date,
        total_minor: doc.total_minor,
        open_minor: doc.open_minor,
        currency: doc.currency,
        payable: doc.status == DocumentStatus::Open && doc.open_minor > 0,
    })
}

/// The scope a Pay link carries for invoice `document_id`.
pub fn pay_scope(document_id: i64) -> String {
    format!("document:{document_id}")
}

/// The invoice a Pay link's scope names.
pub fn scoped_document(scope: Option<&str>) -> Option<i64> {
    scope?.strip_prefix("document:")?.parse().ok()
}

/// Makes a Pay link for invoice `number` of contact `contact_id`'s account: it opens that
/// invoice's payment page and nothing else of the account. Returns the token.
///
/// # Errors
/// `NotFound` when the contact or the invoice (on the contact's account) does not exist;
/// database errors as `Internal`.
pub async fn issue_pay_link(
    db: &impl ConnectionTrait,
    contact_id: i64,
    number: &str,
    creator: crate::services::magic_links::Creator,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    use crate::services::magic_links;
    let who = contact::Entity::find_by_id(contact_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let invoice = document::Entity::find()
        .filter(document::COLUMN.account_id.eq(who.account_id))
        .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
        .filter(document::COLUMN.number.eq(number))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    magic_links::issue(
        db,
        who.id,
        crate::model::enums::LinkPurpose::Pay,
        Some(pay_scope(invoice.id)),
        magic_links::PURPOSE_TTL,
        creator,
        now,
    )
    .await
}
