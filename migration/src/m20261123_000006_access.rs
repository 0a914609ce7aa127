//! Magic links and server-side sessions.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{create_indexes, drop_tables, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Created in this order, dropped in reverse.
const TABLES: &[&str] = &["magic_links", "sessions"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("magic_links")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("token_hash"))
                    .col(big_integer("contact_id"))
                    .col(big_integer("account_id"))
                    .col(string("purpose"))
                    .col(string_null("scope"))
                    .col(string("created_by_kind"))
                    // A staff user, a contact or nobody, as `created_by_kind` says: no foreign key.
                    .col(big_integer_null("created_by_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("consumed_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(&mut fk(
                        "magic_links",
                        "contact_id",
                        "contacts",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "magic_links",
                        "account_id",
                        "accounts",
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("id_hash"))
                    .col(string("principal_kind"))
                    .col(big_integer_null("contact_id"))
                    .col(big_integer_null("account_id"))
                    .col(big_integer_null("staff_user_id"))
                    .col(string_null("purpose"))
                    .col(string_null("scope"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("last_seen_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(&mut fk(
                        "sessions",
                        "contact_id",
                        "contacts",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "sessions",
                        "account_id",
                        "accounts",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "sessions",
                        "staff_user_id",
                        "staff_users",
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                index("magic_links", &["contact_id"]),
                index("magic_links", &["account_id"]),
                index("sessions", &["contact_id"]),
                index("sessions", &["account_id"]),
                index("sessions", &["staff_user_id"]),
                index("sessions", &["expires_at"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, TABLES).await
    }
}
