//! The staff dashboard's numbers.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::dashboard::Dashboard;

/// Every dashboard KPI as of today (any staff user may look).
#[server(endpoint = "staff/dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            crate::services::dashboard::dashboard(&state.db, state.clock.now()).await
        }
        .await,
    )
}
