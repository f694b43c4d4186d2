//! What sign-in adds to the console: the sign-in page (outside both views, no navigation entry).

use leptos::prelude::*;
use leptos_router::{MatchNestedRoutes, SsrMode, components::Route, path};

use crate::routes::NavEntry;

/// The navigation entries this feature adds.
pub const NAV: &[NavEntry] = &[];

/// The pages this feature adds (in the order the router tries them).
pub fn routes() -> impl MatchNestedRoutes + Clone + Send + 'static {
    view! {
        <Route path=path!("/signin") view=super::SignInPage ssr=SsrMode::InOrder />
    }
    .into_inner()
}
