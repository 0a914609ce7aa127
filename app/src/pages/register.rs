//! Stub, filled in by its helper.
use leptos::prelude::*;

#[component]
pub fn RegisterPage() -> impl IntoView {
    view! { <p>"Register"</p> }
}
