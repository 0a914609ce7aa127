//! `/documents`: invoices, credit memos and the rest, with their lines; invoices from the ERP
//! are created and updated here, matched by their `external_id`.

use std::collections::HashMap;

use app::entities::{account, dispute, document, document_line, payment_application};
use app::model::enums::{ActorKind, Channel, DocumentKind, DocumentStatus};
use app::services::audit::{self, Change};
use app::state::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, Utc};
use http::StatusCode;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    prelude::*,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiKey;
use super::errors::{GetProblems, ListProblems, WriteProblems};
use super::input::{self, invalid};
use super::page::{self, Page, parse_vocab, vocab};
use super::problem::{ApiResult, Json, Path, Problem, Query};

fn document_kind() -> Object {
    vocab::<DocumentKind>()
}
fn document_status() -> Object {
    vocab::<DocumentStatus>()
}

/// A document with its lines. Amounts are minor units of `currency`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Document {
    pub id: i64,
    pub account_id: i64,
    #[schema(schema_with = document_kind)]
    pub kind: DocumentKind,
    pub number: String,
    /// The ERP's id.
    pub external_id: Option<String>,
    pub po_number: Option<String>,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    /// ISO 4217.
    pub currency: String,
    pub total_minor: i64,
    pub tax_minor: i64,
    /// What is still owed.
    pub open_minor: i64,
    /// What the customer disputes.
    pub disputed_minor: i64,
    #[schema(schema_with = document_status)]
    pub status: DocumentStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub lines: Vec<Line>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Line {
    pub id: i64,
    pub line_no: i32,
    pub sku: Option<String>,
    pub description: String,
    /// Thousandths: 1500 is 1.5.
    pub quantity_milli: i64,
    pub unit_price_minor: i64,
    /// `quantity_milli × unit_price_minor / 1000`, rounded down.
    pub amount_minor: i64,
    pub tax_minor: i64,
}

fn line_out(l: document_line::Model) -> Line {
    Line {
        id: l.id,
        line_no: l.line_no,
        sku: l.sku,
        description: l.description,
        quantity_milli: l.quantity_milli,
        unit_price_minor: l.unit_price_minor,
        amount_minor: l.amount_minor,
        tax_minor: l.tax_minor,
    }
}

async fn with_lines(
    db: &impl ConnectionTrait,
    docs: Vec<document::Model>,
) -> Result<Vec<Document>, Problem> {
    let mut lines: HashMap<i64, Vec<Line>> = HashMap::new();
    for l in document_line::Entity::find()
        .filter(
            document_line::COLUMN
                .document_id
                .is_in(docs.iter().map(|d| d.id)),
        )
        .order_by_asc(document_line::COLUMN.document_id)
        .order_by_asc(document_line::COLUMN.line_no)
        .all(db)
        .await?
    {
        lines.entry(l.document_id).or_default().push(line_out(l));
    }
    Ok(docs
        .into_iter()
        .map(|d| Document {
            lines: lines.remove(&d.id).unwrap_or_default(),
            id: d.id,
            account_id: d.account_id,
            kind: d.kind,
            number: d.number,
            external_id: d.external_id,
            po_number: d.po_number,
            issue_date: d.issue_date,
            due_date: d.due_date,
            currency: d.currency,
            total_minor: d.total_minor,
            tax_minor: d.tax_minor,
            open_minor: d.open_minor,
            disputed_minor: d.disputed_minor,
            status: d.status,
            created_at: d.created_at,
            updated_at: d.updated_at,
        })
        .collect())
}

async fn one(db: &impl ConnectionTrait, id: i64) -> Result<Document, Problem> {
    let found = document::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Problem::not_found(format!("No document {id}.")))?;
    with_lines(db, vec![found])
        .await?
        .pop()
        .ok_or_else(|| Problem::not_found(format!("No document {id}.")))
}

/// Filters of the documents list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentFilter {
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before.
    pub cursor: Option<String>,
    pub account_id: Option<i64>,
    #[param(schema_with = document_kind)]
    pub kind: Option<String>,
    #[param(schema_with = document_status)]
    pub status: Option<String>,
    /// Only documents changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    /// The ERP's id.
    pub external_id: Option<String>,
}

