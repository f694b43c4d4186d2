//! A cluster's overview as the signed-in user may see it: nodes with their conditions and
//! workload counts. Each part the user may not list says so instead of showing nothing.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ConsoleError;
use crate::i18n::{t_string, use_i18n};
use crate::live::{Kind, WatchQuery, use_live_resource};
use crate::ui::{
    Badge, Column, ErrorPanel, Loading, Section, Sort, Table, TableSpec, TableState, Tone, tr,
};

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

#[server(endpoint = "clusters/overview")]
pub async fn cluster_overview(cluster: String) -> Result<Overview, ConsoleError> {
    let identity = crate::platform::identity()?;
    let client = crate::platform::registry()?.client_for(&cluster, &identity)?;
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
    use crate::{ConsoleError, platform::kube_error};

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
    let overview = use_live_resource(
        move || WatchQuery::new(cluster.get(), Kind::Nodes),
        |query| cluster_overview(query.cluster),
    );
    // Kept across live reloads, so a node's change does not undo the user's sort.
    let state = TableState::new(Some(Sort::ascending("name")));
    view! {
        <Section id="overview-heading" title=tr!(i18n, overview.title) aside=move || overview.badge()>
            <Transition fallback=move || view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match overview.data.await {
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        Ok(overview) => view! { <OverviewBody overview state /> }.into_any(),
                    }
                })}
            </Transition>
        </Section>
    }
}

fn node_status(i18n: leptos_i18n::I18nContext<crate::i18n::Locale>, node: &NodeRow) -> String {
    let status = if node.ready {
        t_string!(i18n, overview.ready).to_string()
    } else {
        t_string!(i18n, overview.not_ready).to_string()
    };
    if node.problems.is_empty() {
        status
    } else {
        format!("{status} ({})", node.problems.join(", "))
    }
}

#[component]
fn OverviewBody(overview: Overview, state: TableState) -> impl IntoView {
    let i18n = use_i18n();
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
        None => view! {
            <p class="text-sm text-slate-600 dark:text-slate-300" data-testid="nodes-forbidden">
                {t_string!(i18n, overview.not_allowed, what = "Nodes").to_string()}
            </p>
        }
        .into_any(),
        Some(nodes) => {
            let spec = TableSpec::new(
                "nodes",
                vec![
                    Column::text("name", tr!(i18n, clusters.name), |n: &NodeRow| {
                        n.name.clone()
                    })
                    .mono(),
                    Column::new("status", tr!(i18n, clusters.status), move |n: &NodeRow| {
                        let tone = if !n.ready {
                            Tone::Danger
                        } else if n.problems.is_empty() {
                            Tone::Success
                        } else {
                            Tone::Warning
                        };
                        let text = node_status(i18n, n);
                        view! { <Badge tone>{text}</Badge> }
                    })
                    .sort_by(|n: &NodeRow| !n.ready)
                    .filter_by(move |n: &NodeRow| node_status(i18n, n)),
                    Column::text("roles", tr!(i18n, overview.roles), |n: &NodeRow| {
                        n.roles.join(", ")
                    }),
                    Column::text("kubelet", tr!(i18n, overview.kubelet), |n: &NodeRow| {
                        n.version.clone()
                    })
                    .mono(),
                ],
            )
            .row_attrs(|n| {
                vec![
                    ("data-node", n.name.clone()),
                    ("data-ready", n.ready.to_string()),
                ]
            })
            .paged(50);
            view! { <Table spec rows=nodes state /> }.into_any()
        }
    };
    view! {
        {counts}
        {nodes}
    }
}
