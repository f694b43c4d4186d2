//! What upgrades add to the console: the preflight matrix, each cluster's update page, and
//! their navigation entry.

use crate::i18n::td_string;
use leptos::prelude::*;
use leptos_router::{Lazy, MatchNestedRoutes, SsrMode, components::Route, path};

use crate::routes::{self, ConsoleView, NavEntry};

/// The navigation entries this feature adds.
pub const NAV: &[NavEntry] = &[NavEntry {
    id: "upgrades",
    view: ConsoleView::Admin,
    path: routes::UPGRADES,
    label: |locale| td_string!(locale, nav.upgrades),
}];

/// The pages this feature adds (in the order the router tries them).
pub fn routes() -> impl MatchNestedRoutes + Clone + Send + 'static {
    view! {
        <Route path=path!("/admin/upgrades") view={Lazy::<UpgradesRoute>::new()} ssr=SsrMode::InOrder />
        <Route path=path!("/admin/upgrades/:cluster") view={Lazy::<ShadowRoute>::new()} ssr=SsrMode::InOrder />
    }
    .into_inner()
}

// Each page's code is a WASM chunk of its own, loaded when the route is first shown.
use super::{ShadowPage, UpgradesPage};
crate::lazy_page!(
    UpgradesRoute => UpgradesPage,
    ShadowRoute => ShadowPage,
);
