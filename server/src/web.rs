//! The HTTP router: Leptos pages and server functions, static files, and the middleware
//! that resolves the caller, refuses cross-site writes and sets security headers.

use std::sync::Arc;

use app::services::sessions::{self, COOKIE, Caller};
use app::state::{AppState, Clock, Settings};
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderValue, Method, StatusCode, header};
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sea_orm::DatabaseConnection;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// Builds the state shared by every request.
pub fn state(
    db: DatabaseConnection,
    leptos_options: LeptosOptions,
    clock: Arc<dyn Clock>,
    public_url: &str,
    pay: Arc<dyn app::services::easy_pay::Provider>,
) -> AppState {
    AppState {
        leptos_options,
        db,
        clock,
        pay,
        mail_wake: Arc::new(tokio::sync::Notify::new()),
        settings: Arc::new(Settings {
            public_url: public_url.to_owned(),
            secure_cookies: public_url.starts_with("https://"),
            data_dir: std::path::PathBuf::from("data"),
            max_upload_bytes: app::state::DEFAULT_MAX_UPLOAD_BYTES,
            // `settle serve` sets the configured key; anything else gets a throwaway one.
            secret_key: app::state::SecretKey(rand::random()),
        }),
    }
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    Router::new()
        .route(
            "/portal/documents/{id}/pdf",
            get(crate::downloads::document_pdf),
        )
        .route(
            "/portal/statement.pdf",
            get(crate::downloads::statement_pdf),
        )
        .route("/webhooks/{provider}", post(crate::pay::webhook))
        .route(
            "/portal/uploads",
            post(crate::uploads::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/files/{id}", get(crate::uploads::file))
        .route("/staff/letters.pdf", get(crate::letters::letters_pdf))
        .route(
            "/staff/accounts/{id}/history.csv",
            get(crate::exports::history_csv),
        )
        .route("/supplier.vcf", get(crate::exports::supplier_vcard))
        .route(
            "/pay/sandbox/{session}",
            get(crate::pay::sandbox_page).post(crate::pay::sandbox_press),
        )
        .nest("/api/v1", crate::api_v1::router())
        .merge(crate::import_page::routes())
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            resolve_caller,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_cross_site,
        ))
        .layer(middleware::from_fn(limit_bodies))
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
            ),
        ))
        .with_state(state)
}

/// Puts the caller, resolved from the session cookie, into the request's extensions,
/// where server functions and pages find it.
async fn resolve_caller(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let caller = match session_secret(&req) {
        Some(secret) => match sessions::resolve(&state.db, &secret, state.clock.now()).await {
            Ok(caller) => caller,
            Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        },
        None => Caller::Anonymous,
    };
    // The built JS, wasm and CSS are the same for everyone: let browsers keep them and ask
    // again with `If-Modified-Since` (their names carry no hash, so not for long).
    let asset = req.uri().path().starts_with("/pkg/");
    req.extensions_mut().insert(caller);
    let meta = app::services::audit::RequestMeta {
        request_id: hex::encode(rand::random::<[u8; 8]>()),
        client_ip: req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|ci| ci.0.ip().to_string()),
    };
    let request_id = HeaderValue::from_str(&meta.request_id).ok();
    let mut res = app::services::audit::REQUEST
        .scope(meta, next.run(req))
        .await;
    if let Some(id) = request_id {
        res.headers_mut().insert("x-request-id", id);
    }
    // Pages depend on who asks: never let a shared cache keep them.
    if !res.headers().contains_key(header::CACHE_CONTROL) {
        let policy = if asset { "no-cache" } else { "no-store" };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    res
}

fn session_secret(req: &Request) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// The largest body a form post, server function or API call may carry. Files go to the
/// upload routes, which stream to disk under limits of their own.
pub const MAX_BODY_BYTES: u64 = 2 * 1024 * 1024;

/// Routes that stream large files to disk and check their own size limit.
const STREAMING_UPLOADS: [&str; 2] = ["/portal/uploads", "/staff/import"];

/// Refuses an oversized body before reading any of it (413 on its declared length), and
/// caps a body of undeclared length at [`MAX_BODY_BYTES`] as it is read: Leptos server
/// functions would otherwise buffer whatever they are sent.
async fn limit_bodies(req: Request, next: Next) -> Response {
    if STREAMING_UPLOADS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let limited = http_body_util::Limited::new(body, MAX_BODY_BYTES as usize);
    next.run(Request::from_parts(parts, Body::new(limited)))
        .await
}

fn too_large() -> Response {
    let mut res = (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "The request is larger than {} MiB; nothing was read or changed.",
            MAX_BODY_BYTES / (1024 * 1024)
        ),
    )
        .into_response();
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// Refuses state-changing requests that another site started: Leptos server functions
/// have no CSRF protection of their own.
async fn refuse_cross_site(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && is_cross_site(&req, &state.settings.public_url) {
        return Response::builder()
            .status(StatusCode::FORBIDDEN)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Body::from("Cross-site request refused."))
            .unwrap_or_else(|_| StatusCode::FORBIDDEN.into_response());
    }
    next.run(req).await
}

fn is_cross_site(req: &Request, public_url: &str) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            origin != public_url && origin.split_once("://").map(|(_, h)| h) != Some(host)
        }
        None => false,
    }
}
