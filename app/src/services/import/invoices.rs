//! The `invoices` kind: one row per invoice line, the lines of an invoice together. An
//! invoice is checked, created or updated as a whole — one bad line rejects all its lines —
//! and its totals come from its lines. New invoices go in with batched inserts, chunked
//! under SQLite's bind-parameter limit (32,766; PostgreSQL allows 65,535).

use std::collections::{HashMap, HashSet};
use std::io::Read;

use chrono::{Duration, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, prelude::*,
};

use super::table::{self, Column, Row, opt, req};
use super::{Ctx, Kind, Outcome, Prepared, Reject, Repeat, Seen, fingerprint, siblings, values};
use crate::entities::{account, dispute_line, document, document_line};
use crate::error::AppError;
use crate::model::enums::{DocumentKind, DocumentStatus};

const COLUMNS: &[Column] = &[
    req("external_id"),
    req("invoice_number"),
    req("account_number"),
    req("invoice_date"),
    opt("due_date"),
    opt("currency"),
    opt("po_number"),
    req("line_no"),
    opt("sku"),
    req("description"),
    req("quantity"),
    req("unit_price"),
    opt("tax"),
];

/// Invoices inserted per statement: 18 columns each, well under 32,766 parameters.
const DOCUMENTS_PER_INSERT: usize = 1_000;
/// Lines inserted per statement: 8 columns each.
const LINES_PER_INSERT: usize = 3_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Line {
    pub line_no: i32,
    pub sku: Option<String>,
    pub description: String,
    pub quantity_milli: i64,
    pub unit_price_minor: i64,
    pub amount_minor: i64,
    pub tax_minor: i64,
}

/// One invoice of the file, checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Invoice {
    pub first_line: i64,
    pub rows: i64,
    /// The file lines of its rows.
    pub row_lines: Vec<i64>,
    pub external_id: String,
    pub number: String,
    pub account_number: String,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub currency: Option<String>,
    pub po_number: Option<String>,
    pub lines: Vec<Line>,
}

impl Invoice {
    fn tax(&self) -> i64 {
        self.lines.iter().map(|l| l.tax_minor).sum()
    }

    fn total(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| l.amount_minor + l.tax_minor)
            .sum()
    }

    fn reject(&self, column: &str, reason: impl Into<String>) -> Reject {
        Reject {
            line: self.first_line,
            column: column.to_owned(),
            reason: reason.into(),
        }
    }

    /// The same reject for every row of the invoice.
    fn reject_all(&self, column: &str, reason: &str) -> Vec<Reject> {
        self.row_lines
            .iter()
            .map(|&line| Reject {
                line,
                column: column.to_owned(),
                reason: reason.to_owned(),
            })
            .collect()
    }
}

/// The invoice fields every line repeats: they must agree.
const HEADER_FIELDS: &[&str] = &[
    "external_id",
    "account_number",
    "invoice_date",
    "due_date",
    "currency",
    "po_number",
];

#[derive(Default)]
pub struct Invoices {
    numbers: Seen,
    ids: Seen,
}

