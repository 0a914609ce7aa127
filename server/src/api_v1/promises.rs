//! `/promises`: promises to pay that customers made, with the invoices they cover.

use std::collections::HashMap;

use app::entities::{promise, promise_document};
use app::model::enums::PromiseStatus;
use app::state::AppState;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, prelude::*};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiKey;
use super::errors::{GetProblems, ListProblems};
use super::page::{self, Page, parse_vocab, vocab};
use super::problem::{ApiResult, Path, Problem, Query};

fn status() -> Object {
    vocab::<PromiseStatus>()
}

/// A promise to pay `amount_minor` by `promised_date`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Promise {
    pub id: i64,
    pub account_id: i64,
    /// The contact who made it.
    pub contact_id: Option<i64>,
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    pub promised_date: NaiveDate,
    pub note: Option<String>,
    #[schema(schema_with = status)]
    pub status: PromiseStatus,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub documents: Vec<PromisedDocument>,
}

/// An invoice a promise covers, and how much of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PromisedDocument {
    pub document_id: i64,
    pub amount_minor: i64,
}

async fn with_documents(
    db: &impl ConnectionTrait,
    promises: Vec<promise::Model>,
) -> Result<Vec<Promise>, Problem> {
    let mut docs: HashMap<i64, Vec<PromisedDocument>> = HashMap::new();
    for d in promise_document::Entity::find()
        .filter(
            promise_document::COLUMN
                .promise_id
                .is_in(promises.iter().map(|p| p.id)),
        )
        .order_by_asc(promise_document::COLUMN.promise_id)
        .order_by_asc(promise_document::COLUMN.document_id)
        .all(db)
        .await?
    {
        docs.entry(d.promise_id)
            .or_default()
            .push(PromisedDocument {
                document_id: d.document_id,
                amount_minor: d.amount_minor,
            });
    }
    Ok(promises
        .into_iter()
        .map(|p| Promise {
            documents: docs.remove(&p.id).unwrap_or_default(),
            id: p.id,
            account_id: p.account_id,
            contact_id: p.contact_id,
            amount_minor: p.amount_minor,
            currency: p.currency,
            promised_date: p.promised_date,
            note: p.note,
            status: p.status,
            created_at: p.created_at,
            resolved_at: p.resolved_at,
        })
        .collect())
}

/// Filters of the promises list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PromiseFilter {
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before.
    pub cursor: Option<String>,
    pub account_id: Option<i64>,
    #[param(schema_with = status)]
    pub status: Option<String>,
}

/// List promises, in id order.
#[utoipa::path(
    get,
    path = "/promises",
    tag = "promises",
    params(PromiseFilter),
    responses((status = 200, description = "A page of promises", body = Page<Promise>), ListProblems),
    security(("bearer" = []))
)]
pub async fn list_promises(
    _key: ApiKey,
    State(state): State<AppState>,
    Query(f): Query<PromiseFilter>,
) -> ApiResult<axum::Json<Page<Promise>>> {
    let limit = page::limit(f.limit)?;
    let after = page::decode(f.cursor.as_deref(), "cursor")?;
    let status = parse_vocab::<PromiseStatus>(f.status.as_deref(), "status")?;
    let mut select = promise::Entity::find();
    if let Some(account_id) = f.account_id {
        select = select.filter(promise::COLUMN.account_id.eq(account_id));
    }
    if let Some(status) = status {
        select = select.filter(promise::COLUMN.status.eq(status));
    }
    let page = page::fetch(&state.db, select, promise::Column::Id, after, limit, |p| {
        p.id
    })
    .await?;
    Ok(axum::Json(Page {
        data: with_documents(&state.db, page.data).await?,
        next_cursor: page.next_cursor,
    }))
}

/// One promise with the invoices it covers.
#[utoipa::path(
    get,
    path = "/promises/{id}",
    tag = "promises",
    params(("id" = i64, Path, description = "The promise's id")),
    responses((status = 200, description = "The promise", body = Promise), GetProblems),
    security(("bearer" = []))
)]
pub async fn get_promise(
    _key: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Promise>> {
    let found = promise::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| Problem::not_found(format!("No promise {id}.")))?;
    with_documents(&state.db, vec![found])
        .await?
        .pop()
        .map(axum::Json)
        .ok_or_else(|| Problem::not_found(format!("No promise {id}.")))
}
