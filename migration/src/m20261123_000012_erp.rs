//! Life beside an ERP: CSV import runs with their rejected rows, API keys for the REST
//! API, and webhook endpoints with their deliveries (an outbox, like email's).

use sea_orm_migration::{prelude::*, schema::*};

use crate::{create_indexes, drop_tables, fk, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: &[&str] = &[
    "import_runs",
    "import_rejects",
    "api_keys",
    "webhook_endpoints",
    "webhook_deliveries",
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
                    .table("import_runs")
                    .col(big_pk_auto("id"))
                    .col(string("kind"))
                    .col(string("file_name"))
                    .col(string("file_sha256"))
                    .col(boolean("dry_run"))
                    .col(string("status"))
                    .col(big_integer("total_rows").default(0))
                    .col(big_integer("processed_rows").default(0))
                    .col(big_integer("committed_line").default(0))
                    .col(big_integer("created_count").default(0))
                    .col(big_integer("updated_count").default(0))
                    .col(big_integer("unchanged_count").default(0))
                    .col(big_integer("rejected_count").default(0))
                    .col(string_null("error"))
                    .col(big_integer_null("started_by"))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .foreign_key(&mut fk(
                        "import_runs",
                        "started_by",
                        "staff_users",
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("import_rejects")
                    .col(big_pk_auto("id"))
                    .col(big_integer("run_id"))
                    .col(big_integer("line"))
                    .col(string("column_name"))
                    .col(string("reason"))
                    .foreign_key(&mut fk(
                        "import_rejects",
                        "run_id",
                        "import_runs",
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("api_keys")
                    .col(big_pk_auto("id"))
                    .col(string("name"))
                    .col(string("prefix"))
                    .col(string("secret_hash"))
                    .col(string("scope"))
                    .col(big_integer_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(&mut fk(
                        "api_keys",
                        "created_by",
                        "staff_users",
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_endpoints")
                    .col(big_pk_auto("id"))
                    .col(string("url"))
                    .col(string("description"))
                    .col(string("secret_encrypted"))
                    .col(string("events"))
                    .col(boolean("active").default(true))
                    .col(big_integer_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "webhook_endpoints",
                        "created_by",
                        "staff_users",
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_deliveries")
                    .col(big_pk_auto("id"))
                    .col(big_integer("endpoint_id"))
                    .col(string("event_id"))
                    .col(string("event"))
                    .col(string("payload"))
                    .col(string("status"))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("claimed_until"))
                    .col(integer_null("last_status_code"))
                    .col(string_null("last_response"))
                    .col(string_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("delivered_at"))
                    .foreign_key(&mut fk(
                        "webhook_deliveries",
                        "endpoint_id",
                        "webhook_endpoints",
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index("import_runs", &["started_by"]),
                index("import_runs", &["file_sha256", "kind"]),
                index("import_rejects", &["run_id", "line"]),
                unique_index("api_keys", &["secret_hash"]),
                index("api_keys", &["created_by"]),
                index("webhook_endpoints", &["created_by"]),
                unique_index("webhook_deliveries", &["endpoint_id", "event_id"]),
                index("webhook_deliveries", &["status", "next_attempt_at"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, TABLES).await
    }
}
