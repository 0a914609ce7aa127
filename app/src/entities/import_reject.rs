//! A row an import refused: its line in the file, the column and why.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_rejects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub run_id: i64,
    pub line: i64,
    pub column_name: String,
    pub reason: String,
}

impl ActiveModelBehavior for ActiveModel {}
