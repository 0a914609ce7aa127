//! Fixed-window request counters, in the database so every server process shares them.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rate_limits")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub key: String,
    pub window_start: DateTimeUtc,
    pub hits: i32,
}

impl ActiveModelBehavior for ActiveModel {}
