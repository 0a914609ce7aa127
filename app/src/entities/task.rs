//! The staff inbox: calls, reviews, approvals and follow-ups.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: Option<i64>,
    pub kind: TaskKind,
    pub title: String,
    pub related_kind: Option<String>,
    pub related_id: Option<i64>,
    pub due_date: Option<Date>,
    pub priority: i32,
    pub assignee_id: Option<i64>,
    pub status: TaskStatus,
    pub outcome: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
