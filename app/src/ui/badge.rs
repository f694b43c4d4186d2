//! Badges: a short status word in the colour of its tone.

use leptos::prelude::*;

/// What a status means to the reader, whatever the status is called.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tone {
    #[default]
    Neutral,
    Info,
    Success,
    Warning,
    Danger,
}

const BASE: &str = "inline-flex items-center gap-1 rounded px-2 py-0.5 text-xs font-medium";

/// The classes of a badge of `tone`.
pub fn badge_class(tone: Tone) -> String {
    let colours = match tone {
        Tone::Neutral => "bg-slate-100 text-slate-800 dark:bg-slate-800 dark:text-slate-100",
        Tone::Info => "bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100",
        Tone::Success => {
            "bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100"
        }
        Tone::Warning => "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
        Tone::Danger => "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100",
    };
    format!("{BASE} {colours}")
}

/// The text colour of `tone`, for marks and words that are not badges (✓, ✗, a phase name).
pub fn tone_text_class(tone: Tone) -> &'static str {
    match tone {
        Tone::Neutral => "text-slate-500 dark:text-slate-400",
        Tone::Info => "text-sky-700 dark:text-sky-400",
        Tone::Success => "text-emerald-700 dark:text-emerald-400",
        Tone::Warning => "text-amber-700 dark:text-amber-400",
        Tone::Danger => "text-red-700 dark:text-red-400",
    }
}

/// A badge; `attr:` attributes (test ids, `title`) go on its `<span>`.
#[component]
pub fn Badge(#[prop(optional, into)] tone: Signal<Tone>, children: Children) -> impl IntoView {
    view! { <span class=move || badge_class(tone.get())>{children()}</span> }
}

/// Text in the colour of `tone`.
#[component]
pub fn ToneText(#[prop(optional, into)] tone: Signal<Tone>, children: Children) -> impl IntoView {
    view! { <span class=move || tone_text_class(tone.get())>{children()}</span> }
}
