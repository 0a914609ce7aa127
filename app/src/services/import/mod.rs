//! CSV import from the ERP: accounts, contacts, invoices with lines, payments, document files.
//!
//! A run reads its file twice, as a stream: once to count the rows (progress is rows
//! processed of the total), then to check and apply them in batches. Each batch is one
//! transaction that also advances the run's `committed_line`, so a run that stops part-way
//! (`failed`) resumes after its last committed batch when the same file is imported again;
//! an invoice and its lines always travel in one batch. Rows are matched by their external
//! id, so importing a file twice changes nothing the second time; a change to a record
//! updates it and appends audit events on the `import` channel. A dry run checks every row
//! against the database and counts what would happen, writing only the run and its
//! rejected rows. The formats are documented in `docs/import.md`.

mod accounts;
mod contacts;
mod documents;
mod invoices;
mod payments;
pub mod table;
pub mod values;

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, prelude::*,
};
use sha2::{Digest, Sha256};

use crate::entities::{import_reject, import_run};
use crate::error::AppError;
use crate::model::enums::{ActorKind, Channel, ImportKind, ImportStatus};
use crate::model::import::{ImportRunView, REJECTS_SHOWN, RejectView};
use crate::services::audit::{self, Change};
use crate::state::Clock;
use table::{Column, Row};

pub use invoices::scan_invoices;

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

/// A rejected row: its line (the header is line 1; for a zip, the entry's position), the
/// column and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub line: i64,
    pub column: String,
    pub reason: String,
}

/// What a batch did (or, in a dry run, would do), in rows.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub rejects: Vec<Reject>,
}

impl Outcome {
    fn add(&mut self, other: Outcome) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
        self.rejects.extend(other.rejects);
    }

    pub(crate) fn reject_rows(&mut self, rows: i64, rejects: Vec<Reject>) {
        self.rejected += rows;
        self.rejects.extend(rejects);
    }
}

/// Who and what a run is, for the writes it makes.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub dry_run: bool,
    pub actor_kind: ActorKind,
    pub actor_id: Option<i64>,
    pub now: DateTime<Utc>,
    pub data_dir: std::path::PathBuf,
}

impl Ctx {
    /// Appends the audit event of an imported change (skipped in a dry run).
    pub(crate) async fn audit(
        &self,
        db: &impl ConnectionTrait,
        account_id: i64,
        record: (&str, i64),
        field: &str,
        old: Option<String>,
        new: Option<String>,
    ) -> Result<(), AppError> {
        if self.dry_run {
            return Ok(());
        }
        audit::append(
            db,
            Change {
                actor_kind: self.actor_kind,
                actor_id: self.actor_id,
                channel: Channel::Import,
                account_id: Some(account_id),
                entity: record.0,
                entity_id: Some(record.1),
                field: Some(field),
                old_value: old,
                new_value: new,
            },
            self.now,
        )
        .await?;
        Ok(())
    }
}

/// What a kind's check of one row (or one invoice's rows) found before the database.
pub(crate) enum Prepared<U> {
    Unit(U),
    /// Already seen in this file with the same content: nothing to do.
    Unchanged(i64),
    Rejected(i64, Vec<Reject>),
}

/// One kind of CSV file.
pub(crate) trait Kind {
    type Unit: Send;
    fn columns(&self) -> &'static [Column];
    /// Whether `next` belongs to the same unit as `prev` (the lines of one invoice).
    fn same_unit(&self, _prev: &Row, _next: &Row) -> bool {
        false
    }
    /// Checks a unit's rows without the database (formats, repeats within the file).
    fn prepare(&mut self, rows: Vec<Row>) -> Prepared<Self::Unit>;
    /// Checks the units against the database and, unless dry, writes them.
    async fn apply(
        &mut self,
        db: &impl ConnectionTrait,
        units: Vec<Self::Unit>,
        ctx: &Ctx,
    ) -> Result<Outcome, AppError>;
}

