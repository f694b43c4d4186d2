//! The cluster selector in the top bar. Choosing a cluster opens its page; it works as a plain
//! GET form before the WASM loads and navigates on change afterwards.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};

use super::list_clusters;
use crate::i18n::{t, t_string, use_i18n};
use crate::shell::Hydrated;

/// The cluster named in the current path (`/admin/clusters/{name}`), if any.
fn cluster_in_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/admin/clusters/")?;
    let name = rest.split('/').next().filter(|s| !s.is_empty())?;
    Some(name.to_string())
}

#[component]
pub fn ClusterSelector() -> impl IntoView {
    let i18n = use_i18n();
    let clusters = Resource::new(|| (), |_| list_clusters());
    let location = use_location();
    let selected =
        Memo::new(move |_| cluster_in_path(&location.pathname.get()).unwrap_or_default());
    let hydrated = use_context::<Hydrated>().map(|h| h.0);
    let navigate = use_navigate();
    let on_change = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        if !name.is_empty() {
            navigate(&format!("/admin/clusters/{name}"), Default::default());
        }
    };
    view! {
        <form method="get" action="/select/cluster" class="flex items-center gap-2 text-sm" data-testid="cluster-selector">
            <label for="cluster-select" class="text-slate-300">{t!(i18n, selectors.cluster)}</label>
            <Transition fallback=move || view! { <span>{t!(i18n, selectors.loading)}</span> }>
                {move || {
                    let on_change = on_change.clone();
                    Suspend::new(async move {
                    let list = clusters.await.unwrap_or_default();
                    let empty = list.is_empty();
                    view! {
                        <select
                            id="cluster-select"
                            name="cluster"
                            class="rounded border border-slate-600 bg-slate-800 px-2 py-1 text-slate-100 focus-ring"
                            disabled=empty
                            on:change=on_change.clone()
                            prop:value=move || selected.get()
                        >
                            <option value="" selected=move || selected.get().is_empty()>
                                {move || if empty {
                                    t_string!(i18n, selectors.no_clusters)
                                } else {
                                    t_string!(i18n, selectors.all_clusters)
                                }}
                            </option>
                            {list
                                .into_iter()
                                .map(|cluster| {
                                    let name = cluster.name.clone();
                                    let value = cluster.name.clone();
                                    let is_selected = move || selected.get() == name;
                                    view! {
                                        <option value=value selected=is_selected>
                                            {cluster.name}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    }
                })}}
            </Transition>
            <button
                type="submit"
                class="rounded bg-slate-700 px-2 py-1 focus-ring"
                class:hidden=move || hydrated.is_some_and(|h| h.get())
            >
                {t!(i18n, selectors.apply)}
            </button>
        </form>
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
