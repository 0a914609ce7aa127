//! Stored files, documents (invoices, credit memos, …) and their lines.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{create_indexes, drop_tables, fk, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Created in this order, dropped in reverse.
const TABLES: &[&str] = &["stored_files", "documents", "document_lines"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("stored_files")
                    .col(big_pk_auto("id"))
                    .col(big_integer_null("account_id"))
                    .col(string("file_name"))
                    .col(string("content_type"))
                    .col(big_integer("size_bytes"))
                    .col(string("sha256"))
                    .col(string("storage_path"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "stored_files",
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
                    .table("documents")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(string("kind"))
                    .col(string("number"))
                    .col(string_null("external_id").unique_key())
                    .col(string_null("po_number"))
                    .col(date("issue_date"))
                    .col(date_null("due_date"))
                    .col(string("currency"))
                    .col(big_integer("total_minor"))
                    .col(big_integer("tax_minor"))
                    .col(big_integer("open_minor"))
                    .col(big_integer("disputed_minor").default(0))
                    .col(string("status"))
                    .col(big_integer_null("file_id"))
                    .col(string_null("upload_kind"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "documents",
                        "account_id",
                        "accounts",
                        ForeignKeyAction::NoAction,
                    ))
                    .foreign_key(&mut fk(
                        "documents",
                        "file_id",
                        "stored_files",
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("document_lines")
                    .col(big_pk_auto("id"))
                    .col(big_integer("document_id"))
                    .col(integer("line_no"))
                    .col(string_null("sku"))
                    .col(string("description"))
                    .col(big_integer("quantity_milli"))
                    .col(big_integer("unit_price_minor"))
                    .col(big_integer("amount_minor"))
                    .col(big_integer("tax_minor"))
                    .foreign_key(&mut fk(
                        "document_lines",
                        "document_id",
                        "documents",
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                index("stored_files", &["account_id"]),
                unique_index("documents", &["kind", "number"]),
                // These two also index the foreign key `documents.account_id`.
                index("documents", &["account_id", "kind", "issue_date"]),
                index("documents", &["account_id", "status"]),
                index("documents", &["due_date"]),
                index("documents", &["file_id"]),
                // Also the index of the foreign key `document_lines.document_id`.
                unique_index("document_lines", &["document_id", "line_no"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, TABLES).await
    }
}
