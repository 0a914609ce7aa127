//! The staff import page's HTTP side: the file upload that starts a run, and the report download.

use app::state::AppState;
use axum::Router;

/// The import page's HTTP routes, merged by `web::router`.
pub fn routes() -> Router<AppState> {
    Router::new()
}
