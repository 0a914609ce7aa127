//! `/changes`: the change feed. Every master-data change Settle records (the audit log), in
//! the order it was committed, so an ERP connector can bring corrections back: keep the
//! `next_cursor` of each page and ask again with `after` — no change is skipped or repeated.
//!
//! Appends to the audit log are serialised (see `app::services::audit::append`), so ids are
//! committed in increasing order and a reader never sees a later id before an earlier one.

use app::entities::audit_event;
use app::model::enums::{ActorKind, Channel};
use app::state::AppState;
use axum::extract::State;
use chrono::{DateTime, Utc};
use sea_orm::{EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiKey;
use super::errors::ListProblems;
use super::page::{self, vocab};
use super::problem::{ApiResult, Query};

fn channel() -> Object {
    vocab::<Channel>()
}
fn actor_kind() -> Object {
    vocab::<ActorKind>()
}

/// One recorded change. Sensitive values (bank accounts, tax ids) are masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeEvent {
    /// Increases with every change.
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    /// Where the change was made.
    #[schema(schema_with = channel)]
    pub channel: Channel,
    /// Who made it (a staff member, a customer's contact, an import, the API, the system).
    #[schema(schema_with = actor_kind)]
    pub actor_kind: ActorKind,
    pub account_id: Option<i64>,
    /// What changed: `account`, `contact`, `address`, `document`, `payment`, …
    pub entity: String,
    pub entity_id: Option<i64>,
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    pub data: Vec<ChangeEvent>,
    /// Pass as `after` next time. Never null: on the last page it is where to poll from.
    pub next_cursor: String,
    /// Whether more changes follow right now.
    pub has_more: bool,
}

/// Parameters of the feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangeQuery {
    /// `next_cursor` of the page before; absent to start from the first change.
    pub after: Option<String>,
    /// Changes per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Only changes of this entity (`account`, `contact`, `address`, …).
    pub entity: Option<String>,
}

/// Changes after a cursor, oldest first.
#[utoipa::path(
    get,
    path = "/changes",
    tag = "changes",
    params(ChangeQuery),
    responses((status = 200, description = "The next changes", body = ChangePage), ListProblems),
    security(("bearer" = []))
)]
pub async fn list_changes(
    _key: ApiKey,
    State(state): State<AppState>,
    Query(q): Query<ChangeQuery>,
) -> ApiResult<axum::Json<ChangePage>> {
    let limit = page::limit(q.limit)?;
    let after = page::decode(q.after.as_deref(), "after")?;
    let mut select = audit_event::Entity::find().filter(audit_event::COLUMN.id.gt(after));
    if let Some(entity) = q.entity.filter(|e| !e.is_empty()) {
        select = select.filter(audit_event::COLUMN.entity.eq(entity));
    }
    let rows = select
        .order_by_asc(audit_event::COLUMN.id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let has_more = rows.len() as u64 > limit;
    let data: Vec<ChangeEvent> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|e| ChangeEvent {
            id: e.id,
            occurred_at: e.occurred_at,
            channel: e.channel,
            actor_kind: e.actor_kind,
            account_id: e.account_id,
            entity: e.entity,
            entity_id: e.entity_id,
            field: e.field,
            old_value: e.old_value,
            new_value: e.new_value,
        })
        .collect();
    let next_cursor = page::encode(data.last().map_or(after, |e| e.id));
    Ok(axum::Json(ChangePage {
        data,
        next_cursor,
        has_more,
    }))
}
