//! One annotated invoice line of a dispute. `open_line_id` is the line's id while the dispute is open and null after, so a unique index allows one open dispute per line on every database.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dispute_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dispute_id: i64,
    pub document_line_id: i64,
    #[sea_orm(unique)]
    pub open_line_id: Option<i64>,
    pub reason: DisputeReason,
    pub disputed_quantity_milli: Option<i64>,
    pub disputed_minor: i64,
    pub note: Option<String>,
    pub credited_minor: Option<i64>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
