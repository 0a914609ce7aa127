//! The page frame: header with the product name and the main navigation.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Header() -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <A href="/" attr:class="brand">"Settle"</A>
            <nav aria-label="Main">
                <A href="/portal">"My account"</A>
                <A href="/staff/sign-in">"Staff"</A>
            </nav>
        </header>
    }
}
