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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
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
                    <Route path=path!("/portal/sign-in") view=pages::portal::SignInPage />
                    <Route path=path!("/l/:token") view=pages::link::LinkPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/sign-in") view=pages::staff::StaffSignInPage />
                    <Route path=path!("/staff") view=pages::staff::StaffHomePage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
