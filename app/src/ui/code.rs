//! Code and YAML/JSON shown as it is: a scrollable, focusable `<pre>` with a copy button.

use leptos::prelude::*;

use crate::i18n::{t_string, use_i18n};

const PRE: &str = "max-w-6xl overflow-x-auto rounded bg-slate-50 p-3 font-mono text-xs text-slate-900 dark:bg-slate-900 dark:text-slate-100 focus-ring";
const COPY: &str = "rounded border border-slate-300 px-2 py-0.5 text-xs text-slate-700 hover:bg-slate-100 dark:border-slate-600 dark:text-slate-200 dark:hover:bg-slate-800 focus-ring";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Copied {
    Not,
    Done,
    Failed,
}

/// `code` in a `<pre>` (`data-testid=testid`), `language` ("yaml", "json") as its
/// `data-language`, with a Copy button once the page has hydrated.
#[component]
pub fn CodeView(
    #[prop(into)] code: Signal<String>,
    #[prop(optional)] language: Option<&'static str>,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    let i18n = use_i18n();
    let copied = RwSignal::new(Copied::Not);
    // The button needs the browser's clipboard: shown only once hydrated.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let copy = move |_| {
        let text = code.get_untracked();
        leptos::task::spawn_local(async move {
            let done = clipboard::write(text).await;
            copied.set(if done { Copied::Done } else { Copied::Failed });
        });
    };
    view! {
        <div class="flex max-w-6xl flex-col gap-1">
            <Show when=move || hydrated.get()>
                <div class="flex items-center justify-end gap-2 text-xs">
                    <span role="status" class="text-slate-600 dark:text-slate-300">
                        {move || match copied.get() {
                            Copied::Not => String::new(),
                            Copied::Done => t_string!(i18n, ui.copied).to_string(),
                            Copied::Failed => t_string!(i18n, ui.copy_failed).to_string(),
                        }}
                    </span>
                    <button type="button" class=COPY on:click=copy data-testid="copy-code">
                        {move || t_string!(i18n, ui.copy).to_string()}
                    </button>
                </div>
            </Show>
            <pre class=PRE tabindex="0" data-testid=testid data-language=language>
                <code>{move || code.get()}</code>
            </pre>
        </div>
    }
}

mod clipboard {
    /// Writes `text` to the clipboard (`navigator.clipboard.writeText`, looked up at run time
    /// so no extra web-sys features are needed); false where the browser refuses.
    #[cfg(feature = "hydrate")]
    pub async fn write(text: String) -> bool {
        use leptos::wasm_bindgen::{JsCast, JsValue};
        use leptos::web_sys::js_sys::{Function, Promise, Reflect};
        let Some(window) = leptos::web_sys::window() else {
            return false;
        };
        let Ok(navigator) = Reflect::get(&window, &JsValue::from_str("navigator")) else {
            return false;
        };
        let Ok(clipboard) = Reflect::get(&navigator, &JsValue::from_str("clipboard")) else {
            return false;
        };
        if clipboard.is_undefined() {
            return false;
        }
        let Ok(write) = Reflect::get(&clipboard, &JsValue::from_str("writeText")) else {
            return false;
        };
        let Ok(write) = write.dyn_into::<Function>() else {
            return false;
        };
        let Ok(promise) = write.call1(&clipboard, &JsValue::from_str(&text)) else {
            return false;
        };
        let Ok(promise) = promise.dyn_into::<Promise>() else {
            return false;
        };
        wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
    }

    /// Without a browser there is no clipboard.
    #[cfg(not(feature = "hydrate"))]
    pub async fn write(_text: String) -> bool {
        false
    }
}

/// A line diff (`console_api::application::line_diff`) as `diff -u` shows it, added lines green
/// and removed ones red, in a focusable `<pre>` (`data-testid=testid`).
#[component]
pub fn DiffView(
    lines: Vec<(console_api::application::DiffMark, String)>,
    #[prop(optional, into)] label: MaybeProp<String>,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    use crate::ui::{Tone, ToneText};
    use console_api::application::DiffMark;
    view! {
        <pre class=PRE tabindex="0" data-testid=testid aria-label=move || label.get()>
            {lines
                .into_iter()
                .map(|(mark, line)| {
                    let tone = match mark {
                        DiffMark::Added => Tone::Success,
                        DiffMark::Removed => Tone::Danger,
                        DiffMark::Same => Tone::Neutral,
                    };
                    view! { <ToneText tone>{format!("{} {line}\n", mark.symbol())}</ToneText> }
                })
                .collect_view()}
        </pre>
    }
}