/// Reads one row's fields, or says what is wrong with them.
fn parse_line(row: &Row) -> Result<Line, Vec<Reject>> {
    let mut rejects = Vec::new();
    let mut check = |column: &str, r: Result<(), String>| {
        if let Err(reason) = r {
            rejects.push(row.reject(column, reason));
        }
    };
    for column in ["external_id", "invoice_number", "account_number"] {
        check(column, values::text(row.get(column), true, 100).map(drop));
    }
    check(
        "invoice_date",
        values::date(row.get("invoice_date")).map(drop),
    );
    let due = row.get("due_date");
    if !due.is_empty() {
        match (values::date(due), values::date(row.get("invoice_date"))) {
            (Err(e), _) => check("due_date", Err(e)),
            (Ok(d), Ok(i)) if d < i => check("due_date", Err("before the invoice date".into())),
            _ => {}
        }
    }
    let currency = row.get("currency");
    if !currency.is_empty() {
        check("currency", values::currency(currency).map(drop));
    }
    check(
        "po_number",
        values::text(row.get("po_number"), false, 100).map(drop),
    );
    let line_no = match row.get("line_no").parse::<i32>() {
        Ok(n) if n > 0 => n,
        _ => {
            check("line_no", Err("not a whole number from 1".into()));
            0
        }
    };
    let sku = values::text(row.get("sku"), false, 100);
    check("sku", sku.as_ref().map(drop).map_err(Clone::clone));
    let description = values::text(row.get("description"), true, 500);
    check(
        "description",
        description.as_ref().map(drop).map_err(Clone::clone),
    );
    let quantity = match values::quantity(row.get("quantity")) {
        Ok(q) if q < 0 => {
            check("quantity", Err("negative quantity".into()));
            0
        }
        Ok(q) => q,
        Err(e) => {
            check("quantity", Err(e));
            0
        }
    };
    let price = values::amount(row.get("unit_price")).unwrap_or_else(|e| {
        check("unit_price", Err(e));
        0
    });
    let tax_text = row.get("tax");
    let tax = if tax_text.is_empty() {
        0
    } else {
        values::amount(tax_text).unwrap_or_else(|e| {
            check("tax", Err(e));
            0
        })
    };
    let amount = values::line_amount(quantity, price).unwrap_or_else(|| {
        check("unit_price", Err("the line amount is too large".into()));
        0
    });
    if rejects.is_empty() {
        Ok(Line {
            line_no,
            sku: sku.ok().filter(|s| !s.is_empty()),
            description: description.unwrap_or_default(),
            quantity_milli: quantity,
            unit_price_minor: price,
            amount_minor: amount,
            tax_minor: tax,
        })
    } else {
        Err(rejects)
    }
}

/// Checks the rows of one invoice number among themselves.
fn parse_invoice(rows: &[Row]) -> Result<Invoice, Vec<Reject>> {
    let Some(first) = rows.first() else {
        return Err(Vec::new());
    };
    let mut rejects = Vec::new();
    let mut lines = Vec::with_capacity(rows.len());
    let mut line_nos: HashMap<i32, i64> = HashMap::new();
    for row in rows {
        if let Some(problem) = &row.problem {
            rejects.push(problem.clone());
            continue;
        }
        for field in HEADER_FIELDS {
            if row.get(field) != first.get(field) && first.problem.is_none() {
                rejects.push(row.reject(
                    field,
                    format!("differs from line {} of the same invoice", first.line),
                ));
            }
        }
        match parse_line(row) {
            Ok(line) => {
                if let Some(earlier) = line_nos.insert(line.line_no, row.line) {
                    rejects.push(row.reject(
                        "line_no",
                        format!("line number repeated (first on line {earlier})"),
                    ));
                }
                lines.push(line);
            }
            Err(mut r) => rejects.append(&mut r),
        }
    }
    if !rejects.is_empty() {
        let mut all = siblings(rows, &rejects, "invoice_number", "invoice");
        all.append(&mut rejects);
        return Err(all);
    }
    lines.sort_by_key(|l| l.line_no);
    let invoice = Invoice {
        first_line: first.line,
        rows: rows.len() as i64,
        row_lines: rows.iter().map(|r| r.line).collect(),
        external_id: first.get("external_id").to_owned(),
        number: first.get("invoice_number").to_owned(),
        account_number: first.get("account_number").to_owned(),
        issue_date: values::date(first.get("invoice_date")).unwrap_or_default(),
        due_date: values::date(first.get("due_date")).ok(),
        currency: values::currency(first.get("currency")).ok(),
        po_number: Some(first.get("po_number").to_owned()).filter(|p| !p.is_empty()),
        lines,
    };
    if invoice.total() < 0 {
        let mut all = vec![invoice.reject("unit_price", "the invoice total is negative")];
        all.extend(siblings(rows, &all.clone(), "invoice_number", "invoice"));
        return Err(all);
    }
    Ok(invoice)
}

