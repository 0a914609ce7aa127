//! Fresh, migrated databases for tests: SQLite in memory always, and PostgreSQL
//! as well when `TEST_DATABASE_URL` names a server.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::db;

/// One database a test runs against.
pub struct TestDb {
    /// "sqlite" or "postgres", for assertion messages.
    pub backend: &'static str,
    pub conn: DatabaseConnection,
}

/// Every database the current test must pass on, each freshly created and migrated.
///
/// `name` must be unique across the whole test suite (it names the PostgreSQL database,
/// which is dropped and recreated here, so leftovers never pile up).
///
/// # Panics
/// When a database cannot be created or migrated: a test cannot run without one.
pub async fn databases(name: &str) -> Vec<TestDb> {
    let mut out = vec![TestDb {
        backend: "sqlite",
        conn: fresh_sqlite().await,
    }];
    if let Some(db) = fresh_postgres(name).await {
        out.push(TestDb {
            backend: "postgres",
            conn: db,
        });
    }
    out
}

/// Unmigrated databases, for migration tests.
///
/// # Panics
/// When a database cannot be created.
pub async fn empty_databases(name: &str) -> Vec<TestDb> {
    let mut out = vec![TestDb {
        backend: "sqlite",
        conn: db::connect("sqlite::memory:")
            .await
            .expect("sqlite in memory"),
    }];
    if let Some(url) = postgres_url(name).await {
        out.push(TestDb {
            backend: "postgres",
            conn: db::connect(&url).await.expect("postgres test database"),
        });
    }
    out
}

async fn fresh_sqlite() -> DatabaseConnection {
    let conn = db::connect("sqlite::memory:")
        .await
        .expect("sqlite in memory");
    db::migrate(&conn).await.expect("migrate sqlite");
    seed(&conn).await;
    conn
}

/// A migrated SQLite database in the file `path` (created when missing), shared by a pool
/// of several connections as in production — for tests of concurrent writers.
///
/// # Panics
/// When the file cannot be opened or migrated.
pub async fn file_sqlite(path: &std::path::Path) -> DatabaseConnection {
    let conn = db::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("sqlite file");
    db::migrate(&conn).await.expect("migrate sqlite file");
    seed(&conn).await;
    conn
}

async fn fresh_postgres(name: &str) -> Option<DatabaseConnection> {
    let url = postgres_url(name).await?;
    let conn = db::connect(&url).await.expect("postgres test database");
    db::migrate(&conn).await.expect("migrate postgres");
    seed(&conn).await;
    Some(conn)
}

/// What `settle` puts in every database at start-up besides the schema.
async fn seed(conn: &DatabaseConnection) {
    crate::services::templates::seed_defaults(conn, chrono::Utc::now())
        .await
        .expect("seed templates");
    crate::services::letters::seed_letters(conn, chrono::Utc::now())
        .await
        .expect("seed letters");
    crate::services::campaigns::seed_template(conn, chrono::Utc::now())
        .await
        .expect("seed campaign template");
    crate::services::supplier_profile::seed_template(conn, chrono::Utc::now())
        .await
        .expect("seed supplier profile template");
    crate::services::reminders::seed_default_rule(conn, chrono::Utc::now())
        .await
        .expect("seed reminder rule");
}

