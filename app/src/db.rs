//! Opening the database: SQLite (WAL, busy timeout, foreign keys) or PostgreSQL.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};

/// When SQLite starts its WAL over, it cuts the file back to this size
/// (`journal_size_limit`): a log that grew while a long reader held it does not keep its
/// peak size on disk.
const WAL_KEEP_BYTES: u64 = 64 * 1024 * 1024;
/// How long the checkpointer's own connection waits for a lock before it gives up.
const CHECKPOINT_BUSY: Duration = Duration::from_millis(200);

/// Who copies SQLite's WAL back into the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoints {
    /// SQLite, in the commit that takes the log past 1,000 pages: one-shot commands.
    OnCommit,
    /// A worker of its own ([`checkpointer`], [`WalCheckpointer`]); commits never do
    /// (`settle serve`). In the commit path a checkpoint makes that request wait while
    /// pages are copied and synced, and while readers keep the log from starting over
    /// *every* commit tries again.
    ByWorker,
}

/// Connects to `url` and tunes the pool for the backend it names; SQLite checkpoints on
/// commit.
///
/// # Errors
/// The database cannot be reached or the URL is not understood.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, Checkpoints::OnCommit).await
}

/// [`connect`], saying who checkpoints SQLite's WAL (PostgreSQL ignores it).
///
/// # Errors
/// The database cannot be reached or the URL is not understood.
pub async fn connect_with(
    url: &str,
    checkpoints: Checkpoints,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        // While the database is unreachable a request waits this long, then answers 503.
        .acquire_timeout(Duration::from_secs(5));
    if url.starts_with("sqlite:") {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        // An in-memory SQLite database lives in one connection; a file is shared by several.
        options
            .max_connections(if in_memory { 1 } else { 8 })
            .min_connections(1);
        options.map_sqlx_sqlite_opts(move |o| {
            let o = sqlite_tuning(o).busy_timeout(Duration::from_secs(5));
            match checkpoints {
                Checkpoints::OnCommit => o,
                Checkpoints::ByWorker => o.pragma("wal_autocheckpoint", "0"),
            }
        });
    } else {
        options.max_connections(16).min_connections(1);
    }
    Database::connect(options).await
}

fn sqlite_tuning(
    o: sea_orm::sqlx::sqlite::SqliteConnectOptions,
) -> sea_orm::sqlx::sqlite::SqliteConnectOptions {
    o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
        .foreign_keys(true)
        .pragma("journal_size_limit", WAL_KEEP_BYTES.to_string())
}

/// The connection a checkpoint worker uses, beside the pool: one connection that waits at
/// most [`CHECKPOINT_BUSY`] for a lock, so a `Restart` blocked by a long reader holds the
/// writers back that long and no longer. `None` for PostgreSQL or an in-memory database.
///
/// # Errors
/// The database cannot be opened.
pub async fn checkpointer(url: &str) -> Result<Option<DatabaseConnection>, DbErr> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(None);
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(1)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5));
    options.map_sqlx_sqlite_opts(|o| sqlite_tuning(o).busy_timeout(CHECKPOINT_BUSY));
    Database::connect(options).await.map(Some)
}

/// How hard a checkpoint tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointMode {
    /// Copies what no reader still needs; never waits.
    Passive,
    /// Copies everything, holding writers back until the readers still on the log finish
    /// (at most the connection's busy timeout), so the next commit starts the log over.
    Restart,
}

/// What `PRAGMA wal_checkpoint` reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalCheckpoint {
    /// A lock could not be had (a `Restart` that gave up waiting for a reader).
    pub busy: bool,
    /// Pages in the log.
    pub log_pages: i64,
    /// Of those, pages now in the database file.
    pub checkpointed_pages: i64,
}

/// Checkpoints SQLite's WAL; `None` on PostgreSQL.
///
/// # Errors
/// The statement failed (not a busy database: that is [`WalCheckpoint::busy`]).
pub async fn checkpoint_wal(
    db: &impl ConnectionTrait,
    mode: CheckpointMode,
) -> Result<Option<WalCheckpoint>, DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(None);
    }
    let sql = match mode {
        CheckpointMode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
        CheckpointMode::Restart => "PRAGMA wal_checkpoint(RESTART)",
    };
    let Some(row) = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(WalCheckpoint {
        busy: row.try_get_by_index::<i64>(0)? != 0,
        log_pages: row.try_get_by_index(1)?,
        checkpointed_pages: row.try_get_by_index(2)?,
    }))
}

/// A log this long (16 MiB of 4 KiB pages) is made to start over with a `Restart`.
pub const RESTART_AT_PAGES: i64 = 4096;
/// After a `Restart` a reader held up, this many checkpoints stay passive: a long reader
/// (an export) must not hold the writers back again and again.
const RESTART_BACKOFF: u32 = 10;

/// The checkpoint worker's state: call [`WalCheckpointer::run`] every second or so.
pub struct WalCheckpointer {
    db: DatabaseConnection,
    /// Passive checkpoints left before a `Restart` may be tried again.
    backoff: u32,
}

