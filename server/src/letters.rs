//! Stub, filled in by its helper.
use axum::response::{IntoResponse, Response};

/// `GET /staff/letters.pdf`.
pub async fn letters_pdf() -> Response {
    http::StatusCode::NOT_FOUND.into_response()
}
