//! Data shapes of the CSV import, shared by the server and the browser.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::enums::{ImportKind, ImportStatus};

/// One rejected row of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectView {
    /// The line in the file (the header is line 1).
    pub line: i64,
    pub column: String,
    pub reason: String,
}

/// A run as the import page shows it: progress while it runs, then its counts and the
/// first rejected rows (the whole list is the CSV report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRunView {
    pub id: i64,
    pub kind: ImportKind,
    pub file_name: String,
    pub dry_run: bool,
    pub status: ImportStatus,
    pub total_rows: i64,
    pub processed_rows: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The first rejected rows, by line (at most [`REJECTS_SHOWN`]).
    pub rejects: Vec<RejectView>,
}

/// How many rejected rows the page lists; the CSV report has them all.
pub const REJECTS_SHOWN: usize = 200;
