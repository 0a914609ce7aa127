//! Stub, filled in by its helper.
use leptos::prelude::*;

#[component]
pub fn StaffLettersPage() -> impl IntoView {
    view! { <p>"Letters"</p> }
}
