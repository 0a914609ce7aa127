//! The audit trail, secure messages, and the staff task inbox.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{create_indexes, drop_tables, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Created in this order, dropped in reverse.
const TABLES: &[&str] = &["audit_events", "messages", "tasks"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("audit_events")
                    .col(big_pk_auto("id"))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .col(string("actor_kind"))
                    // A staff user or a contact, as `actor_kind` says: no foreign key.
                    .col(big_integer_null("actor_id"))
                    .col(string("channel"))
                    .col(big_integer_null("account_id"))
                    .col(string("entity"))
                    // A row of the table `entity` names: no foreign key.
                    .col(big_integer_null("entity_id"))
                    .col(string_null("field"))
                    .col(string_null("old_value"))
                    .col(string_null("new_value"))
                    .col(string_null("request_id"))
                    .col(string_null("client_ip"))
                    .col(string("prev_hash"))
                    .col(string_uniq("hash"))
                    // The trail is append-only: an account with history cannot be deleted.
                    .foreign_key(&mut fk(
                        "audit_events",
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
                    .table("messages")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(big_integer_null("document_id"))
                    .col(string("author_kind"))
                    .col(big_integer_null("author_contact_id"))
                    .col(big_integer_null("author_staff_id"))
                    .col(string("body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("read_at"))
                    .foreign_key(&mut fk(
                        "messages",
                        "account_id",
                        "accounts",
                        ForeignKeyAction::NoAction,
                    ))
                    .foreign_key(&mut fk(
                        "messages",
                        "document_id",
                        "documents",
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "messages",
                        "author_contact_id",
                        "contacts",
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "messages",
                        "author_staff_id",
                        "staff_users",
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("tasks")
                    .col(big_pk_auto("id"))
                    .col(big_integer_null("account_id"))
                    .col(string("kind"))
                    .col(string("title"))
                    .col(string_null("related_kind"))
                    // A row of the table `related_kind` names: no foreign key.
                    .col(big_integer_null("related_id"))
                    .col(date_null("due_date"))
                    .col(integer("priority"))
                    .col(big_integer_null("assignee_id"))
                    .col(string("status"))
                    .col(string_null("outcome"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .foreign_key(&mut fk(
                        "tasks",
                        "account_id",
                        "accounts",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "tasks",
                        "assignee_id",
                        "staff_users",
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                // Also the index of the foreign key `audit_events.account_id`.
                index("audit_events", &["account_id", "id"]),
                index("audit_events", &["entity", "entity_id"]),
                index("messages", &["account_id"]),
                index("messages", &["document_id"]),
                index("messages", &["author_contact_id"]),
                index("messages", &["author_staff_id"]),
                index("tasks", &["status", "assignee_id"]),
                index("tasks", &["account_id"]),
                index("tasks", &["assignee_id"]),
                index("tasks", &["related_kind", "related_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, TABLES).await
    }
}