impl WalCheckpointer {
    /// Works through `db`, a [`checkpointer`] connection.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db, backoff: 0 }
    }

    /// One round: a passive checkpoint; when the log is still [`RESTART_AT_PAGES`] long —
    /// readers have kept it from starting over — a `Restart`, unless one gave up lately.
    /// Returns the last checkpoint's report.
    ///
    /// # Errors
    /// A checkpoint statement failed.
    pub async fn run(&mut self) -> Result<Option<WalCheckpoint>, DbErr> {
        let Some(passive) = checkpoint_wal(&self.db, CheckpointMode::Passive).await? else {
            return Ok(None);
        };
        if passive.log_pages < RESTART_AT_PAGES {
            return Ok(Some(passive));
        }
        if self.backoff > 0 {
            self.backoff -= 1;
            return Ok(Some(passive));
        }
        let restart = checkpoint_wal(&self.db, CheckpointMode::Restart).await?;
        if restart.is_some_and(|r| r.busy) {
            self.backoff = RESTART_BACKOFF;
        }
        Ok(restart)
    }
}

/// Brings the schema up to date.
///
/// # Errors
/// A migration failed; the database is left at the last one that succeeded.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`, waiting up to the busy timeout for another writer to finish): a
/// transaction begun `DEFERRED` that reads and then writes fails at once with "database
/// is locked" when another writer committed in between. PostgreSQL ignores the mode;
/// inside a transaction this is a savepoint.
///
/// # Errors
/// The database could not be reached or the lock not taken within the busy timeout.
pub async fn begin_write<C: sea_orm::TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Whether PostgreSQL's autovacuum is on; `None` on SQLite.
///
/// # Errors
/// The setting could not be read.
pub async fn autovacuum_on(db: &impl ConnectionTrait) -> Result<Option<bool>, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_setting('autovacuum') = 'on'",
        ))
        .await?;
    row.map(|r| r.try_get_by_index::<bool>(0)).transpose()
}

/// What PostgreSQL's statistics say of one of Settle's tables since it was last vacuumed
/// and analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableActivity {
    pub name: String,
    pub live_rows: i64,
    /// Row versions an update or delete left behind; only VACUUM reclaims them.
    pub dead_rows: i64,
    pub modified_since_analyze: i64,
}

/// Whether autovacuum, had it been on, would vacuum and analyse `table` now: PostgreSQL's
/// default thresholds (50 rows plus 20 % of the table dead, or 50 plus 10 % changed since
/// the last analysis).
#[must_use]
pub fn vacuum_is_due(table: &TableActivity) -> bool {
    let live = table.live_rows.max(0);
    table.dead_rows > 50 + live / 5 || table.modified_since_analyze > 50 + live / 10
}

/// Does autovacuum's work on a PostgreSQL server where it is off: vacuums and analyses
/// each of Settle's tables that [`vacuum_is_due`] (`VACUUM (ANALYZE, SKIP_LOCKED)`, so a
/// table another process is vacuuming is passed by). Dead rows are otherwise never
/// reclaimed: tables updated all day (sessions, the outbox, open invoices) bloat, and the
/// planner keeps the row counts it had before an import. Returns the tables vacuumed;
/// nothing on SQLite, or when autovacuum is on.
///
/// # Errors
/// The statistics could not be read or a VACUUM failed.
pub async fn vacuum_due(db: &impl ConnectionTrait) -> Result<Vec<TableActivity>, DbErr> {
    if autovacuum_on(db).await? != Some(false) {
        return Ok(Vec::new());
    }
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT relname::text, n_live_tup, n_dead_tup, n_mod_since_analyze \
               FROM pg_stat_user_tables WHERE schemaname = current_schema() ORDER BY relname",
        ))
        .await?;
    let mut vacuumed = Vec::new();
    for row in rows {
        let table = TableActivity {
            name: row.try_get_by_index(0)?,
            live_rows: row.try_get_by_index(1)?,
            dead_rows: row.try_get_by_index(2)?,
            modified_since_analyze: row.try_get_by_index(3)?,
        };
        if !vacuum_is_due(&table) {
            continue;
        }
        let quoted = format!("\"{}\"", table.name.replace('"', "\"\""));
        db.execute_unprepared(&format!("VACUUM (ANALYZE, SKIP_LOCKED) {quoted}"))
            .await?;
        vacuumed.push(table);
    }
    Ok(vacuumed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(live_rows: i64, dead_rows: i64, modified_since_analyze: i64) -> TableActivity {
        TableActivity {
            name: "t".to_owned(),
            live_rows,
            dead_rows,
            modified_since_analyze,
        }
    }

    #[test]
    fn a_table_is_vacuumed_when_a_fifth_of_it_is_dead_or_a_tenth_changed() {
        assert!(!vacuum_is_due(&table(0, 0, 0)));
        assert!(!vacuum_is_due(&table(0, 50, 50)));
        assert!(vacuum_is_due(&table(0, 51, 0)));
        assert!(vacuum_is_due(&table(0, 0, 51)));
        assert!(!vacuum_is_due(&table(10_000, 2_050, 1_050)));
        assert!(vacuum_is_due(&table(10_000, 2_051, 0)));
        assert!(vacuum_is_due(&table(10_000, 0, 1_051)));
    }
}
