//! Stub, filled in by its helper.
use leptos::prelude::*;

#[component]
pub fn AccountHistoryPage() -> impl IntoView {
    view! { <p>"History"</p> }
}
