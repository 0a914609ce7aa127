//! Smart Disputes on the server. The customer's annotations arrive as typed and are checked
//! again with the shared rules against the stored lines; amounts are recomputed here, never
//! taken from the browser. One open dispute per invoice line is enforced by the unique
//! `dispute_lines.open_line_id` (the line's id while the dispute is open, NULL after).
//! Resolving carries the version the staff member saw: a second resolution of the same
//! dispute finds the version moved and gets a conflict, never a second credit.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait, prelude::*,
};
use serde_json::json;

use crate::entities::{
    account, contact, dispute, dispute_line, dispute_message, document, document_line, staff_user,
    stored_file, task,
};
use crate::error::AppError;
use crate::model::disputes::{
    Annotation, DisputeMessageView, DisputeView, DisputedLine, InvoiceLine, InvoicePage,
    NOTE_MAX_CHARS, check_annotation, counts_units, parse_quantity, reason_label,
};
use crate::model::enums::{
    ActorKind, Channel, DisputeReason, DisputeStatus, DocumentKind, DocumentStatus, TaskKind,
    TaskStatus,
};
use crate::model::portal::format_money;
use crate::services::audit::{self, Change};
use crate::services::mail;
use crate::services::tasks;

/// Key of the email confirming a submitted dispute.
pub const CONFIRMATION_TEMPLATE: &str = "dispute_confirmation";
/// Key of the email telling the customer the outcome.
pub const OUTCOME_TEMPLATE: &str = "dispute_resolved";
/// The most lines one dispute may annotate.
pub const MAX_LINES: usize = 500;
/// The most attachments one submission may carry.
pub const MAX_FILES: usize = 10;

/// Who writes on a dispute's thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// A contact, limited to their account.
    Contact {
        contact_id: i64,
        account_id: i64,
    },
    Staff {
        staff_id: i64,
    },
}

/// How staff resolve a dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Credit every line's disputed amount.
    Accept,
    /// Credit these amounts per dispute line id (0 rejects a line; at most its disputed amount).
    Partial(Vec<(i64, i64)>),
    /// Credit nothing, for this reason.
    Reject(String),
}

/// The lines of invoice `document_id` in order, each marked with the open dispute that
/// holds it, if any.
pub async fn invoice_lines(
    db: &impl ConnectionTrait,
    document_id: i64,
) -> Result<Vec<InvoiceLine>, AppError> {
    let lines = document_line::Entity::find()
        .filter(document_line::COLUMN.document_id.eq(document_id))
        .order_by_asc(document_line::COLUMN.line_no)
        .all(db)
        .await?;
    let locked: HashMap<i64, i64> = dispute_line::Entity::find()
        .filter(
            dispute_line::COLUMN
                .open_line_id
                .is_in(lines.iter().map(|l| l.id)),
        )
        .all(db)
        .await?
        .into_iter()
        .filter_map(|d| d.open_line_id.map(|line| (line, d.dispute_id)))
        .collect();
    Ok(lines
        .into_iter()
        .map(|l| InvoiceLine {
            locked_by_dispute: locked.get(&l.id).copied(),
            id: l.id,
            line_no: l.line_no,
            sku: l.sku,
            description: l.description,
            quantity_milli: l.quantity_milli,
            unit_price_minor: l.unit_price_minor,
            amount_minor: l.amount_minor,
            tax_minor: l.tax_minor,
        })
        .collect())
}

