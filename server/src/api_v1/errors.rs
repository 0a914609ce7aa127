//! The problem responses each kind of operation can answer, for the OpenAPI document.

#![allow(dead_code)] // the variants only describe responses

use utoipa::IntoResponses;

use super::problem::Problem;

/// What any list can answer besides its page.
#[derive(IntoResponses)]
pub enum ListProblems {
    #[response(
        status = 400,
        description = "A query parameter is not valid",
        content_type = "application/problem+json"
    )]
    BadRequest(Problem),
    #[response(
        status = 401,
        description = "No valid API key",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    #[response(
        status = 429,
        description = "Too many requests with this key; see `Retry-After`",
        content_type = "application/problem+json"
    )]
    RateLimited(Problem),
}

/// What fetching one resource can answer besides the resource.
#[derive(IntoResponses)]
pub enum GetProblems {
    #[response(
        status = 400,
        description = "The id is not a number",
        content_type = "application/problem+json"
    )]
    BadRequest(Problem),
    #[response(
        status = 401,
        description = "No valid API key",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    #[response(
        status = 404,
        description = "No such resource",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    #[response(
        status = 429,
        description = "Too many requests with this key; see `Retry-After`",
        content_type = "application/problem+json"
    )]
    RateLimited(Problem),
}

/// What a write can answer besides its result.
#[derive(IntoResponses)]
pub enum WriteProblems {
    #[response(
        status = 400,
        description = "The body is not JSON",
        content_type = "application/problem+json"
    )]
    BadRequest(Problem),
    #[response(
        status = 401,
        description = "No valid API key",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    #[response(
        status = 403,
        description = "The key is read-only",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    #[response(
        status = 409,
        description = "The external id or number is taken by different content, or the change would contradict what happened since",
        content_type = "application/problem+json"
    )]
    Conflict(Problem),
    #[response(
        status = 415,
        description = "The body is not sent as application/json",
        content_type = "application/problem+json"
    )]
    UnsupportedMediaType(Problem),
    #[response(
        status = 422,
        description = "A field is not valid; `field` names it",
        content_type = "application/problem+json"
    )]
    Unprocessable(Problem),
    #[response(
        status = 429,
        description = "Too many requests with this key; see `Retry-After`",
        content_type = "application/problem+json"
    )]
    RateLimited(Problem),
}
