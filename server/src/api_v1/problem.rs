//! Errors as RFC 9457 `application/problem+json`, and extractors whose rejections are
//! problems too, so no client ever gets a plain-text or HTML error from the API.

use app::error::AppError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

/// The media type of every error the API answers with.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error, as RFC 9457 describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://settle.dev/problems/validation",
    "title": "A field is not valid",
    "status": 422,
    "detail": "lines[0].quantity_milli: must not be negative",
    "field": "lines[0].quantity_milli"
}))]
pub struct Problem {
    /// A URI naming the kind of problem; the same for every problem of that kind.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// For validation problems: the request field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For 429: seconds until the key may call again (also in `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// Where the problem types are described.
const TYPE_BASE: &str = "https://settle.dev/problems/";

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("{TYPE_BASE}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            retry_after: None,
        }
    }

    /// 400: the request could not be read (bad query, path or JSON syntax).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request could not be read",
            detail,
        )
    }

    /// 400 naming the query parameter at fault.
    pub fn bad_parameter(field: &str, detail: impl Into<String>) -> Self {
        Problem {
            field: Some(field.to_owned()),
            ..Problem::bad_request(detail)
        }
    }

    /// 401: no key, or not one Settle knows (revoked keys included).
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "An API key is required",
            detail,
        )
    }

    /// 404 for a resource or a path the API does not have.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 405 for a method the path does not answer.
    pub fn method_not_allowed() -> Self {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "This path does not answer that method; see /api/v1/openapi.json.",
        )
    }

    /// 429 with the seconds to wait.
    pub fn rate_limited(retry_after: u64, detail: impl Into<String>) -> Self {
        Problem {
            retry_after: Some(retry_after),
            ..Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                detail,
            )
        }
    }
}

impl From<AppError> for Problem {
    fn from(err: AppError) -> Self {
        let status =
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match err {
            AppError::NotFound => Problem::not_found("No such resource."),
            AppError::Unauthorized => {
                Problem::unauthorized("Send a valid API key as `Authorization: Bearer KEY`.")
            }
            AppError::Forbidden => Problem::new(
                status,
                "forbidden",
                "Not allowed",
                "This key may not do that.",
            ),
            AppError::Validation { field, message } => Problem {
                field: Some(field.clone()),
                ..Problem::new(
                    status,
                    "validation",
                    "A field is not valid",
                    format!("{field}: {message}"),
                )
            },
            AppError::Conflict(message) => Problem::new(status, "conflict", "Conflict", message),
            AppError::RateLimited => Problem::rate_limited(60, "Too many requests with this key."),
            AppError::Unavailable(message) => {
                Problem::new(status, "unavailable", "Unavailable", message)
            }
            AppError::Transport(message) => Problem::bad_request(message),
            AppError::Internal => Problem::new(
                status,
                "internal",
                "Internal error",
                "Something went wrong on our side; please try again.",
            ),
        }
    }
}

impl From<sea_orm::DbErr> for Problem {
    fn from(err: sea_orm::DbErr) -> Self {
        // Two requests creating the same external id at once: the second loses the race.
        if let Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return AppError::Conflict(
                "another request created the same record at the same time; send it again"
                    .to_owned(),
            )
            .into();
        }
        AppError::from(err).into()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// What a handler returns: its answer, or a problem.
pub type ApiResult<T> = Result<T, Problem>;

/// `axum::extract::Query` whose rejection is a 400 problem.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| Problem::bad_request(e.body_text()))
    }
}

/// `axum::extract::Path` whose rejection is a problem (400 for a malformed id).
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e: PathRejection| Problem::bad_request(e.body_text()))
    }
}

/// `axum::Json` whose rejection is a problem: 415 without a JSON content type, 400 for bad
/// syntax, 422 for JSON of the wrong shape.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(j) => Ok(Json(j.0)),
            Err(e) => {
                let status = e.status();
                let detail = e.body_text();
                Err(match e {
                    JsonRejection::JsonDataError(_) => Problem::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "validation",
                        "The body does not have the expected shape",
                        detail,
                    ),
                    JsonRejection::MissingJsonContentType(_) => {
                        Problem::new(status, "unsupported-media-type", "Send JSON", detail)
                    }
                    _ => Problem::bad_request(detail),
                })
            }
        }
    }
}