impl Invoices {
    fn check(&mut self, rows: Vec<Row>) -> Prepared<Invoice> {
        let n = rows.len() as i64;
        let invoice = match parse_invoice(&rows) {
            Ok(i) => i,
            Err(rejects) => return Prepared::Rejected(n, rejects),
        };
        let whole = |column: &str, reason: String| {
            let first = vec![invoice.reject(column, reason)];
            let mut all = first.clone();
            all.extend(siblings(&rows, &first, "invoice_number", "invoice"));
            Prepared::Rejected(n, all)
        };
        match self.ids.check(
            &invoice.external_id,
            invoice.first_line,
            fingerprint(&invoice.number),
        ) {
            Repeat::Different(first) => {
                return whole(
                    "external_id",
                    format!("line {first} gives this external id to another invoice number"),
                );
            }
            Repeat::First | Repeat::Same => {}
        }
        let content = fingerprint(&(
            &invoice.external_id,
            &invoice.account_number,
            invoice.issue_date,
            invoice.due_date,
            &invoice.currency,
            &invoice.po_number,
            &invoice.lines,
        ));
        match self
            .numbers
            .check(&invoice.number, invoice.first_line, content)
        {
            Repeat::First => Prepared::Unit(invoice),
            Repeat::Same => Prepared::Unchanged(n),
            Repeat::Different(first) => whole(
                "invoice_number",
                format!("duplicate invoice number with different content (first on line {first})"),
            ),
        }
    }
}

impl Kind for Invoices {
    type Unit = Invoice;

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn same_unit(&self, prev: &Row, next: &Row) -> bool {
        prev.get("invoice_number") == next.get("invoice_number")
    }

    fn prepare(&mut self, rows: Vec<Row>) -> Prepared<Invoice> {
        self.check(rows)
    }

    async fn apply(
        &mut self,
        db: &impl ConnectionTrait,
        units: Vec<Invoice>,
        ctx: &Ctx,
    ) -> Result<Outcome, AppError> {
        apply(db, units, ctx).await
    }
}

/// What to do with one invoice.
enum Plan<'a> {
    Create {
        account: &'a account::Model,
    },
    Update {
        account: &'a account::Model,
        doc: &'a document::Model,
    },
}

async fn apply(
    db: &impl ConnectionTrait,
    units: Vec<Invoice>,
    ctx: &Ctx,
) -> Result<Outcome, AppError> {
    let mut out = Outcome::default();
    if units.is_empty() {
        return Ok(out);
    }
    let wanted: HashSet<&str> = units.iter().map(|u| u.account_number.as_str()).collect();
    let accounts: HashMap<String, account::Model> = account::Entity::find()
        .filter(account::COLUMN.account_number.is_in(wanted.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.account_number.clone(), a))
        .collect();
    let by_ext: HashMap<String, document::Model> = document::Entity::find()
        .filter(
            document::COLUMN
                .external_id
                .is_in(units.iter().map(|u| u.external_id.as_str())),
        )
        .all(db)
        .await?
        .into_iter()
        .filter_map(|d| d.external_id.clone().map(|e| (e, d)))
        .collect();
    let by_number: HashMap<String, document::Model> = document::Entity::find()
        .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
        .filter(
            document::COLUMN
                .number
                .is_in(units.iter().map(|u| u.number.as_str())),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.number.clone(), d))
        .collect();
    let mut plans: Vec<(Invoice, Plan<'_>)> = Vec::with_capacity(units.len());
    for unit in units {
        let reject = |out: &mut Outcome, column: &str, reason: String| {
            out.reject_rows(unit.rows, unit.reject_all(column, &reason));
        };
        let Some(account) = accounts.get(&unit.account_number) else {
            reject(
                &mut out,
                "account_number",
                "no account has this number".to_owned(),
            );
            continue;
        };
        let holder = by_number.get(&unit.number);
        let doc = match by_ext.get(&unit.external_id) {
            Some(d) if d.kind != DocumentKind::Invoice => {
                reject(
                    &mut out,
                    "external_id",
                    format!("the external id of {} {}", d.kind, d.number),
                );
                continue;
            }
            Some(d) => match holder {
                Some(h) if h.id != d.id => {
                    reject(&mut out, "invoice_number", number_taken(h));
                    continue;
                }
                _ => Some(d),
            },
            None => match holder {
                Some(h) if h.external_id.is_some() => {
                    reject(&mut out, "invoice_number", number_taken(h));
                    continue;
                }
                other => other,
            },
        };
        plans.push((
            unit,
            match doc {
                Some(doc) => Plan::Update { account, doc },
                None => Plan::Create { account },
            },
        ));
    }

    let updating: Vec<i64> = plans
        .iter()
        .filter_map(|(_, p)| match p {
            Plan::Update { doc, .. } => Some(doc.id),
            Plan::Create { .. } => None,
        })
        .collect();
    let mut old_lines: HashMap<i64, Vec<document_line::Model>> = HashMap::new();
    if !updating.is_empty() {
        for line in document_line::Entity::find()
            .filter(document_line::COLUMN.document_id.is_in(updating))
            .order_by_asc(document_line::COLUMN.line_no)
            .all(db)
            .await?
        {
            old_lines.entry(line.document_id).or_default().push(line);
        }
    }

    let mut creates: Vec<(Invoice, &account::Model)> = Vec::new();
    for (unit, plan) in plans {
        match plan {
            Plan::Create { account } => {
                out.created += unit.rows;
                creates.push((unit, account));
            }
            Plan::Update { account, doc } => {
                let lines = old_lines.remove(&doc.id).unwrap_or_default();
                update(db, &mut out, unit, account, doc, lines, ctx).await?;
            }
        }
    }
    if !ctx.dry_run && !creates.is_empty() {
        create(db, creates, ctx).await?;
    }
    Ok(out)
}

