//! Append-only, hash-chained record of every master-data change.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurred_at: DateTimeUtc,
    pub actor_kind: ActorKind,
    pub actor_id: Option<i64>,
    pub channel: Channel,
    pub account_id: Option<i64>,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    pub prev_hash: String,
    #[sea_orm(unique)]
    pub hash: String,
}

impl ActiveModelBehavior for ActiveModel {}
