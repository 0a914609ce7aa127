//! Server functions, one file per area. Each stays thin: resolve the caller, call a
//! service, return a DTO.

pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod campaigns;
pub mod dashboard;
pub mod disputes;
pub mod documents;
pub mod import;
pub mod inbox;
pub mod letters;
pub mod links;
pub mod messages;
pub mod pay;
pub mod portal;
pub mod profile;
pub mod promises;
pub mod registration;
pub mod reminders;
pub mod staff;
pub mod staff_disputes;
pub mod supplier_profile;
pub mod webhooks;

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

    fn is_plain_form_post() -> bool {
        use_context::<Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        })
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
    /// A plain form post (no JavaScript yet) is left to Leptos, which sends the browser back
    /// to the page it came from instead of showing an error body.
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(err) = &result
            && !is_plain_form_post()
            && let Some(options) = use_context::<ResponseOptions>()
            && let Ok(status) = StatusCode::from_u16(err.status())
        {
            options.set_status(status);
        }
        result
    }
}