fn number_taken(holder: &document::Model) -> String {
    format!(
        "already the number of another invoice (external id {})",
        holder.external_id.as_deref().unwrap_or("none")
    )
}

fn due_of(unit: &Invoice, account: &account::Model) -> NaiveDate {
    unit.due_date
        .unwrap_or(unit.issue_date + Duration::days(i64::from(account.payment_terms_days)))
}

fn status_for(open: i64) -> DocumentStatus {
    if open > 0 {
        DocumentStatus::Open
    } else {
        DocumentStatus::Paid
    }
}

async fn create(
    db: &impl ConnectionTrait,
    creates: Vec<(Invoice, &account::Model)>,
    ctx: &Ctx,
) -> Result<(), AppError> {
    for chunk in creates.chunks(DOCUMENTS_PER_INSERT) {
        let inserted = document::Entity::insert_many(chunk.iter().map(|(unit, account)| {
            let total = unit.total();
            document::ActiveModel {
                account_id: Set(account.id),
                kind: Set(DocumentKind::Invoice),
                number: Set(unit.number.clone()),
                external_id: Set(Some(unit.external_id.clone())),
                po_number: Set(unit.po_number.clone()),
                issue_date: Set(unit.issue_date),
                due_date: Set(Some(due_of(unit, account))),
                currency: Set(unit
                    .currency
                    .clone()
                    .unwrap_or_else(|| account.currency.clone())),
                total_minor: Set(total),
                tax_minor: Set(unit.tax()),
                open_minor: Set(total),
                disputed_minor: Set(0),
                status: Set(status_for(total)),
                file_id: Set(None),
                upload_kind: Set(None),
                created_at: Set(ctx.now),
                updated_at: Set(ctx.now),
                ..Default::default()
            }
        }))
        .exec_with_returning(db)
        .await?;
        let ids: HashMap<&str, i64> = inserted.iter().map(|d| (d.number.as_str(), d.id)).collect();
        let lines: Vec<document_line::ActiveModel> = chunk
            .iter()
            .filter_map(|(unit, _)| ids.get(unit.number.as_str()).map(|&id| (unit, id)))
            .flat_map(|(unit, id)| unit.lines.iter().map(move |l| new_line(id, l)))
            .collect();
        for part in lines.chunks(LINES_PER_INSERT) {
            document_line::Entity::insert_many(part.iter().cloned())
                .exec_without_returning(db)
                .await?;
        }
    }
    Ok(())
}

