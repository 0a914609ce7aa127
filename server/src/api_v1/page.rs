//! Cursor pagination shared by every list: rows in id order, `limit` of them (default
//! [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`]), and an opaque cursor for the next page, so a
//! client paging through sees every row once even while rows are added.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, Iterable, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use super::problem::Problem;

/// Rows per page when the request names no limit.
pub const DEFAULT_LIMIT: u64 = 50;
/// The most rows one page may hold.
pub const MAX_LIMIT: u64 = 200;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The page size asked for, checked.
///
/// # Errors
/// 400 naming `limit` when it is outside 1..=[`MAX_LIMIT`].
pub fn limit(asked: Option<i64>) -> Result<u64, Problem> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(n) => u64::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                Problem::bad_parameter("limit", format!("limit must be between 1 and {MAX_LIMIT}"))
            }),
    }
}

/// A cursor as handed out: the last id of the page before.
pub fn encode(id: i64) -> String {
    format!("i{id}")
}

/// The id a cursor stands for (0 when there is none: from the start).
///
/// # Errors
/// 400 naming `field` when the cursor is not one the API handed out.
pub fn decode(cursor: Option<&str>, field: &str) -> Result<i64, Problem> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    cursor
        .strip_prefix('i')
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            Problem::bad_parameter(
                field,
                format!("{field} is not a cursor this API handed out"),
            )
        })
}

/// The page of `select` that follows the row with id `after`: rows in id order, `limit` of
/// them, and the cursor of the next page when there is one.
///
/// # Errors
/// Database errors.
pub async fn fetch<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    id: E::Column,
    after: i64,
    limit: u64,
    id_of: fn(&E::Model) -> i64,
) -> Result<Page<E::Model>, DbErr> {
    let rows = select
        .filter(id.gt(after))
        .order_by_asc(id)
        .limit(limit + 1)
        .all(db)
        .await?;
    Ok(page(rows, limit, id_of))
}

/// The page from `rows`, fetched with one row more than `limit` to know whether another
/// page follows.
pub fn page<T>(mut rows: Vec<T>, limit: u64, id_of: impl Fn(&T) -> i64) -> Page<T> {
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more {
        rows.last().map(|r| encode(id_of(r)))
    } else {
        None
    };
    Page {
        data: rows,
        next_cursor,
    }
}

/// The OpenAPI schema of a vocabulary (a string that is one of the listed values).
pub fn vocab<E: Iterable + std::fmt::Display>() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(E::iter().map(|e| e.to_string())))
        .build()
}

/// A vocabulary value from a query parameter.
///
/// # Errors
/// 400 naming `field` for a value outside the vocabulary.
pub fn parse_vocab<E: Iterable + std::fmt::Display>(
    value: Option<&str>,
    field: &str,
) -> Result<Option<E>, Problem> {
    let Some(value) = value else { return Ok(None) };
    E::iter()
        .find(|e| e.to_string() == value)
        .map(Some)
        .ok_or_else(|| {
            let allowed: Vec<String> = E::iter().map(|e| e.to_string()).collect();
            Problem::bad_parameter(
                field,
                format!("{field} must be one of {}", allowed.join(", ")),
            )
        })
}
