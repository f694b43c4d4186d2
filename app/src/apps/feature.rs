//! What applications add to the console: the list, the editor for a new one and an
//! application's page, and the Applications entry of the Container Platform view.

use crate::i18n::td_string;
use leptos::prelude::*;
use leptos_router::{Lazy, MatchNestedRoutes, SsrMode, components::Route, path};

use crate::routes::{self, ConsoleView, NavEntry};

/// The navigation entries this feature adds.
pub const NAV: &[NavEntry] = &[NavEntry {
    id: "applications",
    view: ConsoleView::Platform,
    path: routes::APPLICATIONS,
    label: |locale| td_string!(locale, nav.applications),
}];

/// The pages this feature adds (in the order the router tries them).
pub fn routes() -> impl MatchNestedRoutes + Clone + Send + 'static {
    view! {
        <Route path=path!("/platform/applications") view={Lazy::<ApplicationsRoute>::new()} ssr=SsrMode::InOrder />
        // Before /platform/applications/:project/:name, which it cannot match anyway (one segment).
        <Route path=path!("/platform/applications/new") view={Lazy::<NewApplicationRoute>::new()} ssr=SsrMode::InOrder />
        <Route
            path=path!("/platform/applications/:project/:name")
            view={Lazy::<ApplicationRoute>::new()}
            ssr=SsrMode::InOrder
        />
    }
    .into_inner()
}

// Each page's code is a WASM chunk of its own, loaded when the route is first shown.
use super::{ApplicationPage, ApplicationsPage, NewApplicationPage};
crate::lazy_page!(
    ApplicationsRoute => ApplicationsPage,
    NewApplicationRoute => NewApplicationPage,
    ApplicationRoute => ApplicationPage,
);
