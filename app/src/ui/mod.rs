//! The widget kit every page builds on: page header and sections, data table, buttons, form
//! fields, badges, notices, confirmation dialog, relative time, code view, toasts, and the
//! loading / empty / error states. Tailwind classes live here as complete literals (Tailwind
//! finds only literal class names), dark mode included; pages pass meaning (a tone, a variant),
//! not classes.

mod badge;
mod button;
mod code;
mod dialog;
mod empty_state;
mod error_panel;
mod form;
mod layout;
mod selector;
mod table;
mod time;
mod toast;

pub use badge::{Badge, Tone, ToneText, badge_class, tone_text_class};
pub use button::{Button, ButtonLink, Size, TextLink, Variant, button_class};
pub use code::{CodeView, DiffView};
pub use dialog::{ConfirmDialog, typed_matches};
pub use empty_state::EmptyState;
pub use error_panel::ErrorPanel;
pub use form::{Checkbox, Choice, SelectField, TextAreaField, TextField};
pub use layout::{
    Block, Disclosure, FormActions, FormGrid, Line, Lines, Mono, Muted, PanelGrid, Text, TextStyle,
};
pub use selector::TopBarSelect;
pub use table::{
    Column, DataTable, EmptyAction, PageBounds, Sort, SortDirection, SortKey, Table, TableSpec,
    TableState, VirtualWindow, aria_sort, compare_keys, matches_filter, natural_cmp, page_bounds,
    virtual_window, visible_rows,
};
pub use time::{RelativeTime, Span, format_utc, now_seconds, parse_rfc3339, span};
pub use toast::{TOAST_SECONDS, Toast, ToastHost, Toasts, use_toasts};

use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::{t_string, use_i18n};

/// A translated text as a `Signal<String>` for the kit's props (headers, labels, titles):
/// `tr!(i18n, clusters.name)`, `tr!(i18n, pages.cluster_title, name = name.get())`.
macro_rules! tr {
    ($i18n:ident, $($key:tt)+) => {
        ::leptos::prelude::Signal::derive(move || {
            $crate::i18n::t_string!($i18n, $($key)+).to_string()
        })
    };
}
pub(crate) use tr;

/// Whether the page has hydrated; false during server rendering and before the WASM runs. The
/// shell provides it; widgets that behave differently before hydration read it.
#[derive(Clone, Copy)]
pub struct Hydrated(pub ReadSignal<bool>);

/// A page's `<h1>` and document title.
#[component]
pub fn PageHeader(
    #[prop(into)] title: Signal<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="mb-4 flex items-center justify-between gap-4">
            <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
            {children.map(|c| view! { <div class="flex items-center gap-3">{c()}</div> })}
        </div>
    }
}

/// A titled part of a page (`<section>` with an `<h2>`); `aside` sits beside the heading (a
/// live badge, an action).
#[component]
pub fn Section(
    /// Id of the heading, which labels the section.
    id: &'static str,
    #[prop(into)] title: Signal<String>,
    #[prop(optional, into)] aside: Option<ViewFn>,
    /// `wide` for tables with many columns.
    #[prop(optional)]
    wide: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <section
            class=if wide { "mt-8 max-w-6xl" } else { "mt-8 max-w-3xl" }
            aria-labelledby=id
        >
            <div class="mb-2 flex items-center gap-3">
                <h2 id=id class="text-lg font-semibold">{move || title.get()}</h2>
                {aside.map(|aside| aside.run())}
            </div>
            {children()}
        </section>
    }
}

/// Blocks one under another with room between them (a form's fields and buttons, a result's
/// parts).
#[component]
pub fn Stack(children: Children) -> impl IntoView {
    view! { <div class="flex flex-col gap-3">{children()}</div> }
}

/// Form fields two to a row on wide screens, one on narrow ones.
#[component]
pub fn FieldGrid(children: Children) -> impl IntoView {
    view! { <div class="grid max-w-3xl grid-cols-1 gap-3 md:grid-cols-2">{children()}</div> }
}

/// Controls side by side, aligned on their bottom edge (a filter field and its button).
#[component]
pub fn Toolbar(children: Children) -> impl IntoView {
    view! { <div class="mb-3 flex flex-wrap items-end gap-2">{children()}</div> }
}

/// Where a list paged on the server stands ("51–100 of 10,000") with links to the pages
/// before and after (`None` at either end). Works before hydration: they are plain links.
#[component]
pub fn ServerPager(
    #[prop(into)] summary: Signal<String>,
    #[prop(into)] previous: Signal<Option<String>>,
    #[prop(into)] next: Signal<Option<String>>,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    let i18n = use_i18n();
    let link = move |href: Option<String>, label: String, rel: &'static str| {
        match href {
        Some(href) => view! {
            <a href=href rel=rel class=button_class(Variant::Secondary, Size::Small)>{label}</a>
        }
        .into_any(),
        None => view! {
            <span aria-disabled="true" class=format!("{} opacity-50", button_class(Variant::Secondary, Size::Small))>
                {label}
            </span>
        }
        .into_any(),
    }
    };
    view! {
        <nav
            aria-label=move || t_string!(i18n, ui.pagination).to_string()
            class="mt-2 flex items-center gap-3 text-sm text-slate-600 dark:text-slate-300"
            data-testid=testid
        >
            {move || link(previous.get(), t_string!(i18n, ui.previous).to_string(), "prev")}
            <span aria-live="polite">{move || summary.get()}</span>
            {move || link(next.get(), t_string!(i18n, ui.next).to_string(), "next")}
        </nav>
    }
}

