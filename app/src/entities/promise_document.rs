//! The documents a promise covers.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "promise_documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub promise_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub document_id: i64,
    pub amount_minor: i64,
}

impl ActiveModelBehavior for ActiveModel {}
