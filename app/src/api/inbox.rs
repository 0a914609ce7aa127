//! The accounting inbox and the account timeline for staff: any staff user may look;
//! collectors and admins work tasks; admins assign them.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::inbox::{AccountActivity, CallForm, CallLogged, CollectorProgress, InboxList};

#[cfg(feature = "ssr")]
fn actor() -> Result<crate::services::inbox::Actor, AppError> {
    use crate::model::enums::StaffRole;
    let (staff_id, role) = super::ctx::caller().staff(StaffRole::Viewer)?;
    Ok(crate::services::inbox::Actor { staff_id, role })
}

#[cfg(feature = "ssr")]
fn filter(
    kind: &str,
    status: &str,
    assignee: &str,
    due: &str,
    q: &str,
) -> Result<crate::model::inbox::InboxFilter, AppError> {
    crate::model::inbox::InboxFilter::parse(kind, status, assignee, due, q)
        .map_err(|(field, message)| AppError::validation(field, message))
}

/// One page (1-based) of the inbox's tasks matching the filter (see
/// `InboxFilter::parse` for the values).
#[server(endpoint = "staff/inbox")]
pub async fn list_tasks(
    kind: String,
    status: String,
    assignee: String,
    due: String,
    q: String,
    page: Option<u64>,
) -> Result<InboxList, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let actor = actor()?;
            let filter = filter(&kind, &status, &assignee, &due, &q)?;
            let page = page.unwrap_or(1).saturating_sub(1);
            crate::services::inbox::list(
                &state.db,
                &filter,
                actor,
                page,
                state.clock.now().date_naive(),
            )
            .await
        }
        .await,
    )
}

/// Each collector's open tasks and tasks done today and this week.
#[server(endpoint = "staff/inbox/progress")]
pub async fn inbox_progress() -> Result<Vec<CollectorProgress>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            actor()?;
            crate::services::inbox::progress(&state.db, state.clock.now()).await
        }
        .await,
    )
}

/// The caller takes task `id` (collectors and admins).
#[server(endpoint = "staff/inbox/claim")]
pub async fn claim_task(id: i64) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            crate::services::inbox::claim(&state.db, id, actor()?, state.clock.now()).await
        }
        .await,
    )
}

/// Assigns task `id` to staff user `assignee_id`, or to nobody (admins).
#[server(endpoint = "staff/inbox/assign")]
pub async fn assign_task(id: i64, assignee_id: Option<i64>) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            crate::services::inbox::assign(&state.db, id, assignee_id, actor()?, state.clock.now())
                .await
        }
        .await,
    )
}

/// Assigns every task matching the filter to `assignee_id`; returns how many (admins).
#[server(endpoint = "staff/inbox/bulk-assign")]
pub async fn bulk_assign_tasks(
    kind: String,
    status: String,
    assignee: String,
    due: String,
    q: String,
    assignee_id: i64,
) -> Result<u64, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let actor = actor()?;
            let filter = filter(&kind, &status, &assignee, &due, &q)?;
            crate::services::inbox::bulk_assign(
                &state.db,
                &filter,
                assignee_id,
                actor,
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// Moves task `id` to `status` (`open`, `in_progress`, `done`, `skipped`) with an
/// optional outcome note (collectors and admins).
#[server(endpoint = "staff/inbox/status")]
pub async fn set_task_status(
    id: i64,
    status: String,
    note: Option<String>,
) -> Result<(), AppError> {
    use super::ctx;
    use crate::model::inbox::parse_status;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let actor = actor()?;
            let status = parse_status(&status)
                .ok_or_else(|| AppError::validation("status", "choose a status"))?;
            crate::services::inbox::set_status(
                &state.db,
                id,
                status,
                note.as_deref(),
                actor,
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// Task `id` and its account's open invoices, for the call form.
#[server(endpoint = "staff/inbox/call-form")]
pub async fn get_call_form(id: i64) -> Result<CallForm, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            actor()?;
            crate::services::inbox::call_form(&state.db, id, state.clock.now().date_naive()).await
        }
        .await,
    )
}

/// Logs a call for task `id`: `outcome` (`reached`, `left_voicemail`, `promised`,
/// `disputed`, `wrong_number`), a note, and with `promised` the promise taken: invoices
/// `document_ids`, `amount` (like `"1234.56"`) and `date` (`YYYY-MM-DD`).
#[server(endpoint = "staff/inbox/log-call")]
pub async fn log_call(
    id: i64,
    outcome: String,
    note: Option<String>,
    #[server(default)] document_ids: Vec<i64>,
    amount: Option<String>,
    date: Option<String>,
) -> Result<CallLogged, AppError> {
    use super::ctx;
    use crate::model::inbox::CallOutcome;
    use crate::model::promises::{parse_amount, parse_date};
    use crate::services::inbox::{CallInput, PromiseInput};
    ctx::respond(
        async {
            let state = ctx::state()?;
            let actor = actor()?;
            let outcome = CallOutcome::parse(&outcome)
                .ok_or_else(|| AppError::validation("outcome", "choose how the call went"))?;
            let promise = if outcome == CallOutcome::Promised {
                let amount_minor = parse_amount(amount.as_deref().unwrap_or_default())
                    .map_err(|m| AppError::validation("amount", m))?;
                let date = parse_date(date.as_deref().unwrap_or_default())
                    .map_err(|m| AppError::validation("date", m))?;
                Some(PromiseInput {
                    document_ids,
                    amount_minor,
                    date,
                })
            } else {
                None
            };
            crate::services::inbox::log_call(
                &state.db,
                id,
                CallInput {
                    outcome,
                    note,
                    promise,
                },
                actor,
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// Account `account_id`'s timeline, newest first: `kind` one source (`email`, `letter`,
/// `call`, `payment`, `promise`, `dispute`, `profile`) or empty for all; at most `limit`
/// entries.
#[server(endpoint = "staff/accounts/activity")]
pub async fn get_account_activity(
    account_id: i64,
    kind: Option<String>,
    limit: Option<u64>,
) -> Result<AccountActivity, AppError> {
    use super::ctx;
    use crate::model::inbox::{ActivityKind, DEFAULT_ACTIVITY};
    ctx::respond(
        async {
            let state = ctx::state()?;
            actor()?;
            let only = match kind.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(k) => Some(
                    ActivityKind::parse(k)
                        .ok_or_else(|| AppError::validation("kind", "choose a kind of activity"))?,
                ),
            };
            crate::services::activity::timeline(
                &state.db,
                account_id,
                only,
                limit.unwrap_or(DEFAULT_ACTIVITY),
            )
            .await
        }
        .await,
    )
}
