//! Settle: the Leptos app shared by the server and the browser.

// Every page is turned into an `AnyView` here (app/src/routes.rs); the release build needs
// deeper trait resolution for those view types than the default 128.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
pub mod routes;

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
use leptos_router::{Lazy, SsrMode, path};

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

    view! {
        <Stylesheet id="leptos" href="/pkg/settle.css" />
        <Title formatter=|title: String| if title.is_empty() { "Settle".to_owned() } else { format!("{title} · Settle") } />
        <Router>
            <components::layout::Header />
            <main id="main">
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("") view={Lazy::<routes::HomeRoute>::new()} />
                    <Route path=path!("/portal") view=pages::portal::OverviewPage ssr=SsrMode::Async />
                    <Route path=path!("/portal/documents") view={Lazy::<routes::DocumentsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/portal/sign-in") view={Lazy::<routes::SignInRoute>::new()} />
                    <Route path=path!("/portal/pay") view={Lazy::<routes::PayLinkRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/portal/messages") view={Lazy::<routes::PortalMessagesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/messages") view={Lazy::<routes::StaffMessagesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/accounts") view={Lazy::<routes::StaffAccountsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/campaigns") view={Lazy::<routes::StaffCampaignsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/campaigns/:id") view={Lazy::<routes::StaffCampaignRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/rules") view={Lazy::<routes::StaffRulesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/import") view={Lazy::<routes::StaffImportRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/api-keys") view={Lazy::<routes::StaffApiKeysRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/webhooks") view={Lazy::<routes::StaffWebhooksRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/inbox") view={Lazy::<routes::StaffInboxRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/accounts/:id/activity") view={Lazy::<routes::AccountActivityRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/approvals") view={Lazy::<routes::StaffApprovalsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/portal/profile") view={Lazy::<routes::ProfileRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/accounts/:id") view={Lazy::<routes::StaffAccountRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/accounts/:id/history") view={Lazy::<routes::AccountHistoryRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/supplier") view={Lazy::<routes::SupplierRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/disputes") view={Lazy::<routes::StaffDisputesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/disputes/:id") view={Lazy::<routes::StaffDisputeRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/portal/invoices/:id") view={Lazy::<routes::InvoiceRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/register") view={Lazy::<routes::RegisterRoute>::new()} />
                    <Route path=path!("/staff/letters") view={Lazy::<routes::StaffLettersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/messages/:account") view={Lazy::<routes::StaffThreadRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/portal/receipt/:session") view={Lazy::<routes::ReceiptRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/portal/wrong-person") view={Lazy::<routes::WrongPersonRoute>::new()} />
                    <Route path=path!("/l/:token") view=pages::link::LinkPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/sign-in") view={Lazy::<routes::StaffSignInRoute>::new()} />
                    <Route path=path!("/staff") view={Lazy::<routes::StaffHomeRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/mail") view={Lazy::<routes::DeadMailRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/staff/templates") view={Lazy::<routes::TemplatesRoute>::new()} ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
