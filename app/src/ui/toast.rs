//! Toasts: short notices that something happened ("Upgrade requested"), announced politely to
//! screen readers (errors assertively) and dismissed by the user or, except errors, after a
//! few seconds. `ToastHost` provides them; `use_toasts()` pushes one from anywhere below it.

use leptos::prelude::*;

use super::{Tone, badge::tone_text_class};
use crate::i18n::{t_string, use_i18n};

/// One notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub tone: Tone,
    pub message: String,
}

/// How long a notice other than an error stays.
pub const TOAST_SECONDS: u64 = 6;

/// The notices shown; copy it freely.
#[derive(Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

impl Toasts {
    fn new() -> Self {
        Toasts {
            list: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
        }
    }

    /// Shows `message`; returns its id for [`Toasts::dismiss`].
    pub fn push(&self, tone: Tone, message: impl Into<String>) -> u64 {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.list.update(|list| {
            list.push(Toast {
                id,
                tone,
                message: message.into(),
            })
        });
        #[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
        if tone != Tone::Danger {
            let this = *self;
            set_timeout(
                move || this.dismiss(id),
                std::time::Duration::from_secs(TOAST_SECONDS),
            );
        }
        id
    }

    pub fn info(&self, message: impl Into<String>) -> u64 {
        self.push(Tone::Info, message)
    }

    pub fn success(&self, message: impl Into<String>) -> u64 {
        self.push(Tone::Success, message)
    }

    pub fn warning(&self, message: impl Into<String>) -> u64 {
        self.push(Tone::Warning, message)
    }

    /// An error stays until dismissed.
    pub fn error(&self, message: impl Into<String>) -> u64 {
        self.push(Tone::Danger, message)
    }

    pub fn dismiss(&self, id: u64) {
        // The host may be gone (the page left) by the time a timer fires.
        let _ = self.list.try_update(|list| list.retain(|t| t.id != id));
    }

    /// The notices now shown.
    pub fn current(&self) -> Vec<Toast> {
        self.list.get()
    }
}

/// The toasts of the page. Without a [`ToastHost`] above, the notices go nowhere (a page still
/// works; it just shows none).
pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or_else(Toasts::new)
}

/// Provides [`use_toasts`] to `children` and shows the notices in a live region.
#[component]
pub fn ToastHost(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let toasts = Toasts::new();
    provide_context(toasts);
    view! {
        {children()}
        <div
            role="region"
            aria-label=move || t_string!(i18n, ui.notifications).to_string()
            aria-live="polite"
            class="pointer-events-none fixed right-4 bottom-4 z-50 flex w-80 flex-col gap-2"
            data-testid="toasts"
        >
            <For each=move || toasts.list.get() key=|toast| toast.id let:toast>
                <div
                    role=if toast.tone == Tone::Danger { "alert" } else { "status" }
                    class="pointer-events-auto flex items-start gap-2 rounded-md border border-slate-200 bg-white p-3 text-sm shadow-lg dark:border-slate-700 dark:bg-slate-900"
                    data-tone=format!("{:?}", toast.tone).to_lowercase()
                >
                    <span class=tone_text_class(toast.tone) aria-hidden="true">"●"</span>
                    <span class="flex-1">{toast.message.clone()}</span>
                    <button
                        type="button"
                        class="rounded px-1 text-slate-500 hover:text-slate-900 dark:hover:text-slate-100 focus-ring"
                        aria-label=move || t_string!(i18n, ui.dismiss).to_string()
                        on:click=move |_| toasts.dismiss(toast.id)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toasts_are_pushed_in_order_and_dismissed_by_id() {
        let owner = Owner::new();
        owner.with(|| {
            let toasts = Toasts::new();
            let a = toasts.success("saved");
            let b = toasts.error("failed");
            assert_ne!(a, b);
            let shown = toasts.current();
            assert_eq!(shown.len(), 2);
            assert_eq!(
                (shown[1].tone, shown[1].message.as_str()),
                (Tone::Danger, "failed")
            );
            toasts.dismiss(a);
            assert_eq!(
                toasts.current().iter().map(|t| t.id).collect::<Vec<_>>(),
                [b]
            );
        });
    }
}
