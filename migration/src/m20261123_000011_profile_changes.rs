//! Profile changes that need a second look: a contact's sensitive edit (bank details,
//! remit-to address, TIN, billing email) waits here — first for the step-up code sent to
//! the contact's current address, then for a staff decision. And who last confirmed an
//! account's data.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{create_indexes, drop_tables, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: &[&str] = &["profile_changes"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("profile_changes")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(big_integer_null("contact_id"))
                    .col(string("kind"))
                    .col(string("payload_encrypted"))
                    .col(string("summary"))
                    .col(string("status"))
                    .col(string_null("code_hash"))
                    .col(timestamp_with_time_zone_null("code_expires_at"))
                    .col(integer("code_attempts").default(0))
                    .col(string_null("decision_note"))
                    .col(big_integer_null("decided_by"))
                    .col(timestamp_with_time_zone_null("decided_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "profile_changes",
                        "account_id",
                        "accounts",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "profile_changes",
                        "contact_id",
                        "contacts",
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "profile_changes",
                        "decided_by",
                        "staff_users",
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("accounts")
                    .add_column(string_null("verified_by"))
                    .take(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index("profile_changes", &["account_id", "status"]),
                index("profile_changes", &["contact_id"]),
                index("profile_changes", &["decided_by"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("accounts")
                    .drop_column("verified_by")
                    .take(),
            )
            .await?;
        drop_tables(manager, TABLES).await
    }
}
