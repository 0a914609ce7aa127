//! Staff disputes: the queue, one dispute, reply, assign and resolve.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::disputes::{DisputeView, InvoiceLine, Queue};
use crate::model::enums::DisputeStatus;

/// The statuses the queue can be filtered by, in the order the filter offers them, with
/// their labels. (Drafts are the customer's own and never reach the queue.)
pub const STATUSES: [(DisputeStatus, &str); 5] = [
    (DisputeStatus::Open, "open"),
    (DisputeStatus::Credited, "credited"),
    (DisputeStatus::PartiallyCredited, "partially credited"),
    (DisputeStatus::Rejected, "rejected"),
    (DisputeStatus::Withdrawn, "withdrawn"),
];

/// The label of a dispute status as staff read it.
pub fn status_label(status: DisputeStatus) -> &'static str {
    STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map_or("draft", |(_, label)| label)
}

/// The most days the age filter takes (a hundred years).
pub const MAX_AGE_DAYS: i64 = 36_500;

/// One dispute for staff: the dispute, every line of its invoice, and who it can be
/// assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffDispute {
    pub dispute: DisputeView,
    /// All the invoice's lines, in order; the disputed ones are in `dispute.lines`.
    pub lines: Vec<InvoiceLine>,
    /// Active staff members as (id, name), by name.
    pub staff: Vec<(i64, String)>,
}

/// A credit typed for one disputed line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineCredit {
    /// The dispute line's id (not the invoice line's).
    pub dispute_line_id: i64,
    /// As typed, like `"12.50"`.
    pub amount: String,
}

/// Active staff members as (id, name), by name.
#[cfg(feature = "ssr")]
async fn active_staff(db: &impl sea_orm::ConnectionTrait) -> Result<Vec<(i64, String)>, AppError> {
    use crate::entities::staff_user;
    use sea_orm::{EntityTrait, QueryFilter, QueryOrder};
    Ok(staff_user::Entity::find()
        .filter(staff_user::COLUMN.active.eq(true))
        .order_by_asc(staff_user::COLUMN.name)
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect())
}

/// The disputes queue, filtered: `status` and `reason` by their stored names (empty for
/// any), `min_age_days` for disputes opened at least that long ago, `collector_id` for the
/// accounts of one collector.
#[server(endpoint = "staff/disputes")]
pub async fn list_disputes(
    status: Option<String>,
    reason: Option<String>,
    min_age_days: Option<i64>,
    collector_id: Option<i64>,
) -> Result<Queue, AppError> {
    use super::ctx;
    use crate::model::disputes::REASONS;
    use crate::model::enums::StaffRole;
    use crate::services::disputes::QueueFilter;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            let status = match status.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(text) => Some(
                    STATUSES
                        .iter()
                        .map(|(s, _)| *s)
                        .find(|s| s.as_str() == text)
                        .ok_or_else(|| AppError::validation("status", "no such status"))?,
                ),
            };
            let reason = match reason.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(text) => Some(
                    REASONS
                        .iter()
                        .map(|(r, _)| *r)
                        .find(|r| r.as_str() == text)
                        .ok_or_else(|| AppError::validation("reason", "no such reason"))?,
                ),
            };
            if let Some(days) = min_age_days
                && !(0..=MAX_AGE_DAYS).contains(&days)
            {
                return Err(AppError::validation(
                    "min_age_days",
                    format!("between 0 and {MAX_AGE_DAYS} days"),
                ));
            }
            let filter = QueueFilter {
                status,
                reason,
                min_age_days,
                collector_id,
            };
            crate::services::disputes::queue(&state.db, &filter, 200, state.clock.now()).await
        }
        .await,
    )
}

/// Active staff members as (id, name), by name: the queue's collector filter.
#[server(endpoint = "staff/disputes/staff")]
pub async fn list_staff() -> Result<Vec<(i64, String)>, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            active_staff(&state.db).await
        }
        .await,
    )
}

/// Dispute `id` with its invoice's lines and the staff it can be assigned to.
#[server(endpoint = "staff/disputes/get")]
pub async fn get_dispute(id: i64) -> Result<StaffDispute, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    use crate::services::disputes;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            let dispute = disputes::view(&state.db, id, None).await?;
            let lines = disputes::invoice_lines(&state.db, dispute.document_id).await?;
            let staff = active_staff(&state.db).await?;
            Ok(StaffDispute {
                dispute,
                lines,
                staff,
            })
        }
        .await,
    )
}

/// A staff message on dispute `id`'s thread.
#[server(endpoint = "staff/disputes/reply")]
pub async fn reply_to_dispute(id: i64, body: String) -> Result<DisputeView, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    use crate::services::disputes::{self, Author};
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(StaffRole::Collector)?;
            disputes::add_message(
                &state.db,
                Author::Staff { staff_id },
                id,
                &body,
                None,
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// Assigns dispute `id` (as last seen at `version`) to staff member `assignee_id`, or to
/// nobody.
#[server(endpoint = "staff/disputes/assign")]
pub async fn assign_dispute(
    id: i64,
    version: i32,
    assignee_id: Option<i64>,
) -> Result<DisputeView, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(StaffRole::Collector)?;
            crate::services::disputes::assign(
                &state.db,
                staff_id,
                id,
                version,
                assignee_id,
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// Resolves dispute `id` (as last seen at `version`): `decision` is `accept` (credit every
/// line in full), `partial` (credit the amounts in `credits`, typed like `"12.50"`) or
/// `reject` (credit nothing, for `reason`). The customer is emailed the outcome.
#[server(endpoint = "staff/disputes/resolve")]
pub async fn resolve_dispute(
    id: i64,
    version: i32,
    decision: String,
    #[server(default)] credits: Vec<LineCredit>,
    reason: Option<String>,
) -> Result<DisputeView, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    use crate::model::promises::parse_amount;
    use crate::services::disputes::Resolution;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(StaffRole::Collector)?;
            let resolution = match decision.as_str() {
                "accept" => Resolution::Accept,
                "partial" => {
                    let mut per_line = Vec::with_capacity(credits.len());
                    for c in &credits {
                        let field = format!("credit-{}", c.dispute_line_id);
                        if c.amount.trim().is_empty() {
                            return Err(AppError::validation(
                                &field,
                                "enter the credit, or 0 for none",
                            ));
                        }
                        let minor =
                            parse_amount(&c.amount).map_err(|m| AppError::validation(&field, m))?;
                        per_line.push((c.dispute_line_id, minor));
                    }
                    Resolution::Partial(per_line)
                }
                "reject" => Resolution::Reject(reason.unwrap_or_default()),
                _ => {
                    return Err(AppError::validation(
                        "decision",
                        "accept, partial or reject",
                    ));
                }
            };
            let view = crate::services::disputes::resolve(
                &state.db,
                &state.settings.public_url,
                staff_id,
                id,
                version,
                resolution,
                state.clock.now(),
            )
            .await?;
            state.mail_wake.notify_one();
            Ok(view)
        }
        .await,
    )
}
