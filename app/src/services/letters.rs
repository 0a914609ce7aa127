//! Direct mail for customers without an email address: four letter templates (stored
//! with the email templates, so admins edit them the same way), the accounts that need a
//! letter, and one printable PDF with each account's letter followed by its statement.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use minijinja::{Environment, UndefinedBehavior};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use sea_orm::sea_query::{Expr, ExprTrait as _, Func};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, TryInsertResult, prelude::*,
};

use crate::entities::{account, address, contact, supplier, template};
use crate::error::AppError;
use crate::model::enums::{AccountKind, AccountStatus, AddressKind, TemplateChannel};
use crate::services::documents;
use crate::services::templates::DefaultTemplate;

/// Key of letter #1: online accounts are coming, please verify your contact details.
pub const ONLINE_ACCOUNTS: &str = "letter_online_accounts";
/// Key of letter #2: statements are moving online.
pub const STATEMENTS_ONLINE: &str = "letter_statements_online";
/// Key of letter #3: accounts are online now, please submit a billing contact.
pub const BILLING_CONTACT: &str = "letter_billing_contact";
/// Key of letter #4: reminder, the billing contact is still missing.
pub const REMINDER: &str = "letter_reminder";

/// The letters `seed_letters` creates when their key is missing (ctx of each: `company`,
/// `account_number`, `registration_url`, `date`, `supplier`). The subject is printed as
/// the "RE:" line; the text is the letter from the salutation to the enclosure line.
pub const LETTER_DEFAULTS: &[DefaultTemplate] = &[
    DefaultTemplate {
        key: ONLINE_ACCOUNTS,
        name: "Letter 1: online accounts are coming",
        subject: "Important Changes to Our Billing Process",
        text: "Dear Accounts Payable team at {{ company }},

We are pleased to announce that beginning {{ date }}, we are moving to 100% online accounts. A new self-service portal gives you access to your invoices, statements and supporting documents and lets you pay online, without calling or emailing us for information. You can even send us a message there.

On your next billing cycle, we will send your invoice by email. A secure link in that email opens your online account and lets you pay, without creating another password.

We are writing to ask you to verify your email address and contact information. Please visit {{ registration_url }} and enter your account number, {{ account_number }}, to verify your account on the contact form.

To learn more, visit the registration site above, where you will also find an overview video.

We look forward to this new service and hope you will enjoy the simpler process as well. Please do not hesitate to contact us with any questions or concerns.

Best regards,

{{ supplier }}

Enclosure: Customer Statement
",
        html: "",
    },
    DefaultTemplate {
        key: STATEMENTS_ONLINE,
        name: "Letter 2: statements move online",
        subject: "Moving Customer Statements Online",
        text: "Dear Accounts Payable team at {{ company }},

As we get ready to switch to online invoice delivery, we want to make sure you are fully prepared for the simpler process. In a secure portal you will have access to all of your invoices and statements, and you can pay online or send us a message at the click of a button.

So that we can deliver your invoices and statements online, please verify your email address and contact information: visit {{ registration_url }} and enter your account number, {{ account_number }}, to verify your account on the contact form. To learn more, visit the registration site, where you will also find an overview video.

On your next billing cycle, we will send your invoice by email, and you can pay it with the method of your choice. Please do not hesitate to contact us with any questions or concerns.

Best regards,

{{ supplier }}

Enclosure: Customer Statement
",
        html: "",
    },
    DefaultTemplate {
        key: BILLING_CONTACT,
        name: "Letter 3: please submit your billing contact",
        subject: "Please Submit Your Billing Contact Information",
        text: "Dear Accounts Payable team at {{ company }},

As of {{ date }}, our accounts are 100% online: you have secure access to your invoices and statements at any time, and you can pay online with a secure link, without creating and remembering another password.

Unfortunately, we have not yet received an email address for your account. To provide online account services, we need your preferred billing contact information. Please visit {{ registration_url }} and submit your contact information using your account number: {{ account_number }}.

Once the form is complete, you will receive your invoices and statements by email from your next billing cycle on. To learn more, visit the registration site, where you will also find an overview video.

Please do not hesitate to contact us with any questions or concerns.

Best regards,

{{ supplier }}

Enclosure: Customer Statement
",
        html: "",
    },
    DefaultTemplate {
        key: REMINDER,
        name: "Letter 4: reminder, billing contact needed",
        subject: "Billing Contact Information Needed",
        text: "Dear Accounts Payable team at {{ company }},

This is a reminder to please submit your billing contact information, so that we can move you to our 100% online accounts, where you will have secure access to your invoices and statements at any time.

You can submit your email address and billing contact information at {{ registration_url }}. On the form, verify your account with your account number: {{ account_number }}.

To learn more, visit the registration site, where you will also find an overview video.

Best regards,

{{ supplier }}

Enclosure: Customer Statement
",
        html: "",
    },
];

