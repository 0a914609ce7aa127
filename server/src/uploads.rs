//! Customer uploads, streamed to the data directory with their size capped and their type
//! decided from their content; and stored files served back to whoever may see them.

use app::error::AppError;
use app::model::enums::LinkPurpose;
use app::services::documents::safe_file_name;
use app::services::files::{self, NewFile, SNIFF_BYTES, sniff};
use app::services::sessions::Caller;
use app::state::AppState;
use axum::Extension;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::downloads::{attachment, stored_path};

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "error": message }).to_string(),
    )
        .into_response()
}

/// `POST /portal/uploads` (multipart, field `file`): stores one file of the signed-in
/// account. 201 with `{id, file_name, content_type, size_bytes}`; 413 above the limit; 415
/// when the content is not a PDF or an image; 401 without a portal session.
pub async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    mut multipart: Multipart,
) -> Response {
    // A portal session, or a `profile` link's session (documents we ask for).
    let account_id = match caller.contact() {
        Ok((_, account_id, LinkPurpose::Portal | LinkPurpose::Profile, _)) => account_id,
        _ => return refuse(StatusCode::UNAUTHORIZED, "please sign in"),
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return refuse(StatusCode::BAD_REQUEST, "no file in the upload"),
            Err(err) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    &format!("the upload is malformed: {err}"),
                );
            }
        };
        if field.name() != Some("file") {
            continue;
        }
        let original = safe_file_name(field.file_name().unwrap_or("upload"));
        return match store(&state, account_id, original, field).await {
            Ok(file) => (
                StatusCode::CREATED,
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::json!({
                    "id": file.id,
                    "file_name": file.file_name,
                    "content_type": file.content_type,
                    "size_bytes": file.size_bytes,
                })
                .to_string(),
            )
                .into_response(),
            Err((status, message)) => refuse(status, &message),
        };
    }
}

async fn store(
    state: &AppState,
    account_id: i64,
    original: String,
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<app::entities::stored_file::Model, (StatusCode, String)> {
    let internal = |err: &dyn std::fmt::Display| {
        tracing::error!(%err, "upload could not be stored");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the file could not be stored; please try again".to_owned(),
        )
    };
    let dir = state.settings.data_dir.join("uploads");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| internal(&e))?;
    let name = hex::encode(rand::random::<[u8; 16]>());
    let partial = dir.join(format!("{name}.part"));
    let mut out = tokio::fs::File::create(&partial)
        .await
        .map_err(|e| internal(&e))?;
    let limit = state.settings.max_upload_bytes;
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
    let mut hasher = Sha256::new();
    let result: Result<(), (StatusCode, String)> = async {
        while let Some(chunk) = field.chunk().await.map_err(|e| {
            (
                StatusCode::BAD_REQUEST,
                format!("the upload was cut off: {e}"),
            )
        })? {
            size += chunk.len() as u64;
            if size > limit {
                return Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("files may be at most {} MB", limit / (1024 * 1024)),
                ));
            }
            if head.len() < SNIFF_BYTES {
                let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
                // Refuse as soon as the type is known to be wrong, before writing more.
                if head.len() == SNIFF_BYTES && sniff(&head).is_none() {
                    return Err(unsupported());
                }
            }
            hasher.update(&chunk);
            out.write_all(&chunk).await.map_err(|e| internal(&e))?;
        }
        out.flush().await.map_err(|e| internal(&e))?;
        Ok(())
    }
    .await;
    drop(out);
    let kind = result.and_then(|()| {
        if size == 0 {
            return Err((StatusCode::BAD_REQUEST, "the file is empty".to_owned()));
        }
        sniff(&head).ok_or_else(unsupported)
    });
    let (content_type, ext) = match kind {
        Ok(kind) => kind,
        Err(err) => {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(err);
        }
    };
    let relative = format!("uploads/{name}.{ext}");
    if let Err(err) = tokio::fs::rename(&partial, state.settings.data_dir.join(&relative)).await {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(internal(&err));
    }
    files::record(
        &state.db,
        NewFile {
            account_id: Some(account_id),
            file_name: original,
            content_type: content_type.to_owned(),
            size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
            sha256: hex::encode(hasher.finalize()),
            storage_path: relative,
        },
        state.clock.now(),
    )
    .await
    .map_err(|e| internal(&e))
}

fn unsupported() -> (StatusCode, String) {
    (
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "only PDF files and photos (JPEG, PNG, GIF, WebP, HEIC) can be attached".to_owned(),
    )
}

/// `GET /files/{id}`: a stored file, as an attachment — to staff, or to a contact of the
/// account it belongs to (any other id is 404).
pub async fn file(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Response {
    let scope = match &caller {
        Caller::Staff { .. } => None,
        Caller::Contact { account_id, .. } => Some(*account_id),
        Caller::Anonymous => return (StatusCode::UNAUTHORIZED, "Please sign in.").into_response(),
    };
    let found = match files::find(&state.db, id, scope).await {
        Ok(found) => found,
        Err(AppError::NotFound) => return (StatusCode::NOT_FOUND, "No such file.").into_response(),
        Err(err) => return (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response(),
    };
    let Some(path) = stored_path(&state.settings.data_dir, &found.storage_path) else {
        return (StatusCode::NOT_FOUND, "No such file.").into_response();
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => attachment(&found.file_name, &found.content_type, bytes),
        Err(err) => {
            tracing::error!(file = id, %err, "stored file unreadable");
            (StatusCode::NOT_FOUND, "No such file.").into_response()
        }
    }
}
