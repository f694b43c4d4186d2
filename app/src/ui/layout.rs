//! Layout pieces pages compose without classes of their own: a paragraph, a spaced block, a
//! list of lines, a two-column form grid, a disclosure (details/summary) and a panel grid.

use leptos::prelude::*;

/// How a [`Text`] paragraph reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TextStyle {
    /// Body text, at most a readable line length.
    #[default]
    Body,
    /// Secondary text (a note beside a value, "nothing to do").
    Muted,
    /// A small heading over a block (`<h4>`-like weight, still a paragraph).
    Label,
}

/// A paragraph of small text; `attr:` attributes (test ids) go on the `<p>`.
#[component]
pub fn Text(#[prop(optional)] style: TextStyle, children: Children) -> impl IntoView {
    let class = match style {
        TextStyle::Body => "mt-3 max-w-2xl text-sm",
        TextStyle::Muted => "mt-1 text-sm text-slate-600 dark:text-slate-300",
        TextStyle::Label => "mt-3 text-sm font-medium",
    };
    view! { <p class=class>{children()}</p> }
}

/// Secondary text inside a line or a cell (`<span>`, extra small); `block` puts it on a line of
/// its own.
#[component]
pub fn Muted(#[prop(optional)] block: bool, children: Children) -> impl IntoView {
    let class = if block {
        "block text-xs text-slate-500 dark:text-slate-400"
    } else {
        "text-xs text-slate-500 dark:text-slate-400"
    };
    view! { <span class=class>{children()}</span> }
}

/// A part of a page spaced from what comes before it; `attr:` attributes go on the `<div>`.
#[component]
pub fn Block(children: Children) -> impl IntoView {
    view! { <div class="mt-4">{children()}</div> }
}

/// A list of short lines (messages, objects); `bullets` for prose lists.
#[component]
pub fn Lines(#[prop(optional)] bullets: bool, children: Children) -> impl IntoView {
    let class = if bullets {
        "mt-2 list-disc pl-5"
    } else {
        "mt-2 flex flex-col gap-1"
    };
    view! { <ul class=class>{children()}</ul> }
}

/// One line of [`Lines`]: its parts side by side, wrapping; `mono` for names and values as
/// Kubernetes writes them. `attr:` attributes go on the `<li>`.
#[component]
pub fn Line(#[prop(optional)] mono: bool, children: Children) -> impl IntoView {
    let class = if mono {
        "flex flex-wrap items-center gap-2 font-mono text-xs"
    } else {
        "flex flex-wrap items-center gap-2"
    };
    view! { <li class=class>{children()}</li> }
}

/// Code as inline text (`<code>`, mono, extra small).
#[component]
pub fn Mono(children: Children) -> impl IntoView {
    view! { <code class="font-mono text-xs">{children()}</code> }
}

/// Form fields in two columns on wide screens, one on narrow ones.
#[component]
pub fn FormGrid(children: Children) -> impl IntoView {
    view! { <div class="grid max-w-4xl grid-cols-1 gap-3 sm:grid-cols-2">{children()}</div> }
}

/// A form's controls in a row (a picker and its button, the buttons under a [`FormGrid`]'s
/// fields, where it takes a row of its own), with their outcome.
#[component]
pub fn FormActions(children: Children) -> impl IntoView {
    view! { <div class="flex flex-wrap items-center gap-2 sm:col-span-2">{children()}</div> }
}

/// A `<details>` whose `summary` is always shown and whose children unfold; `attr:` attributes
/// go on the `<details>`. Keyboard: the summary is focusable and toggles with Enter or Space.
#[component]
pub fn Disclosure(
    #[prop(into)] summary: ViewFn,
    #[prop(optional)] open: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <details class="mt-2" open=open>
            <summary class="flex cursor-pointer flex-wrap items-center gap-2 text-sm focus-ring">
                {summary.run()}
            </summary>
            {children()}
        </details>
    }
}

/// Panels side by side on wide screens (two columns), stacked otherwise; `attr:` attributes go
/// on the grid.
#[component]
pub fn PanelGrid(children: Children) -> impl IntoView {
    view! { <div class="grid grid-cols-1 gap-4 xl:grid-cols-2">{children()}</div> }
}
