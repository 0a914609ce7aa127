//! Line items of a document; quantities in thousandths.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "document_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub document_id: i64,
    pub line_no: i32,
    pub sku: Option<String>,
    pub description: String,
    pub quantity_milli: i64,
    pub unit_price_minor: i64,
    pub amount_minor: i64,
    pub tax_minor: i64,
}

impl ActiveModelBehavior for ActiveModel {}
