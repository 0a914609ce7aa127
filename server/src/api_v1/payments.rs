//! `/payments`: money received, from any channel; payments recorded in the ERP are posted
//! here by `external_id` and applied to the invoices they name.

use std::collections::HashMap;

use app::entities::{account, document, payment, payment_application};
use app::model::enums::{
    ActorKind, Channel, DocumentKind, DocumentStatus, PaymentChannel, PaymentProvider,
    PaymentStatus,
};
use app::model::portal::format_money;
use app::services::audit::{self, Change};
use app::state::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use chrono::{DateTime, SubsecRound, Utc};
use http::StatusCode;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, prelude::*,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiKey;
use super::errors::{GetProblems, ListProblems, WriteProblems};
use super::input::{self, invalid};
use super::page::{self, Page, parse_vocab, vocab};
use super::problem::{ApiResult, Json, Path, Problem, Query};

fn provider() -> Object {
    vocab::<PaymentProvider>()
}
fn method() -> Object {
    vocab::<PaymentChannel>()
}
fn status() -> Object {
    vocab::<PaymentStatus>()
}

/// A payment and the invoices it was applied to. Amounts are minor units of `currency`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Payment {
    pub id: i64,
    pub account_id: i64,
    /// The ERP's id (payments from the ERP).
    pub external_id: Option<String>,
    #[schema(schema_with = provider)]
    pub provider: PaymentProvider,
    /// The provider's or the ERP's reference.
    pub reference: Option<String>,
    #[schema(schema_with = method)]
    pub method: PaymentChannel,
    pub amount_minor: i64,
    /// What was not applied to an invoice: a credit on the account.
    pub unapplied_minor: i64,
    /// ISO 4217.
    pub currency: String,
    #[schema(schema_with = status)]
    pub status: PaymentStatus,
    pub received_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub applications: Vec<Application>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Application {
    pub document_id: i64,
    pub document_number: String,
    pub amount_minor: i64,
}

async fn with_applications(
    db: &impl ConnectionTrait,
    payments: Vec<payment::Model>,
) -> Result<Vec<Payment>, Problem> {
    let applications = payment_application::Entity::find()
        .filter(
            payment_application::COLUMN
                .payment_id
                .is_in(payments.iter().map(|p| p.id)),
        )
        .order_by_asc(payment_application::COLUMN.id)
        .all(db)
        .await?;
    let numbers: HashMap<i64, String> = document::Entity::find()
        .filter(
            document::COLUMN
                .id
                .is_in(applications.iter().map(|a| a.document_id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.number))
        .collect();
    let mut by_payment: HashMap<i64, Vec<Application>> = HashMap::new();
    for a in applications {
        by_payment
            .entry(a.payment_id)
            .or_default()
            .push(Application {
                document_id: a.document_id,
                document_number: numbers.get(&a.document_id).cloned().unwrap_or_default(),
                amount_minor: a.amount_minor,
            });
    }
    Ok(payments
        .into_iter()
        .map(|p| Payment {
            applications: by_payment.remove(&p.id).unwrap_or_default(),
            id: p.id,
            account_id: p.account_id,
            external_id: p.external_id,
            provider: p.provider,
            reference: p.provider_ref,
            method: p.method,
            amount_minor: p.amount_minor,
            unapplied_minor: p.unapplied_minor,
            currency: p.currency,
            status: p.status,
            received_at: p.received_at,
            created_at: p.created_at,
        })
        .collect())
}

async fn one(db: &impl ConnectionTrait, id: i64) -> Result<Payment, Problem> {
    let found = payment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Problem::not_found(format!("No payment {id}.")))?;
    with_applications(db, vec![found])
        .await?
        .pop()
        .ok_or_else(|| Problem::not_found(format!("No payment {id}.")))
}

/// Filters of the payments list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentFilter {
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before.
    pub cursor: Option<String>,
    pub account_id: Option<i64>,
    #[param(schema_with = status)]
    pub status: Option<String>,
    /// Only payments received at or after this time.
    pub received_since: Option<DateTime<Utc>>,
    /// The ERP's id.
    pub external_id: Option<String>,
}

