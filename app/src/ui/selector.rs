//! A labelled choice in the top bar (cluster, project). Before hydration it is a plain GET form
//! with an Apply button; once hydrated the button hides and a change navigates at once.

use leptos::prelude::*;

use super::Hydrated;
use crate::ConsoleError;
use crate::i18n::{t, use_i18n};

#[component]
pub fn TopBarSelect(
    /// Element id of the `<select>`, also what tests address.
    id: &'static str,
    /// Query parameter name the form submits.
    name: &'static str,
    /// Where the form goes without JavaScript.
    action: &'static str,
    #[prop(into)] label: Signal<String>,
    /// Text of the empty choice when there are options ("All clusters").
    #[prop(into)]
    all_label: Signal<String>,
    /// Text of the empty choice when there are none ("No clusters").
    #[prop(into)]
    none_label: Signal<String>,
    /// The choices, or why they could not be loaded (shown, never turned into "none").
    options: Resource<Result<Vec<String>, ConsoleError>>,
    #[prop(into)] selected: Signal<String>,
    on_select: Callback<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let hydrated = use_context::<Hydrated>().map(|h| h.0);
    view! {
        <form method="get" action=action class="flex items-center gap-2 text-sm" data-testid=format!("{name}-selector")>
            <label for=id class="text-slate-300">{label}</label>
            <Transition fallback=move || view! { <span>{t!(i18n, selectors.loading)}</span> }>
                {move || Suspend::new(async move {
                    let list = match options.await {
                        Ok(list) => list,
                        Err(error) => {
                            return view! {
                                <span role="status" class="text-red-300" title=error.to_string() data-unavailable=name>
                                    {t!(i18n, selectors.unavailable)}
                                </span>
                            }
                                .into_any();
                        }
                    };
                    let empty = list.is_empty();
                    view! {
                        <select
                            id=id
                            name=name
                            class="rounded border border-slate-600 bg-slate-800 px-2 py-1 text-slate-100 focus-ring"
                            disabled=empty
                            on:change=move |ev| on_select.run(event_target_value(&ev))
                            prop:value=move || selected.get()
                        >
                            <option value="" selected=move || selected.get().is_empty()>
                                {move || if empty { none_label.get() } else { all_label.get() }}
                            </option>
                            {list
                                .into_iter()
                                .map(|option| {
                                    let value = option.clone();
                                    let is_selected = {
                                        let option = option.clone();
                                        move || selected.get() == option
                                    };
                                    view! { <option value=value selected=is_selected>{option}</option> }
                                })
                                .collect_view()}
                        </select>
                    }
                        .into_any()
                })}
            </Transition>
            <button
                type="submit"
                class="rounded bg-slate-700 px-2 py-1 focus-ring"
                class:hidden=move || hydrated.is_some_and(|h| h.get())
            >
                {t!(i18n, selectors.apply)}
            </button>
        </form>
    }
}