/// A smaller heading inside a page or section.
#[component]
pub fn SubHeading(#[prop(into)] title: Signal<String>) -> impl IntoView {
    view! { <h2 class="mt-6 mb-2 text-lg font-semibold">{move || title.get()}</h2> }
}

/// Explanatory text under a heading.
#[component]
pub fn Help(children: Children) -> impl IntoView {
    view! { <p class="mb-3 max-w-3xl text-sm text-slate-600 dark:text-slate-300">{children()}</p> }
}

/// What is loading, announced as busy ("Loading…" unless `label` says otherwise).
#[component]
pub fn Loading(#[prop(optional, into)] label: MaybeProp<String>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p aria-busy="true" role="status" class="text-sm text-slate-600 dark:text-slate-300">
            {move || label.get().unwrap_or_else(|| t_string!(i18n, ui.loading).to_string())}
        </p>
    }
}

/// A list of facts about one thing: label, value; `attr:data-testid` goes on the `<dl>`.
#[component]
pub fn Facts(children: Children) -> impl IntoView {
    view! {
        <dl class="grid max-w-2xl grid-cols-[auto_1fr] gap-x-6 gap-y-1 text-sm">{children()}</dl>
    }
}

/// One fact of [`Facts`]; `testid` goes on the value.
#[component]
pub fn Fact(
    #[prop(into)] label: Signal<String>,
    #[prop(optional)] mono: bool,
    #[prop(optional)] testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <dt class="text-slate-500 dark:text-slate-400">{move || label.get()}</dt>
        <dd class=if mono { "font-mono" } else { "" } data-testid=testid>{children()}</dd>
    }
}

/// A boxed notice in the colour of `tone`: an alert for warnings and dangers, a status
/// otherwise. `attr:` attributes (test ids) go on the box.
#[component]
pub fn Notice(
    #[prop(optional)] tone: Tone,
    #[prop(optional, into)] title: MaybeProp<String>,
    children: Children,
) -> impl IntoView {
    let (role, class) = match tone {
        Tone::Danger => (
            "alert",
            "rounded-md border border-red-300 bg-red-50 p-4 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100",
        ),
        Tone::Warning => (
            "alert",
            "rounded-md border border-amber-300 bg-amber-50 p-4 text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100",
        ),
        Tone::Success => (
            "status",
            "rounded-md border border-emerald-300 bg-emerald-50 p-4 text-emerald-950 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-100",
        ),
        Tone::Info => (
            "status",
            "rounded-md border border-sky-300 bg-sky-50 p-4 text-sky-950 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100",
        ),
        Tone::Neutral => (
            "status",
            "rounded-md border border-slate-300 bg-slate-50 p-4 text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100",
        ),
    };
    view! {
        <div role=role class=class>
            {move || title.get().map(|title| view! { <p class="font-medium">{title}</p> })}
            <div class="mt-1 text-sm">{children()}</div>
        </div>
    }
}

/// A short status line after an action ("Upgrade requested"), in the colour of `tone`.
#[component]
pub fn StatusText(#[prop(optional)] tone: Tone, children: Children) -> impl IntoView {
    view! { <p role="status" class=format!("text-sm {}", tone_text_class(tone))>{children()}</p> }
}

/// A row of tabs that are links (each a view of the same page, kept in the URL).
#[component]
pub fn Tabs(#[prop(into)] label: Signal<String>, children: Children) -> impl IntoView {
    view! {
        <nav
            aria-label=move || label.get()
            class="mb-3 flex flex-wrap gap-1 border-b border-slate-200 dark:border-slate-700"
        >
            {children()}
        </nav>
    }
}

/// One tab of [`Tabs`]; `current` marks it `aria-current="page"`. `attr:` attributes go on the
/// link.
#[component]
pub fn Tab(
    #[prop(into)] href: Signal<String>,
    #[prop(into)] current: Signal<bool>,
    children: Children,
) -> impl IntoView {
    view! {
        <a
            href=move || href.get()
            aria-current=move || current.get().then_some("page")
            class="rounded-t px-3 py-1.5 text-sm aria-[current=page]:border-b-2 aria-[current=page]:border-sky-600 aria-[current=page]:font-semibold focus-ring"
        >
            {children()}
        </a>
    }
}

/// Lines of a log as a terminal shows them: a fixed-height, scrolling, focusable box that
/// announces new lines politely. `attr:data-testid` goes on the `<pre>`.
#[component]
pub fn LogView(children: Children) -> impl IntoView {
    view! {
        <pre
            class="h-64 overflow-y-auto rounded bg-slate-900 p-3 font-mono text-xs text-slate-100"
            tabindex="0"
            aria-live="polite"
        >
            {children()}
        </pre>
    }
}