/// List payments with their applications, in id order.
#[utoipa::path(
    get,
    path = "/payments",
    tag = "payments",
    params(PaymentFilter),
    responses((status = 200, description = "A page of payments", body = Page<Payment>), ListProblems),
    security(("bearer" = []))
)]
pub async fn list_payments(
    _key: ApiKey,
    State(state): State<AppState>,
    Query(f): Query<PaymentFilter>,
) -> ApiResult<axum::Json<Page<Payment>>> {
    let limit = page::limit(f.limit)?;
    let after = page::decode(f.cursor.as_deref(), "cursor")?;
    let status = parse_vocab::<PaymentStatus>(f.status.as_deref(), "status")?;
    let mut select = payment::Entity::find();
    if let Some(account_id) = f.account_id {
        select = select.filter(payment::COLUMN.account_id.eq(account_id));
    }
    if let Some(status) = status {
        select = select.filter(payment::COLUMN.status.eq(status));
    }
    if let Some(since) = f.received_since {
        select = select.filter(payment::COLUMN.received_at.gte(since));
    }
    if let Some(external_id) = f.external_id {
        select = select.filter(payment::COLUMN.external_id.eq(external_id));
    }
    let page = page::fetch(&state.db, select, payment::Column::Id, after, limit, |p| {
        p.id
    })
    .await?;
    Ok(axum::Json(Page {
        data: with_applications(&state.db, page.data).await?,
        next_cursor: page.next_cursor,
    }))
}

