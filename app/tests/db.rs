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
