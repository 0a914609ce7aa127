//! A request to pay chosen documents: an Easy Pay checkout.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub contact_id: Option<i64>,
    pub provider: PaymentProvider,
    #[sea_orm(unique)]
    pub provider_session_id: Option<String>,
    #[sea_orm(unique)]
    pub idempotency_key: String,
    pub document_ids: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: PaymentLinkStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Where the customer completes the payment (the provider's hosted page).
    pub checkout_url: Option<String>,
    /// The method the customer chose before checkout.
    pub method: Option<PaymentChannel>,
}

impl ActiveModelBehavior for ActiveModel {}
