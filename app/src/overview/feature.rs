//! What the overview adds: `/admin/overview`, the Administrator view's first entry (and the page
//! `/admin` opens on).

use crate::i18n::td_string;
use leptos::prelude::*;
use leptos_router::{Lazy, MatchNestedRoutes, SsrMode, components::Route, path};

use crate::routes::{self, ConsoleView, NavEntry};

/// The navigation entries this feature adds.
pub const NAV: &[NavEntry] = &[NavEntry {
    id: "overview",
    view: ConsoleView::Admin,
    path: routes::ADMIN_OVERVIEW,
    label: |locale| td_string!(locale, nav.overview),
}];

/// The pages this feature adds (in the order the router tries them).
pub fn routes() -> impl MatchNestedRoutes + Clone + Send + 'static {
    view! {
        <Route path=path!("/admin/overview") view={Lazy::<AdminOverviewRoute>::new()} ssr=SsrMode::InOrder />
    }
    .into_inner()
}

// Each page's code is a WASM chunk of its own, loaded when the route is first shown.
use super::AdminOverviewPage;
crate::lazy_page!(AdminOverviewRoute => AdminOverviewPage);
