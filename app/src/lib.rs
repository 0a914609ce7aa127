//! Settle: the Leptos app shared by the server and the browser.

pub mod api;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod entities;
#[cfg(feature = "ssr")]
pub mod services;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod testing;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The Content-Security-Policy of a page: scripts only with this response's nonce (and what
/// they load), WebAssembly allowed, nothing framed, forms only to ourselves.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(value) = http::HeaderValue::from_str(&content_security_policy(&nonce))
    {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
    // Effects run only in the browser: this marks the moment the page became interactive.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/settle.css" />
        <Title formatter=|title: String| if title.is_empty() { "Settle".to_owned() } else { format!("{title} · Settle") } />
        <Router>
            <components::layout::Header />
            <main id="main">
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("") view=pages::home::HomePage />
                    <Route path=path!("/portal") view=pages::portal::OverviewPage ssr=SsrMode::Async />
                    <Route path=path!("/portal/documents") view=pages::documents::DocumentsPage ssr=SsrMode::Async />
                    <Route path=path!("/portal/sign-in") view=pages::portal::SignInPage />
                    <Route path=path!("/portal/pay") view=pages::pay::PayLinkPage ssr=SsrMode::Async />
                    <Route path=path!("/portal/messages") view=pages::messages::PortalMessagesPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/messages") view=pages::messages::StaffMessagesPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/accounts") view=pages::accounts::StaffAccountsPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/campaigns") view=pages::campaigns::StaffCampaignsPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/campaigns/:id") view=pages::campaigns::StaffCampaignPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/rules") view=pages::reminders::StaffRulesPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/import") view=pages::import::StaffImportPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/api-keys") view=pages::api_keys::StaffApiKeysPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/webhooks") view=pages::webhooks::StaffWebhooksPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/inbox") view=pages::inbox::StaffInboxPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/accounts/:id/activity") view=pages::inbox::AccountActivityPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/approvals") view=pages::profile::StaffApprovalsPage ssr=SsrMode::Async />
                    <Route path=path!("/portal/profile") view=pages::profile::ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("/staff/accounts/:id") view=pages::accounts::StaffAccountPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/accounts/:id/history") view=pages::audit::AccountHistoryPage ssr=SsrMode::Async />
                    <Route path=path!("/supplier") view=pages::supplier::SupplierPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/disputes") view=pages::staff_disputes::StaffDisputesPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/disputes/:id") view=pages::staff_disputes::StaffDisputePage ssr=SsrMode::Async />
                    <Route path=path!("/portal/invoices/:id") view=pages::invoice::InvoicePage ssr=SsrMode::Async />
                    <Route path=path!("/register") view=pages::register::RegisterPage />
                    <Route path=path!("/staff/letters") view=pages::letters::StaffLettersPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/messages/:account") view=pages::messages::StaffThreadPage ssr=SsrMode::Async />
                    <Route path=path!("/portal/receipt/:session") view=pages::pay::ReceiptPage ssr=SsrMode::Async />
                    <Route path=path!("/portal/wrong-person") view=pages::portal::WrongPersonPage />
                    <Route path=path!("/l/:token") view=pages::link::LinkPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/sign-in") view=pages::staff::StaffSignInPage />
                    <Route path=path!("/staff") view=pages::staff::StaffHomePage ssr=SsrMode::Async />
                    <Route path=path!("/staff/mail") view=pages::admin::DeadMailPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/templates") view=pages::admin::TemplatesPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
