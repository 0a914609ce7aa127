//! The `payments` kind: money the ERP recorded, by external id, applied to the invoices the
//! row names — never more than an invoice's open amount; the rest stays unapplied on the
//! account. A changed payment first gives back what it had applied, then applies again.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::Condition;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, prelude::*,
};

use super::table::{Column, Row, opt, req};
use super::{Ctx, Kind, Outcome, Prepared, Reject, Seen, fingerprint, values};
use crate::entities::{account, document, payment, payment_application};
use crate::error::AppError;
use crate::model::enums::{
    DocumentKind, DocumentStatus, PaymentChannel, PaymentProvider, PaymentStatus,
};

const COLUMNS: &[Column] = &[
    req("external_id"),
    req("account_number"),
    req("payment_date"),
    req("amount"),
    opt("currency"),
    opt("method"),
    opt("reference"),
    opt("applies_to"),
];

#[derive(Default)]
pub struct Payments {
    ids: Seen,
}

#[derive(Debug, Clone, Hash)]
pub struct Unit {
    line: i64,
    external_id: String,
    account_number: String,
    date: NaiveDate,
    amount: i64,
    currency: Option<String>,
    method: PaymentChannel,
    reference: Option<String>,
    /// (invoice number, amount to apply; none: as much as is open).
    applies_to: Vec<(String, Option<i64>)>,
}

impl Unit {
    fn reject(&self, column: &str, reason: impl Into<String>) -> Reject {
        Reject {
            line: self.line,
            column: column.to_owned(),
            reason: reason.into(),
        }
    }

    fn received_at(&self) -> DateTime<Utc> {
        self.date
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_default()
    }
}

fn parse(row: &Row) -> Result<Unit, Vec<Reject>> {
    let mut rejects = Vec::new();
    let mut bad = |column: &str, reason: String| rejects.push(row.reject(column, reason));
    for column in ["external_id", "account_number"] {
        if let Err(e) = values::text(row.get(column), true, 100) {
            bad(column, e);
        }
    }
    let date = values::date(row.get("payment_date")).unwrap_or_else(|e| {
        bad("payment_date", e);
        NaiveDate::default()
    });
    let amount = match values::amount(row.get("amount")) {
        Ok(a) if a <= 0 => {
            bad("amount", "a payment must be more than zero".into());
            0
        }
        Ok(a) => a,
        Err(e) => {
            bad("amount", e);
            0
        }
    };
    let currency = match row.get("currency") {
        "" => None,
        c => values::currency(c).map_err(|e| bad("currency", e)).ok(),
    };
    let method = match row.get("method").to_ascii_lowercase().as_str() {
        "" | "check" => PaymentChannel::Check,
        "ach" => PaymentChannel::Ach,
        "wire" => PaymentChannel::Wire,
        "card" => PaymentChannel::Card,
        "wallet" => PaymentChannel::Wallet,
        _ => {
            bad("method", "not check, ach, wire, card or wallet".into());
            PaymentChannel::Check
        }
    };
    let reference = row.get("reference");
    if let Err(e) = values::text(reference, false, 100) {
        bad("reference", e);
    }
    let mut applies_to = Vec::new();
    let mut requested = 0_i64;
    for item in row.get("applies_to").split_whitespace() {
        let (number, amount) = match item.split_once(':') {
            Some((n, a)) => match values::amount(a) {
                Ok(a) if a > 0 => (n, Some(a)),
                Ok(_) => {
                    bad(
                        "applies_to",
                        format!("{item}: the amount must be more than zero"),
                    );
                    continue;
                }
                Err(e) => {
                    bad("applies_to", format!("{item}: {e}"));
                    continue;
                }
            },
            None => (item, None),
        };
        if number.is_empty() {
            bad("applies_to", format!("{item}: no invoice number"));
            continue;
        }
        if applies_to.iter().any(|(n, _)| n == number) {
            bad("applies_to", format!("{number} is named twice"));
            continue;
        }
        requested += amount.unwrap_or(0);
        applies_to.push((number.to_owned(), amount));
    }
    if amount > 0 && requested > amount {
        bad(
            "applies_to",
            "applies more than the payment's amount".into(),
        );
    }
    if rejects.is_empty() {
        Ok(Unit {
            line: row.line,
            external_id: row.get("external_id").to_owned(),
            account_number: row.get("account_number").to_owned(),
            date,
            amount,
            currency,
            method,
            reference: Some(reference.to_owned()).filter(|r| !r.is_empty()),
            applies_to,
        })
    } else {
        Err(rejects)
    }
}

impl Kind for Payments {
    type Unit = Unit;

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn prepare(&mut self, rows: Vec<Row>) -> Prepared<Unit> {
        let n = rows.len() as i64;
        let Some(row) = rows.into_iter().next() else {
            return Prepared::Unchanged(0);
        };
        if let Some(problem) = row.problem.clone() {
            return Prepared::Rejected(n, vec![problem]);
        }
        let unit = match parse(&row) {
            Ok(u) => u,
            Err(rejects) => return Prepared::Rejected(n, rejects),
        };
        let content = fingerprint(&(
            &unit.account_number,
            unit.date,
            unit.amount,
            &unit.currency,
            unit.method.as_str(),
            &unit.reference,
            &unit.applies_to,
        ));
        let key = unit.external_id.clone();
        self.ids.admit(unit, &key, &row, n, content)
    }