/// Inserts every letter template whose key is missing and returns how many it added.
/// Templates that exist are left alone, so admins' edits survive; safe to run from
/// several processes at once.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn seed_letters(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let mut added = 0;
    for default in LETTER_DEFAULTS {
        let row = template::ActiveModel {
            key: Set(default.key.to_owned()),
            channel: Set(TemplateChannel::Letter),
            name: Set(default.name.to_owned()),
            subject: Set(default.subject.to_owned()),
            body_text: Set(default.text.to_owned()),
            body_html: Set(None),
            version: Set(1),
            updated_at: Set(now),
            ..Default::default()
        };
        let result = template::Entity::insert(row)
            .on_conflict_do_nothing_on([template::Column::Key])
            .exec(db)
            .await?;
        if matches!(result, TryInsertResult::Inserted(_)) {
            added += 1;
        }
    }
    Ok(added)
}

/// The stored letter templates, in the order they were created.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn list_templates(db: &impl ConnectionTrait) -> Result<Vec<template::Model>, AppError> {
    Ok(template::Entity::find()
        .filter(template::COLUMN.channel.eq(TemplateChannel::Letter))
        .order_by_asc(template::COLUMN.id)
        .all(db)
        .await?)
}

/// The stored letter template `key`.
///
/// # Errors
/// `Validation` (field `template`) when no letter template has that key; database errors
/// as `Internal`.
pub async fn get_template(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<template::Model, AppError> {
    template::Entity::find()
        .filter(template::COLUMN.key.eq(key))
        .filter(template::COLUMN.channel.eq(TemplateChannel::Letter))
        .one(db)
        .await?
        .ok_or_else(|| AppError::validation("template", "is not a letter template"))
}

/// Active customer accounts none of whose contacts has an email address, by account
/// number: the accounts only a letter reaches.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn accounts_without_email(
    db: &impl ConnectionTrait,
) -> Result<Vec<account::Model>, AppError> {
    let with_email = contact::Entity::find()
        .select_only()
        .column(contact::Column::AccountId)
        .filter(contact::COLUMN.email.is_not_null())
        .filter(Expr::expr(Func::cust("TRIM").arg(Expr::col(contact::Column::Email))).ne(""))
        .into_query();
    Ok(account::Entity::find()
        .filter(account::COLUMN.kind.eq(AccountKind::Customer))
        .filter(account::COLUMN.status.eq(AccountStatus::Active))
        .filter(account::Column::Id.not_in_subquery(with_email))
        .order_by_asc(account::COLUMN.account_number)
        .all(db)
        .await?)
}