/// Recreates `settle_t_{name}` on the server `TEST_DATABASE_URL` names and returns its URL.
async fn postgres_url(name: &str) -> Option<String> {
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let db_name = format!(
        "settle_t_{}",
        name.to_ascii_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    let admin = db::connect(&admin_url)
        .await
        .expect("TEST_DATABASE_URL must be reachable");
    for sql in [
        format!("DROP DATABASE IF EXISTS \"{db_name}\" WITH (FORCE)"),
        format!("CREATE DATABASE \"{db_name}\""),
    ] {
        admin
            .execute_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .expect("create the test database");
    }
    admin.close().await.ok();
    Some(with_database(&admin_url, &db_name))
}

/// Replaces the database name in a PostgreSQL URL.
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

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced_and_query_kept() {
        assert_eq!(
            with_database("postgres://u@h:5432/test?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h/test", "x"),
            "postgres://u@h/x"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}

/// Rows most tests need, made the same way everywhere.
pub mod fixtures {
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};

    use crate::entities::{account, contact, document, document_line};
    use crate::model::enums::{
        AccountKind, AccountStatus, ContactRole, DocumentKind, DocumentStatus, EmailStatus,
    };

    /// The fixed "now" of the tests: 2026-11-23 09:00 UTC.
    pub fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
            .single()
            .unwrap_or_default()
    }

    /// An active USD customer with 30-day terms.
    ///
    /// # Panics
    /// When the insert fails (for instance a duplicate account number).
    pub async fn customer(
        db: &impl ConnectionTrait,
        number: &str,
        display_name: &str,
    ) -> account::Model {
        account::ActiveModel {
            kind: Set(AccountKind::Customer),
            account_number: Set(number.to_owned()),
            legal_name: Set(format!("{number} Inc.")),
            display_name: Set(display_name.to_owned()),
            payment_terms_days: Set(30),
            currency: Set("USD".to_owned()),
            status: Set(AccountStatus::Active),
            version: Set(1),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert account")
    }

    /// An open USD invoice issued 40 days before [`now`], 10 days past due, whose total
    /// is `open_minor` (at least $100).
    ///
    /// # Panics
    /// When the insert fails.
    pub async fn invoice(
        db: &impl ConnectionTrait,
        account_id: i64,
        number: &str,
        open_minor: i64,
    ) -> document::Model {
        let today = now().date_naive();
        document::ActiveModel {
            account_id: Set(account_id),
            kind: Set(DocumentKind::Invoice),
            number: Set(number.to_owned()),
            issue_date: Set(today - Duration::days(40)),
            due_date: Set(Some(today - Duration::days(10))),
            currency: Set("USD".to_owned()),
            total_minor: Set(open_minor.max(10_000)),
            tax_minor: Set(0),
            open_minor: Set(open_minor),
            disputed_minor: Set(0),
            status: Set(DocumentStatus::Open),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert invoice")
    }

    /// An open invoice (issued 40 days before [`now`]) with `lines` of
    /// (description, quantity in thousandths, unit price, tax); its total and open balance
    /// are the lines' amounts plus tax.
    ///
    /// # Panics
    /// When an insert fails.
    pub async fn invoice_with_lines(
        db: &impl ConnectionTrait,
        account_id: i64,
        number: &str,
        lines: &[(&str, i64, i64, i64)],
    ) -> (document::Model, Vec<document_line::Model>) {
        let total: i64 = lines.iter().map(|(_, q, p, t)| q * p / 1000 + t).sum();
        let tax: i64 = lines.iter().map(|(_, _, _, t)| t).sum();
        let doc = invoice(db, account_id, number, total).await;
        let doc = document::ActiveModel {
            id: Set(doc.id),
            total_minor: Set(total),
            tax_minor: Set(tax),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("set totals");
        let mut out = Vec::new();
        for (i, (description, quantity_milli, unit_price_minor, tax_minor)) in
            lines.iter().enumerate()
        {
            out.push(
                document_line::ActiveModel {
                    document_id: Set(doc.id),
                    line_no: Set(i32::try_from(i + 1).unwrap_or(i32::MAX)),
                    sku: Set(Some(format!("SKU-{}", i + 1))),
                    description: Set((*description).to_owned()),
                    quantity_milli: Set(*quantity_milli),
                    unit_price_minor: Set(*unit_price_minor),
                    amount_minor: Set(quantity_milli * unit_price_minor / 1000),
                    tax_minor: Set(*tax_minor),
                    ..Default::default()
                }
                .insert(db)
                .await
                .expect("insert line"),
            );
        }
        (doc, out)
    }

    /// A verified AP contact, primary for billing.
    ///
    /// # Panics
    /// When the insert fails.
    pub async fn contact(
        db: &impl ConnectionTrait,
        account_id: i64,
        name: &str,
        email: &str,
    ) -> contact::Model {
        contact::ActiveModel {
            account_id: Set(account_id),
            name: Set(name.to_owned()),
            email: Set(Some(email.to_owned())),
            role: Set(ContactRole::Ap),
            is_primary_billing: Set(true),
            email_status: Set(EmailStatus::Verified),
            version: Set(1),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert contact")
    }
}
