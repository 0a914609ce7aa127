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
    &["rate_limits"],
    &["payment_link_documents", "webhook_events"],
    &["profile_changes"],
    &[
        "import_runs",
        "import_rejects",
        "api_keys",
        "webhook_endpoints",
        "webhook_deliveries",
    ],
];

/// The bookkeeping table of sea-orm-migration, which `down` leaves in place.
const MIGRATIONS_TABLE: &str = "seaql_migrations";

/// Every foreign key: (table, column, referenced table, on delete).
const FOREIGN_KEYS: &[(&str, &str, &str, &str)] = &[
    ("accounts", "collector_id", "staff_users", SET_NULL),
    ("contacts", "account_id", "accounts", CASCADE),
    ("addresses", "account_id", "accounts", CASCADE),
    ("payment_methods", "account_id", "accounts", CASCADE),
    ("stored_files", "account_id", "accounts", NO_ACTION),
    ("documents", "account_id", "accounts", NO_ACTION),
    ("documents", "file_id", "stored_files", SET_NULL),
    ("document_lines", "document_id", "documents", CASCADE),
    ("payments", "account_id", "accounts", NO_ACTION),
    ("payment_applications", "payment_id", "payments", CASCADE),
    (
        "payment_applications",
        "document_id",
        "documents",
        NO_ACTION,
    ),
    ("payment_links", "account_id", "accounts", NO_ACTION),
    ("payment_links", "contact_id", "contacts", SET_NULL),
    ("promises", "account_id", "accounts", NO_ACTION),
    ("promises", "contact_id", "contacts", SET_NULL),
    ("promise_documents", "promise_id", "promises", CASCADE),
    ("promise_documents", "document_id", "documents", NO_ACTION),
    ("disputes", "account_id", "accounts", NO_ACTION),
    ("disputes", "document_id", "documents", NO_ACTION),
    ("disputes", "contact_id", "contacts", SET_NULL),
    ("disputes", "assignee_id", "staff_users", SET_NULL),
    ("dispute_lines", "dispute_id", "disputes", CASCADE),
    (
        "dispute_lines",
        "document_line_id",
        "document_lines",
        NO_ACTION,
    ),
    ("dispute_lines", "open_line_id", "document_lines", NO_ACTION),
    ("dispute_messages", "dispute_id", "disputes", CASCADE),
    ("dispute_messages", "file_id", "stored_files", SET_NULL),
    ("magic_links", "contact_id", "contacts", CASCADE),
    ("magic_links", "account_id", "accounts", CASCADE),
    ("sessions", "contact_id", "contacts", CASCADE),
    ("sessions", "account_id", "accounts", CASCADE),
    ("sessions", "staff_user_id", "staff_users", CASCADE),
    ("audit_events", "account_id", "accounts", NO_ACTION),
    ("messages", "account_id", "accounts", NO_ACTION),
    ("messages", "document_id", "documents", SET_NULL),
    ("messages", "author_contact_id", "contacts", SET_NULL),
    ("messages", "author_staff_id", "staff_users", SET_NULL),
    ("tasks", "account_id", "accounts", CASCADE),
    ("tasks", "assignee_id", "staff_users", SET_NULL),
    ("reminder_steps", "rule_id", "reminder_rules", CASCADE),
    ("reminder_steps", "template_id", "templates", NO_ACTION),
    ("reminder_touches", "document_id", "documents", CASCADE),
    ("reminder_touches", "step_id", "reminder_steps", CASCADE),
    ("outbox_emails", "to_contact_id", "contacts", SET_NULL),
    ("campaigns", "created_by", "staff_users", SET_NULL),
    ("campaign_targets", "campaign_id", "campaigns", CASCADE),
    ("campaign_targets", "account_id", "accounts", CASCADE),
    ("campaign_targets", "contact_id", "contacts", SET_NULL),
    ("profile_changes", "account_id", "accounts", CASCADE),
    ("profile_changes", "contact_id", "contacts", SET_NULL),
    ("profile_changes", "decided_by", "staff_users", SET_NULL),
    ("import_runs", "started_by", "staff_users", SET_NULL),
    ("import_rejects", "run_id", "import_runs", CASCADE),
    ("api_keys", "created_by", "staff_users", SET_NULL),
    ("webhook_endpoints", "created_by", "staff_users", SET_NULL),
    (
        "webhook_deliveries",
        "endpoint_id",
        "webhook_endpoints",
        CASCADE,
    ),
    (
        "payment_link_documents",
        "payment_link_id",
        "payment_links",
        CASCADE,
    ),
    (
        "payment_link_documents",
        "document_id",
        "documents",
        NO_ACTION,
    ),
];

