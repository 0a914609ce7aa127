//! Migrations go up, down to zero and up again, step by step, on SQLite in memory and,
//! when `TEST_DATABASE_URL` names a server, on a PostgreSQL database of their own.

use migration::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

/// The tables each migration creates, in migration order.
const GROUPS: &[&[&str]] = &[
    &["staff_users", "suppliers"],
    &["accounts", "contacts", "addresses", "payment_methods"],
    &["stored_files", "documents", "document_lines"],
    &["payments", "payment_applications", "payment_links"],
    &[
        "promises",
        "promise_documents",
        "disputes",
        "dispute_lines",
        "dispute_messages",
    ],
    &["magic_links", "sessions"],
    &["audit_events", "messages", "tasks"],
    &[
        "templates",
        "reminder_rules",
        "reminder_steps",
        "reminder_touches",
        "outbox_emails",
        "campaigns",
        "campaign_targets",
    ],
];

/// The bookkeeping table of sea-orm-migration, which `down` leaves in place.
const MIGRATIONS_TABLE: &str = "seaql_migrations";

const PG_DATABASE: &str = "settle_t_migration_roundtrip";

/// The tables the first `applied` migrations create, sorted.
fn expected_tables(applied: usize) -> Vec<String> {
    let mut tables: Vec<String> = GROUPS[..applied]
        .iter()
        .flat_map(|group| group.iter().map(|t| (*t).to_owned()))
        .collect();
    tables.sort();
    tables
}

/// The Settle tables present in the database, sorted.
async fn tables(db: &DatabaseConnection) -> Vec<String> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => {
            "SELECT name AS table_name FROM sqlite_master \
             WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        DbBackend::Postgres => {
            "SELECT table_name::text AS table_name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
        other => panic!("unsupported backend {other:?}"),
    };
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("list tables");
    let mut names: Vec<String> = rows
        .iter()
        .map(|row| row.try_get::<String>("", "table_name").expect("table name"))
        .filter(|name| name != MIGRATIONS_TABLE)
        .collect();
    names.sort();
    names
}

/// Up one migration at a time, down one at a time, then all the way up again,
/// checking the table set after every step.
async fn roundtrip(db: &DatabaseConnection, backend: &str) {
    let total = Migrator::migrations().len();
    assert_eq!(total, GROUPS.len(), "{backend}: one table group per migration");
    assert!(
        tables(db).await.is_empty(),
        "{backend}: the database starts empty"
    );

    for applied in 1..=total {
        Migrator::up(db, Some(1))
            .await
            .unwrap_or_else(|e| panic!("{backend}: migration {applied} up: {e}"));
        assert_eq!(
            tables(db).await,
            expected_tables(applied),
            "{backend}: tables after migration {applied} up"
        );
    }
    assert!(
        Migrator::get_pending_migrations(db)
            .await
            .expect("pending migrations")
            .is_empty(),
        "{backend}: nothing pending after all went up"
    );

    for applied in (0..total).rev() {
        Migrator::down(db, Some(1))
            .await
            .unwrap_or_else(|e| panic!("{backend}: migration {} down: {e}", applied + 1));
        assert_eq!(
            tables(db).await,
            expected_tables(applied),
            "{backend}: tables after migration {} down",
            applied + 1
        );
    }
    assert!(
        tables(db).await.is_empty(),
        "{backend}: no Settle table is left after down to zero"
    );

    Migrator::up(db, None)
        .await
        .unwrap_or_else(|e| panic!("{backend}: up again after down: {e}"));
    assert_eq!(
        tables(db).await,
        expected_tables(total),
        "{backend}: every table is back after up again"
    );

    Migrator::down(db, None)
        .await
        .unwrap_or_else(|e| panic!("{backend}: down to zero at once: {e}"));
    assert!(
        tables(db).await.is_empty(),
        "{backend}: no Settle table is left after down to zero at once"
    );
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again_on_sqlite() {
    let db = Database::connect("sqlite::memory:")
        .await
        .expect("sqlite in memory");
    db.execute_unprepared("PRAGMA foreign_keys = ON")
        .await
        .expect("enable foreign keys");
    roundtrip(&db, "sqlite").await;
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again_on_postgres() {
    let Some(admin_url) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("TEST_DATABASE_URL is not set: PostgreSQL round trip skipped");
        return;
    };
    let admin = Database::connect(admin_url.as_str())
        .await
        .expect("TEST_DATABASE_URL must be reachable");
    recreate_database(&admin).await;

    let db = Database::connect(with_database(&admin_url, PG_DATABASE).as_str())
        .await
        .expect("connect to the round-trip database");
    roundtrip(&db, "postgres").await;
    db.close().await.expect("close the round-trip database");

    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{PG_DATABASE}\" WITH (FORCE)"))
        .await
        .expect("drop the round-trip database");
    admin.close().await.expect("close the admin connection");
}

async fn recreate_database(admin: &DatabaseConnection) {
    for sql in [
        format!("DROP DATABASE IF EXISTS \"{PG_DATABASE}\" WITH (FORCE)"),
        format!("CREATE DATABASE \"{PG_DATABASE}\""),
    ] {
        admin
            .execute_unprepared(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// Replaces the database name in a PostgreSQL URL, keeping any query string.
fn with_database(url: &str, db_name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_end..].find('/') {
        Some(i) => &base[..authority_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{db_name}?{q}"),
        None => format!("{root}/{db_name}"),
    }
}
