//! The REST API at `/api/v1` for ERP connectors.

use app::state::AppState;
use axum::Router;

/// The API's routes, nested under `/api/v1` by `web::router`.
pub fn router() -> Router<AppState> {
    Router::new()
}
