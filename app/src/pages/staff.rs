//! Staff pages. Sign-in and the dashboard arrive with the access and automation work.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn StaffSignInPage() -> impl IntoView {
    view! {
        <Title text="Staff sign-in" />
        <section class="panel narrow">
            <h1>"Staff sign-in"</h1>
            <p>
                "Staff accounts are created with "<code>"settle staff add"</code>
                ". Password sign-in opens in the next release; until then this page is a placeholder."
            </p>
        </section>
    }
}

#[component]
pub fn StaffHomePage() -> impl IntoView {
    view! {
        <Title text="Staff" />
        <section class="panel narrow">
            <h1>"Staff"</h1>
            <p><a href="/staff/sign-in">"Sign in"</a>" to see the dashboard."</p>
        </section>
    }
}