/// List documents with their lines, in id order.
#[utoipa::path(
    get,
    path = "/documents",
    tag = "documents",
    params(DocumentFilter),
    responses((status = 200, description = "A page of documents", body = Page<Document>), ListProblems),
    security(("bearer" = []))
)]
pub async fn list_documents(
    _key: ApiKey,
    State(state): State<AppState>,
    Query(f): Query<DocumentFilter>,
) -> ApiResult<axum::Json<Page<Document>>> {
    let limit = page::limit(f.limit)?;
    let after = page::decode(f.cursor.as_deref(), "cursor")?;
    let kind = parse_vocab::<DocumentKind>(f.kind.as_deref(), "kind")?;
    let status = parse_vocab::<DocumentStatus>(f.status.as_deref(), "status")?;
    let mut select = document::Entity::find();
    if let Some(account_id) = f.account_id {
        select = select.filter(document::COLUMN.account_id.eq(account_id));
    }
    if let Some(kind) = kind {
        select = select.filter(document::COLUMN.kind.eq(kind));
    }
    if let Some(status) = status {
        select = select.filter(document::COLUMN.status.eq(status));
    }
    if let Some(since) = f.updated_since {
        select = select.filter(document::COLUMN.updated_at.gte(since));
    }
    if let Some(external_id) = f.external_id {
        select = select.filter(document::COLUMN.external_id.eq(external_id));
    }
    let page = page::fetch(&state.db, select, document::Column::Id, after, limit, |d| {
        d.id
    })
    .await?;
    Ok(axum::Json(Page {
        data: with_lines(&state.db, page.data).await?,
        next_cursor: page.next_cursor,
    }))
}

/// One document with its lines.
#[utoipa::path(
    get,
    path = "/documents/{id}",
    tag = "documents",
    params(("id" = i64, Path, description = "The document's id")),
    responses((status = 200, description = "The document", body = Document), GetProblems),
    security(("bearer" = []))
)]
pub async fn get_document(
    _key: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Document>> {
    Ok(axum::Json(one(&state.db, id).await?))
}

/// An invoice as the ERP sends it. Totals are computed from the lines.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InvoiceInput {
    /// The ERP's id: posting the same id again updates that invoice.
    #[schema(min_length = 1, max_length = 100)]
    pub external_id: String,
    /// The account's number in Settle (the ERP's customer number).
    #[schema(min_length = 1, max_length = 64)]
    pub account_number: String,
    /// Unique among invoices.
    #[schema(min_length = 1, max_length = 64)]
    pub number: String,
    #[schema(max_length = 64)]
    pub po_number: Option<String>,
    pub issue_date: NaiveDate,
    /// On or after `issue_date`.
    pub due_date: Option<NaiveDate>,
    /// ISO 4217, three capital letters.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    #[schema(min_items = 1, max_items = 1000)]
    pub lines: Vec<LineInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LineInput {
    #[schema(max_length = 64)]
    pub sku: Option<String>,
    #[schema(min_length = 1, max_length = 500)]
    pub description: String,
    /// Thousandths: 1500 is 1.5. Not negative.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub quantity_milli: i64,
    #[schema(minimum = 0, maximum = 100_000_000_000_000_i64)]
    pub unit_price_minor: i64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100_000_000_000_000_i64)]
    pub tax_minor: i64,
}

/// A line as stored: (sku, description, quantity, unit price, amount, tax).
type LineRow = (Option<String>, String, i64, i64, i64, i64);

struct Checked {
    external_id: String,
    account: account::Model,
    number: String,
    po_number: Option<String>,
    issue_date: NaiveDate,
    due_date: Option<NaiveDate>,
    currency: String,
    lines: Vec<LineRow>,
    total: i64,
    tax: i64,
}

