//! The one error type the browser may see. Database and mail failures are logged
//! where they happen and cross the wire only as `Internal`.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("please sign in")]
    Unauthorized,
    #[error("you may not do that")]
    Forbidden,
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("too many attempts; try again later")]
    RateLimited,
    #[error("something went wrong on our side; please try again")]
    Internal,
    /// A service Settle depends on (the payment provider) did not answer as it should.
    #[error("{0}")]
    Unavailable(String),
    /// The request never reached a server function (network, encoding).
    #[error("the request failed: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status a response carrying this error should have.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound => 404,
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::Validation { .. } => 422,
            AppError::Conflict(_) => 409,
            AppError::RateLimited => 429,
            AppError::Internal => 500,
            AppError::Unavailable(_) => 503,
            AppError::Transport(_) => 400,
        }
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // On the server this is a request that could not be decoded: the caller's fault
        // (400), or a body over the size limit (413), never a server error.
        #[cfg(feature = "ssr")]
        if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            let status = match &value {
                ServerFnErrorErr::Serialization(_) | ServerFnErrorErr::Response(_) => None,
                e if e.to_string().contains("length limit exceeded") => {
                    Some(http::StatusCode::PAYLOAD_TOO_LARGE)
                }
                _ => Some(http::StatusCode::BAD_REQUEST),
            };
            if let Some(status) = status {
                options.set_status(status);
            }
        }
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        if unreachable_database(&err) {
            tracing::warn!(error = %err, "database unreachable");
            return AppError::Unavailable(DATABASE_UNAVAILABLE.to_owned());
        }
        tracing::error!(error = %err, "database error");
        AppError::Internal
    }
}

/// What a caller is told while the database cannot be reached (503): nothing was done,
/// and trying again shortly is the right move.
#[cfg(feature = "ssr")]
pub const DATABASE_UNAVAILABLE: &str =
    "Settle cannot reach its database just now; nothing was changed. Please try again in a moment.";

/// Whether `err` says the database could not be reached (no connection, a connection lost
/// mid-query, the pool timing out) rather than that a statement was wrong.
#[cfg(feature = "ssr")]
pub fn unreachable_database(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    let sqlx = |e: &RuntimeErr| match e {
        RuntimeErr::SqlxError(e) => matches!(
            **e,
            sea_orm::sqlx::Error::Io(_)
                | sea_orm::sqlx::Error::Tls(_)
                | sea_orm::sqlx::Error::PoolTimedOut
                | sea_orm::sqlx::Error::PoolClosed
                | sea_orm::sqlx::Error::WorkerCrashed
        ),
        _ => false,
    };
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(e) | DbErr::Query(e) => sqlx(e),
        _ => false,
    }
}

#[cfg(feature = "ssr")]
impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}
