//! What monitoring adds to the console: its page and navigation entry.

use crate::i18n::td_string;
use leptos::prelude::*;
use leptos_router::{Lazy, MatchNestedRoutes, SsrMode, components::Route, path};

use crate::routes::{self, ConsoleView, NavEntry};

/// The navigation entries this feature adds.
pub const NAV: &[NavEntry] = &[NavEntry {
    id: "monitoring",
    view: ConsoleView::Admin,
    path: routes::MONITORING,
    label: |locale| td_string!(locale, nav.monitoring),
}];

/// The pages this feature adds (in the order the router tries them).
pub fn routes() -> impl MatchNestedRoutes + Clone + Send + 'static {
    view! {
        <Route path=path!("/admin/monitoring") view={Lazy::<MonitoringRoute>::new()} ssr=SsrMode::InOrder />
    }
    .into_inner()
}

// Each page's code is a WASM chunk of its own, loaded when the route is first shown.
use super::MonitoringPage;
crate::lazy_page!(
    MonitoringRoute => MonitoringPage,
);