    async fn apply(
        &mut self,
        db: &impl ConnectionTrait,
        units: Vec<Unit>,
        ctx: &Ctx,
    ) -> Result<Outcome, AppError> {
        apply(db, units, ctx).await
    }
}

/// An invoice as the batch sees it, its open amount kept current as payments apply.
struct Doc {
    id: i64,
    account_id: i64,
    currency: String,
    open: i64,
    status: DocumentStatus,
}

async fn apply(
    db: &impl ConnectionTrait,
    units: Vec<Unit>,
    ctx: &Ctx,
) -> Result<Outcome, AppError> {
    let mut out = Outcome::default();
    if units.is_empty() {
        return Ok(out);
    }
    let accounts: HashMap<String, account::Model> = account::Entity::find()
        .filter(
            account::COLUMN
                .account_number
                .is_in(units.iter().map(|u| u.account_number.as_str())),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.account_number.clone(), a))
        .collect();
    let existing: HashMap<String, payment::Model> = payment::Entity::find()
        .filter(
            payment::COLUMN
                .external_id
                .is_in(units.iter().map(|u| u.external_id.as_str())),
        )
        .all(db)
        .await?
        .into_iter()
        .filter_map(|p| p.external_id.clone().map(|e| (e, p)))
        .collect();
    let mut old_apps: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
    for app in payment_application::Entity::find()
        .filter(
            payment_application::COLUMN
                .payment_id
                .is_in(existing.values().map(|p| p.id)),
        )
        .all(db)
        .await?
    {
        old_apps
            .entry(app.payment_id)
            .or_default()
            .push((app.document_id, app.amount_minor));
    }
    let numbers: Vec<&str> = units
        .iter()
        .flat_map(|u| u.applies_to.iter().map(|(n, _)| n.as_str()))
        .collect();
    let mut docs: HashMap<i64, Doc> = HashMap::new();
    let mut by_number: HashMap<String, i64> = HashMap::new();
    for d in document::Entity::find()
        .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
        .filter(
            Condition::any()
                .add(document::COLUMN.number.is_in(numbers))
                .add(
                    document::COLUMN
                        .id
                        .is_in(old_apps.values().flatten().map(|(d, _)| *d)),
                ),
        )
        .all(db)
        .await?
    {
        by_number.insert(d.number.clone(), d.id);
        docs.insert(
            d.id,
            Doc {
                id: d.id,
                account_id: d.account_id,
                currency: d.currency,
                open: d.open_minor,
                status: d.status,
            },
        );
    }
    for unit in units {
        let Some(account) = accounts.get(&unit.account_number) else {
            out.reject_rows(
                1,
                vec![unit.reject("account_number", "no account has this number")],
            );
            continue;
        };
        let currency = unit
            .currency
            .clone()
            .unwrap_or_else(|| account.currency.clone());
        let mut problems = Vec::new();
        let mut targets = Vec::new();
        for (number, amount) in &unit.applies_to {
            match by_number.get(number).and_then(|id| docs.get(id)) {
                Some(d) if d.account_id == account.id && d.currency == currency => {
                    targets.push((d.id, *amount));
                }
                Some(d) if d.account_id == account.id => problems.push(unit.reject(
                    "applies_to",
                    format!(
                        "invoice {number} is in {}, the payment in {currency}",
                        d.currency
                    ),
                )),
                _ => problems.push(
                    unit.reject("applies_to", format!("no invoice {number} on this account")),
                ),
            }
        }
        if !problems.is_empty() {
            out.reject_rows(1, problems);
            continue;
        }
        let old = existing.get(&unit.external_id);
        let previous = old
            .and_then(|p| old_apps.get(&p.id))
            .cloned()
            .unwrap_or_default();
        let restored = |doc: &Doc| {
            doc.open
                + previous
                    .iter()
                    .filter(|(d, _)| *d == doc.id)
                    .map(|(_, a)| a)
                    .sum::<i64>()
        };
        let mut remaining = unit.amount;
        let mut applications: Vec<(i64, i64)> = Vec::new();
        for (doc_id, requested) in &targets {
            let Some(doc) = docs.get(doc_id) else {
                continue;
            };
            let payable = matches!(
                doc.status,
                DocumentStatus::Open | DocumentStatus::Paid | DocumentStatus::PaymentPending
            );
            let applied = if payable {
                i64::max(
                    0,
                    i64::min(
                        i64::min(requested.unwrap_or(remaining), restored(doc)),
                        remaining,
                    ),
                )
            } else {
                0
            };
            if applied > 0 {
                applications.push((*doc_id, applied));
                remaining -= applied;
            }
        }
        let mut changes: Vec<(&str, String, String)> = Vec::new();
        if let Some(p) = old {
            let mut c = |field: &'static str, old: String, new: String| {
                if old != new {
                    changes.push((field, old, new));
                }
            };
            c(
                "account_id",
                p.account_id.to_string(),
                account.id.to_string(),
            );
            c(
                "amount_minor",
                p.amount_minor.to_string(),
                unit.amount.to_string(),
            );
            c("currency", p.currency.clone(), currency.clone());
            c("method", p.method.to_string(), unit.method.to_string());
            c(
                "provider_ref",
                p.provider_ref.clone().unwrap_or_default(),
                unit.reference.clone().unwrap_or_default(),
            );
            c(
                "received_at",
                p.received_at.to_rfc3339(),
                unit.received_at().to_rfc3339(),
            );
            let mut before = previous.clone();
            let mut after = applications.clone();
            before.sort_unstable();
            after.sort_unstable();
            if before != after {
                changes.push(("applications", describe(&before), describe(&after)));
            }
            if changes.is_empty() {
                out.unchanged += 1;
                continue;
            }
            out.updated += 1;
        } else {
            out.created += 1;
        }
        if ctx.dry_run {
            continue;
        }
        // Give back what the payment had applied, then apply again.
        for (doc_id, amount) in &previous {
            if let Some(doc) = docs.get_mut(doc_id) {
                doc.open += amount;
            }
        }
        let payment_id = match old {
            Some(p) => {
                payment_application::Entity::delete_many()
                    .filter(payment_application::COLUMN.payment_id.eq(p.id))
                    .exec(db)
                    .await?;
                payment::Entity::update_many()
                    .col_expr(payment::Column::AccountId, Expr::value(account.id))
                    .col_expr(payment::Column::AmountMinor, Expr::value(unit.amount))
                    .col_expr(payment::Column::UnappliedMinor, Expr::value(remaining))
                    .col_expr(payment::Column::Currency, Expr::value(currency.clone()))
                    .col_expr(payment::Column::Method, Expr::value(unit.method))
                    .col_expr(
                        payment::Column::ProviderRef,
                        Expr::value(unit.reference.clone()),
                    )
                    .col_expr(payment::Column::ReceivedAt, Expr::value(unit.received_at()))
                    .filter(payment::COLUMN.id.eq(p.id))
                    .exec(db)
                    .await?;
                p.id
            }
            None => {
                payment::ActiveModel {
                    account_id: Set(account.id),
                    external_id: Set(Some(unit.external_id.clone())),
                    provider: Set(PaymentProvider::Erp),
                    provider_event_id: Set(None),
                    provider_ref: Set(unit.reference.clone()),
                    method: Set(unit.method),
                    amount_minor: Set(unit.amount),
                    unapplied_minor: Set(remaining),
                    currency: Set(currency.clone()),
                    status: Set(PaymentStatus::Succeeded),
                    received_at: Set(unit.received_at()),
                    created_at: Set(ctx.now),
                    ..Default::default()
                }
                .insert(db)
                .await?
                .id
            }
        };
        for (doc_id, amount) in &applications {
            payment_application::ActiveModel {
                payment_id: Set(payment_id),
                document_id: Set(*doc_id),
                amount_minor: Set(*amount),
                created_at: Set(ctx.now),
                ..Default::default()
            }
            .insert(db)
            .await?;
            if let Some(doc) = docs.get_mut(doc_id) {
                doc.open -= amount;
            }
        }
        let touched: Vec<i64> = previous
            .iter()
            .chain(&applications)
            .map(|(d, _)| *d)
            .collect();
        for doc_id in touched {
            if let Some(doc) = docs.get_mut(&doc_id) {
                if matches!(doc.status, DocumentStatus::Open | DocumentStatus::Paid) {
                    doc.status = if doc.open > 0 {
                        DocumentStatus::Open
                    } else {
                        DocumentStatus::Paid
                    };
                }
                document::Entity::update_many()
                    .col_expr(document::Column::OpenMinor, Expr::value(doc.open))
                    .col_expr(document::Column::Status, Expr::value(doc.status))
                    .col_expr(document::Column::UpdatedAt, Expr::value(ctx.now))
                    .filter(document::COLUMN.id.eq(doc.id))
                    .exec(db)
                    .await?;
            }
        }
        if old.is_none() {
            changes.push((
                "created",
                String::new(),
                format!("{} {currency}", unit.amount),
            ));
        }
        for (field, before, after) in changes {
            ctx.audit(
                db,
                account.id,
                ("payment", payment_id),
                field,
                (!before.is_empty()).then_some(before),
                (!after.is_empty()).then_some(after),
            )
            .await?;
        }
    }
    Ok(out)
}

fn describe(apps: &[(i64, i64)]) -> String {
    apps.iter()
        .map(|(d, a)| format!("document {d}: {a}"))
        .collect::<Vec<_>>()
        .join(", ")
}
