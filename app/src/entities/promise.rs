//! A customer's Promise to Pay an amount by a date.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "promises")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub contact_id: Option<i64>,
    pub amount_minor: i64,
    pub currency: String,
    pub promised_date: Date,
    pub note: Option<String>,
    pub status: PromiseStatus,
    pub created_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
