//! A contact's sensitive profile change, held for the step-up code and then for staff review.
#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "profile_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub contact_id: Option<i64>,
    pub kind: ChangeKind,
    /// The new values, sealed with `SETTLE_SECRET_KEY` (AES-256-GCM).
    pub payload_encrypted: String,
    /// What changes, with sensitive values masked — safe to show and to log.
    pub summary: String,
    pub status: ChangeStatus,
    pub code_hash: Option<String>,
    pub code_expires_at: Option<DateTimeUtc>,
    pub code_attempts: i32,
    pub decision_note: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
