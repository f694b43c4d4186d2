//! Form fields with their label and error text: a text input, a select and a textarea. Each
//! works in a plain HTML form (named, with a value the server renders) and, once hydrated,
//! reports what is typed through `on_input` / `on_change`.

use leptos::prelude::*;

const LABEL_STACKED: &str = "flex flex-col gap-1 text-sm";
const LABEL_INLINE: &str = "flex items-center gap-2 text-sm";
const CONTROL: &str = "rounded border border-slate-300 bg-transparent px-2 py-1 text-sm text-slate-900 dark:border-slate-600 dark:text-slate-100 focus-ring aria-[invalid=true]:border-red-500";
const CONTROL_MONO: &str = "font-mono";
const AREA: &str = "rounded border border-slate-300 bg-transparent p-2 font-mono text-xs text-slate-900 dark:border-slate-600 dark:text-slate-100 focus-ring aria-[invalid=true]:border-red-500";
const OPTION: &str = "bg-white text-slate-900 dark:bg-slate-900 dark:text-slate-100";
const ERROR: &str = "text-xs text-red-700 dark:text-red-400";
const HINT: &str = "text-xs text-slate-600 dark:text-slate-300";

fn control_class(mono: bool) -> String {
    if mono {
        format!("{CONTROL} {CONTROL_MONO}")
    } else {
        CONTROL.to_string()
    }
}

/// The label, hint and error around a control; `describedby` lists the ids of the texts shown.
fn described_by(id: &str, hint: bool, error: bool) -> Option<String> {
    let ids: Vec<String> = [(hint, "hint"), (error, "error")]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, what)| format!("{id}-{what}"))
        .collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// A labelled text input. `id` ties the label to it (and names its hint and error texts);
/// `name` is the form field; `error` shows under it and marks it invalid.
#[component]
pub fn TextField(
    #[prop(into)] id: String,
    #[prop(into)] label: Signal<String>,
    #[prop(optional)] name: Option<&'static str>,
    /// The value the field starts with (and shows before hydration).
    #[prop(optional, into)]
    value: MaybeProp<String>,
    #[prop(optional, into)] placeholder: MaybeProp<String>,
    #[prop(optional, into)] hint: MaybeProp<String>,
    #[prop(optional, into)] error: MaybeProp<String>,
    /// `text`, `search`, `url`, `number`…
    #[prop(optional)]
    input_type: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] mono: bool,
    /// Label beside the field rather than above it.
    #[prop(optional)]
    inline: bool,
    /// The label is read out but not shown (the context shows what the field is).
    #[prop(optional)]
    label_hidden: bool,
    #[prop(optional)] autofocus: bool,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(optional)] on_input: Option<Callback<String>>,
) -> impl IntoView {
    let has_error = move || error.get().is_some_and(|e| !e.is_empty());
    let has_hint = move || hint.get().is_some_and(|h| !h.is_empty());
    let (hint_id, error_id) = (format!("{id}-hint"), format!("{id}-error"));
    let describedby = {
        let id = id.clone();
        move || described_by(&id, has_hint(), has_error())
    };
    view! {
        <div class="flex flex-col gap-1">
            <label for=id.clone() class=if inline { LABEL_INLINE } else { LABEL_STACKED }>
                <span class:sr-only=label_hidden>{move || label.get()}</span>
                <input
                    id=id.clone()
                    name=name
                    type=input_type.unwrap_or("text")
                    value=move || value.get()
                    placeholder=move || placeholder.get()
                    required=required
                    autofocus=autofocus
                    autocomplete=autocomplete
                    spellcheck=mono.then_some("false")
                    data-testid=testid
                    aria-invalid=move || has_error().to_string()
                    aria-describedby=describedby
                    class=control_class(mono)
                    on:input=move |ev| {
                        if let Some(on_input) = on_input {
                            on_input.run(event_target_value(&ev));
                        }
                    }
                />
            </label>
            <Show when=has_hint>
                <p id=hint_id.clone() class=HINT>{move || hint.get()}</p>
            </Show>
            <Show when=has_error>
                <p id=error_id.clone() class=ERROR role="alert">{move || error.get()}</p>
            </Show>
        </div>
    }
}

