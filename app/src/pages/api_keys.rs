//! API keys (stub: replaced by the feature's work).

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn StaffApiKeysPage() -> impl IntoView {
    view! {
        <Title text="API keys" />
        <h1>"API keys"</h1>
    }
}
