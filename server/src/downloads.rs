//! File downloads outside Leptos: a document as PDF (stored, or rendered by Settle) and
//! the account statement on demand. Both need a portal session and only ever serve the
//! caller's own account.

use std::collections::HashMap;
use std::path::{Component, Path as FsPath, PathBuf};

use app::error::AppError;
use app::services::documents::{self, Download};
use app::services::sessions::Caller;
use app::state::AppState;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// `GET /portal/documents/{id}/pdf`: the document's file, as an attachment.
pub async fn document_pdf(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let account_id = caller.portal_account()?;
        documents::download(&state.db, account_id, id, &state.settings.public_url).await
    }
    .await;
    match result {
        Ok(Download::Rendered { file_name, bytes }) => {
            attachment(&file_name, "application/pdf", bytes)
        }
        Ok(Download::Stored {
            file_name,
            content_type,
            storage_path,
        }) => {
            let Some(path) = stored_path(&state.settings.data_dir, &storage_path) else {
                tracing::error!(document = id, storage_path, "stored file path is not safe");
                return error_response(&AppError::NotFound);
            };
            match tokio::fs::read(&path).await {
                Ok(bytes) => attachment(&file_name, &content_type, bytes),
                Err(err) => {
                    tracing::error!(document = id, path = %path.display(), error = %err, "stored file unreadable");
                    error_response(&AppError::NotFound)
                }
            }
        }
        Err(err) => error_response(&err),
    }
}

/// `GET /portal/statement.pdf?from=YYYY-MM-DD&to=YYYY-MM-DD`: the caller's statement,
/// by default over the last 90 days.
pub async fn statement_pdf(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        let account_id = caller.portal_account()?;
        let (from, to) = documents::parse_period(
            query.get("from").map(String::as_str),
            query.get("to").map(String::as_str),
            state.clock.today(),
        )?;
        documents::statement(&state.db, account_id, from, to).await
    }
    .await;
    match result {
        Ok((file_name, bytes)) => attachment(&file_name, "application/pdf", bytes),
        Err(err) => error_response(&err),
    }
}

/// `storage_path` under `root`, unless it would leave it.
pub(crate) fn stored_path(root: &FsPath, storage_path: &str) -> Option<PathBuf> {
    let relative = FsPath::new(storage_path);
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        .then(|| root.join(relative))
}

pub(crate) fn attachment(file_name: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"",
        documents::safe_file_name(file_name)
    );
    let mut res = Response::new(Body::from(bytes));
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// A plain-text error; a bad query is a 400 here, not the 422 of a form.
fn error_response(err: &AppError) -> Response {
    let status = match err {
        AppError::Validation { .. } => StatusCode::BAD_REQUEST,
        other => StatusCode::from_u16(other.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    };
    let body = match err {
        AppError::Validation { .. } => format!("Bad request: {err}."),
        AppError::Unauthorized => "Please sign in to download documents.".to_owned(),
        AppError::NotFound => "No such document.".to_owned(),
        other => other.to_string(),
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::stored_path;
    use std::path::Path;

    #[test]
    fn stored_paths_stay_under_the_data_directory() {
        let root = Path::new("/data");
        assert_eq!(
            stored_path(root, "files/a.pdf"),
            Some(Path::new("/data/files/a.pdf").to_path_buf())
        );
        assert_eq!(stored_path(root, "../etc/passwd"), None);
        assert_eq!(stored_path(root, "/etc/passwd"), None);
    }
}
