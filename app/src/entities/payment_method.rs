//! Payment methods on file; full bank numbers only encrypted.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_methods")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub kind: PaymentMethodKind,
    pub brand: Option<String>,
    pub last4: String,
    pub holder_name: Option<String>,
    pub routing_number: Option<String>,
    pub account_number_encrypted: Option<String>,
    pub is_default: bool,
    pub status: RecordStatus,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
