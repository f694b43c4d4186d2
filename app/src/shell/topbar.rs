//! The top bar: product name, view switcher, cluster and project selectors, theme and language.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::prefs::{Theme, use_last_view, use_theme};
use super::view::ConsoleView;
use crate::clusters::ClusterSelector;
use crate::i18n::{Locale, t, t_string, use_i18n};
use crate::projects::ProjectSelector;
use crate::ui::{Button, Variant};
use leptos_i18n::Locale as _;

#[component]
pub fn TopBar() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let current = Memo::new(move |_| ConsoleView::of_path(&location.pathname.get()));

    // Remember the view in use so `/preview` and `/` can bring the user back to it.
    let (_, set_last_view) = use_last_view();
    Effect::new(move |_| {
        if let Some(view) = current.get() {
            set_last_view.set(Some(view));
        }
    });

    view! {
        <header class="flex flex-wrap items-center gap-4 border-b border-slate-200 bg-slate-900 px-4 py-2 text-slate-100 dark:border-slate-800">
            <a href=crate::routes::HOME class="text-lg font-semibold tracking-tight focus-ring">
                {t!(i18n, product)}
            </a>
            <nav aria-label=move || t_string!(i18n, views.label).to_string() class="flex rounded-md bg-slate-800 p-0.5">
                {ConsoleView::ALL
                    .into_iter()
                    .map(|view| {
                        let active = move || current.get() == Some(view);
                        view! {
                            <a
                                href=view.home()
                                data-view=view.to_string()
                                aria-current=move || active().then_some("page")
                                class="rounded px-3 py-1 text-sm focus-ring"
                                class=("bg-sky-600", active)
                                class=("text-white", active)
                                class=("hover:bg-slate-700", move || !active())
                            >
                                {move || match view {
                                    ConsoleView::Platform => t!(i18n, views.platform).into_any(),
                                    ConsoleView::Admin => t!(i18n, views.admin).into_any(),
                                }}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
            <div class="flex flex-1 flex-wrap items-center gap-3">
                <ClusterSelector />
                <Show when=move || current.get() != Some(ConsoleView::Admin)>
                    <ProjectSelector />
                </Show>
            </div>
            <ThemeToggle />
            <LanguageToggle />
            <crate::auth::UserMenu />
        </header>
    }
}

#[component]
fn ThemeToggle() -> impl IntoView {
    let i18n = use_i18n();
    let (theme, set_theme) = use_theme();
    let label = move || match theme.get() {
        Theme::System => t_string!(i18n, prefs.theme_system).to_string(),
        Theme::Light => t_string!(i18n, prefs.theme_light).to_string(),
        Theme::Dark => t_string!(i18n, prefs.theme_dark).to_string(),
    };
    let icon = move || match theme.get() {
        Theme::System => "◐",
        Theme::Light => "☀",
        Theme::Dark => "☾",
    };
    view! {
        <Button
            variant=Variant::TopBar
            on_click=Callback::new(move |_| set_theme.set(Some(theme.get_untracked().next())))
            attr:id="theme-toggle"
            attr:data-theme-value=move || theme.get().to_string()
            attr:title=label
            attr:aria-label=label
        >
            <span aria-hidden="true">{icon}</span>
            <span class="hidden md:inline">{label}</span>
        </Button>
    }
}

#[component]
fn LanguageToggle() -> impl IntoView {
    let i18n = use_i18n();
    let next = move || match i18n.get_locale() {
        Locale::en => Locale::zh,
        Locale::zh => Locale::en,
    };
    view! {
        <Button
            variant=Variant::TopBar
            on_click=Callback::new(move |_| i18n.set_locale(next()))
            attr:id="language-toggle"
            attr:lang=move || next().as_str()
            attr:aria-label=move || t_string!(i18n, prefs.language).to_string()
        >
            {t!(i18n, prefs.switch_to)}
        </Button>
    }
}
