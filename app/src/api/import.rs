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
            crate::services::import::recent_runs(&state.db, RECENT_RUNS).await
        }
        .await,
    )
}
