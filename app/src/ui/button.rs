//! Buttons and button-looking links: primary, secondary, danger and ghost; disabled; busy with a
//! spinner (and `aria-busy`) while the work they started runs.

use leptos::prelude::*;

/// How much a button stands out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Variant {
    /// The page's main action.
    Primary,
    /// Any other action.
    #[default]
    Secondary,
    /// Deletes or removes something.
    Danger,
    /// A quiet action inside text or a row.
    Ghost,
    /// A control on the console's dark top bar (preferences, the user menu).
    TopBar,
}

/// The size of a button: `Small` for rows and toolbars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Size {
    Small,
    #[default]
    Medium,
}

const BASE: &str = "inline-flex items-center justify-center gap-2 rounded-md font-medium focus-ring disabled:cursor-not-allowed disabled:opacity-60";
const MEDIUM: &str = "px-3 py-1.5 text-sm";
const SMALL: &str = "px-2 py-0.5 text-xs";
const PRIMARY: &str = "bg-sky-600 text-white hover:bg-sky-700 disabled:hover:bg-sky-600";
const SECONDARY: &str = "border border-slate-300 text-slate-900 hover:bg-slate-50 dark:border-slate-600 dark:text-slate-100 dark:hover:bg-slate-800";
const DANGER: &str = "bg-red-600 text-white hover:bg-red-700 disabled:hover:bg-red-600";
const GHOST: &str =
    "text-sky-700 hover:bg-slate-100 hover:underline dark:text-sky-400 dark:hover:bg-slate-800";
const TOP_BAR: &str = "text-slate-100 hover:bg-slate-700";
const SPINNER: &str = "inline-block h-3.5 w-3.5 animate-spin rounded-full border-2 border-current border-t-transparent";

/// The classes of a button (or a link that looks like one) of `variant` and `size`.
pub fn button_class(variant: Variant, size: Size) -> String {
    let colours = match variant {
        Variant::Primary => PRIMARY,
        Variant::Secondary => SECONDARY,
        Variant::Danger => DANGER,
        Variant::Ghost => GHOST,
        Variant::TopBar => TOP_BAR,
    };
    let size = match size {
        Size::Small => SMALL,
        Size::Medium => MEDIUM,
    };
    format!("{BASE} {size} {colours}")
}

/// A button. `submit` makes it submit its form (the default is `type="button"`); `busy` disables
/// it and shows a spinner. Test ids and other attributes go on the `<button>` with `attr:`.
#[component]
pub fn Button(
    #[prop(optional)] variant: Variant,
    #[prop(optional)] size: Size,
    #[prop(optional)] submit: bool,
    #[prop(optional, into)] disabled: Signal<bool>,
    #[prop(optional, into)] busy: Signal<bool>,
    #[prop(optional)] on_click: Option<Callback<()>>,
    children: Children,
) -> impl IntoView {
    view! {
        <button
            type=if submit { "submit" } else { "button" }
            class=button_class(variant, size)
            disabled=move || disabled.get() || busy.get()
            aria-busy=move || busy.get().to_string()
            on:click=move |_| {
                if let Some(on_click) = on_click {
                    on_click.run(());
                }
            }
        >
            <Show when=move || busy.get()>
                <span class=SPINNER aria-hidden="true"></span>
            </Show>
            {children()}
        </button>
    }
}

/// A link that looks like a button, for actions that are navigation ("Import a cluster").
#[component]
pub fn ButtonLink(
    #[prop(into)] href: Signal<String>,
    #[prop(optional)] variant: Variant,
    #[prop(optional)] size: Size,
    children: Children,
) -> impl IntoView {
    view! {
        <a href=move || href.get() class=button_class(variant, size)>
            {children()}
        </a>
    }
}

/// A plain text link in the console's link colour.
#[component]
pub fn TextLink(#[prop(into)] href: Signal<String>, children: Children) -> impl IntoView {
    view! {
        <a href=move || href.get() class="text-sky-700 hover:underline dark:text-sky-400 focus-ring">
            {children()}
        </a>
    }
}
