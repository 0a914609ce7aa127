//! The staff import page's HTTP side: the file upload that starts a run (streamed to the
//! data directory, hashed on the way, then checked or applied on a background task), and the
//! report of rejected rows as CSV.
//!
//! Uploads are plain multipart requests rather than server functions because an ERP export
//! can be hundreds of megabytes: it is never held in memory.

use std::path::{Path as FsPath, PathBuf};

use app::entities::import_run;
use app::error::AppError;
use app::model::enums::{ImportKind, StaffRole};
use app::services::audit_history::spreadsheet_safe;
use app::services::documents::safe_file_name;
use app::services::import::{self, RunOptions};
use app::services::sessions::Caller;
use app::state::AppState;
use axum::extract::multipart::Field;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use http::{StatusCode, header};
use sea_orm::EntityTrait;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::downloads::attachment;

/// The largest file an import accepts: 512 MiB, room for about three million invoice lines.
pub const MAX_IMPORT_BYTES: u64 = 512 * 1024 * 1024;

/// The longest value the form's small fields (`kind`, `dry_run`) may have.
const MAX_FIELD_BYTES: usize = 64;

/// The header of the report CSV.
pub const REPORT_HEADER: [&str; 3] = ["line", "column", "reason"];

/// The import page's HTTP routes, merged by `web::router`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/staff/import",
            // The size is capped while streaming (`MAX_IMPORT_BYTES`), not by axum's 2 MB default.
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/staff/import/{id}/report.csv", get(report_csv))
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "error": message }).to_string(),
    )
        .into_response()
}

/// A refusal as the page shows it.
type Refusal = (StatusCode, String);

fn internal(err: &dyn std::fmt::Display) -> Refusal {
    tracing::error!(%err, "import upload could not be stored");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "the file could not be stored; please try again".to_owned(),
    )
}

/// `POST /staff/import` (multipart: `kind`, `dry_run` = `true`/`false`, `file`): stores the
/// file under `$SETTLE_DATA_DIR/imports/`, starts a run of it (or resumes the failed applying
/// run of the same file) and answers 202 with `{ "run_id": N }` at once; the run goes on in
/// the background and the page follows it (a form posted by the browser itself, asking for
/// HTML, is redirected with 303 to `/staff/import?run=N` instead). Collectors and admins only (401 without a staff
/// session, 403 for viewers); 413 above [`MAX_IMPORT_BYTES`]; 400 for a malformed form.
pub async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: http::HeaderMap,
    multipart: Multipart,
) -> Response {
    let staff_id = match caller.staff(StaffRole::Collector) {
        Ok((id, _)) => id,
        Err(AppError::Forbidden) => {
            return refuse(
                StatusCode::FORBIDDEN,
                "your role cannot import files; collectors and admins can",
            );
        }
        Err(_) => return refuse(StatusCode::UNAUTHORIZED, "please sign in as staff"),
    };
    let form = match read_form(&state, multipart).await {
        Ok(form) => form,
        Err((status, message)) => return refuse(status, &message),
    };
    let run = match import::begin(
        &state.db,
        form.kind,
        &form.file_name,
        &form.sha256,
        form.dry_run,
        Some(staff_id),
        state.clock.now(),
    )
    .await
    {
        Ok(run) => run,
        Err(err) => {
            tracing::error!(%err, "import run could not begin");
            let _ = tokio::fs::remove_file(&form.path).await;
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the import could not start; please try again",
            );
        }
    };
    let run_id = run.id;
    let opts = RunOptions {
        dry_run: form.dry_run,
        data_dir: state.settings.data_dir.clone(),
        ..Default::default()
    };
    tokio::spawn(async move {
        let path = form.path;
        if let Err(err) =
            import::execute(&state.db, run_id, &path, &opts, state.clock.as_ref()).await
        {
            tracing::warn!(run = run_id, %err, "import run stopped");
        }
        // A failed applying run resumes from the same file uploaded again.
        if let Err(err) = tokio::fs::remove_file(&path).await {
            tracing::warn!(run = run_id, %err, "imported file could not be removed");
        }
    });
    if is_page_post(&headers) {
        return axum::response::Redirect::to(&format!("/staff/import?run={run_id}"))
            .into_response();
    }
    (
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "run_id": run_id }).to_string(),
    )
        .into_response()
}

