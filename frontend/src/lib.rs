//! Browser entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy routes (`lazy_page!`) load their chunk before their part of the page hydrates.
    leptos::mount::hydrate_lazy(app::App);
}
