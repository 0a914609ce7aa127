//! Onboarding campaigns for staff: the list with progress, one campaign, and the launch.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::campaigns::{CampaignDetail, CampaignView};

/// Every campaign with its counts (any staff user may look).
#[server(endpoint = "staff/campaigns")]
pub async fn list_campaigns() -> Result<Vec<CampaignView>, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            crate::services::campaigns::list(&state.db).await
        }
        .await,
    )
}

/// One campaign with its counts (any staff user may look).
#[server(endpoint = "staff/campaigns/get")]
pub async fn get_campaign(id: i64) -> Result<CampaignView, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            crate::services::campaigns::view(&state.db, id).await
        }
        .await,
    )
}

/// One campaign with the accounts it reached; `status` (a `TargetStatus` key, or empty)
/// narrows the list (any staff user may look).
#[server(endpoint = "staff/campaigns/detail")]
pub async fn get_campaign_detail(id: i64, status: String) -> Result<CampaignDetail, AppError> {
    use super::ctx;
    use crate::model::enums::{StaffRole, TargetStatus};
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            let status = match status.trim() {
                "" => None,
                key => Some(
                    TargetStatus::parse(key)
                        .ok_or_else(|| AppError::validation("status", "unknown status"))?,
                ),
            };
            crate::services::campaigns::detail(&state.db, id, status).await
        }
        .await,
    )
}

/// Launches a profile update campaign over the customer accounts with `gap` (a key of
/// `model::accounts::GAPS`, empty for every customer) and sends the first emails;
/// `follow_ups` are days like "3, 7, 14" (collectors and admins).
#[server(endpoint = "staff/campaigns/launch")]
pub async fn launch_campaign(
    name: String,
    gap: String,
    search: String,
    follow_ups: String,
) -> Result<CampaignView, AppError> {
    use super::ctx;
    use crate::model::campaigns::parse_follow_ups;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(StaffRole::Collector)?;
            let days =
                parse_follow_ups(&follow_ups).map_err(|m| AppError::validation("follow_ups", m))?;
            let gap = Some(gap.trim()).filter(|g| !g.is_empty());
            let chosen = if search.trim().is_empty() {
                None
            } else {
                let ids = crate::services::accounts::ids_matching(
                    &state.db,
                    &search,
                    crate::services::campaigns::MAX_TARGETS,
                )
                .await?;
                if ids.is_empty() {
                    return Err(AppError::validation(
                        "search",
                        "no account has that name or number",
                    ));
                }
                Some(ids)
            };
            let view = crate::services::campaigns::launch(
                &state.db,
                &state.settings.public_url,
                staff_id,
                &name,
                gap,
                chosen.as_deref(),
                &days,
                state.clock.now(),
            )
            .await?;
            state.mail_wake.notify_one();
            Ok(view)
        }
        .await,
    )
}
