//! A step that fired for a document: at most once each.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reminder_touches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub document_id: i64,
    pub step_id: i64,
    pub fired_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