/// The checks the import makes of an invoice: the account exists, the quantities are not
/// negative, the dates are in order, and the totals are the lines'.
async fn check(db: &impl ConnectionTrait, input: InvoiceInput) -> Result<Checked, Problem> {
    let external_id = input::text("external_id", &input.external_id, 100)?;
    let account_number = input::text("account_number", &input.account_number, 64)?;
    let number = input::text("number", &input.number, 64)?;
    let po_number = input::optional_text("po_number", input.po_number.as_deref(), 64)?;
    let currency = input::currency("currency", &input.currency)?;
    if input.due_date.is_some_and(|due| due < input.issue_date) {
        return Err(invalid("due_date", "must not be before issue_date"));
    }
    if input.lines.is_empty() {
        return Err(invalid("lines", "an invoice needs at least one line"));
    }
    if input.lines.len() > 1000 {
        return Err(invalid("lines", "at most 1000 lines"));
    }
    let mut lines = Vec::with_capacity(input.lines.len());
    let (mut total, mut tax) = (0_i64, 0_i64);
    for (i, l) in input.lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        let sku = input::optional_text(&field("sku"), l.sku.as_deref(), 64)?;
        let description = input::text(&field("description"), &l.description, 500)?;
        if l.quantity_milli < 0 {
            return Err(invalid(&field("quantity_milli"), "must not be negative"));
        }
        let quantity = input::amount(&field("quantity_milli"), l.quantity_milli, 0)?;
        let price = input::amount(&field("unit_price_minor"), l.unit_price_minor, 0)?;
        let line_tax = input::amount(&field("tax_minor"), l.tax_minor, 0)?;
        let amount = i64::try_from(i128::from(quantity) * i128::from(price) / 1000)
            .ok()
            .filter(|a| *a <= input::MAX_AMOUNT_MINOR)
            .ok_or_else(|| invalid(&field("unit_price_minor"), "the line's amount is too large"))?;
        total = total
            .checked_add(amount)
            .and_then(|t| t.checked_add(line_tax))
            .filter(|t| *t <= input::MAX_AMOUNT_MINOR)
            .ok_or_else(|| invalid("lines", "the invoice's total is too large"))?;
        tax += line_tax;
        lines.push((sku, description, quantity, price, amount, line_tax));
    }
    let account = account::Entity::find()
        .filter(account::COLUMN.account_number.eq(account_number.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| invalid("account_number", format!("no account {account_number}")))?;
    Ok(Checked {
        external_id,
        account,
        number,
        po_number,
        issue_date: input.issue_date,
        due_date: input.due_date,
        currency,
        lines,
        total,
        tax,
    })
}

