//! `/disputes`: what customers dispute on their invoices, line by line, and how it ended.

use std::collections::HashMap;

use app::entities::{dispute, dispute_line};
use app::model::enums::{DisputeReason, DisputeStatus};
use app::state::AppState;
use axum::extract::State;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, prelude::*};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiKey;
use super::errors::{GetProblems, ListProblems};
use super::page::{self, Page, parse_vocab, vocab};
use super::problem::{ApiResult, Path, Problem, Query};

fn status() -> Object {
    vocab::<DisputeStatus>()
}
fn reason() -> Object {
    vocab::<DisputeReason>()
}

/// A dispute of one invoice. Amounts are minor units of the invoice's currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dispute {
    pub id: i64,
    pub account_id: i64,
    pub document_id: i64,
    pub contact_id: Option<i64>,
    #[schema(schema_with = status)]
    pub status: DisputeStatus,
    pub disputed_minor: i64,
    pub credited_minor: i64,
    pub resolution_note: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub lines: Vec<DisputeLine>,
}

/// One disputed invoice line.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeLine {
    pub id: i64,
    pub document_line_id: i64,
    #[schema(schema_with = reason)]
    pub reason: DisputeReason,
    /// Thousandths, for quantity disputes.
    pub disputed_quantity_milli: Option<i64>,
    pub disputed_minor: i64,
    pub note: Option<String>,
    pub credited_minor: Option<i64>,
}

async fn with_lines(
    db: &impl ConnectionTrait,
    disputes: Vec<dispute::Model>,
) -> Result<Vec<Dispute>, Problem> {
    let mut lines: HashMap<i64, Vec<DisputeLine>> = HashMap::new();
    for l in dispute_line::Entity::find()
        .filter(
            dispute_line::COLUMN
                .dispute_id
                .is_in(disputes.iter().map(|d| d.id)),
        )
        .order_by_asc(dispute_line::COLUMN.id)
        .all(db)
        .await?
    {
        lines.entry(l.dispute_id).or_default().push(DisputeLine {
            id: l.id,
            document_line_id: l.document_line_id,
            reason: l.reason,
            disputed_quantity_milli: l.disputed_quantity_milli,
            disputed_minor: l.disputed_minor,
            note: l.note,
            credited_minor: l.credited_minor,
        });
    }
    Ok(disputes
        .into_iter()
        .map(|d| Dispute {
            lines: lines.remove(&d.id).unwrap_or_default(),
            id: d.id,
            account_id: d.account_id,
            document_id: d.document_id,
            contact_id: d.contact_id,
            status: d.status,
            disputed_minor: d.disputed_minor,
            credited_minor: d.credited_minor,
            resolution_note: d.resolution_note,
            version: d.version,
            created_at: d.created_at,
            updated_at: d.updated_at,
            resolved_at: d.resolved_at,
        })
        .collect())
}

/// Filters of the disputes list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisputeFilter {
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before.
    pub cursor: Option<String>,
    pub account_id: Option<i64>,
    pub document_id: Option<i64>,
    #[param(schema_with = status)]
    pub status: Option<String>,
    /// Only disputes changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

/// List disputes with their lines, in id order. Drafts the customer has not submitted are
/// not shown.
#[utoipa::path(
    get,
    path = "/disputes",
    tag = "disputes",
    params(DisputeFilter),
    responses((status = 200, description = "A page of disputes", body = Page<Dispute>), ListProblems),
    security(("bearer" = []))
)]
pub async fn list_disputes(
    _key: ApiKey,
    State(state): State<AppState>,
    Query(f): Query<DisputeFilter>,
) -> ApiResult<axum::Json<Page<Dispute>>> {
    let limit = page::limit(f.limit)?;
    let after = page::decode(f.cursor.as_deref(), "cursor")?;
    let status = parse_vocab::<DisputeStatus>(f.status.as_deref(), "status")?;
    let mut select =
        dispute::Entity::find().filter(dispute::COLUMN.status.ne(DisputeStatus::Draft));
    if let Some(account_id) = f.account_id {
        select = select.filter(dispute::COLUMN.account_id.eq(account_id));
    }
    if let Some(document_id) = f.document_id {
        select = select.filter(dispute::COLUMN.document_id.eq(document_id));
    }
    if let Some(status) = status {
        select = select.filter(dispute::COLUMN.status.eq(status));
    }
    if let Some(since) = f.updated_since {
        select = select.filter(dispute::COLUMN.updated_at.gte(since));
    }
    let page = page::fetch(&state.db, select, dispute::Column::Id, after, limit, |d| {
        d.id
    })
    .await?;
    Ok(axum::Json(Page {
        data: with_lines(&state.db, page.data).await?,
        next_cursor: page.next_cursor,
    }))
}

/// One dispute with its lines.
#[utoipa::path(
    get,
    path = "/disputes/{id}",
    tag = "disputes",
    params(("id" = i64, Path, description = "The dispute's id")),
    responses((status = 200, description = "The dispute", body = Dispute), GetProblems),
    security(("bearer" = []))
)]
pub async fn get_dispute(
    _key: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Dispute>> {
    let found = dispute::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|d| d.status != DisputeStatus::Draft)
        .ok_or_else(|| Problem::not_found(format!("No dispute {id}.")))?;
    with_lines(&state.db, vec![found])
        .await?
        .pop()
        .map(axum::Json)
        .ok_or_else(|| Problem::not_found(format!("No dispute {id}.")))
}