async fn account_invoice(
    db: &impl ConnectionTrait,
    account_id: i64,
    document_id: i64,
) -> Result<document::Model, AppError> {
    document::Entity::find_by_id(document_id)
        .filter(document::COLUMN.account_id.eq(account_id))
        .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The invoice page of `document_id` for `account_id`: lines (with the ones under an open
/// dispute marked) and the invoice's disputes.
///
/// # Errors
/// `NotFound` for another account's or an unknown invoice; database errors as `Internal`.
pub async fn invoice_page(
    db: &impl ConnectionTrait,
    account_id: i64,
    document_id: i64,
) -> Result<InvoicePage, AppError> {
    let doc = account_invoice(db, account_id, document_id).await?;
    let lines = invoice_lines(db, doc.id).await?;
    let found = dispute::Entity::find()
        .filter(dispute::COLUMN.document_id.eq(doc.id))
        .filter(dispute::COLUMN.account_id.eq(account_id))
        .filter(dispute::COLUMN.status.ne(DisputeStatus::Draft))
        .order_by_desc(dispute::COLUMN.id)
        .all(db)
        .await?;
    let disputes = views(db, found).await?;
    Ok(InvoicePage {
        id: doc.id,
        number: doc.number,
        po_number: doc.po_number,
        issue_date: doc.issue_date,
        due_date: doc.due_date,
        currency: doc.currency,
        total_minor: doc.total_minor,
        open_minor: doc.open_minor,
        disputed_minor: doc.disputed_minor,
        lines,
        draft: Vec::new(),
        disputes,
    })
}

/// Submits contact `contact_id`'s annotations of invoice `document_id` as one dispute, with
/// the uploaded files `file_ids` (the account's) attached: checks every annotation against
/// its stored line, locks the lines, adds the disputed amount to the invoice, opens a staff
/// task, writes the audit log and queues the confirmation — in one transaction.
///
/// # Errors
/// `Validation` naming the field (`lines`, `line-{id}-quantity|amount|note`, `files`);
/// `Conflict` when a line is already under an open dispute; `NotFound` for another
/// account's invoice; database errors as `Internal`.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    db: &(impl ConnectionTrait + TransactionTrait),
    public_url: &str,
    contact_id: i64,
    account_id: i64,
    document_id: i64,
    annotations: &[Annotation],
    file_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<DisputeView, AppError> {
    if annotations.is_empty() {
        return Err(AppError::validation(
            "lines",
            "choose at least one line to dispute",
        ));
    }
    if annotations.len() > MAX_LINES {
        return Err(AppError::validation(
            "lines",
            format!("dispute at most {MAX_LINES} lines at once"),
        ));
    }
    let distinct: BTreeSet<i64> = annotations.iter().map(|a| a.line_id).collect();
    if distinct.len() != annotations.len() {
        return Err(AppError::validation("lines", "a line is annotated twice"));
    }
    let files: BTreeSet<i64> = file_ids.iter().copied().collect();
    if files.len() > MAX_FILES {
        return Err(AppError::validation(
            "files",
            format!("attach at most {MAX_FILES} files"),
        ));
    }

    let txn = crate::db::begin_write(db).await?;
    let who = contact::Entity::find_by_id(contact_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if who.account_id != account_id {
        return Err(AppError::Forbidden);
    }
    let doc = account_invoice(&txn, account_id, document_id).await?;
    if !matches!(
        doc.status,
        DocumentStatus::Open | DocumentStatus::PaymentPending
    ) {
        return Err(AppError::validation(
            "lines",
            "only an open invoice can be disputed",
        ));
    }
    let lines = invoice_lines(&txn, doc.id).await?;
    let mut checked = Vec::with_capacity(annotations.len());
    for a in annotations {
        let line = lines
            .iter()
            .find(|l| l.id == a.line_id)
            .ok_or_else(|| AppError::validation("lines", "a line is not on this invoice"))?;
        if line.locked_by_dispute.is_some() {
            return Err(AppError::Conflict(format!(
                "line {} is already under dispute",
                line.line_no
            )));
        }
        let minor = check_annotation(a, line).map_err(|e| {
            let (field, message) = [
                ("quantity", e.quantity),
                ("amount", e.amount),
                ("note", e.note),
            ]
            .into_iter()
            .find_map(|(f, m)| m.map(|m| (f, m)))
            .unwrap_or(("amount", "check this line".to_owned()));
            AppError::validation(&format!("line-{}-{field}", line.id), message)
        })?;
        checked.push((a, line, minor));
    }
    let total: i64 = checked.iter().map(|(_, _, m)| m).sum();
    if total > doc.open_minor - doc.disputed_minor {
        return Err(AppError::validation(
            "lines",
            format!(
                "the disputed total is more than the invoice's open balance of {}",
                format_money(doc.open_minor - doc.disputed_minor, &doc.currency)
            ),
        ));
    }
    if !files.is_empty() {
        let owned = stored_file::Entity::find()
            .filter(stored_file::COLUMN.id.is_in(files.iter().copied()))
            .filter(stored_file::COLUMN.account_id.eq(account_id))
            .count(&txn)
            .await?;
        if owned != files.len() as u64 {
            return Err(AppError::validation("files", "an attachment is not yours"));
        }
    }

    let created = dispute::ActiveModel {
        account_id: Set(account_id),
        document_id: Set(doc.id),
        contact_id: Set(Some(contact_id)),
        status: Set(DisputeStatus::Open),
        disputed_minor: Set(total),
        credited_minor: Set(0),
        resolution_note: Set(None),
        assignee_id: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        resolved_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for (a, line, minor) in &checked {
        let note = a.note.trim();
        let inserted = dispute_line::ActiveModel {
            dispute_id: Set(created.id),
            document_line_id: Set(line.id),
            open_line_id: Set(Some(line.id)),
            reason: Set(a.reason),
            disputed_quantity_milli: Set(if counts_units(a.reason) {
                parse_quantity(&a.quantity).ok()
            } else {
                None
            }),
            disputed_minor: Set(*minor),
            note: Set((!note.is_empty()).then(|| note.to_owned())),
            credited_minor: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await;
        if let Err(err) = inserted {
            // The unique open_line_id: another submission took the line meanwhile.
            return Err(match err.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                    AppError::Conflict(format!("line {} is already under dispute", line.line_no))
                }
                _ => err.into(),
            });
        }
    }
    for file_id in &files {
        dispute_message::ActiveModel {
            dispute_id: Set(created.id),
            author_kind: Set(ActorKind::Contact),
            author_id: Set(Some(contact_id)),
            body: Set(String::new()),
            file_id: Set(Some(*file_id)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    document::Entity::update_many()
        .col_expr(
            document::Column::DisputedMinor,
            sea_orm::sea_query::ExprTrait::add(Expr::col(document::Column::DisputedMinor), total),
        )
        .col_expr(document::Column::UpdatedAt, Expr::value(now))
        .filter(document::COLUMN.id.eq(doc.id))
        .exec(&txn)
        .await?;
    let company = account::Entity::find_by_id(account_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    tasks::open(
        &txn,
        tasks::NewTask {
            account_id: Some(account_id),
            kind: TaskKind::Dispute,
            title: format!(
                "Dispute on {}: {} ({})",
                doc.number,
                format_money(total, &doc.currency),
                company.display_name
            ),
            related: Some(("dispute", created.id)),
            due_date: now.date_naive() + chrono::Duration::days(2),
            priority: 2,
            assignee_id: company.collector_id,
        },
        now,
    )
    .await?;
    audit::append(
        &txn,
        Change {
            actor_kind: ActorKind::Contact,
            actor_id: Some(contact_id),
            channel: Channel::Portal,
            account_id: Some(account_id),
            entity: "dispute",
            entity_id: Some(created.id),
            field: Some("status"),
            old_value: None,
            new_value: Some(format!(
                "open: {} on {}",
                format_money(total, &doc.currency),
                doc.number
            )),
        },
        now,
    )
    .await?;
    crate::services::webhooks::dispute_event(
        &txn,
        crate::model::enums::WebhookEventKind::DisputeOpened,
        created.id,
        now,
    )
    .await?;
    let lines_ctx: Vec<_> = checked
        .iter()
        .map(|(a, line, minor)| {
            json!({
                "line": line.line_no,
                "description": line.description,
                "reason": reason_label(a.reason),
                "amount": format_money(*minor, &doc.currency),
            })
        })
        .collect();
    match mail::send_to_contact(
        &txn,
        public_url,
        contact_id,
        CONFIRMATION_TEMPLATE,
        json!({
            "invoice": doc.number,
            "amount": format_money(total, &doc.currency),
            "lines": lines_ctx,
            "undisputed": format_money((doc.open_minor - doc.disputed_minor - total).max(0), &doc.currency),
            "link": format!("{public_url}/portal/invoices/{}", doc.id),
        }),
        now,
    )
    .await
    {
        Ok(_) | Err(AppError::Validation { .. }) => {}
        Err(err) => return Err(err),
    }
    txn.commit().await?;
    view(db, created.id, Some(account_id)).await
}

/// The dispute `dispute_id`; with `account_scope`, only when it is that account's.
///
/// # Errors
/// `NotFound` when it does not exist (or is another account's); database errors as `Internal`.
pub async fn view(
    db: &impl ConnectionTrait,
    dispute_id: i64,
    account_scope: Option<i64>,
) -> Result<DisputeView, AppError> {
    let mut q = dispute::Entity::find_by_id(dispute_id);
    if let Some(account_id) = account_scope {
        q = q.filter(dispute::COLUMN.account_id.eq(account_id));
    }
    let d = q.one(db).await?.ok_or(AppError::NotFound)?;
    views(db, vec![d]).await?.pop().ok_or(AppError::NotFound)
}

/// The views of `disputes`, in their order, in seven queries however many there are.
///
/// # Errors
/// Database errors as `Internal`.
async fn views(
    db: &impl ConnectionTrait,
    disputes: Vec<dispute::Model>,
) -> Result<Vec<DisputeView>, AppError> {
    if disputes.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = disputes.iter().map(|d| d.id).collect();
    // Each invoice with its account's name, and each disputed line with its invoice
    // line's number and text: one statement each.
    #[derive(sea_orm::FromQueryResult)]
    struct DocRow {
        #[sea_orm(nested)]
        doc: document::Model,
        company: String,
    }
    #[derive(sea_orm::FromQueryResult)]
    struct LineRow {
        #[sea_orm(nested)]
        row: dispute_line::Model,
        line_no: Option<i32>,
        description: Option<String>,
    }
    let docs: HashMap<i64, (document::Model, String)> = document::Entity::find()
        .column_as(account::Column::DisplayName, "company")
        .join(
            sea_orm::JoinType::InnerJoin,
            document::Entity::belongs_to(account::Entity)
                .from(document::Column::AccountId)
                .to(account::Column::Id)
                .into(),
        )
        .filter(
            document::COLUMN
                .id
                .is_in(disputes.iter().map(|d| d.document_id)),
        )
        .into_model::<DocRow>()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.doc.id, (r.doc, r.company)))
        .collect();
    let rows: Vec<LineRow> = dispute_line::Entity::find()
        .column_as(document_line::Column::LineNo, "line_no")
        .column_as(document_line::Column::Description, "description")
        .join(
            sea_orm::JoinType::LeftJoin,
            dispute_line::Entity::belongs_to(document_line::Entity)
                .from(dispute_line::Column::DocumentLineId)
                .to(document_line::Column::Id)
                .into(),
        )
        .filter(dispute_line::COLUMN.dispute_id.is_in(ids.iter().copied()))
        .order_by_asc(dispute_line::Column::Id)
        .into_model::<LineRow>()
        .all(db)
        .await?;
    let messages = dispute_message::Entity::find()
        .filter(
            dispute_message::COLUMN
                .dispute_id
                .is_in(ids.iter().copied()),
        )
        .order_by_asc(dispute_message::COLUMN.created_at)
        .order_by_asc(dispute_message::COLUMN.id)
        .all(db)
        .await?;
    let file_ids: Vec<i64> = messages.iter().filter_map(|m| m.file_id).collect();
    let files: HashMap<i64, String> = if file_ids.is_empty() {
        HashMap::new()
    } else {
        stored_file::Entity::find()
            .filter(stored_file::COLUMN.id.is_in(file_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|f| (f.id, f.file_name))
            .collect()
    };
    let contact_names: HashMap<i64, String> = contact::Entity::find()
        .filter(
            contact::COLUMN.id.is_in(
                messages
                    .iter()
                    .filter(|m| m.author_kind != ActorKind::Staff)
                    .filter_map(|m| m.author_id),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let staff_ids = messages
        .iter()
        .filter(|m| m.author_kind == ActorKind::Staff)
        .filter_map(|m| m.author_id)
        .chain(disputes.iter().filter_map(|d| d.assignee_id));
    let staff_names: HashMap<i64, String> = staff_user::Entity::find()
        .filter(staff_user::COLUMN.id.is_in(staff_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let line_view = |LineRow {
                         row: r,
                         line_no,
                         description,
                     }: &LineRow| {
        DisputedLine {
            dispute_line_id: r.id,
            line_id: r.document_line_id,
            line_no: line_no.unwrap_or(0),
            description: description.clone().unwrap_or_default(),
            reason: r.reason,
            quantity_milli: r.disputed_quantity_milli,
            disputed_minor: r.disputed_minor,
            credited_minor: r.credited_minor,
            note: r.note.clone(),
        }
    };
    let message_view = |m: &dispute_message::Model| {
        let from_staff = m.author_kind == ActorKind::Staff;
        let author = m.author_id.and_then(|id| {
            if from_staff {
                staff_names.get(&id).cloned()
            } else {
                contact_names.get(&id).cloned()
            }
        });
        DisputeMessageView {
            id: m.id,
            author: author.unwrap_or_else(|| "Someone".to_owned()),
            from_staff,
            body: m.body.clone(),
            file: m
                .file_id
                .and_then(|id| files.get(&id).map(|n| (id, n.clone()))),
            sent_at: m.created_at,
        }
    };
    disputes
        .into_iter()
        .map(|d| {
            let (doc, company) = docs.get(&d.document_id).ok_or(AppError::NotFound)?;
            Ok(DisputeView {
                id: d.id,
                document_id: doc.id,
                invoice: doc.number.clone(),
                account: company.clone(),
                status: d.status,
                disputed_minor: d.disputed_minor,
                credited_minor: d.credited_minor,
                currency: doc.currency.clone(),
                resolution_note: d.resolution_note,
                assignee: d.assignee_id.and_then(|id| staff_names.get(&id).cloned()),
                version: d.version,
                opened_at: d.created_at,
                lines: rows
                    .iter()
                    .filter(|r| r.row.dispute_id == d.id)
                    .map(line_view)
                    .collect(),
                messages: messages
                    .iter()
                    .filter(|m| m.dispute_id == d.id)
                    .map(message_view)
                    .collect(),
            })
        })
        .collect()
}

/// Adds a message (and/or an attachment the author may use) to a dispute's thread.
///
/// # Errors
/// `Validation` (`body`) for an empty or overlong message; `NotFound` for a dispute the
/// author may not see; database errors as `Internal`.
pub async fn add_message(
    db: &(impl ConnectionTrait + TransactionTrait),
    author: Author,
    dispute_id: i64,
    body: &str,
    file_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<DisputeView, AppError> {
    let body = body.trim();
    if body.is_empty() && file_id.is_none() {
        return Err(AppError::validation(
            "body",
            "write a message or attach a file",
        ));
    }
    if body.chars().count() > NOTE_MAX_CHARS * 4 {
        return Err(AppError::validation(
            "body",
            "keep the message under 4000 characters",
        ));
    }
    let scope = match author {
        Author::Contact { account_id, .. } => Some(account_id),
        Author::Staff { .. } => None,
    };
    let d = view(db, dispute_id, scope).await?;
    if let Some(file_id) = file_id {
        let file = stored_file::Entity::find_by_id(file_id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::validation("file", "no such upload"))?;
        if scope.is_some() && file.account_id != scope {
            return Err(AppError::validation("file", "no such upload"));
        }
    }
    let (kind, author_id) = match author {
        Author::Contact { contact_id, .. } => (ActorKind::Contact, contact_id),
        Author::Staff { staff_id } => (ActorKind::Staff, staff_id),
    };
    dispute_message::ActiveModel {
        dispute_id: Set(d.id),
        author_kind: Set(kind),
        author_id: Set(Some(author_id)),
        body: Set(body.to_owned()),
        file_id: Set(file_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    view(db, d.id, scope).await
}

/// Takes the lines off dispute (sets `open_line_id` to NULL), takes the disputed amount off
/// the invoice and moves the dispute to `status`, if it is still at `version` and open.
/// Returns the dispute row as it was.
///
/// # Errors
/// `Conflict` when someone else changed it first.
async fn close(
    txn: &impl ConnectionTrait,
    dispute_id: i64,
    version: i32,
    status: DisputeStatus,
    credited_minor: i64,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<dispute::Model, AppError> {
    // The guarded update comes first: it takes the write lock (SQLite) or the row lock
    // (PostgreSQL) before anything is read, so a racing resolution waits and then finds
    // the version moved.
    let moved = dispute::Entity::update_many()
        .col_expr(dispute::Column::Status, Expr::value(status))
        .col_expr(dispute::Column::CreditedMinor, Expr::value(credited_minor))
        .col_expr(dispute::Column::ResolutionNote, Expr::value(note))
        .col_expr(dispute::Column::Version, Expr::value(version + 1))
        .col_expr(dispute::Column::UpdatedAt, Expr::value(now))
        .col_expr(dispute::Column::ResolvedAt, Expr::value(now))
        .filter(dispute::COLUMN.id.eq(dispute_id))
        .filter(dispute::COLUMN.version.eq(version))
        .filter(dispute::COLUMN.status.eq(DisputeStatus::Open))
        .exec(txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict(
            "someone else changed this dispute first; reload to see what they did".to_owned(),
        ));
    }
    let before = dispute::Entity::find_by_id(dispute_id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound)?;
    dispute_line::Entity::update_many()
        .col_expr(
            dispute_line::Column::OpenLineId,
            Expr::value(Option::<i64>::None),
        )
        .filter(dispute_line::COLUMN.dispute_id.eq(dispute_id))
        .exec(txn)
        .await?;
    document::Entity::update_many()
        .col_expr(
            document::Column::DisputedMinor,
            sea_orm::sea_query::ExprTrait::sub(
                Expr::col(document::Column::DisputedMinor),
                before.disputed_minor,
            ),
        )
        .col_expr(document::Column::UpdatedAt, Expr::value(now))
        .filter(document::COLUMN.id.eq(before.document_id))
        .exec(txn)
        .await?;
    task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(TaskStatus::Done))
        .col_expr(task::Column::Outcome, Expr::value(status.as_str()))
        .col_expr(task::Column::CompletedAt, Expr::value(now))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::COLUMN.kind.eq(TaskKind::Dispute))
        .filter(task::COLUMN.related_id.eq(dispute_id))
        .filter(
            task::COLUMN
                .status
                .is_in([TaskStatus::Open, TaskStatus::InProgress]),
        )
        .exec(txn)
        .await?;
    Ok(before)
}

/// The customer withdraws their open dispute.
///
/// # Errors
/// `NotFound` for another account's dispute; `Conflict` when it is no longer open.
pub async fn withdraw(
    db: &(impl ConnectionTrait + TransactionTrait),
    contact_id: i64,
    account_id: i64,
    dispute_id: i64,
    now: DateTime<Utc>,
) -> Result<DisputeView, AppError> {
    let current = view(db, dispute_id, Some(account_id)).await?;
    if current.status != DisputeStatus::Open {
        return Err(AppError::Conflict(format!(
            "this dispute is {} already",
            current.status
        )));
    }
    let txn = crate::db::begin_write(db).await?;
    close(
        &txn,
        dispute_id,
        current.version,
        DisputeStatus::Withdrawn,
        0,
        Some("withdrawn by the customer".to_owned()),
        now,
    )
    .await?;
    audit::append(
        &txn,
        Change {
            actor_kind: ActorKind::Contact,
            actor_id: Some(contact_id),
            channel: Channel::Portal,
            account_id: Some(account_id),
            entity: "dispute",
            entity_id: Some(dispute_id),
            field: Some("status"),
            old_value: Some("open".to_owned()),
            new_value: Some("withdrawn".to_owned()),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    view(db, dispute_id, Some(account_id)).await
}

/// Assigns the dispute to `assignee` (or nobody), if it is still at `version`.
///
/// # Errors
/// `Conflict` when it changed meanwhile; `Validation` for an unknown staff member.
pub async fn assign(
    db: &(impl ConnectionTrait + TransactionTrait),
    staff_id: i64,
    dispute_id: i64,
    version: i32,
    assignee: Option<i64>,
    now: DateTime<Utc>,
) -> Result<DisputeView, AppError> {
    if let Some(id) = assignee
        && staff_user::Entity::find_by_id(id).one(db).await?.is_none()
    {
        return Err(AppError::validation("assignee", "no such staff member"));
    }
    let before = dispute::Entity::find_by_id(dispute_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let txn = crate::db::begin_write(db).await?;
    let moved = dispute::Entity::update_many()
        .col_expr(dispute::Column::AssigneeId, Expr::value(assignee))
        .col_expr(dispute::Column::Version, Expr::value(version + 1))
        .col_expr(dispute::Column::UpdatedAt, Expr::value(now))
        .filter(dispute::COLUMN.id.eq(dispute_id))
        .filter(dispute::COLUMN.version.eq(version))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict(
            "someone else changed this dispute first; reload to see what they did".to_owned(),
        ));
    }
    audit::append(
        &txn,
        Change {
            actor_kind: ActorKind::Staff,
            actor_id: Some(staff_id),
            channel: Channel::StaffUi,
            account_id: Some(before.account_id),
            entity: "dispute",
            entity_id: Some(dispute_id),
            field: Some("assignee_id"),
            old_value: before.assignee_id.map(|v| v.to_string()),
            new_value: assignee.map(|v| v.to_string()),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    view(db, dispute_id, None).await
}

/// Resolves an open dispute that is still at `version`. Accepting (fully or partly)
/// creates a credit memo document `CM-D{id}` for the credited amount, applied to the
/// invoice at once (its open balance drops; paid when nothing is left). The customer is
/// emailed the outcome; the audit log records it.
///
/// # Errors
/// `Conflict` when the dispute changed meanwhile (a second resolution); `Validation` for a
/// credit above a line's disputed amount, an unknown line, or a rejection without a reason.
pub async fn resolve(
    db: &(impl ConnectionTrait + TransactionTrait),
    public_url: &str,
    staff_id: i64,
    dispute_id: i64,
    version: i32,
    resolution: Resolution,
    now: DateTime<Utc>,
) -> Result<DisputeView, AppError> {
    // A dispute's lines never change once submitted: read them before the transaction,
    // whose first statement must be the guarded update (see `close`).
    let lines = dispute_line::Entity::find()
        .filter(dispute_line::COLUMN.dispute_id.eq(dispute_id))
        .all(db)
        .await?;
    let (credits, status, note): (Vec<(i64, i64)>, DisputeStatus, Option<String>) =
        match &resolution {
            Resolution::Accept => (
                lines.iter().map(|l| (l.id, l.disputed_minor)).collect(),
                DisputeStatus::Credited,
                None,
            ),
            Resolution::Partial(per_line) => {
                let mut credits = Vec::with_capacity(lines.len());
                for l in &lines {
                    let credit = per_line
                        .iter()
                        .find(|(id, _)| *id == l.id)
                        .map_or(0, |(_, c)| *c);
                    if credit < 0 || credit > l.disputed_minor {
                        return Err(AppError::validation(
                            &format!("credit-{}", l.id),
                            "between zero and the disputed amount",
                        ));
                    }
                    credits.push((l.id, credit));
                }
                if per_line
                    .iter()
                    .any(|(id, _)| !lines.iter().any(|l| l.id == *id))
                {
                    return Err(AppError::validation(
                        "lines",
                        "a line is not part of this dispute",
                    ));
                }
                let all = credits
                    .iter()
                    .zip(&lines)
                    .all(|((_, c), l)| *c == l.disputed_minor);
                (
                    credits,
                    if all {
                        DisputeStatus::Credited
                    } else {
                        DisputeStatus::PartiallyCredited
                    },
                    None,
                )
            }
            Resolution::Reject(reason) => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(AppError::validation(
                        "reason",
                        "say why the dispute is rejected",
                    ));
                }
                (
                    lines.iter().map(|l| (l.id, 0)).collect(),
                    DisputeStatus::Rejected,
                    Some(reason.to_owned()),
                )
            }
        };
    let credited: i64 = credits.iter().map(|(_, c)| c).sum();
    let status = if credited == 0 && status != DisputeStatus::Rejected {
        DisputeStatus::Rejected
    } else {
        status
    };
    let txn = crate::db::begin_write(db).await?;
    let before = close(
        &txn,
        dispute_id,
        version,
        status,
        credited,
        note.clone(),
        now,
    )
    .await?;
    for (line_id, credit) in &credits {
        dispute_line::Entity::update_many()
            .col_expr(dispute_line::Column::CreditedMinor, Expr::value(*credit))
            .filter(dispute_line::COLUMN.id.eq(*line_id))
            .exec(&txn)
            .await?;
    }
    let invoice = document::Entity::find_by_id(before.document_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if credited > 0 {
        let applied = credited.min(invoice.open_minor);
        let open_after = invoice.open_minor - applied;
        document::ActiveModel {
            account_id: Set(invoice.account_id),
            kind: Set(DocumentKind::CreditMemo),
            number: Set(format!("CM-D{dispute_id}")),
            external_id: Set(None),
            po_number: Set(invoice.po_number.clone()),
            issue_date: Set(now.date_naive()),
            due_date: Set(None),
            currency: Set(invoice.currency.clone()),
            total_minor: Set(-credited),
            tax_minor: Set(0),
            // Applied to the invoice at once; what exceeds its open balance stays open as credit.
            open_minor: Set(applied - credited),
            disputed_minor: Set(0),
            status: Set(if applied == credited {
                DocumentStatus::Closed
            } else {
                DocumentStatus::Open
            }),
            file_id: Set(None),
            upload_kind: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        document::Entity::update_many()
            .col_expr(document::Column::OpenMinor, Expr::value(open_after))
            .col_expr(
                document::Column::Status,
                Expr::value(if open_after == 0 {
                    DocumentStatus::Paid
                } else {
                    invoice.status
                }),
            )
            .col_expr(document::Column::UpdatedAt, Expr::value(now))
            .filter(document::COLUMN.id.eq(invoice.id))
            .exec(&txn)
            .await?;
    }
    audit::append(
        &txn,
        Change {
            actor_kind: ActorKind::Staff,
            actor_id: Some(staff_id),
            channel: Channel::StaffUi,
            account_id: Some(before.account_id),
            entity: "dispute",
            entity_id: Some(dispute_id),
            field: Some("status"),
            old_value: Some("open".to_owned()),
            new_value: Some(format!(
                "{status}: credited {}",
                format_money(credited, &invoice.currency)
            )),
        },
        now,
    )
    .await?;
    crate::services::webhooks::dispute_event(
        &txn,
        crate::model::enums::WebhookEventKind::DisputeResolved,
        dispute_id,
        now,
    )
    .await?;
    if let Some(contact_id) = before.contact_id {
        let outcome = match status {
            DisputeStatus::Credited => "accepted in full",
            DisputeStatus::PartiallyCredited => "partly accepted",
            _ => "not accepted",
        };
        match mail::send_to_contact(
            &txn,
            public_url,
            contact_id,
            OUTCOME_TEMPLATE,
            json!({
                "invoice": invoice.number,
                "outcome": outcome,
                "credited": format_money(credited, &invoice.currency),
                "disputed": format_money(before.disputed_minor, &invoice.currency),
                "reason": note,
                "link": format!("{public_url}/portal/invoices/{}", invoice.id),
            }),
            now,
        )
        .await
        {
            Ok(_) | Err(AppError::Validation { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    txn.commit().await?;
    view(db, dispute_id, None).await
}

/// Filters of the staff disputes queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    pub status: Option<DisputeStatus>,
    pub reason: Option<DisputeReason>,
    /// Only disputes opened at least this many days ago.
    pub min_age_days: Option<i64>,
    pub collector_id: Option<i64>,
}

/// The queue: matching disputes (newest first, at most `limit`) and per-reason count and
/// disputed total over the whole match.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn queue(
    db: &impl ConnectionTrait,
    filter: &QueueFilter,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<crate::model::disputes::Queue, AppError> {
    use crate::model::disputes::{Queue, QueueRow, ReasonTotal};
    let mut q = dispute::Entity::find().filter(dispute::COLUMN.status.ne(DisputeStatus::Draft));
    if let Some(status) = filter.status {
        q = q.filter(dispute::COLUMN.status.eq(status));
    }
    if let Some(days) = filter.min_age_days {
        q = q.filter(
            dispute::COLUMN
                .created_at
                .lte(now - chrono::Duration::days(days)),
        );
    }
    if let Some(collector) = filter.collector_id {
        let accounts: Vec<i64> = account::Entity::find()
            .filter(account::COLUMN.collector_id.eq(collector))
            .all(db)
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect();
        q = q.filter(dispute::COLUMN.account_id.is_in(accounts));
    }
    let disputes = q.order_by_desc(dispute::COLUMN.id).all(db).await?;
    let lines = dispute_line::Entity::find()
        .filter(
            dispute_line::COLUMN
                .dispute_id
                .is_in(disputes.iter().map(|d| d.id)),
        )
        .all(db)
        .await?;
    let mut by_dispute: HashMap<i64, Vec<&dispute_line::Model>> = HashMap::new();
    for l in &lines {
        by_dispute.entry(l.dispute_id).or_default().push(l);
    }
    let matching: Vec<&dispute::Model> = disputes
        .iter()
        .filter(|d| {
            filter.reason.is_none_or(|r| {
                by_dispute
                    .get(&d.id)
                    .is_some_and(|ls| ls.iter().any(|l| l.reason == r))
            })
        })
        .collect();
    let mut totals: HashMap<DisputeReason, (u64, i64)> = HashMap::new();
    for d in &matching {
        for l in by_dispute.get(&d.id).into_iter().flatten() {
            let entry = totals.entry(l.reason).or_default();
            entry.0 += 1;
            entry.1 += l.disputed_minor;
        }
    }
    let shown: Vec<&dispute::Model> = matching.iter().copied().take(limit as usize).collect();
    let docs: HashMap<i64, document::Model> = document::Entity::find()
        .filter(
            document::COLUMN
                .id
                .is_in(shown.iter().map(|d| d.document_id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let accounts: HashMap<i64, account::Model> = account::Entity::find()
        .filter(account::COLUMN.id.is_in(shown.iter().map(|d| d.account_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(Queue {
        total: matching.len() as u64,
        by_reason: crate::model::disputes::REASONS
            .iter()
            .filter_map(|(r, _)| {
                totals.get(r).map(|(count, minor)| ReasonTotal {
                    reason: *r,
                    lines: *count,
                    disputed_minor: *minor,
                })
            })
            .collect(),
        rows: shown
            .into_iter()
            .map(|d| QueueRow {
                id: d.id,
                invoice: docs
                    .get(&d.document_id)
                    .map(|x| x.number.clone())
                    .unwrap_or_default(),
                account: accounts
                    .get(&d.account_id)
                    .map(|a| a.display_name.clone())
                    .unwrap_or_default(),
                status: d.status,
                disputed_minor: d.disputed_minor,
                currency: docs
                    .get(&d.document_id)
                    .map(|x| x.currency.clone())
                    .unwrap_or_default(),
                reasons: by_dispute
                    .get(&d.id)
                    .map(|ls| {
                        let mut r: Vec<DisputeReason> = ls.iter().map(|l| l.reason).collect();
                        r.dedup();
                        r
                    })
                    .unwrap_or_default(),
                age_days: (now - d.created_at).num_days(),
            })
            .collect(),
    })
}