/// The address a letter to each of `account_ids` goes to: the mailing address, else the
/// billing address. Accounts with neither are missing from the map.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn mailing_addresses(
    db: &impl ConnectionTrait,
    account_ids: &[i64],
) -> Result<HashMap<i64, address::Model>, AppError> {
    let rows = address::Entity::find()
        .filter(
            address::COLUMN
                .account_id
                .is_in(account_ids.iter().copied()),
        )
        .filter(
            address::COLUMN
                .kind
                .is_in([AddressKind::Mailing, AddressKind::Billing]),
        )
        .order_by_asc(address::COLUMN.id)
        .all(db)
        .await?;
    let mut out: HashMap<i64, address::Model> = HashMap::new();
    for row in rows {
        let replace = out.get(&row.account_id).is_none_or(|kept| {
            kept.kind != AddressKind::Mailing && row.kind == AddressKind::Mailing
        });
        if replace {
            out.insert(row.account_id, row);
        }
    }
    Ok(out)
}

/// Reads the `accounts` query parameter: account ids separated by commas.
///
/// # Errors
/// `Validation` (field `accounts`) when a part is not an id or the list is empty.
pub fn parse_account_ids(list: &str) -> Result<Vec<i64>, AppError> {
    let ids = list
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<i64>()
                .map_err(|_| AppError::validation("accounts", "expected account ids like 1,2,3"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Err(AppError::validation(
            "accounts",
            "choose at least one account",
        ));
    }
    Ok(ids)
}

/// One letter as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Letter {
    supplier_name: String,
    remit_to: String,
    date: String,
    /// Name and postal address, one line each.
    recipient: Vec<String>,
    subject: String,
    body: String,
}

/// One PDF with, for each account, the letter `template_key` (starting on a new page)
/// followed by the account's statement over the last 90 days up to `today` as the
/// enclosure. `account_ids` of `None` means every account without an email address.
///
/// # Errors
/// `Validation` when `template_key` is not a letter template (field `template`), when an
/// account does not exist or there is no account to write to (field `accounts`), or when
/// the stored template does not render (field `template`); database errors as `Internal`.
pub async fn letters_pdf(
    db: &impl ConnectionTrait,
    template_key: &str,
    account_ids: Option<&[i64]>,
    registration_url: &str,
    today: NaiveDate,
) -> Result<Vec<u8>, AppError> {
    let stored = get_template(db, template_key).await?;
    let accounts = match account_ids {
        None => accounts_without_email(db).await?,
        Some(ids) => {
            let wanted: BTreeSet<i64> = ids.iter().copied().collect();
            let found = account::Entity::find()
                .filter(account::COLUMN.id.is_in(wanted.iter().copied()))
                .order_by_asc(account::COLUMN.account_number)
                .all(db)
                .await?;
            if let Some(missing) = wanted.iter().find(|id| !found.iter().any(|a| a.id == **id)) {
                return Err(AppError::validation(
                    "accounts",
                    format!("no account has the id {missing}"),
                ));
            }
            found
        }
    };
    if accounts.is_empty() {
        return Err(AppError::validation(
            "accounts",
            "no account needs a letter: every active customer has an email address",
        ));
    }
    let (supplier_name, remit_to) = supplier::Entity::find()
        .order_by_asc(supplier::COLUMN.id)
        .one(db)
        .await?
        .map(|s| (s.display_name, s.remit_to))
        .unwrap_or_default();
    let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
    let addresses = mailing_addresses(db, &ids).await?;
    let (from, to) = documents::parse_period(None, None, today)?;
    let date = today.format("%B %-d, %Y").to_string();

    let mut pages = Vec::new();
    for account in &accounts {
        let ctx = serde_json::json!({
            "company": account.display_name,
            "account_number": account.account_number,
            "registration_url": registration_url,
            "date": date,
            "supplier": supplier_name,
        });
        let (subject, body) = render(&stored, &ctx)?;
        let mut recipient = vec![account.display_name.clone()];
        if let Some(a) = addresses.get(&account.id) {
            recipient.extend(address_lines(a));
        }
        let letter = Letter {
            supplier_name: supplier_name.clone(),
            remit_to: remit_to.clone(),
            date: date.clone(),
            recipient,
            subject,
            body,
        };
        pages.extend(letter_pages(&letter, &account.account_number));
        let (_, statement) = documents::statement(db, account.id, from, to).await?;
        let Some(enclosure) = page_contents(&statement) else {
            tracing::error!(
                account = account.id,
                "the statement PDF could not be taken apart"
            );
            return Err(AppError::Internal);
        };
        pages.extend(enclosure);
    }
    Ok(assemble(pages, &format!("{} letters {today}", stored.name)))
}

