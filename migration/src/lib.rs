//! Schema migrations, run at start-up and in every test.
//!
//! Each `m2026…` module is one change: a group of tables created with their keys and
//! indexes, and a `down` that drops them in reverse order. The tables mirror
//! `app/src/entities/` column for column; this crate never depends on `app`.
//!
//! Conventions:
//! - ids are `bigint` (`big_pk_auto`), every other `i64` is `big_integer`, every `i32` `integer`;
//! - `DateTimeUtc` is `timestamp_with_time_zone`, `Date` is `date`, enums are strings holding
//!   their snake_case names;
//! - foreign keys are declared inside `CREATE TABLE` (SQLite cannot add them later), named
//!   `fk_{table}_{column}`; indexes are named `idx_…` and unique indexes `uq_…`;
//! - a foreign key either cascades (pure children: lines, contacts, addresses, …), sets null
//!   (optional links to staff, contacts, files) or refuses the delete. Refusing uses
//!   `NO ACTION`, not `RESTRICT`: both refuse immediately (no key is deferred), but SQLite
//!   reports a `RESTRICT` violation as a trigger error that SeaORM's `DbErr::sql_err()` does not
//!   recognise, while `NO ACTION` gives a foreign-key error on both databases;
//! - every foreign-key column is the leading column of some index.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_staff_and_supplier;
mod m20261123_000002_accounts;
mod m20261123_000003_documents;
mod m20261123_000004_payments;
mod m20261123_000005_promises_disputes;
mod m20261123_000006_access;
mod m20261123_000007_audit_messages_tasks;
mod m20261123_000008_automation;
mod m20261123_000009_rate_limits_and_codes;
mod m20261123_000010_easy_pay;
mod m20261123_000011_profile_changes;
mod m20261123_000012_erp;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_staff_and_supplier::Migration),
            Box::new(m20261123_000002_accounts::Migration),
            Box::new(m20261123_000003_documents::Migration),
            Box::new(m20261123_000004_payments::Migration),
            Box::new(m20261123_000005_promises_disputes::Migration),
            Box::new(m20261123_000006_access::Migration),
            Box::new(m20261123_000007_audit_messages_tasks::Migration),
            Box::new(m20261123_000008_automation::Migration),
            Box::new(m20261123_000009_rate_limits_and_codes::Migration),
            Box::new(m20261123_000010_easy_pay::Migration),
            Box::new(m20261123_000011_profile_changes::Migration),
            Box::new(m20261123_000012_erp::Migration),
        ]
    }
}

/// A foreign key `table.column → target.id`, named `fk_{table}_{column}`.
fn fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(on_delete)
        .take()
}

/// An index on `columns` of `table`, named `idx_{table}_{columns…}`.
fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("idx_{table}_{}", columns.join("_")))
        .table(table);
    for column in columns {
        stmt.col(*column);
    }
    stmt
}

/// A unique index on `columns` of `table`, named `uq_{table}_{columns…}`.
fn unique_index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = index(table, columns);
    stmt.name(format!("uq_{table}_{}", columns.join("_")))
        .unique();
    stmt
}

/// Creates `indexes` one after the other.
async fn create_indexes(
    manager: &SchemaManager<'_>,
    indexes: Vec<IndexCreateStatement>,
) -> Result<(), DbErr> {
    for stmt in indexes {
        manager.create_index(stmt).await?;
    }
    Ok(())
}

/// Drops `tables` in reverse order (children before the tables they reference).
async fn drop_tables(manager: &SchemaManager<'_>, tables: &[&'static str]) -> Result<(), DbErr> {
    for table in tables.iter().rev() {
        manager
            .drop_table(Table::drop().table(*table).take())
            .await?;
    }
    Ok(())
}
