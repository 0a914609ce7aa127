//! The landing page: where customers and staff each go next.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="" />
        <section class="hero">
            <h1>"Your account, settled."</h1>
            <p class="lead">
                "See what you owe, download invoices and statements, pay online, promise a payment date "
                "or dispute an invoice line — without a password."
            </p>
            <div class="actions">
                <a class="button primary" href="/portal">"Open my account"</a>
                <a class="button" href="/staff/sign-in">"Staff sign-in"</a>
            </div>
        </section>
        <section class="cards">
            <article class="card">
                <h2>"Customers"</h2>
                <p>"Use the link in the email or letter we sent you. Lost it? Ask for a new one on the sign-in page."</p>
            </article>
            <article class="card">
                <h2>"Staff"</h2>
                <p>"Sign in with your email and password to work your inbox, disputes and reminders."</p>
            </article>
        </section>
    }
}
