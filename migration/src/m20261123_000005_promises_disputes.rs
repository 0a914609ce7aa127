//! Promises to Pay with the documents they cover, and disputes with their lines and thread.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{create_indexes, drop_tables, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Created in this order, dropped in reverse.
const TABLES: &[&str] = &[
    "promises",
    "promise_documents",
    "disputes",
    "dispute_lines",
    "dispute_messages",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("promises")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(big_integer_null("contact_id"))
                    .col(big_integer("amount_minor"))
                    .col(string("currency"))
                    .col(date("promised_date"))
                    .col(string_null("note"))
                    .col(string("status"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .foreign_key(&mut fk(
                        "promises",
                        "account_id",
                        "accounts",
                        ForeignKeyAction::NoAction,
                    ))
                    .foreign_key(&mut fk(
                        "promises",
                        "contact_id",
                        "contacts",
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("promise_documents")
                    .col(big_integer("promise_id"))
                    .col(big_integer("document_id"))
                    .col(big_integer("amount_minor"))
                    // Also the index of the foreign key `promise_documents.promise_id`.
                    .primary_key(Index::create().col("promise_id").col("document_id"))
                    .foreign_key(&mut fk(
                        "promise_documents",
                        "promise_id",
                        "promises",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "promise_documents",
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
                    .table("disputes")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(big_integer("document_id"))
                    .col(big_integer_null("contact_id"))
                    .col(string("status"))
                    .col(big_integer("disputed_minor"))
                    .col(big_integer("credited_minor").default(0))
                    .col(string_null("resolution_note"))
                    .col(big_integer_null("assignee_id"))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .foreign_key(&mut fk(
                        "disputes",
                        "account_id",
                        "accounts",
                        ForeignKeyAction::NoAction,
                    ))
                    .foreign_key(&mut fk(
                        "disputes",
                        "document_id",
                        "documents",
                        ForeignKeyAction::NoAction,
                    ))
                    .foreign_key(&mut fk(
                        "disputes",
                        "contact_id",
                        "contacts",
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "disputes",
                        "assignee_id",
                        "staff_users",
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("dispute_lines")
                    .col(big_pk_auto("id"))
                    .col(big_integer("dispute_id"))
                    .col(big_integer("document_line_id"))
                    // The line's id while the dispute is open, null after: one open dispute per line.
                    .col(big_integer_null("open_line_id").unique_key())
                    .col(string("reason"))
                    .col(big_integer_null("disputed_quantity_milli"))
                    .col(big_integer("disputed_minor"))
                    .col(string_null("note"))
                    .col(big_integer_null("credited_minor"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "dispute_lines",
                        "dispute_id",
                        "disputes",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "dispute_lines",
                        "document_line_id",
                        "document_lines",
                        ForeignKeyAction::NoAction,
                    ))
                    .foreign_key(&mut fk(
                        "dispute_lines",
                        "open_line_id",
                        "document_lines",
                        ForeignKeyAction::NoAction,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("dispute_messages")
                    .col(big_pk_auto("id"))
                    .col(big_integer("dispute_id"))
                    .col(string("author_kind"))
                    // A staff user or a contact, as `author_kind` says: no foreign key.
                    .col(big_integer_null("author_id"))
                    .col(string("body"))
                    .col(big_integer_null("file_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "dispute_messages",
                        "dispute_id",
                        "disputes",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "dispute_messages",
                        "file_id",
                        "stored_files",
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                index("promises", &["account_id"]),
                index("promises", &["contact_id"]),
                index("promises", &["status", "promised_date"]),
                index("promise_documents", &["document_id"]),
                index("disputes", &["account_id"]),
                index("disputes", &["document_id"]),
                index("disputes", &["contact_id"]),
                index("disputes", &["assignee_id"]),
                // `open_line_id` is indexed by its unique constraint.
                index("dispute_lines", &["dispute_id"]),
                index("dispute_lines", &["document_line_id"]),
                index("dispute_messages", &["dispute_id"]),
                index("dispute_messages", &["file_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, TABLES).await
    }
}
