//! One touch of a reminder rule.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reminder_steps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub rule_id: i64,
    pub position: i32,
    pub trigger: StepTrigger,
    pub days: i32,
    pub action: StepAction,
    pub template_id: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
