//! Server functions, one file per area. Each stays thin: resolve the caller, call a
//! service, return a DTO.

pub mod links;
pub mod portal;
pub mod staff;

#[cfg(feature = "ssr")]
pub(crate) mod ctx {
    use http::StatusCode;
    use http::request::Parts;
    use leptos::prelude::use_context;
    use leptos_axum::ResponseOptions;

    use crate::error::AppError;
    use crate::services::sessions::Caller;
    use crate::state::AppState;

    /// The router's state.
    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::Internal
        })
    }

    /// Who is calling, as resolved from the session cookie by the server's middleware.
    pub fn caller() -> Caller {
        use_context::<Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>().cloned())
            .unwrap_or(Caller::Anonymous)
    }

    /// The client's address as the listener saw it ("unknown" when not served over TCP).
    pub fn client_ip() -> String {
        use_context::<Parts>()
            .and_then(|parts| {
                parts
                    .extensions
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                    .map(|ci| ci.0.ip().to_string())
            })
            .unwrap_or_else(|| "unknown".to_owned())
    }

    /// Gives the HTTP response the status that matches the error, then passes the result on.
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(err) = &result
            && let Some(options) = use_context::<ResponseOptions>()
            && let Ok(status) = StatusCode::from_u16(err.status())
        {
            options.set_status(status);
        }
        result
    }
}
