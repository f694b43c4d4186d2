//! Left navigation for the current view and the breadcrumb trail above each page.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::features::{section_of, sections};
use super::view::{ConsoleView, Crumb, breadcrumbs};
use crate::i18n::{t, t_string, use_i18n};
use crate::routes::NavEntry;

/// The translated name of a navigation entry.
pub fn section_label(entry: &'static NavEntry) -> impl IntoView + use<> {
    let i18n = use_i18n();
    move || (entry.label)(i18n.get_locale())
}

/// The translated name of a view.
pub fn view_label(view: ConsoleView) -> impl IntoView + use<> {
    let i18n = use_i18n();
    move || match view {
        ConsoleView::Platform => t_string!(i18n, views.platform),
        ConsoleView::Admin => t_string!(i18n, views.admin),
    }
}

#[component]
pub fn SideNav() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let view =
        Memo::new(move |_| ConsoleView::of_path(&location.pathname.get()).unwrap_or_default());
    let current = Memo::new(move |_| section_of(&location.pathname.get()).map(|entry| entry.id));
    view! {
        <nav
            aria-label=move || t_string!(i18n, nav.label)
            data-nav-view=move || view.get().to_string()
            class="w-56 shrink-0 border-r border-slate-200 bg-slate-50 p-3 dark:border-slate-800 dark:bg-slate-900"
        >
            <ul class="flex flex-col gap-1">
                {move || {
                    sections(view.get())
                        .map(|section| {
                            let active = move || current.get() == Some(section.id);
                            view! {
                                <li>
                                    <a
                                        href=section.path
                                        data-nav=section.id
                                        aria-current=move || active().then_some("page")
                                        class="block rounded px-3 py-2 text-sm focus-ring"
                                        class=("bg-sky-100", active)
                                        class=("text-sky-900", active)
                                        class=("dark:bg-sky-900", active)
                                        class=("dark:text-sky-100", active)
                                        class=("hover:bg-slate-200", move || !active())
                                        class=("dark:hover:bg-slate-800", move || !active())
                                    >
                                        {section_label(section)}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <p class="sr-only">{t!(i18n, product)}</p>
        </nav>
    }
}

#[component]
pub fn Breadcrumbs() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let trail = Memo::new(move |_| breadcrumbs(&location.pathname.get()));
    view! {
        <nav aria-label=move || t_string!(i18n, breadcrumbs) class="mb-3 text-sm text-slate-500 dark:text-slate-400">
            <ol class="flex flex-wrap items-center gap-1">
                {move || {
                    let trail = trail.get();
                    let last = trail.len().saturating_sub(1);
                    trail
                        .into_iter()
                        .enumerate()
                        .map(|(index, crumb)| {
                            let (href, label) = match crumb {
                                Crumb::View(view) => (view.home().to_string(), view_label(view).into_any()),
                                Crumb::Section(section) => {
                                    (section.path.to_string(), section_label(section).into_any())
                                }
                                Crumb::Object { name, href } => (href, name.into_any()),
                            };
                            let separator = (index > 0).then(|| view! { <span aria-hidden="true">"/"</span> });
                            let link = if index == last {
                                view! { <span aria-current="page" class="text-slate-800 dark:text-slate-200">{label}</span> }
                                    .into_any()
                            } else {
                                view! { <a href=href class="hover:underline focus-ring">{label}</a> }.into_any()
                            };
                            view! { <li class="flex items-center gap-1">{separator}{link}</li> }
                        })
                        .collect_view()
                }}
            </ol>
        </nav>
    }
}
