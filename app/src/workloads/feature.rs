//! What the list across clusters adds: `/admin/workloads` and its navigation entry.

use crate::i18n::td_string;
use leptos::prelude::*;
use leptos_router::{Lazy, MatchNestedRoutes, SsrMode, components::Route, path};

use crate::routes::{self, ConsoleView, NavEntry};

/// The navigation entries this feature adds.
pub const NAV: &[NavEntry] = &[NavEntry {
    id: "workloads",
    view: ConsoleView::Admin,
    path: routes::WORKLOADS,
    label: |locale| td_string!(locale, nav.workloads),
}];

/// The pages this feature adds (in the order the router tries them).
pub fn routes() -> impl MatchNestedRoutes + Clone + Send + 'static {
    view! {
        <Route path=path!("/admin/workloads") view={Lazy::<WorkloadsRoute>::new()} ssr=SsrMode::InOrder />
    }
    .into_inner()
}

// The page's code is a WASM chunk of its own, loaded when the route is first shown.
use super::WorkloadsPage;
crate::lazy_page!(WorkloadsRoute => WorkloadsPage);
