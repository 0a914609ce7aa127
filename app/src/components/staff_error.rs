//! The one answer of a staff page that cannot be shown: sign in, wrong role, not found, or
//! what went wrong — with the way on.

use leptos::prelude::*;

use crate::error::AppError;

/// Says why a staff page is not shown. `not_found` names what is missing ("There is no such
/// dispute."); `back` is an extra link (address, text) beside the sign-in link.
#[component]
pub fn StaffError(
    err: AppError,
    #[prop(default = "There is no such page.")] not_found: &'static str,
    #[prop(optional)] back: Option<(&'static str, &'static str)>,
) -> impl IntoView {
    let text = match err {
        AppError::Unauthorized => "Please sign in as staff.".to_owned(),
        AppError::Forbidden => "Your role cannot see this page.".to_owned(),
        AppError::NotFound => not_found.to_owned(),
        other => other.to_string(),
    };
    view! {
        <section class="panel narrow notice" role="alert" data-testid="staff-error">
            <p>{text}</p>
            <p>
                <a href="/staff/sign-in">"Staff sign-in"</a>
                {back.map(|(href, label)| view! { " · " <a href=href>{label}</a> })}
            </p>
        </section>
    }
}
