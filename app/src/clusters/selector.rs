//! The cluster selector in the top bar: choosing a cluster opens its page.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};

use super::list_clusters;
use crate::i18n::{t_string, use_i18n};
use crate::ui::TopBarSelect;

/// The cluster named in the current path (`/admin/clusters/{name}`), if any.
fn cluster_in_path(path: &str) -> Option<String> {
    let rest = path
        .strip_prefix(crate::routes::CLUSTERS)?
        .strip_prefix('/')?;
    let name = rest.split('/').next().filter(|s| !s.is_empty())?;
    Some(name.to_string())
}

#[component]
pub fn ClusterSelector() -> impl IntoView {
    let i18n = use_i18n();
    let clusters = Resource::new(
        || (),
        |_| async {
            list_clusters()
                .await
                .map(|list| list.into_iter().map(|c| c.name).collect())
        },
    );
    let location = use_location();
    let selected =
        Signal::derive(move || cluster_in_path(&location.pathname.get()).unwrap_or_default());
    let navigate = use_navigate();
    let on_select = Callback::new(move |name: String| {
        if !name.is_empty() {
            navigate(&crate::routes::cluster(&name), Default::default());
        }
    });
    view! {
        <TopBarSelect
            id="cluster-select"
            name="cluster"
            action="/select/cluster"
            label=Signal::derive(move || t_string!(i18n, selectors.cluster).to_string())
            all_label=Signal::derive(move || t_string!(i18n, selectors.all_clusters).to_string())
            none_label=Signal::derive(move || t_string!(i18n, selectors.no_clusters).to_string())
            options=clusters
            selected
            on_select
        />
    }
}

#[cfg(test)]
mod tests {
    use super::cluster_in_path;

    #[test]
    fn cluster_is_read_from_a_cluster_page_path_only() {
        assert_eq!(cluster_in_path("/admin/clusters/east"), Some("east".into()));
        assert_eq!(
            cluster_in_path("/admin/clusters/east/nodes"),
            Some("east".into())
        );
        assert_eq!(cluster_in_path("/admin/clusters"), None);
        assert_eq!(cluster_in_path("/admin/clusters/"), None);
        assert_eq!(cluster_in_path("/platform/projects"), None);
    }
}
