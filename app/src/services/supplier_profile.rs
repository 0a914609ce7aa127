//! The supplier's own profile as customers may see it: on a public page, as a vCard for
//! their address book, and by email when staff send it to chosen contacts.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait, TryInsertResult, prelude::*,
};
use serde_json::json;

use crate::api::supplier_profile::{ArContact, ContactChoice, SupplierCard};
use crate::entities::{account, contact, staff_user, supplier, template};
use crate::error::AppError;
use crate::model::enums::{ActorKind, Channel, StaffRole, TemplateChannel};
use crate::services::audit::{self, Change};
use crate::services::mail;

/// Key of the email that carries the supplier's profile (ctx: `contact_name`, `company`,
/// `supplier`, `legal_name`, `remit_to`, `remit_to_lines`, `supplier_email`,
/// `supplier_phone`, `ar_contacts` (each with `name` and `email`), `staff_name`,
/// `profile_link`, `vcard_link`).
pub const SHARE_TEMPLATE: &str = "supplier_profile_share";
/// How many contacts one share may reach.
pub const MAX_SHARE_CONTACTS: usize = 50;
/// How many receivables staff the card lists at most.
const AR_CONTACT_LIMIT: u64 = 20;
/// A TIN shorter than this (letters and digits) gets no hint at all: four characters
/// would give away too much of it.
const TIN_HINT_MIN_LEN: usize = 8;
/// RFC 6350: lines longer than this many octets are folded.
const VCARD_LINE_OCTETS: usize = 75;

const SHARE_NAME: &str = "Our billing details, shared by staff";
const SHARE_SUBJECT: &str = "{{ supplier }}: where to send payments and whom to ask";
const SHARE_TEXT: &str = "Hello {{ contact_name }},

{{ staff_name }} at {{ supplier }} sent you our billing details, so {{ company }} has them at hand.

Please send payments to:
{{ remit_to }}

Questions about invoices or payments:
{% for c in ar_contacts %}
- {{ c.name }}, {{ c.email }}{% endfor %}
- {{ supplier_email }}{% if supplier_phone %}, {{ supplier_phone }}{% endif %}

Our profile: {{ profile_link }}
Add us to your address book: {{ vcard_link }}
";
const SHARE_HTML: &str = "<p>Hello {{ contact_name }},</p>
<p>{{ staff_name }} at {{ supplier }} sent you our billing details, so {{ company }} has them at hand.</p>
<p>Please send payments to:<br>
{% for line in remit_to_lines %}{{ line }}<br>
{% endfor %}</p>
<p>Questions about invoices or payments:</p>
<ul>{% for c in ar_contacts %}<li>{{ c.name }}, <a href=\"mailto:{{ c.email }}\">{{ c.email }}</a></li>{% endfor %}
<li><a href=\"mailto:{{ supplier_email }}\">{{ supplier_email }}</a>{% if supplier_phone %}, {{ supplier_phone }}{% endif %}</li></ul>
<p><a href=\"{{ profile_link }}\">Our profile</a> · <a href=\"{{ vcard_link }}\">Add us to your address book (vCard)</a></p>
";

/// Inserts the share email's template unless its key exists, and returns how many it added
/// (0 or 1). An admin's edits survive; safe to run from several processes at once.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn seed_template(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let row = template::ActiveModel {
        key: Set(SHARE_TEMPLATE.to_owned()),
        channel: Set(TemplateChannel::Email),
        name: Set(SHARE_NAME.to_owned()),
        subject: Set(SHARE_SUBJECT.to_owned()),
        body_text: Set(SHARE_TEXT.to_owned()),
        body_html: Set(Some(SHARE_HTML.to_owned())),
        version: Set(1),
        updated_at: Set(now),
        ..Default::default()
    };
    let result = template::Entity::insert(row)
        .on_conflict_do_nothing_on([template::Column::Key])
        .exec(db)
        .await?;
    Ok(usize::from(matches!(result, TryInsertResult::Inserted(_))))
}

/// The supplier's profile as anyone may see it: names, email, phone, website, remit-to,
/// the active admins and collectors with their email addresses, and at most the TIN's
/// last four characters.
///
/// # Errors
/// `NotFound` when there is no supplier row; database errors as `Internal`.
pub async fn public_profile(db: &impl ConnectionTrait) -> Result<SupplierCard, AppError> {
    Ok(load(db).await?.1)
}