/// A labelled multi-line text field (kubeconfigs, YAML). `value` is bound both ways when given
/// as a signal the page also writes (a file read into it, for example).
#[component]
pub fn TextAreaField(
    #[prop(into)] id: String,
    #[prop(into)] label: Signal<String>,
    #[prop(optional)] name: Option<&'static str>,
    #[prop(optional, into)] value: MaybeProp<String>,
    #[prop(optional, into)] hint: MaybeProp<String>,
    #[prop(optional, into)] error: MaybeProp<String>,
    #[prop(optional)] rows: Option<u32>,
    #[prop(optional)] required: bool,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(optional)] on_input: Option<Callback<String>>,
) -> impl IntoView {
    let has_error = move || error.get().is_some_and(|e| !e.is_empty());
    let has_hint = move || hint.get().is_some_and(|h| !h.is_empty());
    let (hint_id, error_id) = (format!("{id}-hint"), format!("{id}-error"));
    let describedby = {
        let id = id.clone();
        move || described_by(&id, has_hint(), has_error())
    };
    let initial = value.get_untracked().unwrap_or_default();
    view! {
        <div class="flex flex-col gap-1">
            <label for=id.clone() class=LABEL_STACKED>
                <span>{move || label.get()}</span>
                <textarea
                    id=id.clone()
                    name=name
                    rows=rows.unwrap_or(8).to_string()
                    required=required
                    spellcheck="false"
                    data-testid=testid
                    aria-invalid=move || has_error().to_string()
                    aria-describedby=describedby
                    class=AREA
                    prop:value=move || value.get().unwrap_or_default()
                    on:input=move |ev| {
                        if let Some(on_input) = on_input {
                            on_input.run(event_target_value(&ev));
                        }
                    }
                >
                    {initial}
                </textarea>
            </label>
            <Show when=has_hint>
                <p id=hint_id.clone() class=HINT>{move || hint.get()}</p>
            </Show>
            <Show when=has_error>
                <p id=error_id.clone() class=ERROR role="alert">{move || error.get()}</p>
            </Show>
        </div>
    }
}

/// One choice of a [`SelectField`]: the value sent and the text shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Choice {
            value: value.into(),
            label: label.into(),
        }
    }

    /// A choice shown as its value.
    pub fn plain(value: impl Into<String>) -> Self {
        let value = value.into();
        Choice {
            label: value.clone(),
            value,
        }
    }
}

/// A labelled select. `selected` picks the choice shown (before hydration too).
#[component]
pub fn SelectField(
    #[prop(into)] id: String,
    #[prop(into)] label: Signal<String>,
    choices: Vec<Choice>,
    #[prop(optional)] name: Option<&'static str>,
    #[prop(optional, into)] selected: MaybeProp<String>,
    #[prop(optional, into)] error: MaybeProp<String>,
    #[prop(optional)] inline: bool,
    #[prop(optional)] label_hidden: bool,
    #[prop(optional)] mono: bool,
    #[prop(optional, into)] disabled: Signal<bool>,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(optional)] on_change: Option<Callback<String>>,
) -> impl IntoView {
    let has_error = move || error.get().is_some_and(|e| !e.is_empty());
    let error_id = format!("{id}-error");
    let describedby = {
        let id = id.clone();
        move || described_by(&id, false, has_error())
    };
    let options = choices
        .into_iter()
        .map(|choice| {
            let value = choice.value.clone();
            view! {
                <option
                    class=OPTION
                    value=choice.value
                    selected=move || selected.get().is_some_and(|s| s == value)
                >
                    {choice.label}
                </option>
            }
        })
        .collect_view();
    view! {
        <div class="flex flex-col gap-1">
            <label for=id.clone() class=if inline { LABEL_INLINE } else { LABEL_STACKED }>
                <span class:sr-only=label_hidden>{move || label.get()}</span>
                <select
                    id=id.clone()
                    name=name
                    disabled=move || disabled.get()
                    data-testid=testid
                    aria-invalid=move || has_error().to_string()
                    aria-describedby=describedby
                    class=control_class(mono)
                    on:change=move |ev| {
                        if let Some(on_change) = on_change {
                            on_change.run(event_target_value(&ev));
                        }
                    }
                >
                    {options}
                </select>
            </label>
            <Show when=has_error>
                <p id=error_id.clone() class=ERROR role="alert">{move || error.get()}</p>
            </Show>
        </div>
    }
}

/// A labelled checkbox sending `value` as `name` when ticked.
#[component]
pub fn Checkbox(
    #[prop(into)] label: Signal<String>,
    #[prop(optional)] name: Option<&'static str>,
    #[prop(optional)] value: Option<&'static str>,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(optional)] on_change: Option<Callback<bool>>,
) -> impl IntoView {
    view! {
        <label class=LABEL_INLINE>
            <input
                type="checkbox"
                name=name
                value=value
                data-testid=testid
                class="focus-ring"
                on:change=move |ev| {
                    if let Some(on_change) = on_change {
                        on_change.run(event_target_checked(&ev));
                    }
                }
            />
            <span>{move || label.get()}</span>
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_is_described_by_the_texts_it_shows() {
        assert_eq!(described_by("name", false, false), None);
        assert_eq!(
            described_by("name", true, false).as_deref(),
            Some("name-hint")
        );
        assert_eq!(
            described_by("name", true, true).as_deref(),
            Some("name-hint name-error")
        );
    }
}
