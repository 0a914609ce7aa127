//! Stub, filled in by its helpers: the audit CSV export and the supplier vCard.
use axum::response::{IntoResponse, Response};

/// `GET /staff/accounts/{id}/history.csv`.
pub async fn history_csv() -> Response {
    http::StatusCode::NOT_FOUND.into_response()
}

/// `GET /supplier.vcf`.
pub async fn supplier_vcard() -> Response {
    http::StatusCode::NOT_FOUND.into_response()
}
