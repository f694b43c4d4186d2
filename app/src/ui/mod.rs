//! The few widgets every page shares: page header, empty state, error panel, top-bar selector.

mod empty_state;
mod error_panel;
mod selector;

pub use empty_state::EmptyState;
pub use error_panel::ErrorPanel;
pub use selector::TopBarSelect;

use leptos::prelude::*;
use leptos_meta::Title;

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
            {children.map(|c| c())}
        </div>
    }
}
