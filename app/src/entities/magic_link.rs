//! Single-use sign-in and purpose links; only the token's SHA-256 is kept.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "magic_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub contact_id: i64,
    pub account_id: i64,
    pub purpose: LinkPurpose,
    pub scope: Option<String>,
    pub created_by_kind: ActorKind,
    pub created_by_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub consumed_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// SHA-256 of the one-time code sent beside the link, for another device.
    pub code_hash: Option<String>,
    pub code_attempts: i32,
}

impl ActiveModelBehavior for ActiveModel {}
