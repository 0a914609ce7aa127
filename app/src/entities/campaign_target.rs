//! An account reached by a campaign, and how far it got.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_targets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub account_id: i64,
    pub contact_id: Option<i64>,
    pub status: TargetStatus,
    pub follow_ups: i32,
    pub last_sent_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
