//! The `documents` kind: a zip of PDFs, each named by the number of a document Settle
//! already has (`INV-1001.pdf`), stored under the data directory like uploads are and
//! attached to that document. The same PDF again changes nothing; a different one replaces
//! it. Entries are the rows: line N is the N-th entry of the zip.

use std::io::{Read, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use super::{
    Ctx, Outcome, Reject, RunOptions, Totals, finish, record_batch, restart, simulated_crash,
};
use crate::entities::{document, import_run, stored_file};
use crate::error::AppError;
use crate::model::enums::{DocumentKind, ImportStatus};
use crate::services::files::{self, NewFile};
use crate::state::Clock;

/// A PDF read from the zip and written under the data directory, waiting for its batch.
struct Attach {
    doc: document::Model,
    had_file: bool,
    file: NewFile,
}

enum Entry {
    Reject(Reject),
    Unchanged,
    Attach(Box<Attach>),
}

fn bad_zip(err: &dyn std::fmt::Display) -> AppError {
    AppError::validation("file", format!("the file is not a readable zip: {err}"))
}

pub(crate) async fn run(
    db: &DatabaseConnection,
    run: &import_run::Model,
    path: &Path,
    opts: &RunOptions,
    clock: &dyn Clock,
    ctx: Ctx,
) -> Result<(), AppError> {
    let file = std::fs::File::open(path).map_err(|e| {
        AppError::validation("file", format!("{} cannot be read: {e}", path.display()))
    })?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad_zip(&e))?;
    let mut total = 0_i64;
    for i in 0..zip.len() {
        if !zip.by_index_raw(i).map_err(|e| bad_zip(&e))?.is_dir() {
            total += 1;
        }
    }
    restart(db, run, total).await?;
    let mut totals = Totals::of(run);
    let mut batch: Vec<(i64, Entry)> = Vec::new();
    let mut batches = 0_u32;
    let mut line = 0_i64;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| bad_zip(&e))?;
        if entry.is_dir() {
            continue;
        }
        line += 1;
        if line <= run.committed_line {
            continue;
        }
        let name = entry
            .name()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let checked = read_entry(db, &mut entry, line, &name, &ctx).await?;
        batch.push((line, checked));
        if batch.len() >= opts.batch_rows.max(1) {
            commit(
                db,
                run,
                std::mem::take(&mut batch),
                &mut totals,
                &ctx,
                clock.now(),
            )
            .await?;
            batches += 1;
            if !run.dry_run && opts.crash_after_batches.is_some_and(|n| batches >= n) {
                return Err(simulated_crash());
            }
        }
    }
    if !batch.is_empty() {
        commit(db, run, batch, &mut totals, &ctx, clock.now()).await?;
    }
    finish(db, run, clock.now()).await
}

