//! The features the console is made of. Each registers its routes and navigation entries in
//! one block (its `feature` module); this list composes them, so adding a feature is one name
//! here. The router tries routes in this order, and the navigation lists entries in it.

use leptos::prelude::*;
use leptos_router::any_nested_route::IntoAnyNestedRoute;

use crate::routes::{ConsoleView, NavEntry};

macro_rules! features {
    ($($feature:ident),* $(,)?) => {
        /// Every feature's navigation entries, in feature order.
        const NAV: &[&[NavEntry]] = &[$(crate::$feature::feature::NAV),*];

        /// Every feature's routes, in feature order.
        #[component(transparent)]
        pub fn FeatureRoutes() -> impl leptos_router::MatchNestedRoutes + Clone + Send + 'static {
            ($(crate::$feature::feature::routes(),)*).into_any_nested_route()
        }
    };
}

features!(
    auth, projects, apps, overview, clusters, access, plugins, upgrades, images, monitoring,
    workloads,
);

/// Every navigation entry, in feature order.
pub fn nav() -> impl Iterator<Item = &'static NavEntry> {
    NAV.iter().flat_map(|entries| entries.iter())
}

/// The navigation entries a view lists.
pub fn sections(view: ConsoleView) -> impl Iterator<Item = &'static NavEntry> {
    nav().filter(move |entry| entry.view == view)
}

/// The entry a path is in (the entry's page or anything below it).
pub fn section_of(path: &str) -> Option<&'static NavEntry> {
    let view = ConsoleView::of_path(path)?;
    sections(view).find(|entry| entry.contains(path))
}
