//! Payments, how they were applied to documents, and payment links (Easy Pay checkouts).

use sea_orm_migration::{prelude::*, schema::*};

use crate::{create_indexes, drop_tables, fk, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Created in this order, dropped in reverse.
const TABLES: &[&str] = &["payments", "payment_applications", "payment_links"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("payments")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(string_null("external_id").unique_key())
                    .col(string("provider"))
                    .col(string_null("provider_event_id").unique_key())
                    .col(string_null("provider_ref"))
                    .col(string("method"))
                    .col(big_integer("amount_minor"))
                    .col(big_integer("unapplied_minor"))
                    .col(string("currency"))
                    .col(string("status"))
                    .col(timestamp_with_time_zone("received_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "payments",
                        "account_id",
                        "accounts",
                        ForeignKeyAction::NoAction,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("payment_applications")
                    .col(big_pk_auto("id"))
                    .col(big_integer("payment_id"))
                    .col(big_integer("document_id"))
                    .col(big_integer("amount_minor"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "payment_applications",
                        "payment_id",
                        "payments",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "payment_applications",
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
                    .table("payment_links")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(big_integer_null("contact_id"))
                    .col(string("provider"))
                    .col(string_null("provider_session_id").unique_key())
                    .col(string_uniq("idempotency_key"))
                    .col(string("document_ids"))
                    .col(big_integer("amount_minor"))
                    .col(string("currency"))
                    .col(string("status"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "payment_links",
                        "account_id",
                        "accounts",
                        ForeignKeyAction::NoAction,
                    ))
                    .foreign_key(&mut fk(
                        "payment_links",
                        "contact_id",
                        "contacts",
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                // Also the index of the foreign key `payments.account_id`.
                index("payments", &["account_id", "received_at"]),
                // Also the index of the foreign key `payment_applications.payment_id`.
                unique_index("payment_applications", &["payment_id", "document_id"]),
                index("payment_applications", &["document_id"]),
                index("payment_links", &["account_id"]),
                index("payment_links", &["contact_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, TABLES).await
    }
}
