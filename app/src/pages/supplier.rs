//! Stub, filled in by its helper.
use leptos::prelude::*;

#[component]
pub fn SupplierPage() -> impl IntoView {
    view! { <p>"Supplier"</p> }
}