/// The browser posted the page's form itself (its script not running yet): it is sent to
/// the page, which follows the run, rather than shown JSON.
fn is_page_post(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// The upload form, its file stored.
struct Form {
    kind: ImportKind,
    dry_run: bool,
    file_name: String,
    sha256: String,
    path: PathBuf,
}

/// Reads the form's fields in whatever order they come, streaming the file to disk; nothing
/// is left on disk when the form is refused.
async fn read_form(state: &AppState, mut multipart: Multipart) -> Result<Form, Refusal> {
    let mut kind: Option<String> = None;
    let mut dry_run: Option<String> = None;
    let mut stored: Option<(String, String, PathBuf)> = None;
    let result: Result<(), Refusal> = async {
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => return Ok(()),
                Err(err) => {
                    return Err((
                        StatusCode::BAD_REQUEST,
                        format!("the upload is malformed: {err}"),
                    ));
                }
            };
            match field.name() {
                Some("kind") => kind = Some(small_text(field).await?),
                Some("dry_run") => dry_run = Some(small_text(field).await?),
                Some("file") if stored.is_none() => {
                    let name = safe_file_name(field.file_name().unwrap_or("import.csv"));
                    let (sha256, path) = store(&state.settings.data_dir, field).await?;
                    stored = Some((name, sha256, path));
                }
                _ => {}
            }
        }
    }
    .await;
    let form = result.and_then(|()| {
        let kind = kind.as_deref().map(str::trim).unwrap_or_default();
        let kind = ImportKind::parse(kind).ok_or_else(|| {
            (
                StatusCode::BAD_REQUEST,
                "choose what the file holds: accounts, contacts, invoices, payments or documents"
                    .to_owned(),
            )
        })?;
        let dry_run = match dry_run.as_deref().map(str::trim) {
            None | Some("" | "false" | "off" | "0") => false,
            Some("true" | "on" | "1") => true,
            Some(_) => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "dry_run must be true or false".to_owned(),
                ));
            }
        };
        let Some((file_name, sha256, path)) = stored.clone() else {
            return Err((
                StatusCode::BAD_REQUEST,
                "choose a file to import".to_owned(),
            ));
        };
        Ok(Form {
            kind,
            dry_run,
            file_name,
            sha256,
            path,
        })
    });
    if form.is_err()
        && let Some((_, _, path)) = &stored
    {
        let _ = tokio::fs::remove_file(path).await;
    }
    form
}

/// A short text field, refused when longer than [`MAX_FIELD_BYTES`].
async fn small_text(mut field: Field<'_>) -> Result<String, Refusal> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("the upload was cut off: {e}"),
        )
    })? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_FIELD_BYTES {
            return Err((
                StatusCode::BAD_REQUEST,
                "a form field is too long".to_owned(),
            ));
        }
    }
    String::from_utf8(bytes).map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            "a form field is not text".to_owned(),
        )
    })
}

/// Streams the file to `data_dir/imports/`, capped at [`MAX_IMPORT_BYTES`]; its SHA-256
/// (hex) and where it is.
async fn store(data_dir: &FsPath, mut field: Field<'_>) -> Result<(String, PathBuf), Refusal> {
    let dir = data_dir.join("imports");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| internal(&e))?;
    let name = hex::encode(rand::random::<[u8; 16]>());
    let partial = dir.join(format!("{name}.part"));
    let mut out = tokio::fs::File::create(&partial)
        .await
        .map_err(|e| internal(&e))?;
    let mut size: u64 = 0;
    let mut hasher = Sha256::new();
    let written: Result<(), Refusal> = async {
        while let Some(chunk) = field.chunk().await.map_err(|e| {
            (
                StatusCode::BAD_REQUEST,
                format!("the upload was cut off: {e}"),
            )
        })? {
            size += chunk.len() as u64;
            if size > MAX_IMPORT_BYTES {
                return Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "import files may be at most {} MB",
                        MAX_IMPORT_BYTES / (1024 * 1024)
                    ),
                ));
            }
            hasher.update(&chunk);
            out.write_all(&chunk).await.map_err(|e| internal(&e))?;
        }
        out.flush().await.map_err(|e| internal(&e))?;
        if size == 0 {
            return Err((StatusCode::BAD_REQUEST, "the file is empty".to_owned()));
        }
        Ok(())
    }
    .await;
    drop(out);
    let done = dir.join(format!("{name}.upload"));
    let renamed = match written {
        Ok(()) => tokio::fs::rename(&partial, &done)
            .await
            .map_err(|e| internal(&e)),
        Err(err) => Err(err),
    };
    if let Err(err) = renamed {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(err);
    }
    Ok((hex::encode(hasher.finalize()), done))
}

/// `GET /staff/import/{id}/report.csv`: every rejected row of run `id` by line, as CSV with
/// the header `line,column,reason` (any staff user; text a spreadsheet would take for a
/// formula is quoted with a leading `'`).
pub async fn report_csv(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        caller.staff(StaffRole::Viewer)?;
        import_run::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .ok_or(AppError::NotFound)?;
        let rows = import::rejects(&state.db, id).await?;
        let mut out = csv::Writer::from_writer(Vec::new());
        let write = |out: &mut csv::Writer<Vec<u8>>| -> csv::Result<()> {
            out.write_record(REPORT_HEADER)?;
            for row in &rows {
                out.write_record([
                    row.line.to_string(),
                    spreadsheet_safe(&row.column_name),
                    spreadsheet_safe(&row.reason),
                ])?;
            }
            out.flush()?;
            Ok(())
        };
        write(&mut out).map_err(|err| {
            tracing::error!(run = id, %err, "import report could not be written");
            AppError::Internal
        })?;
        out.into_inner().map_err(|err| {
            tracing::error!(run = id, %err, "import report could not be flushed");
            AppError::Internal
        })
    }
    .await;
    match result {
        Ok(bytes) => attachment(
            &format!("import-{id}-report.csv"),
            "text/csv; charset=utf-8",
            bytes,
        ),
        Err(err) => {
            let status =
                StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = match err {
                AppError::Unauthorized => "Please sign in as staff to see an import's report.",
                AppError::Forbidden => "Your role cannot see import reports.",
                AppError::NotFound => "No such import.",
                _ => "Something went wrong on our side; please try again.",
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
