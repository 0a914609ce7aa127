//! The amount an Easy Pay checkout puts on one document.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_link_documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub payment_link_id: i64,
    pub document_id: i64,
    pub amount_minor: i64,
}

impl ActiveModelBehavior for ActiveModel {}
