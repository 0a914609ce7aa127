//! Money received, from the payment provider, the ERP or staff.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    #[sea_orm(unique)]
    pub external_id: Option<String>,
    pub provider: PaymentProvider,
    #[sea_orm(unique)]
    pub provider_event_id: Option<String>,
    pub provider_ref: Option<String>,
    pub method: PaymentChannel,
    pub amount_minor: i64,
    pub unapplied_minor: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub received_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
