//! What plugins add to the console: the ClusterPlugin list and pages, and their navigation entry.

use crate::i18n::td_string;
use leptos::prelude::*;
use leptos_router::{Lazy, MatchNestedRoutes, SsrMode, components::Route, path};

use crate::routes::{self, ConsoleView, NavEntry};

/// The navigation entries this feature adds.
pub const NAV: &[NavEntry] = &[NavEntry {
    id: "plugins",
    view: ConsoleView::Admin,
    path: routes::PLUGINS,
    label: |locale| td_string!(locale, nav.plugins),
}];

/// The pages this feature adds (in the order the router tries them).
pub fn routes() -> impl MatchNestedRoutes + Clone + Send + 'static {
    view! {
        <Route path=path!("/admin/plugins") view={Lazy::<PluginsRoute>::new()} ssr=SsrMode::InOrder />
        <Route path=path!("/admin/plugins/:name") view={Lazy::<PluginRoute>::new()} ssr=SsrMode::InOrder />
    }
    .into_inner()
}

// Each page's code is a WASM chunk of its own, loaded when the route is first shown.
use super::{PluginPage, PluginsPage};
crate::lazy_page!(
    PluginsRoute => PluginsPage,
    PluginRoute => PluginPage,
);
