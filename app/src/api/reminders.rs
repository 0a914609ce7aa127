//! Reminder rules for staff: the rules editor's data, a dry run of a rule as edited, and
//! the save (admins only; a stale version is refused, never overwritten).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::enums::StaffRole;
use crate::model::reminders::{DryRunReport, RuleView, TemplateChoice};

/// What the rules page needs: every rule, the email templates a step may send, the staff a
/// scope may name as collector, and the caller's role (which decides what they may do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesOverview {
    pub rules: Vec<RuleView>,
    pub templates: Vec<TemplateChoice>,
    /// Active staff as (id, name), by name.
    pub staff: Vec<(i64, String)>,
    pub role: StaffRole,
}

/// Every rule with its steps, the email templates and the staff (any staff user may look).
#[server(endpoint = "staff/rules")]
pub async fn list_rules() -> Result<RulesOverview, AppError> {
    use super::ctx;
    use crate::services::reminders;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (_, role) = ctx::caller().staff(StaffRole::Viewer)?;
            Ok(RulesOverview {
                rules: reminders::list_rules(&state.db).await?,
                templates: reminders::email_templates(&state.db).await?,
                staff: super::staff_disputes::list_staff().await?,
                role,
            })
        }
        .await,
    )
}

/// Rule `id` with its steps as saved now (any staff user may look).
#[server(endpoint = "staff/rules/get")]
pub async fn get_rule(id: i64) -> Result<RuleView, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            crate::services::reminders::get_rule(&state.db, id).await
        }
        .await,
    )
}

/// What `rule`, as edited and not saved, would do today; writes nothing (collectors and
/// admins).
#[server(endpoint = "staff/rules/dry-run", input = Json)]
pub async fn dry_run_rule(rule: RuleView) -> Result<DryRunReport, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Collector)?;
            crate::services::reminders::dry_run(&state.db, &rule, state.clock.now()).await
        }
        .await,
    )
}

/// Saves `rule` (creates it when it has no id); `rule.version` must be the version the editor
/// loaded, else `Conflict`. The scheduler's next evaluation follows it (admins only).
#[server(endpoint = "staff/rules/save", input = Json)]
pub async fn save_rule(rule: RuleView) -> Result<RuleView, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(StaffRole::Admin)?;
            crate::services::reminders::save_rule(&state.db, staff_id, rule, state.clock.now())
                .await
        }
        .await,
    )
}
