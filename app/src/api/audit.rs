//! The staff's history of an account: who changed what, when and through which channel.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::audit::HistoryPage;

/// One page (zero-based) of account `account_id`'s history, filtered as the page's query
/// says; blank strings mean "any" (any staff user may look).
#[server(endpoint = "staff/history")]
pub async fn account_history(
    account_id: i64,
    entity: Option<String>,
    actor: Option<String>,
    field: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u64>,
) -> Result<HistoryPage, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    use crate::services::audit_history;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            let filter = audit_history::parse_filter(
                entity.as_deref(),
                actor.as_deref(),
                field.as_deref(),
                from.as_deref(),
                to.as_deref(),
            )?;
            audit_history::page(&state.db, account_id, &filter, page.unwrap_or(0)).await
        }
        .await,
    )
}