/// Renders the subject and text of a stored letter; a placeholder the context does not
/// fill is an error rather than a blank on paper.
fn render(stored: &template::Model, ctx: &serde_json::Value) -> Result<(String, String), AppError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    let invalid = |err: minijinja::Error| {
        tracing::error!(key = %stored.key, %err, "a stored letter template failed to render");
        AppError::validation("template", format!("{err:#}"))
    };
    env.add_template("subject.txt", &stored.subject)
        .map_err(invalid)?;
    env.add_template("body.txt", &stored.body_text)
        .map_err(invalid)?;
    let part = |name: &str| {
        env.get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(invalid)
    };
    let subject = part("subject.txt")?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Ok((subject, part("body.txt")?))
}

/// A postal address as printed under the recipient's name (the country only when it is
/// not the US).
fn address_lines(a: &address::Model) -> Vec<String> {
    let mut lines = vec![a.line1.clone()];
    lines.extend(a.line2.clone().filter(|l| !l.trim().is_empty()));
    lines.push(format!("{}, {} {}", a.city, a.region, a.postal_code));
    if !a.country.trim().is_empty() && !a.country.eq_ignore_ascii_case("US") {
        lines.push(a.country.clone());
    }
    lines
}

const PAGE_W: f32 = 612.0;
const PAGE_H: f32 = 792.0;
const MARGIN: f32 = 50.0;
const LEFT: f32 = 72.0;
const RIGHT: f32 = PAGE_W - LEFT;
const BODY_SIZE: f32 = 10.5;
const LEADING: f32 = 14.0;
/// The font names `pdf.rs` draws with; the enclosed statement pages use them unchanged.
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// The content streams of a letter: letterhead, date, recipient, account number, "RE:"
/// line and the text, over as many pages as it needs.
fn letter_pages(letter: &Letter, account_number: &str) -> Vec<Vec<u8>> {
    let mut w = Pages::new();
    w.text(MARGIN, 16.0, BOLD, &letter.supplier_name);
    w.down(14.0);
    for line in letter.remit_to.lines().filter(|l| !l.trim().is_empty()) {
        w.text(MARGIN, 9.0, REGULAR, line.trim());
        w.down(11.0);
    }
    w.down(4.0);
    w.rule();
    w.down(36.0);
    w.text(LEFT, BODY_SIZE, REGULAR, &letter.date);
    w.down(36.0);
    for (i, line) in letter.recipient.iter().enumerate() {
        w.text(LEFT, 11.0, if i == 0 { BOLD } else { REGULAR }, line);
        w.down(LEADING);
    }
    w.down(LEADING);
    w.text(
        LEFT,
        BODY_SIZE,
        REGULAR,
        &format!("Account number: {account_number}"),
    );
    w.down(2.0 * LEADING);
    for line in wrap(&format!("RE: {}", letter.subject), 11.0, RIGHT - LEFT) {
        w.ensure(LEADING);
        w.text(LEFT, 11.0, BOLD, &line);
        w.down(LEADING);
    }
    w.down(LEADING);
    for paragraph in letter.body.trim_end().lines() {
        if paragraph.trim().is_empty() {
            w.down(LEADING * 0.6);
            continue;
        }
        for line in wrap(paragraph, BODY_SIZE, RIGHT - LEFT) {
            w.ensure(LEADING);
            w.text(LEFT, BODY_SIZE, REGULAR, &line);
            w.down(LEADING);
        }
    }
    w.finish()
}

/// Lays text out top to bottom; each page becomes one content stream.
struct Pages {
    done: Vec<Vec<u8>>,
    current: Content,
    y: f32,
}

