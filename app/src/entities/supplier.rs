//! The supplier who runs Settle: its own profile, shared with customers.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "suppliers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub legal_name: String,
    pub display_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub remit_to: String,
    pub tin: Option<String>,
    pub currency: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
