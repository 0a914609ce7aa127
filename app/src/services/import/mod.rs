//! CSV import from the ERP: accounts, contacts, invoices with lines, payments, document files.
//!
//! CONTRACT (stubs; the import work replaces the bodies and keeps these signatures so the
//! staff page can be built at the same time).

use std::path::Path;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::entities::{import_reject, import_run};
use crate::error::AppError;
use crate::model::enums::ImportKind;
use crate::model::import::ImportRunView;
use crate::state::Clock;

/// How a run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Check every row and count what would change; write nothing but the run and its rejects.
    pub dry_run: bool,
    /// Rows per committed batch (whole invoices are never split across batches).
    pub batch_rows: usize,
    /// Tests only: stop as if the process died after this many committed batches.
    pub crash_after_batches: Option<u32>,
    /// Where document files (the `documents` kind's PDFs) are stored: `$SETTLE_DATA_DIR`.
    pub data_dir: std::path::PathBuf,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            batch_rows: 1000,
            crash_after_batches: None,
            data_dir: std::path::PathBuf::from("data"),
        }
    }
}

/// The SHA-256 of a file, read in chunks (hex).
///
/// # Errors
/// The file cannot be read.
pub async fn sha256_of(_path: &Path) -> Result<String, AppError> {
    Err(AppError::Internal)
}

/// Starts a run of `kind` for the file — or returns the unfinished (failed) applying run of the
/// same kind and file, which then resumes after its last committed line.
///
/// # Errors
/// Database errors.
pub async fn begin(
    _db: &impl ConnectionTrait,
    _kind: ImportKind,
    _file_name: &str,
    _file_sha256: &str,
    _dry_run: bool,
    _started_by: Option<i64>,
    _now: DateTime<Utc>,
) -> Result<import_run::Model, AppError> {
    Err(AppError::Internal)
}

/// Reads the file of run `run_id` at `path`, counts its rows (`total_rows`), then checks and
/// (unless dry) applies them in batches, updating `processed_rows` and the counts as it goes.
/// Returns the finished run.
///
/// # Errors
/// The file cannot be read as CSV of its kind, or the database fails (the run is then `failed`).
pub async fn execute(
    _db: &DatabaseConnection,
    _run_id: i64,
    _path: &Path,
    _opts: &RunOptions,
    _clock: &dyn Clock,
) -> Result<import_run::Model, AppError> {
    Err(AppError::Internal)
}

/// A run as the page shows it, with its first rejected rows.
///
/// # Errors
/// `NotFound` for an unknown run.
pub async fn view(_db: &impl ConnectionTrait, _run_id: i64) -> Result<ImportRunView, AppError> {
    Err(AppError::NotFound)
}

/// Every rejected row of a run, by line (for the CSV report).
///
/// # Errors
/// Database errors.
pub async fn rejects(
    _db: &impl ConnectionTrait,
    _run_id: i64,
) -> Result<Vec<import_reject::Model>, AppError> {
    Err(AppError::Internal)
}
