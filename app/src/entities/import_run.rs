//! One CSV import: its file, progress and counts. A dry run records what would happen.

#[allow(unused_imports)]
use crate::model::enums::*;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: ImportKind,
    pub file_name: String,
    pub file_sha256: String,
    pub dry_run: bool,
    pub status: ImportStatus,
    pub total_rows: i64,
    pub processed_rows: i64,
    /// The last file line whose batch is committed: a resumed run starts after it.
    pub committed_line: i64,
    pub created_count: i64,
    pub updated_count: i64,
    pub unchanged_count: i64,
    pub rejected_count: i64,
    pub error: Option<String>,
    pub started_by: Option<i64>,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
