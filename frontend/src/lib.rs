//! The WebAssembly entry point: hydrates the server-rendered page.

// The release build (fat LTO, opt-level z) needs deeper trait resolution for the app's
// view types than the default 128.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Benchmarks and browser tests read the time from navigation to a live page from this
    // mark (`performance.getEntriesByName("settle:hydrated")`).
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark("settle:hydrated");
    }
}
