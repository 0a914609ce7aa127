//! Import from the ERP (stub: replaced by the feature's work).

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn StaffImportPage() -> impl IntoView {
    view! {
        <Title text="Import from the ERP" />
        <h1>"Import from the ERP"</h1>
    }
}
