//! Fixed-window rate limits kept in the database, so several server processes count together.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::error::AppError;

/// A limit: at most `max` hits per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: i32,
    pub window: Duration,
}

/// Five an hour: requests for sign-in links, per address and per client.
pub const SIGN_IN_REQUESTS: Limit = Limit {
    max: 5,
    window: Duration::hours(1),
};
/// Password attempts per client address.
pub const STAFF_SIGN_IN: Limit = Limit {
    max: 20,
    window: Duration::minutes(15),
};

/// Counts one hit on `key` and says whether it is still within `limit`.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn hit(
    db: &impl ConnectionTrait,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let backend = db.get_database_backend();
    let window_over = now - limit.window;
    let sql = "INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, 1) \
               ON CONFLICT (key) DO UPDATE SET \
               hits = CASE WHEN rate_limits.window_start <= ? THEN 1 ELSE rate_limits.hits + 1 END, \
               window_start = CASE WHEN rate_limits.window_start <= ? THEN ? ELSE rate_limits.window_start END \
               RETURNING hits";
    let values: Vec<Value> = vec![
        key.into(),
        now.into(),
        window_over.into(),
        window_over.into(),
        now.into(),
    ];
    let stmt = Statement::from_sql_and_values(backend, numbered(sql, backend), values);
    let row = db.query_one_raw(stmt).await?.ok_or(AppError::Internal)?;
    let hits: i32 = row.try_get("", "hits")?;
    Ok(hits <= limit.max)
}

/// Rewrites `?` placeholders as `$1, $2, …` for PostgreSQL.
fn numbered(sql: &str, backend: DbBackend) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}
