//! Server functions of the import page: one run as it goes (the page polls it for the
//! progress bar, then shows its report) and the recent runs. Starting a run is the
//! multipart upload `POST /staff/import` (the server's `import_page`), not a server function.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::import::ImportRunView;

/// How many runs the page lists.
pub const RECENT_RUNS: u64 = 20;

/// Run `id` with its progress, counts and first rejected rows (any staff user).
#[server(endpoint = "staff/import/run")]
pub async fn get_import_run(id: i64) -> Result<ImportRunView, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            crate::services::import::view(&state.db, id).await
        }
        .await,
    )
}

/// The [`RECENT_RUNS`] latest runs, newest first, without their rejected rows (any staff
/// user).
#[server(endpoint = "staff/import/runs")]
pub async fn list_import_runs() -> Result<Vec<ImportRunView>, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            recent_runs(&state.db, RECENT_RUNS).await
        }
        .await,
    )
}

/// The `limit` latest runs, newest first, as the page lists them (no rejected rows).
///
/// # Errors
/// Database errors.
#[cfg(feature = "ssr")]
pub async fn recent_runs(
    db: &impl sea_orm::ConnectionTrait,
    limit: u64,
) -> Result<Vec<ImportRunView>, AppError> {
    use crate::entities::import_run;
    use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
    let runs = import_run::Entity::find()
        .order_by_desc(import_run::COLUMN.id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(runs.into_iter().map(listed).collect())
}

#[cfg(feature = "ssr")]
fn listed(run: crate::entities::import_run::Model) -> ImportRunView {
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
        rejects: Vec::new(),
    }
}
