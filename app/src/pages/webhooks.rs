//! Webhooks (stub: replaced by the feature's work).

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn StaffWebhooksPage() -> impl IntoView {
    view! {
        <Title text="Webhooks" />
        <h1>"Webhooks"</h1>
    }
}