fn actor(
    key: ApiKey,
    account_id: i64,
    entity_id: i64,
) -> impl Fn(&'static str, Option<String>, Option<String>) -> Change<'static> {
    move |field, old_value, new_value| Change {
        actor_kind: ActorKind::Api,
        actor_id: Some(key.id),
        channel: Channel::Api,
        account_id: Some(account_id),
        entity: "document",
        entity_id: Some(entity_id),
        field: Some(field),
        old_value,
        new_value,
    }
}

fn lines_summary(lines: &[LineRow]) -> String {
    lines
        .iter()
        .map(|(_, d, q, p, _, t)| format!("{d} × {q}‰ @ {p} + {t}"))
        .collect::<Vec<_>>()
        .join("; ")
}

async fn insert_lines(
    txn: &impl ConnectionTrait,
    document_id: i64,
    lines: &[LineRow],
) -> Result<(), Problem> {
    let rows = lines
        .iter()
        .enumerate()
        .map(
            |(i, (sku, description, q, p, a, t))| document_line::ActiveModel {
                document_id: Set(document_id),
                line_no: Set(i32::try_from(i + 1).unwrap_or(i32::MAX)),
                sku: Set(sku.clone()),
                description: Set(description.clone()),
                quantity_milli: Set(*q),
                unit_price_minor: Set(*p),
                amount_minor: Set(*a),
                tax_minor: Set(*t),
                ..Default::default()
            },
        );
    // Under SQLite's and PostgreSQL's parameter limits: 1000 lines × 8 columns in chunks.
    let rows: Vec<_> = rows.collect();
    for chunk in rows.chunks(500) {
        document_line::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Creates the invoice `external_id` names, or updates it to what is sent (its lines are
/// replaced and its open balance moves with its total). Sending the same invoice again
/// changes nothing. Every change is in the audit log (channel `api`).
#[utoipa::path(
    post,
    path = "/documents",
    tag = "documents",
    request_body = InvoiceInput,
    responses(
        (status = 201, description = "The invoice was created", body = Document),
        (status = 200, description = "The invoice existed: updated, or unchanged when nothing differed", body = Document),
        WriteProblems
    ),
    security(("bearer" = []))
)]
pub async fn upsert_invoice(
    key: ApiKey,
    State(state): State<AppState>,
    Json(input): Json<InvoiceInput>,
) -> ApiResult<axum::response::Response> {
    let now = state.clock.now();
    let checked = check(&state.db, input).await?;
    let txn = app::db::begin_write(&state.db).await?;
    // Touching the row first takes SQLite's write lock before anything is read.
    document::Entity::update_many()
        .col_expr(
            document::Column::ExternalId,
            Expr::col(document::Column::ExternalId),
        )
        .filter(
            document::COLUMN
                .external_id
                .eq(checked.external_id.as_str()),
        )
        .exec(&txn)
        .await?;
    let existing = document::Entity::find()
        .filter(
            document::COLUMN
                .external_id
                .eq(checked.external_id.as_str()),
        )
        .one(&txn)
        .await?;
    let clash = document::Entity::find()
        .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
        .filter(document::COLUMN.number.eq(checked.number.as_str()))
        .one(&txn)
        .await?
        .filter(|d| existing.as_ref().is_none_or(|e| e.id != d.id));
    if clash.is_some() {
        return Err(AppErrorConflict::number(&checked.number));
    }
    let (id, status) = match existing {
        None => (create(&txn, key, &checked, now).await?, StatusCode::CREATED),
        Some(doc) => (update(&txn, key, doc, &checked, now).await?, StatusCode::OK),
    };
    txn.commit().await?;
    let doc = one(&state.db, id).await?;
    Ok((status, axum::Json(doc)).into_response())
}

struct AppErrorConflict;

impl AppErrorConflict {
    fn number(number: &str) -> Problem {
        app::error::AppError::Conflict(format!("another invoice already has the number {number}"))
            .into()
    }

    fn because(message: impl Into<String>) -> Problem {
        app::error::AppError::Conflict(message.into()).into()
    }
}

async fn create(
    txn: &impl ConnectionTrait,
    key: ApiKey,
    c: &Checked,
    now: DateTime<Utc>,
) -> Result<i64, Problem> {
    let doc = document::ActiveModel {
        account_id: Set(c.account.id),
        kind: Set(DocumentKind::Invoice),
        number: Set(c.number.clone()),
        external_id: Set(Some(c.external_id.clone())),
        po_number: Set(c.po_number.clone()),
        issue_date: Set(c.issue_date),
        due_date: Set(c.due_date),
        currency: Set(c.currency.clone()),
        total_minor: Set(c.total),
        tax_minor: Set(c.tax),
        open_minor: Set(c.total),
        disputed_minor: Set(0),
        status: Set(if c.total == 0 {
            DocumentStatus::Paid
        } else {
            DocumentStatus::Open
        }),
        file_id: Set(None),
        upload_kind: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    insert_lines(txn, doc.id, &c.lines).await?;
    let change = actor(key, c.account.id, doc.id);
    audit::append(
        txn,
        change(
            "created",
            None,
            Some(format!(
                "invoice {} ({}) total {} {}",
                c.number, c.external_id, c.total, c.currency
            )),
        ),
        now,
    )
    .await?;
    Ok(doc.id)
}

async fn update(
    txn: &impl ConnectionTrait,
    key: ApiKey,
    doc: document::Model,
    c: &Checked,
    now: DateTime<Utc>,
) -> Result<i64, Problem> {
    if doc.kind != DocumentKind::Invoice {
        return Err(AppErrorConflict::because(format!(
            "{} is a {}, not an invoice",
            c.external_id, doc.kind
        )));
    }
    if doc.account_id != c.account.id {
        return Err(AppErrorConflict::because(
            "an invoice cannot move to another account",
        ));
    }
    if doc.currency != c.currency {
        return Err(AppErrorConflict::because(
            "an invoice's currency cannot change",
        ));
    }
    let old_lines: Vec<LineRow> = document_line::Entity::find()
        .filter(document_line::COLUMN.document_id.eq(doc.id))
        .order_by_asc(document_line::COLUMN.line_no)
        .all(txn)
        .await?
        .into_iter()
        .map(|l| {
            (
                l.sku,
                l.description,
                l.quantity_milli,
                l.unit_price_minor,
                l.amount_minor,
                l.tax_minor,
            )
        })
        .collect();
    let lines_changed = old_lines != c.lines;
    let mut changes: Vec<(&'static str, Option<String>, Option<String>)> = Vec::new();
    let mut note = |field, old: Option<String>, new: Option<String>| {
        if old != new {
            changes.push((field, old, new));
        }
    };
    note("number", Some(doc.number.clone()), Some(c.number.clone()));
    note("po_number", doc.po_number.clone(), c.po_number.clone());
    note(
        "issue_date",
        Some(doc.issue_date.to_string()),
        Some(c.issue_date.to_string()),
    );
    note(
        "due_date",
        doc.due_date.map(|d| d.to_string()),
        c.due_date.map(|d| d.to_string()),
    );
    if lines_changed {
        note(
            "lines",
            Some(lines_summary(&old_lines)),
            Some(lines_summary(&c.lines)),
        );
    }
    note(
        "total_minor",
        Some(doc.total_minor.to_string()),
        Some(c.total.to_string()),
    );
    if changes.is_empty() {
        return Ok(doc.id);
    }
    let mut open = doc.open_minor;
    let mut status = doc.status;
    if lines_changed {
        if matches!(doc.status, DocumentStatus::Void | DocumentStatus::Closed) {
            return Err(AppErrorConflict::because(format!(
                "invoice {} is {} in Settle; its lines cannot change",
                doc.number, doc.status
            )));
        }
        let disputes = dispute::Entity::find()
            .filter(dispute::COLUMN.document_id.eq(doc.id))
            .count(txn)
            .await?;
        if disputes > 0 {
            return Err(AppErrorConflict::because(format!(
                "invoice {} has a dispute against its lines; resolve it in Settle first",
                doc.number
            )));
        }
        let paid: i64 = payment_application::Entity::find()
            .filter(payment_application::COLUMN.document_id.eq(doc.id))
            .all(txn)
            .await?
            .iter()
            .map(|a| a.amount_minor)
            .sum();
        open = doc.open_minor + (c.total - doc.total_minor);
        if open < 0 {
            return Err(AppErrorConflict::because(format!(
                "invoice {} has {paid} paid, more than the new total {}",
                doc.number, c.total
            )));
        }
        status = match (open, status) {
            (0, DocumentStatus::Open) => DocumentStatus::Paid,
            (o, DocumentStatus::Paid) if o > 0 => DocumentStatus::Open,
            (_, s) => s,
        };
        document_line::Entity::delete_many()
            .filter(document_line::COLUMN.document_id.eq(doc.id))
            .exec(txn)
            .await?;
        insert_lines(txn, doc.id, &c.lines).await?;
    }
    document::ActiveModel {
        id: Set(doc.id),
        number: Set(c.number.clone()),
        po_number: Set(c.po_number.clone()),
        issue_date: Set(c.issue_date),
        due_date: Set(c.due_date),
        total_minor: Set(c.total),
        tax_minor: Set(c.tax),
        open_minor: Set(open),
        status: Set(status),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(txn)
    .await?;
    let change = actor(key, doc.account_id, doc.id);
    for (field, old, new) in changes {
        audit::append(txn, change(field, old, new), now).await?;
    }
    Ok(doc.id)
}
