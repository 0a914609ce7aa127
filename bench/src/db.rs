//! Raw SQL on SQLite or PostgreSQL: the connection the baseline and the load generators
//! share, opened by Settle's own `app::db::connect` (same pool, WAL and busy timeout).

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement, Value};

/// Connects to `url` with Settle's pool settings.
///
/// # Errors
/// The database cannot be reached.
pub async fn connect(url: &str) -> Result<DatabaseConnection, String> {
    app::db::connect(url)
        .await
        .map_err(|e| format!("cannot open {url}: {e}"))
}

/// `sql` with `$1`, `$2`… placeholders, rewritten to `?` for SQLite.
pub fn statement(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Sqlite {
        let mut out = String::with_capacity(sql.len());
        let mut chars = sql.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                out.push('?');
            } else {
                out.push(c);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Every row `sql` returns.
///
/// # Errors
/// The query failed.
pub async fn all(
    db: &DatabaseConnection,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>, String> {
    db.query_all_raw(statement(db, sql, values))
        .await
        .map_err(|e| format!("{sql}: {e}"))
}

/// The first column of the first row as an integer.
///
/// # Errors
/// The query failed or returned nothing.
pub async fn count(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Result<i64, String> {
    let rows = all(db, sql, values).await?;
    let row = rows.first().ok_or_else(|| format!("{sql}: no row"))?;
    row.try_get_by_index::<i64>(0)
        .map_err(|e| format!("{sql}: {e}"))
}
