//! Server-side sessions; the cookie holds a secret whose SHA-256 is `id_hash`.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub id_hash: String,
    pub principal_kind: PrincipalKind,
    pub contact_id: Option<i64>,
    pub account_id: Option<i64>,
    pub staff_user_id: Option<i64>,
    pub purpose: Option<LinkPurpose>,
    pub scope: Option<String>,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