impl Pages {
    fn new() -> Self {
        Pages {
            done: Vec::new(),
            current: Content::new(),
            y: PAGE_H - MARGIN,
        }
    }

    fn text(&mut self, x: f32, size: f32, font: Name<'_>, text: &str) {
        let bytes = win_ansi(text);
        self.current
            .begin_text()
            .set_font(font, size)
            .next_line(x, self.y)
            .show(Str(&bytes))
            .end_text();
    }

    fn down(&mut self, by: f32) {
        self.y -= by;
    }

    fn rule(&mut self) {
        self.current
            .set_line_width(0.5)
            .move_to(MARGIN, self.y)
            .line_to(PAGE_W - MARGIN, self.y)
            .stroke();
    }

    /// Starts a new page unless `needed` points are left.
    fn ensure(&mut self, needed: f32) {
        if self.y - needed < MARGIN {
            let page = std::mem::replace(&mut self.current, Content::new());
            self.done.push(page.finish().into_vec());
            self.y = PAGE_H - MARGIN;
        }
    }

    fn finish(mut self) -> Vec<Vec<u8>> {
        self.done.push(self.current.finish().into_vec());
        self.done
    }
}

/// One PDF of US-letter pages from their content streams, with the two Helvetica fonts
/// every page refers to as `/F1` and `/F2`.
fn assemble(pages: Vec<Vec<u8>>, title: &str) -> Vec<u8> {
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let regular_id = Ref::new(3);
    let bold_id = Ref::new(4);
    let info_id = Ref::new(5);
    let first_page = 6;
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(first_page + 2 * i32::try_from(i).unwrap_or(0)))
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().copied())
        .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));
    pdf.type1_font(regular_id)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold_id)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info_id)
        .title(pdf_writer::TextStr(title))
        .producer(pdf_writer::TextStr("Settle"));
    for (page_id, content) in page_ids.iter().zip(pages) {
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree_id);
        page.contents(content_id);
        let mut resources = page.resources();
        resources
            .fonts()
            .pair(REGULAR, regular_id)
            .pair(BOLD, bold_id);
        resources.finish();
        page.finish();
        pdf.stream(content_id, &content);
    }
    pdf.finish()
}

/// The content stream of every page of a PDF written by `pdf.rs`, in page order, or
/// `None` when the file is not laid out that way. Those PDFs have uncompressed streams,
/// one per page, drawn with the fonts `/F1` (Helvetica) and `/F2` (Helvetica-Bold) only,
/// so their pages carry over unchanged into a PDF that declares the same two fonts.
fn page_contents(pdf: &[u8]) -> Option<Vec<Vec<u8>>> {
    let tree = find(pdf, b"/Type /Pages").map(|at| &pdf[at..])?;
    let kids_at = find(tree, b"/Kids [")? + b"/Kids [".len();
    let kids_end = kids_at + find(&tree[kids_at..], b"]")?;
    refs(&tree[kids_at..kids_end])
        .into_iter()
        .map(|page_id| {
            let page = object(pdf, page_id)?;
            let page = &page[..find(page, b"endobj")?];
            let contents_at = find(page, b"/Contents ")? + b"/Contents ".len();
            let contents_id = *refs(&page[contents_at..]).first()?;
            let stream = object(pdf, contents_id)?;
            let data_at = find(stream, b"\nstream\n")?;
            let dict = &stream[..data_at];
            if find(dict, b"/Filter").is_some() {
                return None;
            }
            let length_at = find(dict, b"/Length ")? + b"/Length ".len();
            let length: usize = number(&dict[length_at..])?;
            let start = data_at + b"\nstream\n".len();
            let data = stream.get(start..start.checked_add(length)?)?;
            stream[start + length..]
                .starts_with(b"\nendstream")
                .then(|| data.to_vec())
        })
        .collect()
}

/// The bytes from the start of indirect object `id` to the end of the file.
fn object(pdf: &[u8], id: i32) -> Option<&[u8]> {
    let header = format!("\n{id} 0 obj\n");
    find(pdf, header.as_bytes()).map(|at| &pdf[at + header.len()..])
}

