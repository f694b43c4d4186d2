//! What a page shows when it has nothing to list: what the page is for and what to do next.

use leptos::prelude::*;

#[component]
pub fn EmptyState(
    #[prop(into)] title: Signal<String>,
    #[prop(into)] body: Signal<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <section
            data-testid="empty-state"
            class="mx-auto mt-8 max-w-xl rounded-lg border border-dashed border-slate-300 p-8 text-center dark:border-slate-700"
        >
            <h2 class="text-lg font-medium">{title}</h2>
            <p class="mt-2 text-slate-600 dark:text-slate-400">{body}</p>
            {children.map(|c| view! { <div class="mt-4">{c()}</div> })}
        </section>
    }
}
