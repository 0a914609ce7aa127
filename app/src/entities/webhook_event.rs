//! A payment provider's event that was handled; its (provider, event id) is unique, so a
//! redelivered event is recognised and applies once.
#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider: PaymentProvider,
    pub event_id: String,
    pub event_type: String,
    /// What handling the event did, in a word: `paid`, `pending`, `failed`, `expired`, `ignored`.
    pub outcome: String,
    pub received_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