/// Checks one entry: its name, its document, its content; writes it under the data
/// directory (not in a dry run) when it is new or different.
async fn read_entry(
    db: &DatabaseConnection,
    entry: &mut impl Read,
    line: i64,
    name: &str,
    ctx: &Ctx,
) -> Result<Entry, AppError> {
    let reject = |reason: &str| {
        Ok(Entry::Reject(Reject {
            line,
            column: name.to_owned(),
            reason: reason.to_owned(),
        }))
    };
    let Some(number) = name
        .len()
        .checked_sub(4)
        .filter(|&cut| name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(".pdf"))
        .map(|cut| &name[..cut])
        .filter(|n| !n.is_empty())
    else {
        return reject("not a .pdf file named by a document number");
    };
    let mut found = document::Entity::find()
        .filter(document::COLUMN.number.eq(number))
        .all(db)
        .await?;
    let doc = match found.len() {
        0 => return reject("no document has this number"),
        1 => found.remove(0),
        _ => match found.iter().position(|d| d.kind == DocumentKind::Invoice) {
            Some(i) => found.remove(i),
            None => return reject("several documents have this number"),
        },
    };
    let dir = ctx.data_dir.join("documents");
    let stem = hex::encode(rand::random::<[u8; 16]>());
    let partial = dir.join(format!("{stem}.part"));
    let mut out = if ctx.dry_run {
        None
    } else {
        std::fs::create_dir_all(&dir).map_err(|e| io_failed(&e))?;
        Some(std::fs::File::create(&partial).map_err(|e| io_failed(&e))?)
    };
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(files::SNIFF_BYTES);
    let mut size = 0_i64;
    let mut buf = vec![0_u8; 64 * 1024];
    let read: Result<(), String> = (|| {
        loop {
            let n = entry.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                return Ok(());
            }
            if head.len() < files::SNIFF_BYTES {
                let take = (files::SNIFF_BYTES - head.len()).min(n);
                head.extend_from_slice(&buf[..take]);
            }
            size += n as i64;
            hasher.update(&buf[..n]);
            if let Some(out) = out.as_mut() {
                out.write_all(&buf[..n]).map_err(|e| e.to_string())?;
            }
        }
    })();
    drop(out);
    let discard = || {
        if !ctx.dry_run {
            let _ = std::fs::remove_file(&partial);
        }
    };
    if let Err(e) = read {
        discard();
        return reject(&format!("the entry cannot be read: {e}"));
    }
    if files::sniff(&head).map(|(t, _)| t) != Some("application/pdf") {
        discard();
        return reject("not a PDF");
    }
    let sha256 = hex::encode(hasher.finalize());
    let current = match doc.file_id {
        Some(id) => stored_file::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    if current.as_ref().is_some_and(|f| f.sha256 == sha256) {
        discard();
        return Ok(Entry::Unchanged);
    }
    let relative = format!("documents/{stem}.pdf");
    if !ctx.dry_run {
        std::fs::rename(&partial, ctx.data_dir.join(&relative)).map_err(|e| {
            discard();
            io_failed(&e)
        })?;
    }
    Ok(Entry::Attach(Box::new(Attach {
        had_file: current.is_some(),
        file: NewFile {
            account_id: Some(doc.account_id),
            file_name: name.to_owned(),
            content_type: "application/pdf".to_owned(),
            size_bytes: size,
            sha256,
            storage_path: relative,
        },
        doc,
    })))
}

fn io_failed(err: &dyn std::fmt::Display) -> AppError {
    tracing::error!(%err, "imported document file could not be stored");
    AppError::Internal
}

async fn commit(
    db: &DatabaseConnection,
    run: &import_run::Model,
    batch: Vec<(i64, Entry)>,
    totals: &mut Totals,
    ctx: &Ctx,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let rows = batch.len() as i64;
    let last_line = batch.last().map_or(0, |(l, _)| *l);
    let txn = crate::db::begin_write(db).await?;
    if !run.dry_run {
        import_run::Entity::update_many()
            .col_expr(
                import_run::Column::Status,
                Expr::value(ImportStatus::Running),
            )
            .filter(import_run::COLUMN.id.eq(run.id))
            .exec(&txn)
            .await?;
    }
    let mut out = Outcome::default();
    for (_, entry) in batch {
        match entry {
            Entry::Reject(r) => out.reject_rows(1, vec![r]),
            Entry::Unchanged => out.unchanged += 1,
            Entry::Attach(a) => {
                if a.had_file {
                    out.updated += 1;
                } else {
                    out.created += 1;
                }
                if run.dry_run {
                    continue;
                }
                let stored = files::record(&txn, a.file, now).await?;
                document::Entity::update_many()
                    .col_expr(document::Column::FileId, Expr::value(Some(stored.id)))
                    .col_expr(document::Column::UpdatedAt, Expr::value(now))
                    .filter(document::COLUMN.id.eq(a.doc.id))
                    .exec(&txn)
                    .await?;
                ctx.audit(
                    &txn,
                    a.doc.account_id,
                    ("document", a.doc.id),
                    "file",
                    a.doc.file_id.map(|f| f.to_string()),
                    Some(stored.file_name.clone()),
                )
                .await?;
            }
        }
    }
    let mut next = *totals;
    next.processed += rows;
    if !run.dry_run {
        next.committed_line = next.committed_line.max(last_line);
    }
    next.created += out.created;
    next.updated += out.updated;
    next.unchanged += out.unchanged;
    next.rejected += out.rejected;
    record_batch(&txn, run.id, next, out.rejects).await?;
    txn.commit().await?;
    *totals = next;
    Ok(())
}
