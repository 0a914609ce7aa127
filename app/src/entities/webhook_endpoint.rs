//! A URL an admin registered for webhook deliveries, with the events it wants.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub url: String,
    pub description: String,
    /// The signing secret, sealed with `SETTLE_SECRET_KEY`.
    pub secret_encrypted: String,
    /// Event names (`WebhookEventKind`), comma-separated.
    pub events: String,
    pub active: bool,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