/// The SHA-256 of a file, read in chunks (hex).
///
/// # Errors
/// The file cannot be read.
pub async fn sha256_of(path: &Path) -> Result<String, AppError> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| unreadable(path, &e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0_u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .await
            .map_err(|e| unreadable(path, &e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn unreadable(path: &Path, err: &dyn std::fmt::Display) -> AppError {
    AppError::validation("file", format!("{} cannot be read: {err}", path.display()))
}

/// Starts a run of `kind` for the file — or returns the unfinished (failed) applying run of the
/// same kind and file, which then resumes after its last committed line.
///
/// # Errors
/// Database errors.
pub async fn begin(
    db: &impl ConnectionTrait,
    kind: ImportKind,
    file_name: &str,
    file_sha256: &str,
    dry_run: bool,
    started_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<import_run::Model, AppError> {
    if !dry_run
        && let Some(failed) = import_run::Entity::find()
            .filter(import_run::COLUMN.kind.eq(kind))
            .filter(import_run::COLUMN.file_sha256.eq(file_sha256))
            .filter(import_run::COLUMN.dry_run.eq(false))
            .order_by_desc(import_run::COLUMN.id)
            .one(db)
            .await?
            .filter(|r| r.status == ImportStatus::Failed)
    {
        return Ok(failed);
    }
    Ok(import_run::ActiveModel {
        kind: Set(kind),
        file_name: Set(file_name.to_owned()),
        file_sha256: Set(file_sha256.to_owned()),
        dry_run: Set(dry_run),
        status: Set(ImportStatus::Running),
        total_rows: Set(0),
        processed_rows: Set(0),
        committed_line: Set(0),
        created_count: Set(0),
        updated_count: Set(0),
        unchanged_count: Set(0),
        rejected_count: Set(0),
        error: Set(None),
        started_by: Set(started_by),
        started_at: Set(now),
        finished_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Reads the file of run `run_id` at `path`, counts its rows (`total_rows`), then checks and
/// (unless dry) applies them in batches, updating `processed_rows` and the counts as it goes.
/// Returns the finished run.
///
/// # Errors
/// The file cannot be read as CSV of its kind, or the database fails (the run is then `failed`).
pub async fn execute(
    db: &DatabaseConnection,
    run_id: i64,
    path: &Path,
    opts: &RunOptions,
    clock: &dyn Clock,
) -> Result<import_run::Model, AppError> {
    let run = find_run(db, run_id).await?;
    if matches!(run.status, ImportStatus::Applied | ImportStatus::Checked) {
        return Ok(run);
    }
    let ctx = Ctx {
        dry_run: run.dry_run,
        actor_kind: if run.started_by.is_some() {
            ActorKind::Staff
        } else {
            ActorKind::System
        },
        actor_id: run.started_by,
        now: clock.now(),
        data_dir: opts.data_dir.clone(),
    };
    let result = match run.kind {
        ImportKind::Accounts => {
            run_csv(
                db,
                &run,
                path,
                opts,
                clock,
                ctx,
                accounts::Accounts::default(),
            )
            .await
        }
        ImportKind::Contacts => {
            run_csv(
                db,
                &run,
                path,
                opts,
                clock,
                ctx,
                contacts::Contacts::default(),
            )
            .await
        }
        ImportKind::Invoices => {
            run_csv(
                db,
                &run,
                path,
                opts,
                clock,
                ctx,
                invoices::Invoices::default(),
            )
            .await
        }
        ImportKind::Payments => {
            run_csv(
                db,
                &run,
                path,
                opts,
                clock,
                ctx,
                payments::Payments::default(),
            )
            .await
        }
        ImportKind::Documents => documents::run(db, &run, path, opts, clock, ctx).await,
    };
    match result {
        Ok(()) => find_run(db, run_id).await,
        Err(err) => {
            let message = match &err {
                AppError::Validation { message, .. } => message.clone(),
                AppError::Internal => "the database failed; import the file again to resume".into(),
                other => other.to_string(),
            };
            import_run::Entity::update_many()
                .col_expr(
                    import_run::Column::Status,
                    Expr::value(ImportStatus::Failed),
                )
                .col_expr(import_run::Column::Error, Expr::value(Some(message)))
                .col_expr(
                    import_run::Column::FinishedAt,
                    Expr::value(Some(clock.now())),
                )
                .filter(import_run::COLUMN.id.eq(run_id))
                .exec(db)
                .await?;
            Err(err)
        }
    }
}

async fn find_run(db: &impl ConnectionTrait, run_id: i64) -> Result<import_run::Model, AppError> {
    import_run::Entity::find_by_id(run_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Marks the run running again with its total, forgetting rejects past the committed line
/// (a resumed run finds them again).
pub(crate) async fn restart(
    db: &impl ConnectionTrait,
    run: &import_run::Model,
    total_rows: i64,
) -> Result<(), AppError> {
    import_reject::Entity::delete_many()
        .filter(import_reject::COLUMN.run_id.eq(run.id))
        .filter(import_reject::COLUMN.line.gt(run.committed_line))
        .exec(db)
        .await?;
    import_run::Entity::update_many()
        .col_expr(
            import_run::Column::Status,
            Expr::value(ImportStatus::Running),
        )
        .col_expr(
            import_run::Column::Error,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            import_run::Column::FinishedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(import_run::Column::TotalRows, Expr::value(total_rows))
        .filter(import_run::COLUMN.id.eq(run.id))
        .exec(db)
        .await?;
    Ok(())
}

/// The run's running totals, written with each batch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Totals {
    pub processed: i64,
    pub committed_line: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
}

impl Totals {
    pub(crate) fn of(run: &import_run::Model) -> Self {
        Totals {
            processed: run.processed_rows,
            committed_line: run.committed_line,
            created: run.created_count,
            updated: run.updated_count,
            unchanged: run.unchanged_count,
            rejected: run.rejected_count,
        }
    }

    fn add(&mut self, o: &Outcome, rows: i64, last_line: i64) {
        self.processed += rows;
        self.committed_line = self.committed_line.max(last_line);
        self.created += o.created;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.rejected += o.rejected;
    }
}

/// Writes the run's totals and the batch's rejects.
pub(crate) async fn record_batch(
    db: &impl ConnectionTrait,
    run_id: i64,
    totals: Totals,
    rejects: Vec<Reject>,
) -> Result<(), AppError> {
    // Five columns a reject: far under every backend's bind-parameter limit.
    for chunk in rejects.chunks(1000) {
        import_reject::Entity::insert_many(chunk.iter().map(|r| import_reject::ActiveModel {
            run_id: Set(run_id),
            line: Set(r.line),
            column_name: Set(r.column.clone()),
            reason: Set(r.reason.clone()),
            ..Default::default()
        }))
        .exec_without_returning(db)
        .await?;
    }
    import_run::Entity::update_many()
        .col_expr(
            import_run::Column::ProcessedRows,
            Expr::value(totals.processed),
        )
        .col_expr(
            import_run::Column::CommittedLine,
            Expr::value(totals.committed_line),
        )
        .col_expr(
            import_run::Column::CreatedCount,
            Expr::value(totals.created),
        )
        .col_expr(
            import_run::Column::UpdatedCount,
            Expr::value(totals.updated),
        )
        .col_expr(
            import_run::Column::UnchangedCount,
            Expr::value(totals.unchanged),
        )
        .col_expr(
            import_run::Column::RejectedCount,
            Expr::value(totals.rejected),
        )
        .filter(import_run::COLUMN.id.eq(run_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends the run `checked` (dry) or `applied`.
pub(crate) async fn finish(
    db: &impl ConnectionTrait,
    run: &import_run::Model,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let status = if run.dry_run {
        ImportStatus::Checked
    } else {
        ImportStatus::Applied
    };
    import_run::Entity::update_many()
        .col_expr(import_run::Column::Status, Expr::value(status))
        .col_expr(import_run::Column::FinishedAt, Expr::value(Some(now)))
        .filter(import_run::COLUMN.id.eq(run.id))
        .exec(db)
        .await?;
    Ok(())
}

/// The failure of a simulated crash (tests).
pub(crate) fn simulated_crash() -> AppError {
    AppError::Unavailable("the import stopped part-way (simulated crash)".to_owned())
}

/// A batch being gathered: units and their row count and last line.
struct Pending<U> {
    units: Vec<U>,
    rows: i64,
    last_line: i64,
    early: Outcome,
}

impl<U> Default for Pending<U> {
    fn default() -> Self {
        Pending {
            units: Vec::new(),
            rows: 0,
            last_line: 0,
            early: Outcome::default(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_csv<K: Kind>(
    db: &DatabaseConnection,
    run: &import_run::Model,
    path: &Path,
    opts: &RunOptions,
    clock: &dyn Clock,
    ctx: Ctx,
    mut kind: K,
) -> Result<(), AppError> {
    let open_file = || std::fs::File::open(path).map_err(|e| unreadable(path, &e));
    let total = match table::count_rows(open_file()?, kind.columns()) {
        Ok(n) => n,
        Err(table::OpenError::Header(_)) => 0,
        Err(table::OpenError::Io(e)) => return Err(unreadable(path, &e)),
    };
    restart(db, run, total).await?;
    let mut table = match table::open(open_file()?, kind.columns()) {
        Ok(t) => t,
        Err(table::OpenError::Header(problems)) => {
            let mut totals = Totals::of(run);
            totals.rejected = problems.len() as i64;
            let n = problems.len();
            record_batch(db, run.id, totals, problems).await?;
            return Err(AppError::validation(
                "file",
                format!("the header line has {n} problem(s); nothing was imported"),
            ));
        }
        Err(table::OpenError::Io(e)) => return Err(unreadable(path, &e)),
    };
    let mut totals = Totals::of(run);
    let resume_after = run.committed_line;
    let mut batches = 0_u32;
    let mut pending: Pending<K::Unit> = Pending::default();
    let mut group: Vec<Row> = Vec::new();
    let batch_rows = opts.batch_rows.max(1) as i64;
    loop {
        let next = table.next_row().map_err(|e| unreadable(path, &e))?;
        let boundary = match (&next, group.last()) {
            (Some(row), Some(prev)) => !kind.same_unit(prev, row),
            (None, Some(_)) => true,
            (_, None) => false,
        };
        if boundary {
            let rows = std::mem::take(&mut group);
            let first = rows.first().map_or(0, |r| r.line);
            let last = rows.last().map_or(0, |r| r.line);
            let count = rows.len() as i64;
            let prepared = kind.prepare(rows);
            if first > resume_after {
                match prepared {
                    Prepared::Unit(u) => pending.units.push(u),
                    Prepared::Unchanged(n) => pending.early.unchanged += n,
                    Prepared::Rejected(n, rejects) => pending.early.reject_rows(n, rejects),
                }
                pending.rows += count;
                pending.last_line = last;
            }
            if pending.rows >= batch_rows || (next.is_none() && pending.rows > 0) {
                let batch = std::mem::take(&mut pending);
                commit_batch(db, run, &mut kind, batch, &mut totals, &ctx, clock).await?;
                batches += 1;
                if !run.dry_run && opts.crash_after_batches.is_some_and(|n| batches >= n) {
                    return Err(simulated_crash());
                }
            }
        }
        match next {
            Some(row) => group.push(row),
            None => break,
        }
    }
    finish(db, run, clock.now()).await
}

async fn commit_batch<K: Kind>(
    db: &DatabaseConnection,
    run: &import_run::Model,
    kind: &mut K,
    batch: Pending<K::Unit>,
    totals: &mut Totals,
    ctx: &Ctx,
    clock: &dyn Clock,
) -> Result<(), AppError> {
    let ctx = Ctx {
        now: clock.now(),
        ..ctx.clone()
    };
    let mut outcome = batch.early;
    if run.dry_run {
        outcome.add(kind.apply(db, batch.units, &ctx).await?);
        totals.add(&outcome, batch.rows, batch.last_line);
        totals.committed_line = run.committed_line;
        record_batch(db, run.id, *totals, outcome.rejects).await?;
        return Ok(());
    }
    let txn = crate::db::begin_write(db).await?;
    // Start with a write, so SQLite takes the write lock up front.
    import_run::Entity::update_many()
        .col_expr(
            import_run::Column::Status,
            Expr::value(ImportStatus::Running),
        )
        .filter(import_run::COLUMN.id.eq(run.id))
        .exec(&txn)
        .await?;
    outcome.add(kind.apply(&txn, batch.units, &ctx).await?);
    let mut next = *totals;
    next.add(&outcome, batch.rows, batch.last_line);
    record_batch(&txn, run.id, next, outcome.rejects).await?;
    txn.commit().await?;
    *totals = next;
    Ok(())
}

/// A run as the page shows it, with its first rejected rows.
///
/// # Errors
/// `NotFound` for an unknown run.
pub async fn view(db: &impl ConnectionTrait, run_id: i64) -> Result<ImportRunView, AppError> {
    let run = find_run(db, run_id).await?;
    let shown = import_reject::Entity::find()
        .filter(import_reject::COLUMN.run_id.eq(run_id))
        .order_by_asc(import_reject::COLUMN.line)
        .order_by_asc(import_reject::COLUMN.id)
        .limit(REJECTS_SHOWN as u64)
        .all(db)
        .await?;
    Ok(run_view(
        run,
        shown
            .into_iter()
            .map(|r| RejectView {
                line: r.line,
                column: r.column_name,
                reason: r.reason,
            })
            .collect(),
    ))
}

/// The `limit` latest runs, newest first, as the page lists them (without rejected rows).
///
/// # Errors
/// Database errors.
pub async fn recent_runs(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<ImportRunView>, AppError> {
    let runs = import_run::Entity::find()
        .order_by_desc(import_run::COLUMN.id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(runs
        .into_iter()
        .map(|run| run_view(run, Vec::new()))
        .collect())
}

fn run_view(run: import_run::Model, rejects: Vec<RejectView>) -> ImportRunView {
    ImportRunView {
        id: run.id,
        kind: run.kind,
        file_name: run.file_name,
        dry_run: run.dry_run,
        status: run.status,
        total_rows: run.total_rows,
        processed_rows: run.processed_rows,
        created: run.created_count,
        updated: run.updated_count,
        unchanged: run.unchanged_count,
        rejected: run.rejected_count,
        error: run.error,
        started_at: run.started_at,
        finished_at: run.finished_at,
        rejects,
    }
}

/// Every rejected row of a run, by line (for the CSV report).
///
/// # Errors
/// Database errors.
pub async fn rejects(
    db: &impl ConnectionTrait,
    run_id: i64,
) -> Result<Vec<import_reject::Model>, AppError> {
    Ok(import_reject::Entity::find()
        .filter(import_reject::COLUMN.run_id.eq(run_id))
        .order_by_asc(import_reject::COLUMN.line)
        .order_by_asc(import_reject::COLUMN.id)
        .all(db)
        .await?)
}

/// Remembers what the file said for a key (an external id, an invoice number) and where, to
/// tell a repeat with the same content (harmless) from one with different content.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    map: HashMap<String, (i64, u64)>,
}

pub(crate) enum Repeat {
    First,
    Same,
    Different(i64),
}

impl Seen {
    /// `unit` (of `rows` rows, starting at `row`) when its external id is new in this file;
    /// unchanged when a row before gave the same id and content; rejected when the content
    /// differs.
    pub(crate) fn admit<U>(
        &mut self,
        unit: U,
        external_id: &str,
        row: &Row,
        rows: i64,
        fingerprint: u64,
    ) -> Prepared<U> {
        match self.check(external_id, row.line, fingerprint) {
            Repeat::First => Prepared::Unit(unit),
            Repeat::Same => Prepared::Unchanged(rows),
            Repeat::Different(first) => Prepared::Rejected(
                rows,
                vec![row.reject(
                    "external_id",
                    format!("duplicate external id with different content (first on line {first})"),
                )],
            ),
        }
    }

    pub(crate) fn check(&mut self, key: &str, line: i64, fingerprint: u64) -> Repeat {
        match self.map.get(key) {
            None => {
                self.map.insert(key.to_owned(), (line, fingerprint));
                Repeat::First
            }
            Some(&(_, f)) if f == fingerprint => Repeat::Same,
            Some(&(first, _)) => Repeat::Different(first),
        }
    }
}

/// A stable fingerprint of a unit's content (within one run).
pub(crate) fn fingerprint(parts: &impl std::hash::Hash) -> u64 {
    use std::hash::{DefaultHasher, Hasher};
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// Rejects for the other rows of a unit one of whose rows was rejected.
pub(crate) fn siblings(rows: &[Row], rejects: &[Reject], column: &str, what: &str) -> Vec<Reject> {
    let Some(first_bad) = rejects.iter().map(|r| r.line).min() else {
        return Vec::new();
    };
    rows.iter()
        .filter(|r| !rejects.iter().any(|x| x.line == r.line))
        .map(|r| {
            r.reject(
                column,
                format!("{what} not imported: line {first_bad} of it was rejected"),
            )
        })
        .collect()
}
