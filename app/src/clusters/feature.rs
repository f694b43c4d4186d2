//! What clusters add to the console: the cluster list, import, a cluster's page and its
//! resource browser, and the Clusters entry of the Administrator view.

use crate::i18n::td_string;
use leptos::prelude::*;
use leptos_router::{Lazy, MatchNestedRoutes, SsrMode, components::Route, path};

use crate::routes::{self, ConsoleView, NavEntry};

/// The navigation entries this feature adds.
pub const NAV: &[NavEntry] = &[NavEntry {
    id: "clusters",
    view: ConsoleView::Admin,
    path: routes::CLUSTERS,
    label: |locale| td_string!(locale, nav.clusters),
}];

/// The pages this feature adds (in the order the router tries them).
pub fn routes() -> impl MatchNestedRoutes + Clone + Send + 'static {
    view! {
        <Route path=path!("/admin/clusters") view={Lazy::<ClustersRoute>::new()} ssr=SsrMode::InOrder />
        // Before /admin/clusters/:name, which would otherwise take "import" as a name.
        <Route path=path!("/admin/clusters/import") view={Lazy::<ImportRoute>::new()} ssr=SsrMode::InOrder />
        <Route path=path!("/admin/clusters/:name") view={Lazy::<ClusterRoute>::new()} ssr=SsrMode::InOrder />
        <Route path=path!("/admin/clusters/:name/resources") view={Lazy::<ResourcesRoute>::new()} ssr=SsrMode::InOrder />
        <Route
            path=path!("/admin/clusters/:name/resources/:kind/:namespace/:object")
            view={Lazy::<ResourceRoute>::new()}
            ssr=SsrMode::InOrder
        />
        <Route path=path!("/admin/clusters/:name/namespaces") view=super::NamespacesRedirect />
    }
    .into_inner()
}

// Each page's code is a WASM chunk of its own, loaded when the route is first shown.
use super::{ClusterPage, ClustersPage, ImportPage, ResourcePage, ResourcesPage};
crate::lazy_page!(
    ClustersRoute => ClustersPage,
    ImportRoute => ImportPage,
    ClusterRoute => ClusterPage,
    ResourcesRoute => ResourcesPage,
    ResourceRoute => ResourcePage,
);
