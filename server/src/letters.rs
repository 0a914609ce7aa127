//! Direct mail outside Leptos: the letters for accounts without an email address, with
//! their statements enclosed, as one PDF for staff to print.

use std::collections::HashMap;

use app::error::AppError;
use app::model::enums::StaffRole;
use app::services::letters;
use app::services::sessions::Caller;
use app::state::AppState;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

use crate::downloads::attachment;

/// `GET /staff/letters.pdf?template=KEY&accounts=1,2,3`: the letter `template` for the
/// listed accounts (every account without an email address when `accounts` is absent),
/// each followed by its statement over the last 90 days. Collectors and admins only.
pub async fn letters_pdf(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        caller.staff(StaffRole::Collector)?;
        let template = query
            .get("template")
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AppError::validation("template", "choose a letter template"))?;
        let account_ids = query
            .get("accounts")
            .map(|list| letters::parse_account_ids(list))
            .transpose()?;
        let registration_url = format!(
            "{}/register",
            state.settings.public_url.trim_end_matches('/')
        );
        let today = state.clock.today();
        let bytes = letters::letters_pdf(
            &state.db,
            template,
            account_ids.as_deref(),
            &registration_url,
            today,
        )
        .await?;
        Ok::<_, AppError>((format!("letters-{today}.pdf"), bytes))
    }
    .await;
    match result {
        Ok((file_name, bytes)) => attachment(&file_name, "application/pdf", bytes),
        Err(err) => error_response(&err),
    }
}

/// A plain-text error; a bad template or account list is a 400.
fn error_response(err: &AppError) -> Response {
    let status = match err {
        AppError::Validation { .. } => StatusCode::BAD_REQUEST,
        other => StatusCode::from_u16(other.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    };
    let body = match err {
        AppError::Validation { .. } => format!("Bad request: {err}."),
        AppError::Unauthorized => "Please sign in as staff to print letters.".to_owned(),
        AppError::Forbidden => "Your role cannot print letters.".to_owned(),
        other => other.to_string(),
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}
