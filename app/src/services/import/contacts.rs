//! The `contacts` kind: people at accounts by external id, created or updated field by
//! field, each changed field audited. A changed email address is unverified again.

use std::collections::HashMap;

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter};

use super::table::{Column, Row, opt, req};
use super::{Ctx, Kind, Outcome, Prepared, Reject, Seen, fingerprint, values};
use crate::entities::{account, contact};
use crate::error::AppError;
use crate::model::accounts::{ContactField, check_contact_field};
use crate::model::enums::{ContactRole, EmailStatus};

const COLUMNS: &[Column] = &[
    req("external_id"),
    req("account_number"),
    req("name"),
    opt("email"),
    opt("phone"),
    opt("role"),
    opt("is_primary_billing"),
];

/// The fields a contact row sets, as stored text ("" for none).
const FIELDS: &[&str] = &[
    "account_number",
    "name",
    "email",
    "phone",
    "role",
    "is_primary_billing",
];

#[derive(Default)]
pub struct Contacts {
    ids: Seen,
}

pub struct Unit {
    line: i64,
    external_id: String,
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

fn parse(row: &Row) -> Result<Unit, Vec<Reject>> {
    let mut rejects = Vec::new();
    let mut values: Vec<(&'static str, String)> = Vec::new();
    let mut put = |field: &'static str, checked: Result<String, String>| match checked {
        Ok(v) => values.push((field, v)),
        Err(reason) => rejects.push(row.reject(field, reason)),
    };
    let external_id = row.get("external_id").to_owned();
    put("external_id", values::text(&external_id, true, 100));
    put(
        "account_number",
        values::text(row.get("account_number"), true, 50),
    );
    put(
        "name",
        check_contact_field(ContactField::Name, row.get("name")),
    );
    if let Some(v) = row.given("email") {
        put("email", check_contact_field(ContactField::Email, v));
    }
    if let Some(v) = row.given("phone") {
        put("phone", check_contact_field(ContactField::Phone, v));
    }
    if let Some(v) = row.given("role") {
        let v = if v.is_empty() { "ap" } else { v };
        put("role", check_contact_field(ContactField::Role, v));
    }
    if let Some(v) = row.given("is_primary_billing") {
        put(
            "is_primary_billing",
            values::yes_no(v).map(|b| b.to_string()),
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

fn current(c: &contact::Model, account_number: &str, field: &str) -> String {
    match field {
        "account_number" => account_number.to_owned(),
        "name" => c.name.clone(),
        "email" => c.email.clone().unwrap_or_default(),
        "phone" => c.phone.clone().unwrap_or_default(),
        "role" => c.role.to_string(),
        "is_primary_billing" => c.is_primary_billing.to_string(),
        _ => String::new(),
    }
}

fn set(c: &mut contact::ActiveModel, field: &str, v: &str, account_id: i64) {
    let some = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    match field {
        "account_number" => c.account_id = Set(account_id),
        "name" => c.name = Set(v.to_owned()),
        "email" => {
            c.email = Set(some(v));
            c.email_status = Set(EmailStatus::Unverified);
        }
        "phone" => c.phone = Set(some(v)),
        "role" => c.role = Set(ContactRole::parse(v).unwrap_or(ContactRole::Ap)),
        "is_primary_billing" => c.is_primary_billing = Set(v == "true"),
        _ => {}
    }
}

impl Kind for Contacts {
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
        let (key, content) = (unit.external_id.clone(), fingerprint(&unit.values));
        self.ids.admit(unit, &key, &row, n, content)
    }

    async fn apply(
        &mut self,
        db: &impl ConnectionTrait,
        units: Vec<Unit>,
        ctx: &Ctx,
    ) -> Result<Outcome, AppError> {
        let mut out = Outcome::default();
        if units.is_empty() {
            return Ok(out);
        }
        let accounts: HashMap<String, i64> = account::Entity::find()
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
            .map(|a| (a.account_number, a.id))
            .collect();
        let existing: HashMap<String, contact::Model> = contact::Entity::find()
            .filter(
                contact::COLUMN
                    .external_id
                    .is_in(units.iter().map(|u| u.external_id.clone())),
            )
            .all(db)
            .await?
            .into_iter()
            .filter_map(|c| c.external_id.clone().map(|e| (e, c)))
            .collect();
        let numbers: HashMap<i64, String> = account::Entity::find()
            .filter(
                account::COLUMN
                    .id
                    .is_in(existing.values().map(|c| c.account_id)),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|a| (a.id, a.account_number))
            .collect();
        for unit in units {
            let number = unit.value("account_number").unwrap_or_default();
            let Some(&account_id) = accounts.get(number) else {
                out.reject_rows(
                    1,
                    vec![Reject {
                        line: unit.line,
                        column: "account_number".to_owned(),
                        reason: "no account has this number".to_owned(),
                    }],
                );
                continue;
            };
            match existing.get(&unit.external_id) {
                None => {
                    out.created += 1;
                    if ctx.dry_run {
                        continue;
                    }
                    let mut new = contact::ActiveModel {
                        account_id: Set(account_id),
                        external_id: Set(Some(unit.external_id.clone())),
                        role: Set(ContactRole::Ap),
                        is_primary_billing: Set(false),
                        email_status: Set(EmailStatus::Unverified),
                        version: Set(1),
                        created_at: Set(ctx.now),
                        updated_at: Set(ctx.now),
                        ..Default::default()
                    };
                    for (field, value) in &unit.values {
                        set(&mut new, field, value, account_id);
                    }
                    let created = new.insert(db).await?;
                    ctx.audit(
                        db,
                        account_id,
                        ("contact", created.id),
                        "created",
                        None,
                        Some(created.name.clone()),
                    )
                    .await?;
                }
                Some(c) => {
                    let held = numbers.get(&c.account_id).map_or("", String::as_str);
                    let changes: Vec<(&str, String, String)> = FIELDS
                        .iter()
                        .filter_map(|f| {
                            let new = unit.value(f)?;
                            let old = current(c, held, f);
                            (old != new).then(|| (*f, old, new.to_owned()))
                        })
                        .collect();
                    if changes.is_empty() {
                        out.unchanged += 1;
                        continue;
                    }
                    out.updated += 1;
                    if ctx.dry_run {
                        continue;
                    }
                    let mut active: contact::ActiveModel = c.clone().into();
                    for (field, _, new) in &changes {
                        set(&mut active, field, new, account_id);
                    }
                    active.version = Set(c.version + 1);
                    active.updated_at = Set(ctx.now);
                    active.update(db).await?;
                    for (field, old, new) in changes {
                        ctx.audit(
                            db,
                            account_id,
                            ("contact", c.id),
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
}
