//! Exports outside Leptos: an account's audit history as CSV for staff, and the
//! supplier's vCard.

use std::collections::HashMap;

use app::error::AppError;
use app::model::enums::StaffRole;
use app::services::audit_history::{self, CSV_HEADER};
use app::services::sessions::Caller;
use app::services::supplier_profile;
use app::state::AppState;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

use crate::downloads::attachment;

/// `GET /staff/accounts/{id}/history.csv?entity=&actor=&field=&from=&to=`: every event of
/// the account's history that the filters select (the history page's filters), oldest
/// first, as CSV. Any staff user may export.
pub async fn history_csv(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        caller.staff(StaffRole::Viewer)?;
        let param = |name: &str| params.get(name).map(String::as_str);
        let filter = audit_history::parse_filter(
            param("entity"),
            param("actor"),
            param("field"),
            param("from"),
            param("to"),
        )?;
        let number = audit_history::account_number(&state.db, id).await?;
        let mut out = csv::Writer::from_writer(Vec::new());
        let mut failed = out.write_record(CSV_HEADER).err();
        audit_history::for_each_row(&state.db, id, &filter, |row| {
            if failed.is_none() {
                failed = out.write_record(audit_history::csv_record(row)).err();
            }
        })
        .await?;
        if let Some(err) = failed {
            tracing::error!(account = id, error = %err, "history CSV could not be written");
            return Err(AppError::Internal);
        }
        let bytes = out.into_inner().map_err(|err| {
            tracing::error!(account = id, error = %err, "history CSV could not be flushed");
            AppError::Internal
        })?;
        Ok((format!("account-{number}-history.csv"), bytes))
    }
    .await;
    match result {
        Ok((file_name, bytes)) => attachment(&file_name, "text/csv; charset=utf-8", bytes),
        Err(err) => history_error(&err),
    }
}

/// A plain-text error; a bad filter is a 400.
fn history_error(err: &AppError) -> Response {
    let status = match err {
        AppError::Validation { .. } => StatusCode::BAD_REQUEST,
        other => StatusCode::from_u16(other.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    };
    let body = match err {
        AppError::Validation { .. } => format!("Bad request: {err}."),
        AppError::Unauthorized => {
            "Please sign in as staff to export an account's history.".to_owned()
        }
        AppError::Forbidden => "Your role cannot export an account's history.".to_owned(),
        AppError::NotFound => "No such account.".to_owned(),
        other => other.to_string(),
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// `GET /supplier.vcf`: the supplier's profile as a vCard attachment, for anyone; 404
/// while there is no supplier row.
pub async fn supplier_vcard(State(state): State<AppState>) -> Response {
    match supplier_profile::public_profile(&state.db).await {
        Ok(card) => attachment(
            "supplier.vcf",
            "text/vcard; charset=utf-8",
            supplier_profile::vcard(&card).into_bytes(),
        ),
        Err(err) => {
            let status =
                StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = match err {
                AppError::NotFound => "No supplier profile yet.".to_owned(),
                other => other.to_string(),
            };
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                body,
            )
                .into_response()
        }
    }
}