/// The object numbers of the references (`6 0 R 8 0 R …`) at the start of `bytes`.
fn refs(bytes: &[u8]) -> Vec<i32> {
    let text = String::from_utf8_lossy(bytes);
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .chunks(3)
        .map_while(|w| match w {
            [id, "0", "R"] => id.parse().ok(),
            _ => None,
        })
        .collect()
}

/// The decimal number at the start of `bytes`.
fn number(bytes: &[u8]) -> Option<usize> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&bytes[..digits]).ok()?.parse().ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Splits text into lines no wider than `width` points at `size`, at spaces; a word
/// wider than a line (a long link) keeps a line of its own rather than being cut.
fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        if !current.is_empty() && text_width(&format!("{current} {word}"), size) > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// Approximate advance width in Helvetica, on the wide side so lines stay in the margins.
fn text_width(text: &str, size: f32) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' => 222,
            ' ' | '.' | ',' | ':' | ';' | '!' | '/' | 'I' | 'f' | 't' | '\'' => 278,
            '-' | '(' | ')' | 'r' => 333,
            'c' | 'k' | 's' | 'v' | 'x' | 'y' | 'z' | 'J' => 500,
            'm' => 833,
            'w' | 'C' | 'D' | 'G' | 'H' | 'N' | 'R' | 'U' => 722,
            'O' | 'Q' | '@' => 778,
            'M' => 833,
            'W' => 944,
            '%' => 889,
            'A'..='Z' => 667,
            _ => 556,
        })
        .sum();
    units as f32 / 1000.0 * size
}

/// Text in WinAnsiEncoding, the encoding the fonts are declared with.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            _ if c.is_whitespace() => b' ',
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::pdf;

    #[test]
    fn every_letter_template_compiles() {
        for d in LETTER_DEFAULTS {
            assert_eq!(
                crate::services::templates::check(d.subject, d.text, None),
                Ok(()),
                "{}",
                d.key
            );
            assert!(
                d.text.contains("Enclosure: Customer Statement"),
                "{}",
                d.key
            );
        }
    }

    #[test]
    fn account_lists_are_parsed() {
        assert_eq!(parse_account_ids("1, 2,3,"), Ok(vec![1, 2, 3]));
        assert!(parse_account_ids("").is_err());
        assert!(parse_account_ids("1,x").is_err());
    }

    #[test]
    fn lines_wrap_within_the_width() {
        let text = "word ".repeat(100);
        let lines = wrap(&text, BODY_SIZE, RIGHT - LEFT);
        assert!(lines.len() > 1);
        assert!(
            lines
                .iter()
                .all(|l| text_width(l, BODY_SIZE) <= RIGHT - LEFT)
        );
        assert_eq!(wrap("", BODY_SIZE, 10.0), [""]);
        assert_eq!(wrap("https://a.very.long.link/x", BODY_SIZE, 10.0).len(), 1);
    }

    #[test]
    fn statement_pages_are_taken_over() {
        let statement = pdf::statement(&pdf::StatementPdf {
            supplier_name: "Northwind".into(),
            remit_to: "PO Box 1".into(),
            account_name: "Acme".into(),
            account_number: "C-1".into(),
            currency: "USD".into(),
            from: NaiveDate::default(),
            to: NaiveDate::default(),
            opening_balance_minor: 0,
            entries: (0..120)
                .map(|i| pdf::StatementEntry {
                    date: NaiveDate::default(),
                    description: format!("Invoice INV-{i}"),
                    amount_minor: 100,
                    balance_minor: 100 * (i + 1),
                })
                .collect(),
            closing_balance_minor: 12_000,
        });
        let pages = page_contents(&statement).expect("pdf.rs layout");
        assert!(pages.len() > 1);
        assert!(pages.iter().all(|p| find(p, b"Tj").is_some()));
        assert_eq!(page_contents(b"%PDF-1.7 nothing here"), None);
    }
}
