//! The WebAssembly entry point: hydrates the server-rendered page.

// The release build (fat LTO, opt-level z) needs deeper trait resolution for the app's
// view types than the default 128.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Every page is a lazy route (app/src/routes.rs): hydration first fetches the page's
    // WebAssembly chunk, so it is asynchronous.
    let Some(body) = leptos::prelude::document().body() else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // The page is live: browser tests wait for this attribute, and benchmarks read the
        // time from navigation to here from the mark
        // (`performance.getEntriesByName("settle:hydrated")`).
        let _ = body.set_attribute("data-hydrated", "true");
        if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
            let _ = performance.mark("settle:hydrated");
        }
    });
}
