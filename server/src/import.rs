//! `settle import KIND FILE`: checks and applies an ERP file from the command line, with
//! progress on stderr and the report (counts, then every rejected row) on stdout.

use std::path::Path;

use app::model::enums::{ImportKind, ImportStatus};
use app::services::import::{self, RunOptions};
use app::state::Clock;
use sea_orm::DatabaseConnection;

/// `settle import`: checks `file`, prints the report, and (unless `dry_run`) applies it.
/// Document files go under `data_dir` (`SETTLE_DATA_DIR`). A run that stopped part-way
/// resumes when the same file is imported again.
///
/// # Errors
/// A message for the command line: the file cannot be read, or the import failed.
pub async fn cli(
    db: &DatabaseConnection,
    kind: ImportKind,
    file: &Path,
    dry_run: bool,
    data_dir: &Path,
    clock: &dyn Clock,
) -> Result<(), String> {
    let sha256 = import::sha256_of(file)
        .await
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let run = import::begin(db, kind, &name, &sha256, dry_run, None, clock.now())
        .await
        .map_err(|e| format!("starting the import failed: {e}"))?;
    if run.status == ImportStatus::Failed {
        eprintln!(
            "resuming run {} after line {} (it stopped: {})",
            run.id,
            run.committed_line,
            run.error.as_deref().unwrap_or("unknown")
        );
    }
    let opts = RunOptions {
        dry_run,
        data_dir: data_dir.to_path_buf(),
        ..RunOptions::default()
    };
    let progress = tokio::spawn(watch(db.clone(), run.id));
    let result = import::execute(db, run.id, file, &opts, clock).await;
    progress.abort();
    let view = import::view(db, run.id)
        .await
        .map_err(|e| format!("reading the report failed: {e}"))?;
    eprintln!();
    println!(
        "{} {} of {}: {} rows; created {}, updated {}, unchanged {}, rejected {}",
        if view.dry_run { "Dry run:" } else { "Imported" },
        view.kind,
        view.file_name,
        view.processed_rows,
        view.created,
        view.updated,
        view.unchanged,
        view.rejected
    );
    let rejects = import::rejects(db, run.id)
        .await
        .map_err(|e| format!("reading the rejected rows failed: {e}"))?;
    for r in &rejects {
        let column = if r.column_name.is_empty() {
            "-"
        } else {
            r.column_name.as_str()
        };
        println!("  line {}, {}: {}", r.line, column, r.reason);
    }
    match result {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "import of {} stopped: {e}{}",
            file.display(),
            if view.status == ImportStatus::Failed && !view.dry_run && view.processed_rows > 0 {
                " (run it again to resume)"
            } else {
                ""
            }
        )),
    }
}

/// Prints processed/total on stderr every half second.
async fn watch(db: DatabaseConnection, run_id: i64) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
    loop {
        tick.tick().await;
        if let Ok(v) = import::view(&db, run_id).await {
            eprint!("\r{} / {} rows", v.processed_rows, v.total_rows);
        }
    }
}