const CASCADE: &str = "CASCADE";
const SET_NULL: &str = "SET NULL";
const NO_ACTION: &str = "NO ACTION";

/// Columns named `*_id` that are not references to one table: polymorphic ids (the table
/// depends on a `*_kind` column) and identifiers from outside Settle.
const NOT_REFERENCES: &[(&str, &str)] = &[
    ("accounts", "external_id"),
    ("contacts", "external_id"),
    ("documents", "external_id"),
    ("payments", "external_id"),
    ("payments", "provider_event_id"),
    ("webhook_events", "event_id"),
    ("payment_links", "provider_session_id"),
    ("dispute_messages", "author_id"),
    ("magic_links", "created_by_id"),
    ("audit_events", "actor_id"),
    ("audit_events", "entity_id"),
    ("audit_events", "request_id"),
    ("tasks", "related_id"),
    ("outbox_emails", "message_id"),
    ("webhook_deliveries", "event_id"),
];

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
    assert_eq!(
        total,
        GROUPS.len(),
        "{backend}: one table group per migration"
    );
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

/// Rows of `sql` as (text, text, text, text).
async fn rows4(db: &DatabaseConnection, sql: &str) -> Vec<(String, String, String, String)> {
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.iter()
        .map(|row| {
            let get = |name: &str| row.try_get::<String>("", name).expect(name);
            (get("a"), get("b"), get("c"), get("d"))
        })
        .collect()
}

/// Every foreign key is the expected one, every other `*_id` column is known not to be a
/// reference, and every foreign-key column is the first column of some index.
async fn check_foreign_keys(db: &DatabaseConnection, backend: &str) {
    let (keys_sql, id_columns_sql, unindexed_sql) = match db.get_database_backend() {
        DbBackend::Sqlite => (
            r#"SELECT t.name AS a, fk."from" AS b, fk."table" AS c, fk.on_delete AS d
               FROM sqlite_master AS t, pragma_foreign_key_list(t.name) AS fk
               WHERE t.type = 'table'"#,
            r#"SELECT t.name AS a, c.name AS b, '' AS c, '' AS d
               FROM sqlite_master AS t, pragma_table_info(t.name) AS c
               WHERE t.type = 'table' AND c.name LIKE '%\_id' ESCAPE '\'"#,
            r#"SELECT t.name AS a, fk."from" AS b, '' AS c, '' AS d
               FROM sqlite_master AS t, pragma_foreign_key_list(t.name) AS fk
               WHERE t.type = 'table' AND NOT EXISTS (
                   SELECT 1 FROM pragma_index_list(t.name) AS il, pragma_index_info(il.name) AS ii
                   WHERE ii.seqno = 0 AND ii.name = fk."from")"#,
        ),
        _ => (
            "SELECT c.conrelid::regclass::text AS a, att.attname::text AS b,
                    c.confrelid::regclass::text AS c,
                    CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
                         WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
                         ELSE 'SET DEFAULT' END AS d
             FROM pg_constraint c
             JOIN pg_attribute att ON att.attrelid = c.conrelid AND att.attnum = c.conkey[1]
             WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
            "SELECT table_name::text AS a, column_name::text AS b, ''::text AS c, ''::text AS d
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND column_name::text LIKE '%\\_id'",
            "SELECT c.conrelid::regclass::text AS a, att.attname::text AS b,
                    ''::text AS c, ''::text AS d
             FROM pg_constraint c
             JOIN pg_attribute att ON att.attrelid = c.conrelid AND att.attnum = c.conkey[1]
             WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
               AND NOT EXISTS (SELECT 1 FROM pg_index i
                               WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])",
        ),
    };

    let mut keys = rows4(db, keys_sql).await;
    keys.sort();
    let mut expected: Vec<(String, String, String, String)> = FOREIGN_KEYS
        .iter()
        .map(|(t, c, r, d)| ((*t).into(), (*c).into(), (*r).into(), (*d).into()))
        .collect();
    expected.sort();
    assert_eq!(keys, expected, "{backend}: the foreign keys");

    let mut unexplained: Vec<(String, String)> = rows4(db, id_columns_sql)
        .await
        .into_iter()
        .map(|(table, column, _, _)| (table, column))
        .filter(|(table, column)| {
            !FOREIGN_KEYS
                .iter()
                .any(|(t, c, _, _)| t == table && c == column)
                && !NOT_REFERENCES
                    .iter()
                    .any(|(t, c)| t == table && c == column)
        })
        .collect();
    unexplained.sort();
    assert!(
        unexplained.is_empty(),
        "{backend}: `*_id` columns that are neither foreign keys nor known non-references: {unexplained:?}"
    );

    let unindexed = rows4(db, unindexed_sql).await;
    assert!(
        unindexed.is_empty(),
        "{backend}: foreign-key columns that lead no index: {unindexed:?}"
    );
}

