//! Templates, reminder rules with their steps and touches, the email outbox, and campaigns.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{create_indexes, drop_tables, fk, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Created in this order (templates first: reminder steps refer to them), dropped in reverse.
const TABLES: &[&str] = &[
    "templates",
    "reminder_rules",
    "reminder_steps",
    "reminder_touches",
    "outbox_emails",
    "campaigns",
    "campaign_targets",
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
                    .table("templates")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("key"))
                    .col(string("channel"))
                    .col(string("name"))
                    .col(string("subject"))
                    .col(string("body_text"))
                    .col(string_null("body_html"))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("updated_at"))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("reminder_rules")
                    .col(big_pk_auto("id"))
                    .col(string("name"))
                    .col(string_null("scope"))
                    .col(boolean("active").default(true))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("reminder_steps")
                    .col(big_pk_auto("id"))
                    .col(big_integer("rule_id"))
                    .col(integer("position"))
                    .col(string("trigger"))
                    .col(integer("days"))
                    .col(string("action"))
                    .col(big_integer_null("template_id"))
                    .foreign_key(&mut fk(
                        "reminder_steps",
                        "rule_id",
                        "reminder_rules",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "reminder_steps",
                        "template_id",
                        "templates",
                        ForeignKeyAction::NoAction,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("reminder_touches")
                    .col(big_pk_auto("id"))
                    .col(big_integer("document_id"))
                    .col(big_integer("step_id"))
                    .col(timestamp_with_time_zone("fired_at"))
                    .foreign_key(&mut fk(
                        "reminder_touches",
                        "document_id",
                        "documents",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "reminder_touches",
                        "step_id",
                        "reminder_steps",
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("outbox_emails")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("message_id"))
                    .col(string("to_address"))
                    .col(big_integer_null("to_contact_id"))
                    .col(string("subject"))
                    .col(string("body_text"))
                    .col(string_null("body_html"))
                    .col(string_null("template_key"))
                    .col(string("status"))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("claimed_until"))
                    .col(string_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .foreign_key(&mut fk(
                        "outbox_emails",
                        "to_contact_id",
                        "contacts",
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("campaigns")
                    .col(big_pk_auto("id"))
                    .col(string("name"))
                    .col(string("kind"))
                    .col(string_null("filter"))
                    .col(string("status"))
                    .col(big_integer_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "campaigns",
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
                    .table("campaign_targets")
                    .col(big_pk_auto("id"))
                    .col(big_integer("campaign_id"))
                    .col(big_integer("account_id"))
                    .col(big_integer_null("contact_id"))
                    .col(string("status"))
                    .col(integer("follow_ups").default(0))
                    .col(timestamp_with_time_zone_null("last_sent_at"))
                    .foreign_key(&mut fk(
                        "campaign_targets",
                        "campaign_id",
                        "campaigns",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "campaign_targets",
                        "account_id",
                        "accounts",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "campaign_targets",
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
                // Also the index of the foreign key `reminder_steps.rule_id`.
                unique_index("reminder_steps", &["rule_id", "position"]),
                index("reminder_steps", &["template_id"]),
                // Also the index of the foreign key `reminder_touches.document_id`.
                unique_index("reminder_touches", &["document_id", "step_id"]),
                index("reminder_touches", &["step_id"]),
                index("outbox_emails", &["status", "next_attempt_at"]),
                index("outbox_emails", &["to_contact_id"]),
                index("campaigns", &["created_by"]),
                // Also the index of the foreign key `campaign_targets.campaign_id`.
                unique_index("campaign_targets", &["campaign_id", "account_id"]),
                index("campaign_targets", &["account_id"]),
                index("campaign_targets", &["contact_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, TABLES).await
    }
}
