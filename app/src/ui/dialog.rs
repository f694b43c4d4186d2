//! The confirmation dialog: a modal that keeps the keyboard inside it (Tab cycles, Escape
//! closes), gives focus back to where it was, and can ask the user to type a name before a
//! destructive action is allowed.

use leptos::html::Div;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys::{Element, HtmlElement, KeyboardEvent};

use super::{Button, Variant};
use crate::i18n::{t_string, use_i18n};

const OVERLAY: &str = "fixed inset-0 z-40 flex items-center justify-center bg-black/40 p-4";
const PANEL: &str = "w-full max-w-md rounded-lg bg-white p-6 text-slate-900 shadow-xl dark:bg-slate-900 dark:text-slate-100";
const INPUT: &str = "rounded border border-slate-300 bg-transparent px-2 py-1 font-mono text-sm dark:border-slate-600 focus-ring";

/// What can take focus inside the dialog, in document order.
const FOCUSABLE: &str = "button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])";

/// Whether the typed text confirms `name` (exactly; no name asked means confirmed).
pub fn typed_matches(name: Option<&str>, typed: &str) -> bool {
    name.is_none_or(|name| !name.is_empty() && typed == name)
}

fn focusable(root: &Element) -> Vec<HtmlElement> {
    let all = root.get_elements_by_tag_name("*");
    (0..all.length())
        .filter_map(|i| all.item(i))
        .filter(|el| el.matches(FOCUSABLE).unwrap_or(false))
        .filter_map(|el| el.dyn_into::<HtmlElement>().ok())
        .collect()
}

/// A confirmation dialog shown while `open` is true. `on_confirm` gets the typed text when the
/// user confirms (the typed name when `typed_name` is set: the button stays disabled until it
/// matches). `children` show under the body: the outcome, an error. Test ids: `{testid}-dialog`,
/// `{testid}-confirm` (the button), `{testid}-confirm-input`.
#[component]
pub fn ConfirmDialog(
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    #[prop(into)] body: Signal<String>,
    #[prop(into)] confirm_label: Signal<String>,
    on_confirm: Callback<String>,
    testid: &'static str,
    /// The name the user must type to confirm.
    #[prop(optional, into)]
    typed_name: MaybeProp<String>,
    /// The action runs: the button spins and stays disabled.
    #[prop(optional, into)]
    busy: Signal<bool>,
    /// Danger unless said otherwise.
    #[prop(optional)]
    variant: Option<Variant>,
    #[prop(optional)] children: Option<ChildrenFn>,
) -> impl IntoView {
    let i18n = use_i18n();
    let typed = RwSignal::new(String::new());
    let confirmed = move || typed_matches(typed_name.get().as_deref(), &typed.get());
    let variant = variant.unwrap_or(Variant::Danger);
    let (title_id, body_id, input_id) = (
        format!("{testid}-title"),
        format!("{testid}-body"),
        format!("{testid}-confirm-input"),
    );
    let children = StoredValue::new(children);
    let dialog = move || {
        let panel = NodeRef::<Div>::new();
        let previous = StoredValue::new_local(None::<HtmlElement>);
        // In the browser only: move focus in, and give it back on close.
        Effect::new(move |_| {
            let Some(root) = panel.get() else { return };
            if previous.with_value(Option::is_none) {
                let active = document()
                    .active_element()
                    .and_then(|el| el.dyn_into::<HtmlElement>().ok());
                previous.set_value(active);
            }
            if let Some(first) = focusable(&root)
                .into_iter()
                .find(|el| el.tag_name() == "INPUT")
                .or_else(|| focusable(&root).into_iter().next())
            {
                let _ = first.focus();
            }
        });
        on_cleanup(move || {
            if let Some(Some(el)) = previous.try_get_value() {
                let _ = el.focus();
            }
        });
        let on_keydown = move |ev: KeyboardEvent| match ev.key().as_str() {
            "Escape" => {
                ev.prevent_default();
                open.set(false);
            }
            "Tab" => {
                let Some(root) = panel.get_untracked() else {
                    return;
                };
                let items = focusable(&root);
                let (Some(first), Some(last)) = (items.first(), items.last()) else {
                    ev.prevent_default();
                    return;
                };
                let active = document().active_element();
                let at = |el: &HtmlElement| {
                    active
                        .as_ref()
                        .is_some_and(|a| a == el.unchecked_ref::<Element>())
                };
                if ev.shift_key() && at(first) {
                    ev.prevent_default();
                    let _ = last.focus();
                } else if !ev.shift_key() && at(last) {
                    ev.prevent_default();
                    let _ = first.focus();
                }
            }
            _ => {}
        };
        let (title_id, body_id, input_id) = (title_id.clone(), body_id.clone(), input_id.clone());
        let (labelledby, describedby) = (title_id.clone(), body_id.clone());
        view! {
            <div class=OVERLAY on:keydown=on_keydown>
                <div
                    node_ref=panel
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby=labelledby
                    aria-describedby=describedby
                    data-testid=format!("{testid}-dialog")
                    class=PANEL
                >
                    <h2 id=title_id class="text-lg font-semibold">{move || title.get()}</h2>
                    <p id=body_id class="mt-2 text-sm text-slate-600 dark:text-slate-300">{move || body.get()}</p>
                    {move || children.with_value(|c| c.as_ref().map(|c| view! { <div class="mt-4">{c()}</div> }))}
                    <form
                        class="mt-4 flex flex-col gap-3"
                        on:submit=move |ev| {
                            ev.prevent_default();
                            if confirmed() && !busy.get_untracked() {
                                on_confirm.run(typed.get_untracked());
                            }
                        }
                    >
                        {move || typed_name.get().map(|name| {
                            let (input_id, label_for) = (input_id.clone(), input_id.clone());
                            view! {
                                <label for=label_for class="flex flex-col gap-1 text-sm">
                                    {t_string!(i18n, ui.type_to_confirm, name = name).to_string()}
                                    <input
                                        id=input_id
                                        name="confirm"
                                        autocomplete="off"
                                        spellcheck="false"
                                        data-testid=format!("{testid}-confirm-input")
                                        class=INPUT
                                        prop:value=move || typed.get()
                                        on:input=move |ev| typed.set(event_target_value(&ev))
                                    />
                                </label>
                            }
                        })}
                        <div class="flex justify-end gap-2">
                            <Button on_click=Callback::new(move |()| open.set(false))>
                                {move || t_string!(i18n, ui.cancel).to_string()}
                            </Button>
                            <Button
                                variant
                                submit=true
                                disabled=Signal::derive(move || !confirmed())
                                busy
                                attr:data-testid=format!("{testid}-confirm")
                            >
                                {move || confirm_label.get()}
                            </Button>
                        </div>
                    </form>
                </div>
            </div>
        }
    };
    view! { <Show when=move || open.get()>{dialog.clone()}</Show> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_name_confirms() {
        assert!(typed_matches(None, ""));
        assert!(typed_matches(Some("team-a"), "team-a"));
        assert!(!typed_matches(Some("team-a"), "team-a "));
        assert!(!typed_matches(Some("team-a"), "TEAM-A"));
        assert!(!typed_matches(Some("team-a"), ""));
        // An empty name can never be confirmed by accident.
        assert!(!typed_matches(Some(""), ""));
    }
}
