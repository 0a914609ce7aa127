//! Email to contacts: render a stored template, add the "not the right person" footer
//! with its magic link, and put the result in the outbox, all in the caller's transaction.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::entities::{account, contact};
use crate::error::AppError;
use crate::model::enums::{ActorKind, LinkPurpose};
use crate::services::magic_links::{self, Creator};
use crate::services::outbox::{self, NewEmail};
use crate::services::templates::{self, escape_html};

/// The footer's question, in every customer-facing email.
pub const FOOTER_QUESTION: &str = "Not the right person for these?";
/// The footer's call to action; in HTML it is the link's text.
pub const FOOTER_ACTION: &str = "Tell us who is.";
/// Context key under which templates also find the footer's link.
pub const WRONG_PERSON_LINK: &str = "wrong_person_link";

/// Renders template `key` for contact `contact_id` with `ctx` (a serde_json object;
/// `contact_name` and `company` are added automatically unless `ctx` has them, and
/// `wrong_person_link` is added), appends the wrong-person footer to both the text and
/// the HTML part, and enqueues it. Call it inside the transaction of the change that
/// caused the email. Returns the Message-ID.
///
/// The footer's link is a fresh `wrong_person` magic link, valid for
/// [`magic_links::PURPOSE_TTL`]. A template without an HTML part gets one made from its
/// text.
///
/// # Errors
/// `NotFound` for an unknown contact or template; `Validation` when the contact has no
/// email address, `ctx` is not an object, or the template does not render; database
/// errors as `Internal`.
pub async fn send_to_contact(
    db: &impl ConnectionTrait,
    public_url: &str,
    contact_id: i64,
    key: &str,
    ctx: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let contact = contact::Entity::find_by_id(contact_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(to) = contact
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
    else {
        return Err(AppError::validation(
            "email",
            format!("{} has no email address", contact.name),
        ));
    };
    let account = account::Entity::find_by_id(contact.account_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let template = templates::get(db, key).await?;
    let mut ctx = match ctx {
        serde_json::Value::Object(map) => map,
        serde_json::Value::Null => serde_json::Map::new(),
        _ => return Err(AppError::validation("ctx", "must be a JSON object")),
    };
    ctx.entry("contact_name")
        .or_insert_with(|| contact.name.clone().into());
    ctx.entry("company")
        .or_insert_with(|| account.display_name.clone().into());

    let token = magic_links::issue(
        db,
        contact.id,
        LinkPurpose::WrongPerson,
        None,
        magic_links::PURPOSE_TTL,
        Creator {
            kind: ActorKind::System,
            id: None,
        },
        now,
    )
    .await?;
    let base = public_url.trim_end_matches('/');
    let wrong_person_link = format!("{base}/l/{token}");
    ctx.insert(
        WRONG_PERSON_LINK.to_owned(),
        wrong_person_link.clone().into(),
    );

    let rendered = templates::render_stored(&template, &serde_json::Value::Object(ctx))?;
    let html = rendered
        .html
        .unwrap_or_else(|| text_to_html(&rendered.text));
    outbox::enqueue(
        db,
        NewEmail {
            to,
            to_contact_id: Some(contact.id),
            subject: rendered.subject,
            text: with_text_footer(&rendered.text, &wrong_person_link),
            html: Some(with_html_footer(&html, &wrong_person_link)),
            template_key: Some(key.to_owned()),
            message_domain: Some(outbox::domain_of(base)),
        },
        now,
    )
    .await
}

/// The text part with the wrong-person footer after a signature separator.
pub fn with_text_footer(text: &str, link: &str) -> String {
    format!(
        "{}\n\n-- \n{FOOTER_QUESTION} {FOOTER_ACTION}\n{link}\n",
        text.trim_end()
    )
}

/// The HTML part with the wrong-person footer: before `</body>` when the part is a whole
/// document, otherwise appended and the whole wrapped in a minimal document.
pub fn with_html_footer(html: &str, link: &str) -> String {
    let footer = format!(
        "<hr>\n<p style=\"color:#555;font-size:90%\">{FOOTER_QUESTION} <a href=\"{}\">{FOOTER_ACTION}</a></p>\n",
        escape_html(link)
    );
    match html.to_ascii_lowercase().rfind("</body>") {
        Some(at) => format!("{}{footer}{}", &html[..at], &html[at..]),
        None => format!(
            "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"></head>\n<body>\n{}\n{footer}</body>\n</html>\n",
            html.trim_end()
        ),
    }
}

/// A plain-text part as HTML: escaped, one paragraph per blank-line-separated block.
fn text_to_html(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", escape_html(p).replace('\n', "<br>\n")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footer_goes_before_the_end_of_a_document() {
        let out = with_html_footer("<html><BODY><p>Hi</p></BODY></html>", "https://x/l/a&b");
        assert!(out.starts_with("<html><BODY><p>Hi</p><hr>"), "{out}");
        assert!(out.contains("href=\"https://x/l/a&amp;b\""), "{out}");
        assert!(out.ends_with("</BODY></html>"), "{out}");
    }

    #[test]
    fn a_fragment_is_wrapped() {
        let out = with_html_footer("<p>Hi</p>\n", "https://x/l/t");
        assert!(out.starts_with("<!DOCTYPE html>"), "{out}");
        assert!(out.contains("<p>Hi</p>\n<hr>"), "{out}");
        assert!(out.contains(
            "Not the right person for these? <a href=\"https://x/l/t\">Tell us who is.</a>"
        ));
    }

    #[test]
    fn text_becomes_escaped_paragraphs() {
        assert_eq!(
            text_to_html("Hi <you>,\nline\n\n\nbye"),
            "<p>Hi &lt;you&gt;,<br>\nline</p>\n<p>bye</p>"
        );
        assert_eq!(
            with_text_footer("Body\n\n", "L"),
            "Body\n\n-- \nNot the right person for these? Tell us who is.\nL\n"
        );
    }
}