/// The supplier row's id and its card.
async fn load(db: &impl ConnectionTrait) -> Result<(i64, SupplierCard), AppError> {
    let supplier = supplier::Entity::find()
        .order_by_asc(supplier::COLUMN.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let ar_contacts = staff_user::Entity::find()
        .filter(staff_user::COLUMN.active.eq(true))
        .filter(
            staff_user::COLUMN
                .role
                .is_in([StaffRole::Admin, StaffRole::Collector]),
        )
        .order_by_asc(staff_user::COLUMN.name)
        .order_by_asc(staff_user::COLUMN.id)
        .limit(AR_CONTACT_LIMIT)
        .all(db)
        .await?
        .into_iter()
        .map(|s| ArContact {
            name: s.name,
            email: s.email,
        })
        .collect();
    let card = SupplierCard {
        name: supplier.display_name,
        legal_name: supplier.legal_name,
        email: supplier.email,
        phone: non_empty(supplier.phone),
        website: non_empty(supplier.website),
        remit_to: supplier.remit_to.trim().to_owned(),
        currency: supplier.currency,
        tin_last4: supplier.tin.as_deref().and_then(tin_last4),
        ar_contacts,
    };
    Ok((supplier.id, card))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The last four letters or digits of a TIN long enough that they give little away.
fn tin_last4(tin: &str) -> Option<String> {
    let kept: Vec<char> = tin.chars().filter(char::is_ascii_alphanumeric).collect();
    (kept.len() >= TIN_HINT_MIN_LEN).then(|| kept[kept.len() - 4..].iter().collect())
}

/// The card as a vCard 3.0: CRLF line endings, text values escaped as RFC 6350 says
/// (backslash, comma, semicolon, line breaks), lines folded at 75 octets. The remit-to
/// address is the street part of a work `ADR`; the receivables contacts and the TIN note
/// go in `NOTE`.
pub fn vcard(card: &SupplierCard) -> String {
    let mut lines = vec![
        "BEGIN:VCARD".to_owned(),
        "VERSION:3.0".to_owned(),
        format!("FN:{}", escape_text(&card.name)),
        // vCard 3.0 requires N; an organisation's is empty.
        "N:;;;;".to_owned(),
        format!("ORG:{}", escape_text(&card.legal_name)),
        format!("EMAIL;TYPE=INTERNET,WORK:{}", escape_text(&card.email)),
    ];
    if let Some(phone) = &card.phone {
        lines.push(format!("TEL;TYPE=WORK,VOICE:{}", escape_text(phone)));
    }
    if let Some(website) = &card.website {
        // A URI value, not text: backslashes would become part of the address.
        lines.push(format!("URL:{}", uri_value(website)));
    }
    lines.push(format!(
        "ADR;TYPE=WORK:;;{};;;;",
        escape_text(&card.remit_to)
    ));
    lines.push(format!("NOTE:{}", escape_text(&note(card))));
    lines.push("END:VCARD".to_owned());
    let mut out = String::new();
    for line in lines {
        fold_into(&mut out, &line);
    }
    out
}

/// The vCard's note: whom to ask about invoices, the currency, and the TIN.
fn note(card: &SupplierCard) -> String {
    let mut note = String::new();
    if !card.ar_contacts.is_empty() {
        note.push_str("Accounts receivable:\n");
        for c in &card.ar_contacts {
            note.push_str(&format!("{} <{}>\n", c.name, c.email));
        }
    }
    note.push_str(&format!(
        "Invoices in {}.\n{}.",
        card.currency,
        card.tin_text()
    ));
    note
}

/// Escapes a text value: `\` `,` `;` get a backslash, any line break becomes `\n`, other
/// control characters are dropped.
fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn uri_value(value: &str) -> String {
    value.trim().chars().filter(|c| !c.is_control()).collect()
}

/// Appends `line` and its CRLF, folded so no physical line exceeds 75 octets; a fold never
/// splits a UTF-8 character, and each continuation line starts with one space.
fn fold_into(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > VCARD_LINE_OCTETS {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// Staff member `staff_id` emails the supplier's profile to `contact_ids`: one email per
/// contact with an email address (the others are skipped), and one audit event, all in one
/// transaction. Returns how many emails were queued.
///
/// # Errors
/// `Validation` (`contacts`) when no contact is given, more than [`MAX_SHARE_CONTACTS`] are,
/// an id is unknown, or none of the contacts has an email address; `Unauthorized` for an
/// unknown staff user; `NotFound` when there is no supplier row or the template is missing
/// (see [`seed_template`]); database errors as `Internal`. Nothing is written then.
pub async fn share(
    db: &(impl ConnectionTrait + TransactionTrait),
    public_url: &str,
    staff_id: i64,
    contact_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let mut ids = contact_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(AppError::validation(
            "contacts",
            "enter at least one contact id",
        ));
    }
    if ids.len() > MAX_SHARE_CONTACTS {
        return Err(AppError::validation(
            "contacts",
            format!("share with at most {MAX_SHARE_CONTACTS} contacts at a time"),
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let me = staff_user::Entity::find_by_id(staff_id)
        .one(&txn)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let contacts = contact::Entity::find()
        .filter(contact::COLUMN.id.is_in(ids.iter().copied()))
        .order_by_asc(contact::COLUMN.id)
        .all(&txn)
        .await?;
    let unknown: Vec<String> = ids
        .iter()
        .filter(|id| !contacts.iter().any(|c| c.id == **id))
        .map(i64::to_string)
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::validation(
            "contacts",
            format!("no contact has the id {}", unknown.join(", ")),
        ));
    }
    let recipients: Vec<&contact::Model> = contacts
        .iter()
        .filter(|c| c.email.as_deref().is_some_and(|e| !e.trim().is_empty()))
        .collect();
    if recipients.is_empty() {
        return Err(AppError::validation(
            "contacts",
            "none of these contacts has an email address",
        ));
    }
    let (supplier_id, card) = load(&txn).await?;
    let base = public_url.trim_end_matches('/');
    let ctx = json!({
        "supplier": card.name,
        "legal_name": card.legal_name,
        "remit_to": card.remit_to,
        "remit_to_lines": card.remit_to.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>(),
        "supplier_email": card.email,
        "supplier_phone": card.phone,
        "ar_contacts": card.ar_contacts,
        "staff_name": me.name,
        "profile_link": format!("{base}/supplier"),
        "vcard_link": format!("{base}/supplier.vcf"),
    });
    for c in &recipients {
        mail::send_to_contact(&txn, public_url, c.id, SHARE_TEMPLATE, ctx.clone(), now).await?;
    }
    let sent = recipients.len();
    audit::append(
        &txn,
        Change {
            actor_kind: ActorKind::Staff,
            actor_id: Some(me.id),
            channel: Channel::StaffUi,
            account_id: None,
            entity: "supplier",
            entity_id: Some(supplier_id),
            field: Some("shared"),
            old_value: None,
            new_value: Some(format!("{sent} contacts")),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(sent)
}

/// Contacts with an email address whose name, address or company contains `q` (any case,
/// wildcards literal), at most `limit`, by company then name; nothing for a blank `q`.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn find_contacts(
    db: &impl ConnectionTrait,
    q: &str,
    limit: u64,
) -> Result<Vec<ContactChoice>, AppError> {
    use sea_orm::sea_query::{ExprTrait as _, Func, LikeExpr};
    use sea_orm::{Condition, QueryTrait};
    let q = q.trim();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let pattern = crate::services::documents::contains_pattern(&q.to_lowercase());
    let lower_like = |column: contact::Column| {
        Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern.clone()).escape('\\'))
    };
    let companies = account::Entity::find()
        .filter(crate::services::accounts::search(q))
        .select_only()
        .column(account::Column::Id)
        .into_query();
    let found = contact::Entity::find()
        .filter(contact::COLUMN.email.is_not_null())
        .filter(
            Condition::any()
                .add(lower_like(contact::Column::Name))
                .add(lower_like(contact::Column::Email))
                .add(contact::COLUMN.account_id.in_subquery(companies)),
        )
        .order_by_asc(contact::COLUMN.account_id)
        .order_by_asc(contact::COLUMN.name)
        .limit(limit)
        .all(db)
        .await?;
    let names: std::collections::HashMap<i64, String> = account::Entity::find()
        .filter(account::COLUMN.id.is_in(found.iter().map(|c| c.account_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.display_name))
        .collect();
    Ok(found
        .into_iter()
        .map(|c| ContactChoice {
            id: c.id,
            company: names.get(&c.account_id).cloned().unwrap_or_default(),
            name: c.name,
            email: c.email.unwrap_or_default(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_backslash_comma_semicolon_and_line_breaks() {
        assert_eq!(
            escape_text("a\\b,c;d\r\ne\nf\rg\u{7}"),
            "a\\\\b\\,c\\;d\\ne\\nf\\ng"
        );
    }

    #[test]
    fn folding_keeps_characters_whole() {
        let mut out = String::new();
        fold_into(&mut out, &"é".repeat(60));
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= VCARD_LINE_OCTETS, "{line}");
        }
        assert_eq!(out.replace("\r\n ", ""), format!("{}\r\n", "é".repeat(60)));
    }

    #[test]
    fn only_a_long_enough_tin_gets_a_hint() {
        assert_eq!(tin_last4("93-1234567").as_deref(), Some("4567"));
        assert_eq!(tin_last4("12-345"), None);
    }
}
