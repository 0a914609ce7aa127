//! SQLite's WAL under `settle serve`: commits leave checkpoints to a worker of its own,
//! which makes a log that readers kept from starting over start over.

use std::path::{Path, PathBuf};

use app::db::{self, CheckpointMode, Checkpoints, RESTART_AT_PAGES, WalCheckpointer};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

/// A scratch directory of this test's own, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("settle-db-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

fn wal_bytes(path: &Path) -> u64 {
    std::fs::metadata(format!("{}-wal", path.display())).map_or(0, |m| m.len())
}

/// `commits` commits of 16 KiB (four pages) each.
async fn write(db: &DatabaseConnection, commits: usize) {
    for _ in 0..commits {
        db.execute_unprepared("INSERT INTO t (b) VALUES (randomblob(16384))")
            .await
            .expect("insert");
    }
}

async fn table(db: &DatabaseConnection) {
    db.execute_unprepared("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, b BLOB)")
        .await
        .expect("create table");
}

#[tokio::test]
async fn commits_checkpoint_only_when_the_connection_says_so() {
    let dir = scratch("on-commit");
    let (by_commit, by_worker) = (dir.join("commit.db"), dir.join("worker.db"));
    let a = db::connect_with(&url(&by_commit), Checkpoints::OnCommit)
        .await
        .expect("open");
    let b = db::connect_with(&url(&by_worker), Checkpoints::ByWorker)
        .await
        .expect("open");
    for conn in [&a, &b] {
        table(conn).await;
        // 1,600 pages: past SQLite's automatic checkpoint at 1,000.
        write(conn, 400).await;
    }
    // Checkpointed on commit, the log started over and stayed about 1,000 pages long.
    assert!(
        wal_bytes(&by_commit) < 5 * 1024 * 1024,
        "{}",
        wal_bytes(&by_commit)
    );
    // Left to the worker, it holds every page written.
    assert!(
        wal_bytes(&by_worker) > 6 * 1024 * 1024,
        "{}",
        wal_bytes(&by_worker)
    );

    let checkpointer = db::checkpointer(&url(&by_worker))
        .await
        .expect("open")
        .expect("a file database has a checkpointer");
    let done = WalCheckpointer::new(checkpointer)
        .run()
        .await
        .expect("checkpoint")
        .expect("SQLite reports");
    assert!(!done.busy);
    assert!(done.log_pages >= 1600, "{done:?}");
    assert_eq!(done.checkpointed_pages, done.log_pages);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_log_a_reader_holds_is_restarted_once_the_reader_is_done() {
    let dir = scratch("restart");
    let path = dir.join("settle.db");
    let pool = db::connect_with(&url(&path), Checkpoints::ByWorker)
        .await
        .expect("open");
    table(&pool).await;
    write(&pool, 1).await;
    let mut worker = WalCheckpointer::new(
        db::checkpointer(&url(&path))
            .await
            .expect("open")
            .expect("a file database has a checkpointer"),
    );

    // A long reader (an export, a backup) keeps its snapshot while the log grows.
    let reader = pool.begin().await.expect("begin");
    reader
        .execute_unprepared("SELECT count(*) FROM t")
        .await
        .expect("read");
    let pages = usize::try_from(RESTART_AT_PAGES).expect("small") / 4 + 50;
    write(&pool, pages).await;

    // The worker tries to make the log start over; the reader holds it, so it gives up.
    let held = worker.run().await.expect("checkpoint").expect("report");
    assert!(held.busy, "{held:?}");
    assert!(held.checkpointed_pages < held.log_pages, "{held:?}");
    // Writers are not held back meanwhile, and the next rounds stay passive.
    write(&pool, 10).await;
    let passive = worker.run().await.expect("checkpoint").expect("report");
    assert!(!passive.busy, "{passive:?}");
    assert!(passive.log_pages >= RESTART_AT_PAGES, "{passive:?}");

    // The reader finishes: the whole log goes into the database file, and the next
    // commit starts the log over from its first page.
    reader.rollback().await.expect("end the read");
    let done = worker.run().await.expect("checkpoint").expect("report");
    assert!(!done.busy, "{done:?}");
    assert_eq!(done.checkpointed_pages, done.log_pages);
    write(&pool, 1).await;
    let after = db::checkpoint_wal(&pool, CheckpointMode::Passive)
        .await
        .expect("checkpoint")
        .expect("report");
    assert!(
        after.log_pages < 10,
        "the log did not start over: {after:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn postgres_and_memory_databases_have_no_checkpointer() {
    assert!(
        db::checkpointer("postgres://postgres@127.0.0.1:5432/test")
            .await
            .expect("no connection is made")
            .is_none()
    );
    assert!(
        db::checkpointer("sqlite::memory:")
            .await
            .expect("no connection is made")
            .is_none()
    );
}

/// On PostgreSQL with autovacuum off (as on the test machines), `vacuum_due` vacuums a table
/// whose updates left dead rows, and leaves one alone that has none; with autovacuum on it
/// does nothing. Skipped without `TEST_DATABASE_URL`.
#[tokio::test]
async fn postgres_tables_full_of_dead_rows_are_vacuumed_when_autovacuum_is_off() {
    let Some(pg) = app::testing::databases("db_vacuum_due")
        .await
        .into_iter()
        .find(|d| d.backend == "postgres")
    else {
        println!("TEST_DATABASE_URL is unset: skipping");
        return;
    };
    let db = pg.conn;
    // Statistics reach the shared counters when a backend's transaction ends, at most once
    // a second unless forced; each step is one transaction on one connection that forces
    // it, so the counters are settled before the next step reads or resets them.
    let settled = |sqls: &'static [&'static str]| {
        let db = db.clone();
        async move {
            let txn = db.begin().await.expect("begin");
            txn.execute_unprepared("SELECT pg_stat_force_next_flush()")
                .await
                .expect("force flush");
            for sql in sqls {
                txn.execute_unprepared(sql).await.expect(sql);
            }
            txn.commit().await.expect("commit");
        }
    };
    settled(&[
        "CREATE TABLE churn (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)",
        "CREATE TABLE calm (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)",
        "INSERT INTO churn SELECT g, 0 FROM generate_series(1, 1000) g",
        "INSERT INTO calm SELECT g, 0 FROM generate_series(1, 1000) g",
    ])
    .await;
    // Both analysed after their rows were counted, so only dead rows can make either due.
    for sql in ["ANALYZE churn", "ANALYZE calm"] {
        db.execute_unprepared(sql).await.expect(sql);
    }
    // Every row of `churn` updated three times: 3,000 dead versions, far past 50 + 20 %.
    settled(&[
        "UPDATE churn SET n = n + 1",
        "UPDATE churn SET n = n + 1",
        "UPDATE churn SET n = n + 1",
    ])
    .await;
    let dead = |table: &'static str| {
        let db = db.clone();
        async move {
            db.query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = '{table}'"),
            ))
            .await
            .expect("stats")
            .expect("a row")
            .try_get_by_index::<i64>(0)
            .expect("n_dead_tup")
        }
    };
    // Past the threshold (50 + a fifth of 1,000), whatever pruning reclaimed on the way.
    let before = dead("churn").await;
    assert!(before > 300, "{before}");

    let vacuumed = db::vacuum_due(&db).await.expect("vacuum");
    let names: Vec<&str> = vacuumed.iter().map(|t| t.name.as_str()).collect();
    if db::autovacuum_on(&db).await.expect("setting") == Some(true) {
        assert!(vacuumed.is_empty(), "autovacuum is on, yet {names:?}");
        return;
    }
    assert!(names.contains(&"churn"), "{names:?}");
    assert!(!names.contains(&"calm"), "{names:?}");
    assert_eq!(dead("churn").await, 0);
    // Nothing is due any more.
    let again = db::vacuum_due(&db).await.expect("vacuum");
    assert!(
        again.iter().all(|t| t.name != "churn" && t.name != "calm"),
        "{again:?}"
    );
}

#[tokio::test]
async fn sqlite_has_no_vacuum_to_do() {
    let db = db::connect("sqlite::memory:").await.expect("sqlite");
    assert_eq!(db::autovacuum_on(&db).await.expect("setting"), None);
    assert!(db::vacuum_due(&db).await.expect("vacuum").is_empty());
}
