//! The `accounts` kind: customers (or vendors) by external id, created or updated field by
//! field, each changed field audited.

use std::collections::HashMap;

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter};

use super::table::{Column, Row, opt, req};
use super::{Ctx, Kind, Outcome, Prepared, Repeat, Seen, fingerprint, values};
use crate::entities::account;
use crate::error::AppError;
use crate::model::accounts::{AccountField, check_account_field};
use crate::model::enums::{AccountKind, AccountStatus};

const COLUMNS: &[Column] = &[
    req("external_id"),
    req("account_number"),
    req("legal_name"),
    opt("display_name"),
    opt("kind"),
    opt("phone"),
    opt("website"),
    opt("payment_terms_days"),
    opt("credit_limit"),
    opt("currency"),
    opt("status"),
    opt("segment"),
];

/// The fields an account row sets, as stored text ("" for none), in this order.
const FIELDS: &[&str] = &[
    "account_number",
    "legal_name",
    "display_name",
    "kind",
    "phone",
    "website",
    "payment_terms_days",
    "credit_limit_minor",
    "currency",
    "status",
    "segment",
];

#[derive(Default)]
pub struct Accounts {
    state: State,
}

pub struct Unit {
    line: i64,
    external_id: String,
    /// (field, stored text) for every field the file gives.
    values: Vec<(&'static str, String)>,
}

impl Unit {
    fn value(&self, field: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
    }
}

fn parse(row: &Row) -> Result<Unit, Vec<super::Reject>> {
    let mut rejects = Vec::new();
    let mut values: Vec<(&'static str, String)> = Vec::new();
    let mut put = |field: &'static str, column: &str, checked: Result<String, String>| match checked
    {
        Ok(v) => values.push((field, v)),
        Err(reason) => rejects.push(row.reject(column, reason)),
    };
    let external_id = row.get("external_id").to_owned();
    put(
        "external_id",
        "external_id",
        values::text(&external_id, true, 100),
    );
    put(
        "account_number",
        "account_number",
        values::text(row.get("account_number"), true, 50),
    );
    let legal = check_account_field(AccountField::LegalName, row.get("legal_name"));
    put("legal_name", "legal_name", legal.clone());
    if let Some(display) = row.given("display_name") {
        let display = if display.is_empty() {
            legal.clone().unwrap_or_default()
        } else {
            display.to_owned()
        };
        put(
            "display_name",
            "display_name",
            check_account_field(AccountField::DisplayName, &display),
        );
    }
    if let Some(kind) = row.given("kind") {
        let parsed = match kind {
            "" | "customer" => Ok(AccountKind::Customer.to_string()),
            "vendor" => Ok(AccountKind::Vendor.to_string()),
            _ => Err("not customer or vendor".to_owned()),
        };
        put("kind", "kind", parsed);
    }
    if let Some(v) = row.given("phone") {
        put(
            "phone",
            "phone",
            check_account_field(AccountField::Phone, v),
        );
    }
    if let Some(v) = row.given("website") {
        put(
            "website",
            "website",
            check_account_field(AccountField::Website, v),
        );
    }
    if let Some(v) = row.given("payment_terms_days") {
        let v = if v.is_empty() { "30" } else { v };
        put(
            "payment_terms_days",
            "payment_terms_days",
            check_account_field(AccountField::PaymentTermsDays, v),
        );
    }
    if let Some(v) = row.given("credit_limit") {
        let parsed = if v.is_empty() {
            Ok(String::new())
        } else {
            values::amount(v).and_then(|m| {
                if m < 0 {
                    Err("a credit limit cannot be negative".to_owned())
                } else {
                    Ok(m.to_string())
                }
            })
        };
        put("credit_limit_minor", "credit_limit", parsed);
    }
    if let Some(v) = row.given("currency") {
        let v = if v.is_empty() { "USD" } else { v };
        put("currency", "currency", values::currency(v));
    }
    if let Some(v) = row.given("status") {
        let v = if v.is_empty() { "active" } else { v };
        put(
            "status",
            "status",
            check_account_field(AccountField::Status, v),
        );
    }
    if let Some(v) = row.given("segment") {
        put(
            "segment",
            "segment",
            check_account_field(AccountField::Segment, v),
        );
    }
    if rejects.is_empty() {
        values.retain(|(f, _)| *f != "external_id");
        Ok(Unit {
            line: row.line,
            external_id,
            values,
        })
    } else {
        Err(rejects)
    }
}

fn current(a: &account::Model, field: &str) -> String {
    match field {
        "account_number" => a.account_number.clone(),
        "legal_name" => a.legal_name.clone(),
        "display_name" => a.display_name.clone(),
        "kind" => a.kind.to_string(),
        "phone" => a.phone.clone().unwrap_or_default(),
        "website" => a.website.clone().unwrap_or_default(),
        "payment_terms_days" => a.payment_terms_days.to_string(),
        "credit_limit_minor" => a
            .credit_limit_minor
            .map(|m| m.to_string())
            .unwrap_or_default(),
        "currency" => a.currency.clone(),
        "status" => a.status.to_string(),
        "segment" => a.segment.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

fn set(a: &mut account::ActiveModel, field: &str, v: &str) {
    let some = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    match field {
        "account_number" => a.account_number = Set(v.to_owned()),
        "legal_name" => a.legal_name = Set(v.to_owned()),
        "display_name" => a.display_name = Set(v.to_owned()),
        "kind" => a.kind = Set(AccountKind::parse(v).unwrap_or(AccountKind::Customer)),
        "phone" => a.phone = Set(some(v)),
        "website" => a.website = Set(some(v)),
        "payment_terms_days" => a.payment_terms_days = Set(v.parse().unwrap_or(30)),
        "credit_limit_minor" => a.credit_limit_minor = Set(v.parse().ok()),
        "currency" => a.currency = Set(v.to_owned()),
        "status" => a.status = Set(AccountStatus::parse(v).unwrap_or(AccountStatus::Active)),
        "segment" => a.segment = Set(some(v)),
        _ => {}
    }
}

/// Per-file state: external ids and account numbers seen so far.
#[derive(Default)]
pub struct State {
    ids: Seen,
    numbers: Seen,
}

impl Kind for Accounts {
    type Unit = Unit;

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn prepare(&mut self, rows: Vec<Row>) -> Prepared<Unit> {
        prepare(&mut self.state, rows)
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

/// Checks one row against what the file said before.
pub(crate) fn prepare(state: &mut State, rows: Vec<Row>) -> Prepared<Unit> {
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
    let number = unit.value("account_number").unwrap_or_default().to_owned();
    match state
        .numbers
        .check(&number, row.line, fingerprint(&unit.external_id))
    {
        Repeat::Different(first) => {
            return Prepared::Rejected(
                n,
                vec![row.reject(
                    "account_number",
                    format!("line {first} gives this account number to another external id"),
                )],
            );
        }
        Repeat::First | Repeat::Same => {}
    }
    let (key, content) = (unit.external_id.clone(), fingerprint(&unit.values));
    state.ids.admit(unit, &key, &row, n, content)
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
    let by_ext: HashMap<String, account::Model> = account::Entity::find()
        .filter(
            account::COLUMN
                .external_id
                .is_in(units.iter().map(|u| u.external_id.clone())),
        )
        .all(db)
        .await?
        .into_iter()
        .filter_map(|a| a.external_id.clone().map(|e| (e, a)))
        .collect();
    let by_number: HashMap<String, account::Model> = account::Entity::find()
        .filter(
            account::COLUMN.account_number.is_in(
                units
                    .iter()
                    .filter_map(|u| u.value("account_number").map(str::to_owned)),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.account_number.clone(), a))
        .collect();
    for unit in units {
        let number = unit.value("account_number").unwrap_or_default();
        let holder = by_number.get(number);
        let existing = match by_ext.get(&unit.external_id) {
            Some(a) => {
                if let Some(other) = holder.filter(|h| h.id != a.id) {
                    out.reject_rows(1, vec![number_taken(&unit, other)]);
                    continue;
                }
                Some(a)
            }
            None => match holder {
                // An account Settle had before the ERP: it takes the ERP's id.
                Some(h) if h.external_id.is_none() => Some(h),
                Some(h) => {
                    out.reject_rows(1, vec![number_taken(&unit, h)]);
                    continue;
                }
                None => None,
            },
        };
        match existing {
            None => {
                out.created += 1;
                if ctx.dry_run {
                    continue;
                }
                let mut new = account::ActiveModel {
                    kind: Set(AccountKind::Customer),
                    external_id: Set(Some(unit.external_id.clone())),
                    display_name: Set(unit.value("legal_name").unwrap_or_default().to_owned()),
                    payment_terms_days: Set(30),
                    currency: Set("USD".to_owned()),
                    status: Set(AccountStatus::Active),
                    version: Set(1),
                    created_at: Set(ctx.now),
                    updated_at: Set(ctx.now),
                    ..Default::default()
                };
                for (field, value) in &unit.values {
                    set(&mut new, field, value);
                }
                let created = new.insert(db).await?;
                ctx.audit(
                    db,
                    created.id,
                    ("account", created.id),
                    "created",
                    None,
                    Some(created.account_number.clone()),
                )
                .await?;
            }
            Some(a) => {
                let mut changes: Vec<(&str, String, String)> = FIELDS
                    .iter()
                    .filter_map(|f| {
                        let new = unit.value(f)?;
                        let old = current(a, f);
                        (old != new).then(|| (*f, old, new.to_owned()))
                    })
                    .collect();
                if a.external_id.as_deref() != Some(unit.external_id.as_str()) {
                    changes.push((
                        "external_id",
                        a.external_id.clone().unwrap_or_default(),
                        unit.external_id.clone(),
                    ));
                }
                if changes.is_empty() {
                    out.unchanged += 1;
                    continue;
                }
                out.updated += 1;
                if ctx.dry_run {
                    continue;
                }
                let mut active: account::ActiveModel = a.clone().into();
                for (field, _, new) in &changes {
                    set(&mut active, field, new);
                }
                active.external_id = Set(Some(unit.external_id.clone()));
                active.version = Set(a.version + 1);
                active.updated_at = Set(ctx.now);
                active.update(db).await?;
                for (field, old, new) in changes {
                    ctx.audit(
                        db,
                        a.id,
                        ("account", a.id),
                        field,
                        (!old.is_empty()).then_some(old),
                        (!new.is_empty()).then_some(new),
                    )
                    .await?;
                }
            }
        }
    }
    Ok(out)
}

fn number_taken(unit: &Unit, holder: &account::Model) -> super::Reject {
    super::Reject {
        line: unit.line,
        column: "account_number".to_owned(),
        reason: format!(
            "already the number of another account (external id {})",
            holder.external_id.as_deref().unwrap_or("none")
        ),
    }
}
