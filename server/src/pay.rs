//! Easy Pay's routes outside Leptos: the providers' webhook endpoint and the sandbox's
//! hosted checkout page (a stand-in for a provider's own page, so plain HTML with no script).

use app::error::AppError;
use app::model::enums::{PaymentChannel, PaymentLinkStatus, PaymentProvider};
use app::model::payments::METHODS;
use app::model::portal::format_money;
use app::services::easy_pay::record::{self, WebhookError};
use app::services::easy_pay::sandbox::{self, Choice};
use app::services::easy_pay::signature;
use app::state::AppState;
use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

/// `POST /webhooks/{provider}`: a provider's signed event. 200 once handled (or known),
/// 400 for a bad signature or body (the provider must not retry a forgery), 503 when the
/// database cannot be reached and 500 when it failed (the provider retries later).
pub async fn webhook(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if provider != state.pay.kind().as_str() {
        return (StatusCode::NOT_FOUND, "No such webhook endpoint.").into_response();
    }
    let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    let result = record::receive(
        &state.db,
        state.pay.as_ref(),
        &state.settings.public_url,
        header,
        &body,
        state.clock.now(),
    )
    .await;
    match result {
        Ok(outcome) => {
            state.mail_wake.notify_one();
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                format!(r#"{{"received":true,"outcome":"{outcome:?}"}}"#),
            )
                .into_response()
        }
        Err(WebhookError::Signature(err)) => {
            tracing::warn!(%err, "webhook refused");
            (
                StatusCode::BAD_REQUEST,
                format!("Signature refused: {err}."),
            )
                .into_response()
        }
        Err(WebhookError::Body(err)) => (StatusCode::BAD_REQUEST, err).into_response(),
        Err(WebhookError::Internal(err)) => {
            tracing::error!(%err, "webhook could not be recorded");
            // Either way nothing was recorded and the provider retries later.
            let status = match err {
                app::error::AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            (status, "Try again later.").into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    declined: Option<String>,
}

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Test checkout · {{ payee }}</title>
<link rel="stylesheet" href="/pkg/settle.css">
</head>
<body>
<main class="page">
<section class="panel narrow sandbox" data-testid="sandbox-checkout">
  <p class="test-banner" role="note"><strong>Test mode.</strong> This is Settle's sandbox checkout: no money moves and no card or bank details are asked for.</p>
  <h1>Pay {{ payee }}</h1>
  <p class="stat-value" data-testid="sandbox-amount">{{ amount }}</p>
  <table class="invoices">
    <thead><tr><th scope="col">Invoice</th><th scope="col" class="num">Amount</th></tr></thead>
    <tbody>{% for item in items %}<tr><td>{{ item.0 }}</td><td class="num">{{ item.1 }}</td></tr>{% endfor %}</tbody>
  </table>
  {% if declined %}<p class="field-error" role="alert">The test card was declined. Nothing was charged; choose another way to pay.</p>{% endif %}
  {% if status == "created" %}
  <form method="post" class="stack">
    <fieldset>
      <legend>How to pay</legend>
      {% for m in methods %}<label class="check"><input type="radio" name="method" value="{{ m.0 }}"{% if m.0 == method %} checked{% endif %}> {{ m.1 }}</label>
      {% endfor %}
    </fieldset>
    <button class="button primary" type="submit" name="choice" value="pay">Pay {{ amount }}</button>
    <button class="button" type="submit" name="choice" value="decline">Simulate a declined card</button>
  </form>
  <p><a href="/portal">Cancel and go back</a></p>
  {% elif status == "pending" %}
  <p role="status">The bank debit was submitted and is clearing. In the sandbox you decide how it ends:</p>
  <form method="post" class="stack">
    <button class="button primary" type="submit" name="choice" value="clear">The bank confirms the debit</button>
    <button class="button" type="submit" name="choice" value="return">The bank returns the debit</button>
  </form>
  {% else %}
  <p role="status">This checkout is {{ status }}.</p>
  <p><a class="button" href="{{ receipt }}">See the receipt</a></p>
  {% endif %}
</section>
</main>
</body>
</html>
"#;

fn render_page(view: &sandbox::SandboxView, declined: bool) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.add_template("sandbox.html", PAGE)?;
    let items: Vec<(String, String)> = view
        .items
        .iter()
        .map(|(number, amount)| (number.clone(), format_money(*amount, &view.currency)))
        .collect();
    let methods: Vec<(&str, &str)> = METHODS
        .iter()
        .map(|(m, label)| (m.as_str(), *label))
        .collect();
    env.get_template("sandbox.html")?
        .render(minijinja::context! {
            payee => view.payee,
            amount => format_money(view.amount_minor, &view.currency),
            items => items,
            methods => methods,
            method => view.method.as_str(),
            status => view.status.as_str(),
            declined => declined,
            receipt => app::services::easy_pay::receipt_path(&view.session_id),
        })
}

/// The answer when the sandbox is not the configured provider.
fn sandbox_off(state: &AppState) -> Option<Response> {
    (state.pay.kind() != PaymentProvider::Sandbox)
        .then(|| (StatusCode::NOT_FOUND, "The sandbox checkout is turned off.").into_response())
}

fn error_page(err: &AppError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = match err {
        AppError::NotFound => "No such checkout.".to_owned(),
        other => other.to_string(),
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// `GET /pay/sandbox/{session}`: the sandbox's hosted checkout page.
pub async fn sandbox_page(
    State(state): State<AppState>,
    Path(session): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    if let Some(off) = sandbox_off(&state) {
        return off;
    }
    match sandbox::view(&state.db, &session).await {
        Ok(view) => match render_page(
            &view,
            query.declined.is_some() && view.status == PaymentLinkStatus::Created,
        ) {
            Ok(html) => Html(html).into_response(),
            Err(err) => {
                tracing::error!(%err, "sandbox page did not render");
                error_page(&AppError::Internal)
            }
        },
        Err(err) => error_page(&err),
    }
}

#[derive(Debug, Deserialize)]
pub struct Press {
    choice: String,
    method: Option<String>,
}

/// `POST /pay/sandbox/{session}`: a button on the sandbox page.
pub async fn sandbox_press(
    State(state): State<AppState>,
    Path(session): Path<String>,
    Form(press): Form<Press>,
) -> Response {
    if let Some(off) = sandbox_off(&state) {
        return off;
    }
    let method = match press.method.as_deref() {
        None | Some("card") => PaymentChannel::Card,
        Some("ach") => PaymentChannel::Ach,
        Some("wallet") => PaymentChannel::Wallet,
        Some(_) => {
            return error_page(&AppError::validation(
                "method",
                "choose card, bank debit or wallet",
            ));
        }
    };
    let choice = match press.choice.as_str() {
        "pay" => Choice::Pay(method),
        "decline" => Choice::Decline,
        "clear" => Choice::ClearDebit,
        "return" => Choice::ReturnDebit,
        _ => return error_page(&AppError::validation("choice", "unknown button")),
    };
    let now = state.clock.now();
    match sandbox::press(
        &state.db,
        state.pay.as_ref(),
        &state.settings.public_url,
        &session,
        choice,
        now,
    )
    .await
    {
        Ok(to) => {
            state.mail_wake.notify_one();
            Redirect::to(&to).into_response()
        }
        Err(err) => error_page(&err),
    }
}
