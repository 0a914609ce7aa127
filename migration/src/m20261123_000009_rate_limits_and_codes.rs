//! Rate-limit counters shared by every server process, and one-time codes on magic links.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("rate_limits")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("key"))
                    .col(timestamp_with_time_zone("window_start"))
                    .col(integer("hits"))
                    .take(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table("magic_links")
                    .add_column(string_null("code_hash"))
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("magic_links")
                    .add_column(integer("code_attempts").default(0))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("magic_links")
                    .drop_column("code_attempts")
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("magic_links")
                    .drop_column("code_hash")
                    .take(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("rate_limits").take())
            .await
    }
}
