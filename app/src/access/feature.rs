//! What access adds to the console: a namespace's page (the user's access there), below its cluster.

use leptos::prelude::*;
use leptos_router::{Lazy, MatchNestedRoutes, SsrMode, components::Route, path};

use crate::routes::NavEntry;

/// The navigation entries this feature adds.
pub const NAV: &[NavEntry] = &[];

/// The pages this feature adds (in the order the router tries them).
pub fn routes() -> impl MatchNestedRoutes + Clone + Send + 'static {
    view! {
        <Route
            path=path!("/admin/clusters/:name/namespaces/:namespace")
            view={Lazy::<NamespaceRoute>::new()}
            ssr=SsrMode::InOrder
        />
    }
    .into_inner()
}

// Each page's code is a WASM chunk of its own, loaded when the route is first shown.
use super::NamespacePage;
crate::lazy_page!(
    NamespaceRoute => NamespacePage,
);
