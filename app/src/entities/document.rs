//! Invoices, credit memos, statements, POs, bills of lading and uploads.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub kind: DocumentKind,
    pub number: String,
    #[sea_orm(unique)]
    pub external_id: Option<String>,
    pub po_number: Option<String>,
    pub issue_date: Date,
    pub due_date: Option<Date>,
    pub currency: String,
    pub total_minor: i64,
    pub tax_minor: i64,
    pub open_minor: i64,
    pub disputed_minor: i64,
    pub status: DocumentStatus,
    pub file_id: Option<i64>,
    pub upload_kind: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
