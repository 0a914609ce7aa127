//! Claiming due rows of a work queue (the email outbox, webhook deliveries) for a lease, so
//! that several workers — in one process or in several against one PostgreSQL — never take
//! the same row while its lease runs.

use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect,
    Select, TransactionSession, TransactionTrait, UpdateMany,
};

use crate::error::AppError;

/// Claims the rows `due` selects (its filter, order and limit are the caller's): `mark` (which
/// sets the lease) is applied to each, and the rows marked are returned. On PostgreSQL the
/// due rows are locked with `FOR UPDATE SKIP LOCKED`, so concurrent claimers pass each
/// other by; elsewhere each row is marked only if it is still `claimable`, one conditional
/// update at a time. The order of the result is not `due`'s: callers sort it.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn claim<E>(
    db: &(impl ConnectionTrait + TransactionTrait),
    due: Select<E>,
    mark: UpdateMany<E>,
    claimable: Condition,
    id: E::Column,
    id_of: fn(&E::Model) -> i64,
) -> Result<Vec<E::Model>, AppError>
where
    E: EntityTrait,
{
    if db.get_database_backend() == DbBackend::Postgres {
        let txn = crate::db::begin_write(db).await?;
        let ids: Vec<i64> = due
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(&txn)
            .await?
            .iter()
            .map(id_of)
            .collect();
        let rows = if ids.is_empty() {
            Vec::new()
        } else {
            mark.filter(id.is_in(ids)).exec_with_returning(&txn).await?
        };
        txn.commit().await?;
        return Ok(rows);
    }
    let mut ids = Vec::new();
    for row in due.all(db).await? {
        let taken = mark
            .clone()
            .filter(id.eq(id_of(&row)))
            .filter(claimable.clone())
            .exec(db)
            .await?;
        if taken.rows_affected == 1 {
            ids.push(id_of(&row));
        }
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(E::find().filter(id.is_in(ids)).all(db).await?)
}