async fn sqlite() -> DatabaseConnection {
    let db = Database::connect("sqlite::memory:")
        .await
        .expect("sqlite in memory");
    db.execute_unprepared("PRAGMA foreign_keys = ON")
        .await
        .expect("enable foreign keys");
    db
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again_on_sqlite() {
    roundtrip(&sqlite().await, "sqlite").await;
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again_on_postgres() {
    let Some(pg) = Postgres::create("settle_t_migration_roundtrip").await else {
        eprintln!("TEST_DATABASE_URL is not set: PostgreSQL round trip skipped");
        return;
    };
    roundtrip(&pg.db, "postgres").await;
    pg.drop().await;
}

#[tokio::test]
async fn every_reference_is_an_indexed_foreign_key_on_sqlite() {
    let db = sqlite().await;
    Migrator::up(&db, None).await.expect("migrate sqlite");
    check_foreign_keys(&db, "sqlite").await;
}

#[tokio::test]
async fn every_reference_is_an_indexed_foreign_key_on_postgres() {
    let Some(pg) = Postgres::create("settle_t_migration_foreign_keys").await else {
        eprintln!("TEST_DATABASE_URL is not set: PostgreSQL foreign keys skipped");
        return;
    };
    Migrator::up(&pg.db, None).await.expect("migrate postgres");
    check_foreign_keys(&pg.db, "postgres").await;
    pg.drop().await;
}

/// A PostgreSQL database of this test's own, on the server `TEST_DATABASE_URL` names.
struct Postgres {
    admin: DatabaseConnection,
    db: DatabaseConnection,
    name: &'static str,
}

impl Postgres {
    /// Recreates the database `name`; `None` when `TEST_DATABASE_URL` is not set.
    async fn create(name: &'static str) -> Option<Self> {
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let admin = Database::connect(admin_url.as_str())
            .await
            .expect("TEST_DATABASE_URL must be reachable");
        for sql in [
            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            format!("CREATE DATABASE \"{name}\""),
        ] {
            admin
                .execute_unprepared(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        let db = Database::connect(with_database(&admin_url, name).as_str())
            .await
            .unwrap_or_else(|e| panic!("connect to {name}: {e}"));
        Some(Self { admin, db, name })
    }

    /// Closes the connection and drops the database.
    async fn drop(self) {
        let Self { admin, db, name } = self;
        db.close().await.expect("close the test database");
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
            .unwrap_or_else(|e| panic!("drop {name}: {e}"));
        admin.close().await.expect("close the admin connection");
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