fn new_line(document_id: i64, l: &Line) -> document_line::ActiveModel {
    document_line::ActiveModel {
        document_id: Set(document_id),
        line_no: Set(l.line_no),
        sku: Set(l.sku.clone()),
        description: Set(l.description.clone()),
        quantity_milli: Set(l.quantity_milli),
        unit_price_minor: Set(l.unit_price_minor),
        amount_minor: Set(l.amount_minor),
        tax_minor: Set(l.tax_minor),
        ..Default::default()
    }
}

fn same_line(old: &document_line::Model, new: &Line) -> bool {
    old.line_no == new.line_no
        && old.sku == new.sku
        && old.description == new.description
        && old.quantity_milli == new.quantity_milli
        && old.unit_price_minor == new.unit_price_minor
        && old.amount_minor == new.amount_minor
        && old.tax_minor == new.tax_minor
}

fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", minor.abs() / 100, minor.abs() % 100)
}

/// Compares an invoice with the stored one and, when it changed, updates it: its lines in
/// place by line number, its totals, and its open amount — never below what is settled.
async fn update(
    db: &impl ConnectionTrait,
    out: &mut Outcome,
    unit: Invoice,
    account: &account::Model,
    doc: &document::Model,
    old_lines: Vec<document_line::Model>,
    ctx: &Ctx,
) -> Result<(), AppError> {
    let total = unit.total();
    let tax = unit.tax();
    let currency = unit
        .currency
        .clone()
        .unwrap_or_else(|| doc.currency.clone());
    let due = unit
        .due_date
        .or(doc.due_date)
        .unwrap_or_else(|| due_of(&unit, account));
    let mut changes: Vec<(&str, String, String)> = Vec::new();
    let mut changed = |field: &'static str, old: String, new: String| {
        if old != new {
            changes.push((field, old, new));
        }
    };
    changed(
        "account_id",
        doc.account_id.to_string(),
        account.id.to_string(),
    );
    changed(
        "external_id",
        doc.external_id.clone().unwrap_or_default(),
        unit.external_id.clone(),
    );
    changed(
        "issue_date",
        doc.issue_date.to_string(),
        unit.issue_date.to_string(),
    );
    changed(
        "due_date",
        doc.due_date.map(|d| d.to_string()).unwrap_or_default(),
        due.to_string(),
    );
    changed("currency", doc.currency.clone(), currency.clone());
    changed(
        "po_number",
        doc.po_number.clone().unwrap_or_default(),
        unit.po_number.clone().unwrap_or_default(),
    );
    changed("total", money(doc.total_minor), money(total));
    changed("tax", money(doc.tax_minor), money(tax));
    let lines_same = old_lines.len() == unit.lines.len()
        && old_lines
            .iter()
            .zip(&unit.lines)
            .all(|(o, n)| same_line(o, n));
    if !lines_same {
        changes.push((
            "lines",
            format!("{} lines", old_lines.len()),
            format!("{} lines", unit.lines.len()),
        ));
    }
    if changes.is_empty() {
        out.unchanged += unit.rows;
        return Ok(());
    }
    let new_nos: HashSet<i32> = unit.lines.iter().map(|l| l.line_no).collect();
    let removed: Vec<i64> = old_lines
        .iter()
        .filter(|l| !new_nos.contains(&l.line_no))
        .map(|l| l.id)
        .collect();
    if !removed.is_empty()
        && dispute_line::Entity::find()
            .filter(dispute_line::COLUMN.document_line_id.is_in(removed.clone()))
            .one(db)
            .await?
            .is_some()
    {
        out.reject_rows(
            unit.rows,
            unit.reject_all(
                "line_no",
                "a line this file leaves out is part of a dispute",
            ),
        );
        return Ok(());
    }
    out.updated += unit.rows;
    if ctx.dry_run {
        return Ok(());
    }
    let settled = doc.total_minor - doc.open_minor;
    let open = (total - settled).max(0);
    let status = match doc.status {
        DocumentStatus::Open | DocumentStatus::Paid => status_for(open),
        other => other,
    };
    document::Entity::update_many()
        .col_expr(document::Column::AccountId, Expr::value(account.id))
        .col_expr(
            document::Column::ExternalId,
            Expr::value(Some(unit.external_id.clone())),
        )
        .col_expr(document::Column::IssueDate, Expr::value(unit.issue_date))
        .col_expr(document::Column::DueDate, Expr::value(Some(due)))
        .col_expr(document::Column::Currency, Expr::value(currency))
        .col_expr(
            document::Column::PoNumber,
            Expr::value(unit.po_number.clone()),
        )
        .col_expr(document::Column::TotalMinor, Expr::value(total))
        .col_expr(document::Column::TaxMinor, Expr::value(tax))
        .col_expr(document::Column::OpenMinor, Expr::value(open))
        .col_expr(document::Column::Status, Expr::value(status))
        .col_expr(document::Column::UpdatedAt, Expr::value(ctx.now))
        .filter(document::COLUMN.id.eq(doc.id))
        .exec(db)
        .await?;
    if !lines_same {
        if !removed.is_empty() {
            document_line::Entity::delete_many()
                .filter(document_line::COLUMN.id.is_in(removed))
                .exec(db)
                .await?;
        }
        let old_by_no: HashMap<i32, &document_line::Model> =
            old_lines.iter().map(|l| (l.line_no, l)).collect();
        let mut inserts = Vec::new();
        for line in &unit.lines {
            match old_by_no.get(&line.line_no) {
                Some(old) if same_line(old, line) => {}
                Some(old) => {
                    document_line::Entity::update_many()
                        .col_expr(document_line::Column::Sku, Expr::value(line.sku.clone()))
                        .col_expr(
                            document_line::Column::Description,
                            Expr::value(line.description.clone()),
                        )
                        .col_expr(
                            document_line::Column::QuantityMilli,
                            Expr::value(line.quantity_milli),
                        )
                        .col_expr(
                            document_line::Column::UnitPriceMinor,
                            Expr::value(line.unit_price_minor),
                        )
                        .col_expr(
                            document_line::Column::AmountMinor,
                            Expr::value(line.amount_minor),
                        )
                        .col_expr(document_line::Column::TaxMinor, Expr::value(line.tax_minor))
                        .filter(document_line::COLUMN.id.eq(old.id))
                        .exec(db)
                        .await?;
                }
                None => inserts.push(new_line(doc.id, line)),
            }
        }
        for part in inserts.chunks(LINES_PER_INSERT) {
            document_line::Entity::insert_many(part.iter().cloned())
                .exec_without_returning(db)
                .await?;
        }
    }
    for (field, old, new) in changes {
        ctx.audit(
            db,
            account.id,
            ("document", doc.id),
            field,
            (!old.is_empty()).then_some(old),
            (!new.is_empty()).then_some(new),
        )
        .await?;
    }
    Ok(())
}

/// Runs bytes through the invoices kind's reading and row checks, without a database, and
/// returns (rows read, rows rejected) — for the fuzz target and its regression test.
pub fn scan_invoices(input: impl Read) -> (i64, i64) {
    let mut table = match table::open(input, COLUMNS) {
        Ok(t) => t,
        Err(table::OpenError::Header(r)) => return (0, r.len() as i64),
        Err(table::OpenError::Io(_)) => return (0, 0),
    };
    let mut kind = Invoices::default();
    let (mut rows, mut rejected) = (0_i64, 0_i64);
    let mut group: Vec<Row> = Vec::new();
    loop {
        let next = table.next_row().unwrap_or(None);
        let boundary = match (&next, group.last()) {
            (Some(row), Some(prev)) => !kind.same_unit(prev, row),
            (None, Some(_)) => true,
            (_, None) => false,
        };
        if boundary {
            let unit = std::mem::take(&mut group);
            rows += unit.len() as i64;
            if let Prepared::Rejected(n, _) = kind.prepare(unit) {
                rejected += n;
            }
        }
        match next {
            Some(row) => group.push(row),
            None => return (rows, rejected),
        }
    }
}
