//! Staff administration: mail that could not be delivered, and the templates mail is made from.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::staff::{DeadMail, Preview, TemplateDraft};

/// Emails Settle gave up on (any staff user may look).
#[server(endpoint = "staff/mail/dead")]
pub async fn list_dead_mail() -> Result<Vec<DeadMail>, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            let rows = crate::services::outbox::list_dead(&state.db).await?;
            Ok(rows
                .into_iter()
                .map(|m| DeadMail {
                    id: m.id,
                    to: m.to_address,
                    subject: m.subject,
                    attempts: m.attempts,
                    last_error: m.last_error,
                    created_at: m.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                })
                .collect())
        }
        .await,
    )
}

/// Queues a dead email for another round of attempts (collectors and admins).
#[server(endpoint = "staff/mail/retry")]
pub async fn retry_mail(id: i64) -> Result<(), AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Collector)?;
            crate::services::outbox::retry_dead(&state.db, id, state.clock.now()).await?;
            state.mail_wake.notify_one();
            Ok(())
        }
        .await,
    )
}

/// Every template, for admins.
#[server(endpoint = "staff/templates")]
pub async fn list_templates() -> Result<Vec<TemplateDraft>, AppError> {
    use super::ctx;
    use crate::entities::template;
    use crate::model::enums::StaffRole;
    use sea_orm::{EntityTrait, QueryOrder};
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Admin)?;
            let rows = template::Entity::find()
                .order_by_asc(template::COLUMN.key)
                .all(&state.db)
                .await?;
            Ok(rows
                .into_iter()
                .map(|t| TemplateDraft {
                    key: t.key,
                    name: t.name,
                    subject: t.subject,
                    body_text: t.body_text,
                    body_html: t.body_html,
                    version: t.version,
                })
                .collect())
        }
        .await,
    )
}

/// Renders a draft with sample values, so an admin sees the email before saving it.
#[server(endpoint = "staff/templates/preview")]
pub async fn preview_template(
    subject: String,
    body_text: String,
    body_html: Option<String>,
) -> Result<Preview, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    use crate::services::templates;
    ctx::respond(
        async {
            ctx::caller().staff(StaffRole::Admin)?;
            let html = body_html.as_deref().filter(|h| !h.trim().is_empty());
            templates::check(&subject, &body_text, html)?;
            let r = templates::render_parts(&subject, &body_text, html, &sample_context())?;
            Ok(Preview {
                subject: r.subject,
                text: r.text,
                html: r.html,
            })
        }
        .await,
    )
}

/// Saves an edited template; refused with `Conflict` when someone saved it since the edit began.
#[server(endpoint = "staff/templates/save")]
pub async fn save_template(
    key: String,
    subject: String,
    body_text: String,
    body_html: Option<String>,
    version: i32,
) -> Result<(), AppError> {
    use super::ctx;
    use crate::entities::template;
    use crate::model::enums::StaffRole;
    use crate::services::templates;
    use sea_orm::{EntityTrait, ExprTrait, QueryFilter, prelude::Expr};
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Admin)?;
            let html = body_html.filter(|h| !h.trim().is_empty());
            templates::check(&subject, &body_text, html.as_deref())?;
            let saved = template::Entity::update_many()
                .col_expr(template::Column::Subject, Expr::value(subject))
                .col_expr(template::Column::BodyText, Expr::value(body_text))
                .col_expr(template::Column::BodyHtml, Expr::value(html))
                .col_expr(
                    template::Column::Version,
                    Expr::col(template::Column::Version).add(1),
                )
                .col_expr(template::Column::UpdatedAt, Expr::value(state.clock.now()))
                .filter(template::COLUMN.key.eq(key.clone()))
                .filter(template::COLUMN.version.eq(version))
                .exec(&state.db)
                .await?;
            if saved.rows_affected == 1 {
                return Ok(());
            }
            match template::Entity::find()
                .filter(template::COLUMN.key.eq(key))
                .one(&state.db)
                .await?
            {
                Some(_) => Err(AppError::Conflict(
                    "someone saved this template after you opened it; reload to see their version"
                        .to_owned(),
                )),
                None => Err(AppError::NotFound),
            }
        }
        .await,
    )
}

/// Values a preview fills in, one for every variable the default templates use.
#[cfg(feature = "ssr")]
fn sample_context() -> serde_json::Value {
    serde_json::json!({
        "contact_name": "Pat Payables",
        "company": "Acme Hardware",
        "link": "https://billing.example.com/l/sample-link",
        "code": "ABCD-EFGH",
        "minutes": 15,
        "reporter_name": "Alex Former",
        "wrong_person_link": "https://billing.example.com/l/sample-wrong-person",
        "amount": "$1,234.56",
        "date": "December 1, 2026",
        "invoices": ["INV-10001-0001", "INV-10001-0002"],
        "note": "Paying with the next check run.",
        "account_number": "C-10001",
        "registration_url": "https://billing.example.com/register",
        "supplier": "Northwind Supply",
        "summary": "bank account ending 6789",
        "requested_by": "Pat Payables (p••@acme.test)",
        "approved": true,
        "invoice": "INV-10001-0001",
        "staff_name": "Rita Reviewer",
        "body": "Thanks for your message.",
        "portal_link": "https://billing.example.com/portal",
    })
}
