//! The page shown for any path no route matches, with a 404 status during server rendering.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use crate::i18n::{t, t_string, use_i18n};

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let i18n = use_i18n();
    let path = use_location().pathname;
    view! {
        <Title text=move || t_string!(i18n, pages.not_found_title) />
        <section class="mx-auto mt-16 max-w-lg text-center" data-testid="not-found">
            <p class="text-5xl font-bold text-slate-300 dark:text-slate-700">"404"</p>
            <h1 class="mt-2 text-2xl font-semibold">{t!(i18n, pages.not_found_title)}</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-400">
                {t!(i18n, pages.not_found_body, path = move || path.get())}
            </p>
            <a href=crate::routes::HOME class="mt-6 inline-block rounded bg-sky-600 px-4 py-2 text-white hover:bg-sky-700 focus-ring">
                {t!(i18n, pages.not_found_home)}
            </a>
        </section>
    }
}
