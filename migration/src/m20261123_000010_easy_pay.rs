//! Easy Pay: the amount a checkout puts on each document, the hosted checkout's address and
//! method, and the provider events already handled (so a redelivered webhook applies once).

use sea_orm_migration::{prelude::*, schema::*};

use crate::{create_indexes, drop_tables, fk, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Created in this order, dropped in reverse.
const TABLES: &[&str] = &["payment_link_documents", "webhook_events"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("payment_link_documents")
                    .col(big_pk_auto("id"))
                    .col(big_integer("payment_link_id"))
                    .col(big_integer("document_id"))
                    .col(big_integer("amount_minor"))
                    .foreign_key(&mut fk(
                        "payment_link_documents",
                        "payment_link_id",
                        "payment_links",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "payment_link_documents",
                        "document_id",
                        "documents",
                        ForeignKeyAction::NoAction,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_events")
                    .col(big_pk_auto("id"))
                    .col(string("provider"))
                    .col(string("event_id"))
                    .col(string("event_type"))
                    .col(string("outcome"))
                    .col(timestamp_with_time_zone("received_at"))
                    .take(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table("payment_links")
                    .add_column(string_null("checkout_url"))
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("payment_links")
                    .add_column(string_null("method"))
                    .take(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                // Also the index of the foreign key `payment_link_documents.payment_link_id`.
                unique_index(
                    "payment_link_documents",
                    &["payment_link_id", "document_id"],
                ),
                index("payment_link_documents", &["document_id"]),
                unique_index("webhook_events", &["provider", "event_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["method", "checkout_url"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("payment_links")
                        .drop_column(column)
                        .take(),
                )
                .await?;
        }
        drop_tables(manager, TABLES).await
    }
}
