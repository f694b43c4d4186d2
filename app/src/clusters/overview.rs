//! A cluster's overview as the signed-in user may see it: nodes with their conditions and
//! workload counts. Each part the user may not list says so instead of showing nothing.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};
use crate::ui::ErrorPanel;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRow {
    pub name: String,
    pub ready: bool,
    pub version: String,
    pub roles: Vec<String>,
    /// Conditions other than Ready that are True (pressure, unavailable network…).
    pub problems: Vec<String>,
}

/// `None` where RBAC does not let the user list that kind cluster-wide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub nodes: Option<Vec<NodeRow>>,
    pub deployments: Option<usize>,
    pub pods: Option<(usize, usize)>,
}

#[server]
pub async fn cluster_overview(cluster: String) -> Result<Overview, ConsoleError> {
    let identity = crate::auth::identity()?;
    let client = super::registry()?.client_for(&cluster, &identity)?;
    ssr::overview(client, &cluster).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use k8s_openapi::api::{
        apps::v1::Deployment,
        core::v1::{Node, Pod},
    };
    use kube::{Api, Client, api::ListParams};

    use super::{NodeRow, Overview};
    use crate::{ConsoleError, clusters::kube_error};

    /// A list the user may not make is `None`; any other failure is the cluster's error.
    fn allowed<T>(
        cluster: &str,
        result: Result<T, kube::Error>,
    ) -> Result<Option<T>, ConsoleError> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(kube::Error::Api(status)) if status.code == 403 => Ok(None),
            Err(error) => Err(kube_error(cluster, error)),
        }
    }

    pub async fn overview(client: Client, cluster: &str) -> Result<Overview, ConsoleError> {
        let params = ListParams::default();
        let (node_api, deployment_api, pod_api) = (
            Api::<Node>::all(client.clone()),
            Api::<Deployment>::all(client.clone()),
            Api::<Pod>::all(client),
        );
        let (nodes, deployments, pods) = futures::join!(
            node_api.list(&params),
            deployment_api.list_metadata(&params),
            pod_api.list(&params),
        );
        let nodes = allowed(cluster, nodes)?.map(|list| list.items.iter().map(row).collect());
        let deployments = allowed(cluster, deployments)?.map(|list| list.items.len());
        let pods = allowed(cluster, pods)?.map(|list| {
            let running = list
                .items
                .iter()
                .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
                .count();
            (list.items.len(), running)
        });
        Ok(Overview {
            nodes,
            deployments,
            pods,
        })
    }

    fn row(node: &Node) -> NodeRow {
        let conditions = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        NodeRow {
            name: node.metadata.name.clone().unwrap_or_default(),
            ready: conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True"),
            version: node
                .status
                .as_ref()
                .and_then(|s| s.node_info.as_ref())
                .map(|i| i.kubelet_version.clone())
                .unwrap_or_default(),
            roles: node
                .metadata
                .labels
                .iter()
                .flatten()
                .filter_map(|(k, _)| {
                    k.strip_prefix("node-role.kubernetes.io/")
                        .map(str::to_string)
                })
                .collect(),
            problems: conditions
                .iter()
                .filter(|c| c.type_ != "Ready" && c.status == "True")
                .map(|c| c.type_.clone())
                .collect(),
        }
    }
}

/// Nodes and workload counts on the cluster page.
#[component]
pub fn OverviewSection(cluster: Memo<String>) -> impl IntoView {
    let i18n = use_i18n();
    // Node conditions change on their own: follow the nodes as the user.
    let (changes, live) = crate::live::use_live(Signal::derive(move || {
        crate::live::watch_url(&cluster.get(), crate::live::Kind::Nodes, None)
    }));
    let overview = Resource::new(
        move || (cluster.get(), changes.get()),
        |(c, _)| cluster_overview(c),
    );
    view! {
        <section class="mt-8 max-w-3xl" aria-labelledby="overview-heading">
            <div class="mb-2 flex items-center gap-3">
                <h2 id="overview-heading" class="text-lg font-semibold">{t!(i18n, overview.title)}</h2>
                <crate::live::LiveBadge state=live />
            </div>
            <Transition fallback=move || view! { <p aria-busy="true">{t!(i18n, clusters.checking)}</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        Ok(overview) => view! { <OverviewBody overview /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn OverviewBody(overview: Overview) -> impl IntoView {
    let i18n = use_i18n();
    let not_allowed = move |what: &'static str, testid: &'static str| {
        view! {
            <p class="text-sm text-slate-600 dark:text-slate-300" data-testid=testid>
                {t_string!(i18n, overview.not_allowed, what = what).to_string()}
            </p>
        }
    };
    let counts = view! {
        <p class="mb-3 text-sm" data-testid="workload-counts">
            {match overview.deployments {
                Some(n) => t_string!(i18n, overview.deployments, count = n).to_string(),
                None => t_string!(i18n, overview.not_allowed, what = "Deployments").to_string(),
            }}
            " · "
            {match overview.pods {
                Some((all, running)) => t_string!(i18n, overview.pods, count = all, running = running).to_string(),
                None => t_string!(i18n, overview.not_allowed, what = "Pods").to_string(),
            }}
        </p>
    };
    let nodes = match overview.nodes {
        None => not_allowed("Nodes", "nodes-forbidden").into_any(),
        Some(nodes) => view! {
            <table class="w-full border-collapse text-left text-sm" data-testid="nodes">
                <thead class="border-b border-slate-200 text-slate-500 dark:border-slate-700 dark:text-slate-400">
                    <tr>
                        <th scope="col" class="py-1 pr-4 font-medium">{t!(i18n, clusters.name)}</th>
                        <th scope="col" class="py-1 pr-4 font-medium">{t!(i18n, clusters.status)}</th>
                        <th scope="col" class="py-1 pr-4 font-medium">{t!(i18n, overview.roles)}</th>
                        <th scope="col" class="py-1 pr-4 font-medium">{t!(i18n, overview.kubelet)}</th>
                    </tr>
                </thead>
                <tbody>
                    {nodes
                        .into_iter()
                        .map(|node| {
                            let status = if node.ready {
                                t_string!(i18n, overview.ready).to_string()
                            } else {
                                t_string!(i18n, overview.not_ready).to_string()
                            };
                            let status = if node.problems.is_empty() { status } else { format!("{status} ({})", node.problems.join(", ")) };
                            let name = node.name.clone();
                            view! {
                                <tr class="border-b border-slate-100 dark:border-slate-800" data-node=name data-ready=node.ready.to_string()>
                                    <td class="py-1 pr-4 font-mono">{node.name}</td>
                                    <td class="py-1 pr-4">{status}</td>
                                    <td class="py-1 pr-4">{node.roles.join(", ")}</td>
                                    <td class="py-1 pr-4 font-mono">{node.version}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
        .into_any(),
    };
    view! {
        {counts}
        {nodes}
    }
}
