//! Customers and vendors: the master data Settle keeps correct.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: AccountKind,
    #[sea_orm(unique)]
    pub account_number: String,
    #[sea_orm(unique)]
    pub external_id: Option<String>,
    pub legal_name: String,
    pub display_name: String,
    pub tin_encrypted: Option<String>,
    pub tin_last4: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub payment_terms_days: i32,
    pub credit_limit_minor: Option<i64>,
    pub currency: String,
    pub preferred_payment_method: Option<PaymentMethodKind>,
    pub collector_id: Option<i64>,
    pub status: AccountStatus,
    pub segment: Option<String>,
    pub verified_at: Option<DateTimeUtc>,
    /// Who last confirmed the data (a contact's name and email, or a staff member's).
    pub verified_by: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
