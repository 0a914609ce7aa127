//! Email templates stored in the `templates` table and rendered with minijinja: a
//! subject, a plain-text part and an HTML part whose values are always HTML-escaped.

use chrono::{DateTime, Utc};
use minijinja::{AutoEscape, Environment, Value};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, TryInsertResult, prelude::*,
};

use crate::entities::template;
use crate::error::AppError;
use crate::model::enums::TemplateChannel;

/// A template rendered for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line: line breaks a value may bring in are folded into spaces.
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// A template Settle ships with; seeded once, then admins may edit the stored copy.
#[derive(Debug, Clone, Copy)]
pub struct DefaultTemplate {
    pub key: &'static str,
    pub name: &'static str,
    pub subject: &'static str,
    pub text: &'static str,
    pub html: &'static str,
}

/// Key of the sign-in email (ctx: `contact_name`, `company`, `link`, `code`, `minutes`).
pub const PORTAL_SIGN_IN: &str = "portal_sign_in";
/// Key of the "is this your address?" email (ctx: `contact_name`, `company`, `link`).
pub const VERIFY_CONTACT: &str = "verify_contact";
/// Key of the email to a contact someone named in their place (ctx: `contact_name`,
/// `company`, `reporter_name`, `link`).
pub const WRONG_PERSON_REPORTED: &str = "wrong_person_reported";

