//! API keys on every request: `Authorization: Bearer KEY`, checked against the stored hashes;
//! a read-only key may not write; each key gets [`RATE_LIMIT`] requests per minute, counted
//! in the database so every Settle process shares the count.

use app::entities::rate_limit;
use app::model::enums::ApiScope;
use app::services::rate_limit::{Limit, hit};
use app::state::AppState;
use axum::extract::FromRequestParts;
use chrono::Duration;
use http::request::Parts;
use http::{Method, StatusCode, header};
use sea_orm::{EntityTrait, QueryFilter};

use super::problem::Problem;

/// Requests one key may make per minute.
pub const RATE_LIMIT: Limit = Limit {
    max: 600,
    window: Duration::minutes(1),
};

/// The key a request was made with: taking it as a handler's first argument is what makes
/// the handler need a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiKey {
    pub id: i64,
    pub scope: ApiScope,
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = Problem;

    /// Refuses requests without a valid key (401), over the key's rate (429) or writing with
    /// a read-only key (403).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let now = state.clock.now();
        let token = bearer(parts).ok_or_else(|| {
            Problem::unauthorized("Send an API key as `Authorization: Bearer KEY`.")
        })?;
        let key = match app::services::api_keys::authenticate(&state.db, token, now).await {
            Ok(key) => key,
            Err(app::error::AppError::Unauthorized) => {
                return Err(Problem::unauthorized(
                    "This API key is not valid or has been revoked.",
                ));
            }
            Err(err) => return Err(err.into()),
        };
        let bucket = format!("api:{}", key.id);
        if !hit(&state.db, &bucket, RATE_LIMIT, now).await? {
            let retry = retry_after(state, &bucket, now).await;
            return Err(Problem::rate_limited(
                retry,
                format!(
                    "This key made more than {} requests in a minute; try again in {retry} s.",
                    RATE_LIMIT.max
                ),
            ));
        }
        let writes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if writes && key.scope == ApiScope::Read {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed",
                "This key is read-only; writing needs a read-write key.",
            ));
        }
        Ok(ApiKey {
            id: key.id,
            scope: key.scope,
        })
    }
}

/// Seconds until the key's window ends (at least 1).
async fn retry_after(state: &AppState, bucket: &str, now: chrono::DateTime<chrono::Utc>) -> u64 {
    let start = rate_limit::Entity::find()
        .filter(rate_limit::COLUMN.key.eq(bucket))
        .one(&state.db)
        .await
        .ok()
        .flatten()
        .map(|r| r.window_start);
    let secs = start.map_or(RATE_LIMIT.window.num_seconds(), |s| {
        (s + RATE_LIMIT.window - now).num_seconds()
    });
    u64::try_from(secs.max(1)).unwrap_or(1)
}
