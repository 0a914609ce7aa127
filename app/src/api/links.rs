//! Magic links and the portal's front door: describing a link (safe for link scanners),
//! opening it (the button's POST), asking for a sign-in link, and signing in with a code.

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

/// Consumes the link, opens a session and sends the contact to the page of its purpose.
#[server(endpoint = "links/open")]
pub async fn open_link(token: String) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let now = state.clock.now();
            let opened = match crate::services::magic_links::consume(&state.db, &token, now).await {
                Ok(opened) => opened,
                Err(err) => {
                    // Back to the link's page, which now explains that the link cannot be used.
                    // Only a token made of URL-safe characters goes into the header; anything
                    // else was never a link of ours.
                    let safe = token
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
                    if safe {
                        leptos_axum::redirect(&format!("/l/{token}"));
                    }
                    return Err(err);
                }
            };
            if opened.purpose == crate::model::enums::LinkPurpose::Profile {
                crate::services::campaigns::mark_opened(&state.db, opened.contact_id, now).await?;
            }
            set_session_cookie(&state, &opened.secret, false);
            leptos_axum::redirect(landing(opened.purpose));
            Ok(())
        }
        .await,
    )
}

/// Mails a sign-in link and code if the address is known. The answer is the same either way.
#[server(endpoint = "portal/request-link")]
pub async fn request_sign_in_link(email: String) -> Result<(), AppError> {
    use super::ctx;
    use crate::services::sign_in;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let now = state.clock.now();
            let email = sign_in::admit_request(&state.db, &email, &ctx::client_ip(), now).await?;
            // The lookup and the mail happen after the answer, so its timing says nothing.
            let (db, public_url, wake) = (
                state.db.clone(),
                state.settings.public_url.clone(),
                state.mail_wake.clone(),
            );
            tokio::spawn(async move {
                match sign_in::send_links(&db, &public_url, &email, now).await {
                    Ok(0) => {}
                    Ok(_) => wake.notify_one(),
                    Err(err) => tracing::error!(%err, "sending sign-in links failed"),
                }
            });
            leptos_axum::redirect("/portal/sign-in?sent=1");
            Ok(())
        }
        .await,
    )
}

/// Signs in with the one-time code from the sign-in email.
#[server(endpoint = "portal/redeem-code")]
pub async fn redeem_sign_in_code(email: String, code: String) -> Result<(), AppError> {
    use super::ctx;
    use crate::services::{magic_links, rate_limit};
    ctx::respond(
        async {
            let state = ctx::state()?;
            let now = state.clock.now();
            if !rate_limit::hit(
                &state.db,
                &format!("code:ip:{}", ctx::client_ip()),
                rate_limit::STAFF_SIGN_IN,
                now,
            )
            .await?
            {
                return Err(AppError::RateLimited);
            }
            let opened = magic_links::redeem_code(&state.db, &email, &code, now).await?;
            if opened.purpose == crate::model::enums::LinkPurpose::Profile {
                crate::services::campaigns::mark_opened(&state.db, opened.contact_id, now).await?;
            }
            set_session_cookie(&state, &opened.secret, false);
            leptos_axum::redirect(landing(opened.purpose));
            Ok(())
        }
        .await,
    )
}

/// Where a freshly opened session of each purpose starts.
#[cfg(feature = "ssr")]
fn landing(purpose: crate::model::enums::LinkPurpose) -> &'static str {
    use crate::model::enums::LinkPurpose;
    match purpose {
        LinkPurpose::Portal | LinkPurpose::VerifyContact => "/portal",
        LinkPurpose::WrongPerson => "/portal/wrong-person",
        LinkPurpose::Profile => "/portal/profile",
        LinkPurpose::Pay => "/portal/pay",
    }
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
