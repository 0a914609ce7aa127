//! The customer's Documents page: server functions.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::documents::DocumentList;

/// One page (zero-based) of the caller's documents, filtered as the page's query says;
/// empty strings mean "any".
#[server(endpoint = "portal/documents")]
pub async fn list_documents(
    kind: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    q: Option<String>,
    page: Option<u64>,
) -> Result<DocumentList, AppError> {
    use super::ctx;
    use crate::services::documents;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let account_id = ctx::caller().portal_account()?;
            let filter = documents::parse_filter(
                kind.as_deref(),
                status.as_deref(),
                from.as_deref(),
                to.as_deref(),
                q.as_deref(),
            )?;
            documents::list(&state.db, account_id, &filter, page.unwrap_or(0)).await
        }
        .await,
    )
}
