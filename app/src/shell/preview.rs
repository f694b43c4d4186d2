//! `/preview` (the "Preview Next-Gen Console" entry an older console links to) and `/`:
//! both send the user to the home page of the view they used last.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use super::prefs::use_last_view;

#[component]
pub fn LastView() -> impl IntoView {
    let (last_view, _) = use_last_view();
    view! { <Redirect path=last_view.get_untracked().home() /> }
}