/// The templates `seed_defaults` creates when their key is missing.
pub const DEFAULTS: &[DefaultTemplate] = &[
    DefaultTemplate {
        key: PORTAL_SIGN_IN,
        name: "Portal sign-in link",
        subject: "Your sign-in link for {{ company }}",
        text: "Hello {{ contact_name }},

Use this link to open the billing portal for {{ company }}:

{{ link }}
{% if code %}
On another device? Enter this code on the sign-in page instead: {{ code }}
{% endif %}
The link works once and expires in {{ minutes }} minutes. If you did not ask for it, you can ignore this email.
",
        html: "<p>Hello {{ contact_name }},</p>
<p>Use this link to open the billing portal for {{ company }}:</p>
<p><a href=\"{{ link }}\">Sign in to the billing portal</a></p>
{% if code %}<p>On another device? Enter this code on the sign-in page instead: <strong>{{ code }}</strong></p>
{% endif %}<p>The link works once and expires in {{ minutes }} minutes. If you did not ask for it, you can ignore this email.</p>
",
    },
    DefaultTemplate {
        key: VERIFY_CONTACT,
        name: "Confirm a contact's email address",
        subject: "Please confirm your email address for {{ company }}",
        text: "Hello {{ contact_name }},

You are listed as a billing contact for {{ company }}. Please confirm that this is your address:

{{ link }}

Thank you.
",
        html: "<p>Hello {{ contact_name }},</p>
<p>You are listed as a billing contact for {{ company }}. Please confirm that this is your address:</p>
<p><a href=\"{{ link }}\">Confirm my email address</a></p>
<p>Thank you.</p>
",
    },
    DefaultTemplate {
        key: WRONG_PERSON_REPORTED,
        name: "Named as the right billing contact",
        subject: "{{ reporter_name }} named you as the billing contact for {{ company }}",
        text: "Hello {{ contact_name }},

{{ reporter_name }} told us that you are the right person to receive invoices and statements for {{ company }}.

Please confirm your details here:

{{ link }}
",
        html: "<p>Hello {{ contact_name }},</p>
<p>{{ reporter_name }} told us that you are the right person to receive invoices and statements for {{ company }}.</p>
<p><a href=\"{{ link }}\">Confirm my details</a></p>
",
    },
    DefaultTemplate {
        key: "promise_confirmation",
        name: "Promise to Pay received",
        subject: "Your promise to pay {{ amount }} by {{ date }}",
        text: "Hello {{ contact_name }},

Thank you. We have noted that {{ company }} will pay {{ amount }} by {{ date }} for:
{% for invoice in invoices %}
- {{ invoice }}{% endfor %}
{% if note %}
Your note: {{ note }}
{% endif %}
We will remind you shortly before the date. If anything changes, you can make a new promise in the billing portal.
",
        html: "<p>Hello {{ contact_name }},</p>
<p>Thank you. We have noted that {{ company }} will pay <strong>{{ amount }}</strong> by <strong>{{ date }}</strong> for:</p>
<ul>{% for invoice in invoices %}<li>{{ invoice }}</li>{% endfor %}</ul>
{% if note %}<p>Your note: {{ note }}</p>
{% endif %}<p>We will remind you shortly before the date. If anything changes, you can make a new promise in the billing portal.</p>
",
    },
    DefaultTemplate {
        key: "promise_reminder",
        name: "Promise to Pay reminder",
        subject: "Reminder: {{ amount }} promised by {{ date }}",
        text: "Hello {{ contact_name }},

A friendly reminder: {{ company }} promised to pay {{ amount }} by {{ date }} for:
{% for invoice in invoices %}
- {{ invoice }}{% endfor %}

If the payment is already on its way, thank you, and please ignore this email.
",
        html: "<p>Hello {{ contact_name }},</p>
<p>A friendly reminder: {{ company }} promised to pay <strong>{{ amount }}</strong> by <strong>{{ date }}</strong> for:</p>
<ul>{% for invoice in invoices %}<li>{{ invoice }}</li>{% endfor %}</ul>
<p>If the payment is already on its way, thank you, and please ignore this email.</p>
",
    },
    DefaultTemplate {
        key: "payment_receipt",
        name: "Payment receipt",
        subject: "Receipt: {{ amount }} received",
        text: "Hello {{ contact_name }},

Thank you. We received {{ amount }} from {{ company }} ({{ method }}, reference {{ reference }}).
{% for line in lines %}
- {{ line.number }}: {{ line.amount }} paid, {{ line.open }} still open{% endfor %}
{% if credit %}
{{ credit }} more than the invoices' balances is kept as a credit on your account.
{% endif %}
Your account: {{ portal_link }}
",
        html: "<p>Hello {{ contact_name }},</p>
<p>Thank you. We received <strong>{{ amount }}</strong> from {{ company }} ({{ method }}, reference {{ reference }}).</p>
<table><tr><th align=\"left\">Invoice</th><th align=\"right\">Paid</th><th align=\"right\">Still open</th></tr>
{% for line in lines %}<tr><td>{{ line.number }}</td><td align=\"right\">{{ line.amount }}</td><td align=\"right\">{{ line.open }}</td></tr>
{% endfor %}</table>
{% if credit %}<p>{{ credit }} more than the invoices' balances is kept as a credit on your account.</p>
{% endif %}<p><a href=\"{{ portal_link }}\">Your account</a></p>
",
    },
    DefaultTemplate {
        key: "dispute_confirmation",
        name: "Dispute received",
        subject: "We received your dispute of {{ invoice }} ({{ amount }})",
        text: "Hello {{ contact_name }},

We received your dispute of invoice {{ invoice }} for {{ amount }}:
{% for line in lines %}
- line {{ line.line }}, {{ line.description }}: {{ line.reason }}, {{ line.amount }}{% endfor %}

While we look into it, the disputed amount is set aside: our reminders only ask for the undisputed {{ undisputed }}.
Follow it and write to us here: {{ link }}
",
        html: "<p>Hello {{ contact_name }},</p>
<p>We received your dispute of invoice <strong>{{ invoice }}</strong> for <strong>{{ amount }}</strong>:</p>
<ul>{% for line in lines %}<li>line {{ line.line }}, {{ line.description }}: {{ line.reason }}, {{ line.amount }}</li>{% endfor %}</ul>
<p>While we look into it, the disputed amount is set aside: our reminders only ask for the undisputed {{ undisputed }}.</p>
<p><a href=\"{{ link }}\">Follow your dispute</a></p>
",
    },
    DefaultTemplate {
        key: "dispute_resolved",
        name: "Dispute resolved",
        subject: "Your dispute of {{ invoice }} was {{ outcome }}",
        text: "Hello {{ contact_name }},

We have looked into your dispute of invoice {{ invoice }} ({{ disputed }}): it was {{ outcome }}.
{% if credited != \"$0.00\" %}We credited {{ credited }} to the invoice.
{% endif %}{% if reason %}Our reason: {{ reason }}
{% endif %}
The details: {{ link }}
",
        html: "<p>Hello {{ contact_name }},</p>
<p>We have looked into your dispute of invoice <strong>{{ invoice }}</strong> ({{ disputed }}): it was <strong>{{ outcome }}</strong>.</p>
{% if credited != \"$0.00\" %}<p>We credited {{ credited }} to the invoice.</p>
{% endif %}{% if reason %}<p>Our reason: {{ reason }}</p>
{% endif %}<p><a href=\"{{ link }}\">See the details</a></p>
",
    },
    DefaultTemplate {
        key: "profile_step_up",
        name: "Code to confirm a profile change",
        subject: "Your code: {{ code }}",
        text: "Hello {{ contact_name }},

To confirm the change of {{ summary }} for {{ company }}, enter this code on the profile page:

{{ code }}

It works for {{ minutes }} minutes. If you did not ask for this change, ignore this email: nothing changes without the code.
",
        html: "<p>Hello {{ contact_name }},</p>
<p>To confirm the change of {{ summary }} for {{ company }}, enter this code on the profile page:</p>
<p style=\"font-size:150%;letter-spacing:.2em\"><strong>{{ code }}</strong></p>
<p>It works for {{ minutes }} minutes. If you did not ask for this change, ignore this email: nothing changes without the code.</p>
",
    },
    DefaultTemplate {
        key: "profile_change_notice",
        name: "A sensitive profile change is pending",
        subject: "Pending change to {{ company }}'s account: {{ summary }}",
        text: "Hello {{ contact_name }},

{{ requested_by }} asked to change the {{ summary }} on {{ company }}'s account with us. Our team reviews every such change before it takes effect.

If this is unexpected, please reply to this email or call us right away.
",
        html: "<p>Hello {{ contact_name }},</p>
<p>{{ requested_by }} asked to change the {{ summary }} on {{ company }}'s account with us. Our team reviews every such change before it takes effect.</p>
<p>If this is unexpected, please reply to this email or call us right away.</p>
",
    },
    DefaultTemplate {
        key: "profile_change_decided",
        name: "Profile change approved or declined",
        subject: "{% if approved %}Approved{% else %}Not approved{% endif %}: {{ summary }}",
        text: "Hello {{ contact_name }},

{% if approved %}We approved the change of {{ summary }}; it is in effect now.{% else %}We did not approve the change of {{ summary }}.{% endif %}
{% if note %}Our note: {{ note }}
{% endif %}",
        html: "<p>Hello {{ contact_name }},</p>
<p>{% if approved %}We approved the change of {{ summary }}; it is in effect now.{% else %}We did not approve the change of {{ summary }}.{% endif %}</p>
{% if note %}<p>Our note: {{ note }}</p>
{% endif %}",
    },
    DefaultTemplate {
        key: "message_reply",
        name: "Reply to a customer's message",
        subject: "{{ supplier }} replied to your message{% if document %} about {{ document }}{% endif %}",
        text: "Hello {{ contact_name }},

{{ staff_name }} wrote:

{{ body }}

Reply in the billing portal: {{ portal_link }}
",
        html: "<p>Hello {{ contact_name }},</p>
<p>{{ staff_name }} wrote:</p>
<blockquote style=\"white-space:pre-wrap\">{{ body }}</blockquote>
<p><a href=\"{{ portal_link }}\">Reply in the billing portal</a></p>
",
    },
];

/// Inserts every default template whose key is missing and returns how many it added.
/// Templates that exist are left alone, so admins' edits survive; safe to run from
/// several processes at once.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn seed_defaults(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let mut added = 0;
    for default in DEFAULTS {
        let row = template::ActiveModel {
            key: Set(default.key.to_owned()),
            channel: Set(TemplateChannel::Email),
            name: Set(default.name.to_owned()),
            subject: Set(default.subject.to_owned()),
            body_text: Set(default.text.to_owned()),
            body_html: Set(Some(default.html.to_owned())),
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

/// The stored email template `key`.
///
/// # Errors
/// `NotFound` when no email template has that key; database errors as `Internal`.
pub async fn get(db: &impl ConnectionTrait, key: &str) -> Result<template::Model, AppError> {
    template::Entity::find()
        .filter(template::COLUMN.key.eq(key))
        .filter(template::Column::Channel.eq(TemplateChannel::Email))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Renders the stored email template `key` with `ctx` (a JSON object).
///
/// # Errors
/// `NotFound` when no email template has that key; `Validation` (field `template`) when
/// the stored template does not compile or render; database errors as `Internal`.
pub async fn render(
    db: &impl ConnectionTrait,
    key: &str,
    ctx: &serde_json::Value,
) -> Result<Rendered, AppError> {
    render_stored(&get(db, key).await?, ctx)
}

/// Renders a stored template with `ctx`.
///
/// # Errors
/// `Validation` (field `template`) when the template does not compile or render.
pub fn render_stored(
    stored: &template::Model,
    ctx: &serde_json::Value,
) -> Result<Rendered, AppError> {
    render_parts(
        &stored.subject,
        &stored.body_text,
        stored.body_html.as_deref(),
        ctx,
    )
    .inspect_err(
        |err| tracing::error!(key = %stored.key, %err, "a stored email template failed to render"),
    )
}

/// Renders a subject, a text part and an optional HTML part with `ctx`. Values are
/// inserted as they are into the subject and text, and HTML-escaped into the HTML part
/// (unless a template marks them `|safe`).
///
/// # Errors
/// `Validation` (field `template`) when a part does not compile or render.
pub fn render_parts(
    subject: &str,
    text: &str,
    html: Option<&str>,
    ctx: &serde_json::Value,
) -> Result<Rendered, AppError> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    // HTML escaping without minijinja's `/` → `&#x2f;`, so links stay readable in the source.
    env.set_formatter(|out, state, value| {
        if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() {
            out.write_str(&escape_html(&value.to_string()))?;
            Ok(())
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    // Names decide escaping: `.html` is escaped, `.txt` is not.
    env.add_template("subject.txt", subject).map_err(invalid)?;
    env.add_template("body.txt", text).map_err(invalid)?;
    if let Some(html) = html {
        env.add_template("body.html", html).map_err(invalid)?;
    }
    let ctx = Value::from_serialize(ctx);
    let part = |name: &str| -> Result<String, AppError> {
        env.get_template(name)
            .and_then(|t| t.render(&ctx))
            .map_err(invalid)
    };
    let subject = part("subject.txt")?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let text = part("body.txt")?;
    let html = match html {
        Some(_) => Some(part("body.html")?),
        None => None,
    };
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

/// Checks that all parts of a template compile, for admins' edits.
///
/// # Errors
/// `Validation` naming the part (`subject`, `body_text`, `body_html`) that does not compile.
pub fn check(subject: &str, text: &str, html: Option<&str>) -> Result<(), AppError> {
    let mut env = Environment::new();
    for (field, name, source) in [
        ("subject", "subject.txt", Some(subject)),
        ("body_text", "body.txt", Some(text)),
        ("body_html", "body.html", html),
    ] {
        if let Some(source) = source {
            env.add_template_owned(name.to_owned(), source.to_owned())
                .map_err(|err| AppError::validation(field, err.to_string()))?;
        }
    }
    Ok(())
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn invalid(err: minijinja::Error) -> AppError {
    AppError::validation("template", format!("{err:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_template_compiles() {
        for d in DEFAULTS {
            assert_eq!(check(d.subject, d.text, Some(d.html)), Ok(()), "{}", d.key);
        }
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let ctx = serde_json::json!({ "name": "<b>\"O'Hara\" & co</b>", "link": "https://x.test/l/a?b=1&c=2" });
        let out = render_parts(
            "Hi {{ name }}\nthere",
            "{{ name }} {{ link }}",
            Some("<a href=\"{{ link }}\">{{ name }}</a>"),
            &ctx,
        )
        .expect("renders");
        assert_eq!(out.subject, "Hi <b>\"O'Hara\" & co</b> there");
        assert_eq!(
            out.text,
            "<b>\"O'Hara\" & co</b> https://x.test/l/a?b=1&c=2"
        );
        assert_eq!(
            out.html.as_deref(),
            Some(
                "<a href=\"https://x.test/l/a?b=1&amp;c=2\">&lt;b&gt;&quot;O&#39;Hara&quot; &amp; co&lt;/b&gt;</a>"
            )
        );
    }

    #[test]
    fn a_broken_template_is_a_validation_error() {
        assert!(matches!(
            check("{{ unclosed", "", None),
            Err(AppError::Validation { field, .. }) if field == "subject"
        ));
        assert!(matches!(
            render_parts("ok", "{% if %}", None, &serde_json::json!({})),
            Err(AppError::Validation { .. })
        ));
    }
}
