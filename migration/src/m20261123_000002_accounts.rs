//! Accounts (customers and vendors) with their contacts, addresses and payment methods.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{create_indexes, drop_tables, fk, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Created in this order, dropped in reverse.
const TABLES: &[&str] = &["accounts", "contacts", "addresses", "payment_methods"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("accounts")
                    .col(big_pk_auto("id"))
                    .col(string("kind"))
                    .col(string_uniq("account_number"))
                    .col(string_null("external_id").unique_key())
                    .col(string("legal_name"))
                    .col(string("display_name"))
                    .col(string_null("tin_encrypted"))
                    .col(string_null("tin_last4"))
                    .col(string_null("phone"))
                    .col(string_null("website"))
                    .col(integer("payment_terms_days"))
                    .col(big_integer_null("credit_limit_minor"))
                    .col(string("currency"))
                    .col(string_null("preferred_payment_method"))
                    .col(big_integer_null("collector_id"))
                    .col(string("status"))
                    .col(string_null("segment"))
                    .col(timestamp_with_time_zone_null("verified_at"))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "accounts",
                        "collector_id",
                        "staff_users",
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("contacts")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(string_null("external_id").unique_key())
                    .col(string("name"))
                    .col(string_null("email"))
                    .col(string_null("phone"))
                    .col(string("role"))
                    .col(boolean("is_primary_billing").default(false))
                    .col(string("email_status"))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "contacts",
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
                    .table("addresses")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(string("kind"))
                    .col(string("line1"))
                    .col(string_null("line2"))
                    .col(string("city"))
                    .col(string("region"))
                    .col(string("postal_code"))
                    .col(string("country"))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "addresses",
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
                    .table("payment_methods")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(string("kind"))
                    .col(string_null("brand"))
                    .col(string("last4"))
                    .col(string_null("holder_name"))
                    .col(string_null("routing_number"))
                    .col(string_null("account_number_encrypted"))
                    .col(boolean("is_default").default(false))
                    .col(string("status"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "payment_methods",
                        "account_id",
                        "accounts",
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                index("accounts", &["collector_id"]),
                index("accounts", &["status"]),
                index("accounts", &["display_name"]),
                index("contacts", &["account_id"]),
                index("contacts", &["email"]),
                // Also the index of the foreign key `addresses.account_id`.
                unique_index("addresses", &["account_id", "kind"]),
                index("payment_methods", &["account_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, TABLES).await
    }
}