/// One payment with its applications.
#[utoipa::path(
    get,
    path = "/payments/{id}",
    tag = "payments",
    params(("id" = i64, Path, description = "The payment's id")),
    responses((status = 200, description = "The payment", body = Payment), GetProblems),
    security(("bearer" = []))
)]
pub async fn get_payment(
    _key: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Payment>> {
    Ok(axum::Json(one(&state.db, id).await?))
}

/// A payment the ERP recorded.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PaymentInput {
    /// The ERP's id: posting the same id again returns the payment recorded the first time.
    #[schema(min_length = 1, max_length = 100)]
    pub external_id: String,
    #[schema(min_length = 1, max_length = 64)]
    pub account_number: String,
    /// Minor units of `currency`, more than zero.
    #[schema(minimum = 1, maximum = 100_000_000_000_000_i64)]
    pub amount_minor: i64,
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    #[schema(schema_with = method)]
    pub method: PaymentChannel,
    pub received_at: DateTime<Utc>,
    /// The check number or bank reference.
    #[schema(max_length = 100)]
    pub reference: Option<String>,
    /// The invoices the payment pays, in order; each is paid at most its open balance, and
    /// what is left stays on the account as an unapplied credit.
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub applications: Vec<ApplicationInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ApplicationInput {
    /// The invoice's number.
    #[schema(min_length = 1, max_length = 64)]
    pub document_number: String,
    #[schema(minimum = 1, maximum = 100_000_000_000_000_i64)]
    pub amount_minor: i64,
}

/// Rows read to be changed are locked on PostgreSQL; SQLite has one writer at a time.
fn for_update<E: EntityTrait>(
    select: sea_orm::Select<E>,
    db: &impl ConnectionTrait,
) -> sea_orm::Select<E> {
    if db.get_database_backend() == DbBackend::Postgres {
        select.lock_exclusive()
    } else {
        select
    }
}

/// Records a payment received in the ERP and applies it to the invoices it names, the way
/// Easy Pay applies online payments: never more than an invoice's open balance; the rest is
/// an unapplied credit. Posting the same `external_id` again changes nothing and returns
/// the payment (409 if the amount, account, currency, method or date differ).
#[utoipa::path(
    post,
    path = "/payments",
    tag = "payments",
    request_body = PaymentInput,
    responses(
        (status = 201, description = "The payment was recorded and applied", body = Payment),
        (status = 200, description = "The same payment was posted before; nothing changed", body = Payment),
        WriteProblems
    ),
    security(("bearer" = []))
)]
pub async fn create_payment(
    key: ApiKey,
    State(state): State<AppState>,
    Json(input): Json<PaymentInput>,
) -> ApiResult<axum::response::Response> {
    let now = state.clock.now();
    let external_id = input::text("external_id", &input.external_id, 100)?;
    let account_number = input::text("account_number", &input.account_number, 64)?;
    let amount = input::amount("amount_minor", input.amount_minor, 1)?;
    let currency = input::currency("currency", &input.currency)?;
    let reference = input::optional_text("reference", input.reference.as_deref(), 100)?;
    // PostgreSQL keeps microseconds: compare what will be read back.
    let received_at = input.received_at.trunc_subsecs(6);
    if input.applications.len() > 1000 {
        return Err(invalid("applications", "at most 1000 applications"));
    }
    let mut asked = 0_i64;
    let mut wanted = Vec::with_capacity(input.applications.len());
    for (i, a) in input.applications.iter().enumerate() {
        let number = input::text(
            &format!("applications[{i}].document_number"),
            &a.document_number,
            64,
        )?;
        let part = input::amount(
            &format!("applications[{i}].amount_minor"),
            a.amount_minor,
            1,
        )?;
        asked += part;
        wanted.push((i, number, part));
    }
    if asked > amount {
        return Err(invalid(
            "applications",
            "the applications add up to more than the payment",
        ));
    }
    let account = account::Entity::find()
        .filter(account::COLUMN.account_number.eq(account_number.as_str()))
        .one(&state.db)
        .await?
        .ok_or_else(|| invalid("account_number", format!("no account {account_number}")))?;

    let txn = app::db::begin_write(&state.db).await?;
    // Touching the row first takes SQLite's write lock before anything is read.
    payment::Entity::update_many()
        .col_expr(
            payment::Column::ExternalId,
            Expr::col(payment::Column::ExternalId),
        )
        .filter(payment::COLUMN.external_id.eq(external_id.as_str()))
        .exec(&txn)
        .await?;
    if let Some(before) = payment::Entity::find()
        .filter(payment::COLUMN.external_id.eq(external_id.as_str()))
        .one(&txn)
        .await?
    {
        txn.rollback().await?;
        let same = before.account_id == account.id
            && before.amount_minor == amount
            && before.currency == currency
            && before.method == input.method
            && before.received_at == received_at
            && before.provider_ref == reference;
        if !same {
            return Err(app::error::AppError::Conflict(format!(
                "payment {external_id} was recorded before with different details"
            ))
            .into());
        }
        let found = one(&state.db, before.id).await?;
        return Ok((StatusCode::OK, axum::Json(found)).into_response());
    }
    let created = payment::ActiveModel {
        account_id: Set(account.id),
        external_id: Set(Some(external_id.clone())),
        provider: Set(PaymentProvider::Erp),
        provider_event_id: Set(None),
        provider_ref: Set(reference),
        method: Set(input.method),
        amount_minor: Set(amount),
        unapplied_minor: Set(amount),
        currency: Set(currency.clone()),
        status: Set(PaymentStatus::Succeeded),
        received_at: Set(received_at),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut remaining = amount;
    for (i, number, part) in wanted {
        let field = format!("applications[{i}].document_number");
        let doc = for_update(
            document::Entity::find()
                .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
                .filter(document::COLUMN.number.eq(number.as_str()))
                .filter(document::COLUMN.account_id.eq(account.id)),
            &txn,
        )
        .one(&txn)
        .await?
        .ok_or_else(|| {
            invalid(
                &field,
                format!("account {account_number} has no invoice {number}"),
            )
        })?;
        if doc.currency != currency {
            return Err(invalid(
                &field,
                format!("invoice {number} is in {}", doc.currency),
            ));
        }
        let payable = matches!(
            doc.status,
            DocumentStatus::Open | DocumentStatus::PaymentPending
        );
        let applied = if payable {
            part.min(doc.open_minor).min(remaining).max(0)
        } else {
            0
        };
        if applied == 0 {
            continue;
        }
        payment_application::ActiveModel {
            payment_id: Set(created.id),
            document_id: Set(doc.id),
            amount_minor: Set(applied),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        remaining -= applied;
        let open_after = doc.open_minor - applied;
        document::Entity::update_many()
            .col_expr(document::Column::OpenMinor, Expr::value(open_after))
            .col_expr(
                document::Column::Status,
                Expr::value(if open_after == 0 {
                    DocumentStatus::Paid
                } else {
                    DocumentStatus::Open
                }),
            )
            .col_expr(document::Column::UpdatedAt, Expr::value(now))
            .filter(document::COLUMN.id.eq(doc.id))
            .exec(&txn)
            .await?;
    }
    payment::Entity::update_many()
        .col_expr(payment::Column::UnappliedMinor, Expr::value(remaining))
        .filter(payment::COLUMN.id.eq(created.id))
        .exec(&txn)
        .await?;
    audit::append(
        &txn,
        Change {
            actor_kind: ActorKind::Api,
            actor_id: Some(key.id),
            channel: Channel::Api,
            account_id: Some(account.id),
            entity: "payment",
            entity_id: Some(created.id),
            field: Some("status"),
            old_value: None,
            new_value: Some(format!(
                "succeeded {} via {} ({external_id})",
                format_money(amount, &currency),
                input.method
            )),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    let found = one(&state.db, created.id).await?;
    Ok((StatusCode::CREATED, axum::Json(found)).into_response())
}
