//! The REST API at `/api/v1` for ERP connectors: accounts, documents, payments, promises,
//! disputes and the change feed, with API keys, per-key rate limits, errors as RFC 9457
//! problem details, and an OpenAPI 3.1 description generated from this code at
//! `/api/v1/openapi.json`.
//!
//! Every operation is routed from its `#[utoipa::path]`, which gives the path and method it
//! is served at (see `keyed`); a test checks that the document lists exactly the routes
//! [`served_routes`] reports.

pub mod accounts;
pub mod auth;
pub mod changes;
pub mod disputes;
pub mod documents;
mod errors;
mod input;
pub mod page;
pub mod payments;
pub mod problem;
pub mod promises;

use app::state::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter, on};
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use problem::Problem;

/// The OpenAPI document of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Settle API",
        description = "Accounts, documents, payments, promises, disputes and the change feed of Settle, for ERP connectors. \
Authenticate with `Authorization: Bearer KEY` (an admin creates keys at /staff/api-keys). \
Each key may make 600 requests per minute; beyond that the API answers 429 with `Retry-After`. \
Lists are paged by cursor: pass `next_cursor` back as `cursor` until it is null. \
Money is in integer minor units with an ISO 4217 currency; dates are ISO 8601. \
Errors are RFC 9457 problem details (`application/problem+json`).",
        version = "1"
    ),
    servers((url = "/api/v1")),
    paths(
        openapi_json,
        accounts::list_accounts,
        accounts::get_account,
        documents::list_documents,
        documents::get_document,
        documents::upsert_invoice,
        payments::list_payments,
        payments::get_payment,
        payments::create_payment,
        promises::list_promises,
        promises::get_promise,
        disputes::list_disputes,
        disputes::get_dispute,
        changes::list_changes,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Customers and vendors with contacts and addresses"),
        (name = "documents", description = "Invoices and other documents with their lines"),
        (name = "payments", description = "Payments and the invoices they paid"),
        (name = "promises", description = "Promises to pay"),
        (name = "disputes", description = "Disputed invoice lines"),
        (name = "changes", description = "The feed of master-data changes"),
        (name = "meta", description = "This description"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key, `settle_…`"))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI 3.1 description of this API (no key needed).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json"))
)]
pub async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

/// A served operation: its method ("GET") and path (relative to `/api/v1`).
pub type Route = (&'static str, String);

fn filter(method: &HttpMethod) -> (MethodFilter, &'static str) {
    match method {
        HttpMethod::Get => (MethodFilter::GET, "GET"),
        HttpMethod::Post => (MethodFilter::POST, "POST"),
        HttpMethod::Put => (MethodFilter::PUT, "PUT"),
        HttpMethod::Delete => (MethodFilter::DELETE, "DELETE"),
        HttpMethod::Options => (MethodFilter::OPTIONS, "OPTIONS"),
        HttpMethod::Head => (MethodFilter::HEAD, "HEAD"),
        HttpMethod::Patch => (MethodFilter::PATCH, "PATCH"),
        HttpMethod::Trace => (MethodFilter::TRACE, "TRACE"),
    }
}

/// Collects routes from their `#[utoipa::path]` descriptions.
#[derive(Default)]
struct Routes {
    router: Router<AppState>,
    served: Vec<Route>,
}

impl Routes {
    fn add<P: utoipa::Path, H: Handler<T, AppState>, T: 'static>(mut self, handler: H) -> Self {
        let path = P::path();
        let mut method_router: MethodRouter<AppState> = MethodRouter::new();
        for method in P::methods() {
            let (filter, name) = filter(&method);
            method_router = method_router.merge(on(filter, handler.clone()));
            self.served.push((name, path.clone()));
        }
        self.router = self.router.route(&path, method_router);
        self
    }
}

/// Every operation that needs a key.
fn keyed() -> Routes {
    Routes::default()
        .add::<accounts::__path_list_accounts, _, _>(accounts::list_accounts)
        .add::<accounts::__path_get_account, _, _>(accounts::get_account)
        .add::<documents::__path_list_documents, _, _>(documents::list_documents)
        .add::<documents::__path_get_document, _, _>(documents::get_document)
        .add::<documents::__path_upsert_invoice, _, _>(documents::upsert_invoice)
        .add::<payments::__path_list_payments, _, _>(payments::list_payments)
        .add::<payments::__path_get_payment, _, _>(payments::get_payment)
        .add::<payments::__path_create_payment, _, _>(payments::create_payment)
        .add::<promises::__path_list_promises, _, _>(promises::list_promises)
        .add::<promises::__path_get_promise, _, _>(promises::get_promise)
        .add::<disputes::__path_list_disputes, _, _>(disputes::list_disputes)
        .add::<disputes::__path_get_dispute, _, _>(disputes::get_dispute)
        .add::<changes::__path_list_changes, _, _>(changes::list_changes)
}

/// Every operation the API serves, as (method, path relative to `/api/v1`).
pub fn served_routes() -> Vec<Route> {
    let mut all = keyed().served;
    all.push(("GET", <__path_openapi_json as utoipa::Path>::path()));
    all
}

async fn not_found() -> Problem {
    Problem::not_found("The API has no such path; see /api/v1/openapi.json.")
}

async fn method_not_allowed() -> Problem {
    Problem::method_not_allowed()
}

/// The API's routes, nested under `/api/v1` by `web::router`.
pub fn router() -> Router<AppState> {
    keyed()
        .router
        .route("/openapi.json", axum::routing::get(openapi_json))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
}
