//! Magic links: describing one (safe for link scanners) and opening it (the button's POST).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::portal::LinkPreview;

/// What the link is for, without consuming it; `None` for every link that cannot be used.
#[server(endpoint = "links/describe")]
pub async fn describe_link(token: String) -> Result<Option<LinkPreview>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            crate::services::magic_links::describe(&state.db, &token, state.clock.now()).await
        }
        .await,
    )
}

/// Consumes the link, opens a session and sends the contact to the portal.
#[server(endpoint = "links/open")]
pub async fn open_link(token: String) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let secret =
                crate::services::magic_links::consume(&state.db, &token, state.clock.now()).await?;
            set_session_cookie(&state, &secret, false);
            leptos_axum::redirect("/portal");
            Ok(())
        }
        .await,
    )
}

/// Sets (or, with `clear`, removes) the session cookie on the response.
#[cfg(feature = "ssr")]
pub(crate) fn set_session_cookie(state: &crate::state::AppState, secret: &str, clear: bool) {
    use crate::services::sessions::COOKIE;
    use http::{HeaderValue, header::SET_COOKIE};
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let max_age = if clear {
        "; Max-Age=0".to_owned()
    } else {
        format!(
            "; Max-Age={}",
            crate::services::sessions::ABSOLUTE.num_seconds()
        )
    };
    let cookie = format!("{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax{secure}{max_age}");
    match (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(&cookie),
    ) {
        (Some(options), Ok(value)) => options.append_header(SET_COOKIE, value),
        _ => tracing::error!("could not set the session cookie"),
    }
}
