//! The resource browser of a cluster: Deployments, Pods (with their log followed live), Events,
//! ConfigMaps and Secrets (values masked until revealed one by one), listed and read as the
//! signed-in user, each with a YAML view; lists update live.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};
use crate::live::{
    Change, Kind, LiveBadge, LiveRow, LiveState, LogQuery, WatchQuery, encode, use_live_list,
};
use crate::routes;
use crate::ui::{
    Button, Choice, CodeView, Column, DataTable, ErrorPanel, Help, Loading, LogView, PageHeader,
    RelativeTime, Section, SelectField, Size, SubHeading, Tab, TableSpec, Tabs, TextField, tr,
};

/// The kinds the browser offers, in tab order.
pub const BROWSABLE: [Kind; 5] = [
    Kind::Deployments,
    Kind::Pods,
    Kind::Events,
    Kind::ConfigMaps,
    Kind::Secrets,
];

/// What a masked Secret value shows until it is revealed.
pub const MASK: &str = "••••••••";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRow {
    pub name: String,
    pub namespace: String,
    /// The kind's status column (ready replicas, pod phase, event reason…).
    pub status: String,
    /// More about it (images, node, event message, key count).
    pub detail: String,
    pub created: String,
}

impl LiveRow for ResourceRow {
    fn is(&self, change: &Change) -> bool {
        self.name == change.name && self.namespace == change.namespace.as_deref().unwrap_or("")
    }

    /// Events newest first, everything else by namespace and name.
    fn order(kind: Kind, rows: &mut [Self]) {
        if kind == Kind::Events {
            rows.sort_by(|a, b| b.created.cmp(&a.created));
        } else {
            rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        }
    }
}

/// The row the list shows for `object`: the list's server function and the live stream's
/// pushed rows both use this, so they agree.
#[cfg(feature = "ssr")]
pub fn resource_row(kind: Kind, object: &kube::api::DynamicObject) -> ResourceRow {
    ssr::row(kind, object)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDetail {
    pub yaml: String,
    /// A Secret's keys (their values are masked in `yaml`).
    pub secret_keys: Vec<String>,
    /// A Pod's containers, for its log.
    pub containers: Vec<String>,
}

#[cfg(feature = "ssr")]
fn browsable(kind: &str) -> Result<Kind, ConsoleError> {
    Kind::parse(kind)
        .filter(|k| BROWSABLE.contains(k))
        .ok_or_else(|| ConsoleError::Invalid {
            message: format!(
                "{kind:?} is not browsable here; choose one of {}",
                BROWSABLE.map(Kind::as_str).join(", ")
            ),
        })
}

#[cfg(feature = "ssr")]
mod ssr {
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
    use serde_json::Value;

    use super::*;

    pub fn api(
        cluster: &str,
        kind: Kind,
        namespace: &str,
    ) -> Result<Api<DynamicObject>, ConsoleError> {
        let client = crate::platform::client_as_user(cluster)?;
        let info = kind.api();
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(info.group, info.version, info.kind),
            info.plural,
        );
        Ok(if namespace.is_empty() {
            Api::all_with(client, &resource)
        } else {
            Api::namespaced_with(client, namespace, &resource)
        })
    }

    /// What a list row shows of an object, read straight from the API server's answer: a
    /// 10,000-pod list never builds a JSON tree per pod (managed fields, the rest of specs and
    /// statuses, and a Secret's or ConfigMap's values are skipped as they are read; of `data`
    /// only the keys are counted).
    #[derive(Clone, Default, Deserialize)]
    #[serde(rename_all = "camelCase", default)]
    pub struct RowSource {
        metadata: SlimMeta,
        spec: SlimSpec,
        status: SlimStatus,
        #[serde(rename = "type")]
        type_: Option<String>,
        reason: Option<String>,
        message: Option<String>,
        involved_object: InvolvedObject,
        data: KeyCount,
        binary_data: KeyCount,
    }

    #[derive(Clone, Default, Deserialize)]
    #[serde(rename_all = "camelCase", default)]
    struct SlimMeta {
        name: Option<String>,
        namespace: Option<String>,
        creation_timestamp: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
    }

    #[derive(Clone, Default, Deserialize)]
    #[serde(rename_all = "camelCase", default)]
    struct SlimSpec {
        replicas: Option<i64>,
        node_name: Option<String>,
        template: SlimTemplate,
    }

    #[derive(Clone, Default, Deserialize)]
    #[serde(default)]
    struct SlimTemplate {
        spec: SlimPodSpec,
    }

    #[derive(Clone, Default, Deserialize)]
    #[serde(default)]
    struct SlimPodSpec {
        containers: Vec<SlimContainer>,
    }

    #[derive(Clone, Default, Deserialize)]
    #[serde(default)]
    struct SlimContainer {
        image: Option<String>,
    }

    #[derive(Clone, Default, Deserialize)]
    #[serde(rename_all = "camelCase", default)]
    struct SlimStatus {
        ready_replicas: Option<i64>,
        phase: Option<String>,
        container_statuses: Vec<SlimContainerStatus>,
    }

    #[derive(Clone, Default, Deserialize)]
    #[serde(rename_all = "camelCase", default)]
    struct SlimContainerStatus {
        restart_count: i64,
    }

    #[derive(Clone, Default, Deserialize)]
    #[serde(default)]
    struct InvolvedObject {
        kind: Option<String>,
        name: Option<String>,
    }

    /// The number of keys of a map whose values are never kept (nor decoded).
    #[derive(Clone, Default)]
    struct KeyCount(usize);

    impl<'de> Deserialize<'de> for KeyCount {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Keys;
            impl<'de> serde::de::Visitor<'de> for Keys {
                type Value = KeyCount;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a map")
                }
                fn visit_unit<E>(self) -> Result<KeyCount, E> {
                    Ok(KeyCount(0))
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<KeyCount, A::Error> {
                    let mut n = 0;
                    while map
                        .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                        .is_some()
                    {
                        n += 1;
                    }
                    Ok(KeyCount(n))
                }
            }
            deserializer.deserialize_any(Keys)
        }
    }

    /// The row of an object the stream has as a whole (a pushed change): read through the
    /// same [`RowSource`] as the list, so the two agree.
    pub fn row(kind: Kind, object: &DynamicObject) -> ResourceRow {
        let source = serde_json::to_value(object)
            .and_then(serde_json::from_value::<RowSource>)
            .unwrap_or_default();
        source_row(kind, &source)
    }

    pub fn source_row(kind: Kind, object: &RowSource) -> ResourceRow {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let (status, detail) = match kind {
            Kind::Deployments => (
                format!(
                    "{}/{}",
                    object.status.ready_replicas.unwrap_or(0),
                    object.spec.replicas.unwrap_or(1)
                ),
                object
                    .spec
                    .template
                    .spec
                    .containers
                    .iter()
                    .map(|c| text(&c.image))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Kind::Pods => {
                let restarts: i64 = object
                    .status
                    .container_statuses
                    .iter()
                    .map(|c| c.restart_count)
                    .sum();
                (
                    text(&object.status.phase),
                    format!("{} · restarts {restarts}", text(&object.spec.node_name)),
                )
            }
            Kind::Events => (
                format!("{} {}", text(&object.type_), text(&object.reason)),
                format!(
                    "{}/{}: {}",
                    text(&object.involved_object.kind),
                    text(&object.involved_object.name),
                    text(&object.message)
                ),
            ),
            Kind::ConfigMaps => (
                format!("{} keys", object.data.0 + object.binary_data.0),
                String::new(),
            ),
            Kind::Secrets => (text(&object.type_), format!("{} keys", object.data.0)),
            _ => (String::new(), String::new()),
        };
        ResourceRow {
            name: text(&object.metadata.name),
            namespace: text(&object.metadata.namespace),
            status,
            detail,
            created: object
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
                .unwrap_or_default(),
        }
    }

    /// The rows of `kind` in `namespace` (every namespace when empty), as the user, read a page
    /// of [`LIST_PAGE`] objects at a time: the console holds one page's answer and the rows,
    /// never the whole list's JSON.
    pub async fn rows(
        cluster: &str,
        kind: Kind,
        namespace: &str,
    ) -> Result<Vec<ResourceRow>, ConsoleError> {
        let client = crate::platform::client_as_user(cluster)?;
        let info = kind.api();
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(info.group, info.version, info.kind),
            info.plural,
        );
        let scope = Some(namespace).filter(|ns| !ns.is_empty() && info.namespaced);
        let request = kube::core::Request::new(<DynamicObject as kube::Resource>::url_path(
            &resource, scope,
        ));
        let mut rows = Vec::new();
        let mut params = kube::api::ListParams::default().limit(LIST_PAGE);
        loop {
            let page = request
                .list(&params)
                .map_err(|e| crate::platform::kube_error(cluster, kube::Error::BuildRequest(e)))?;
            let list: kube::core::ObjectList<RowSource> = client
                .request(page)
                .await
                .map_err(|e| crate::platform::kube_error(cluster, e))?;
            rows.extend(list.items.iter().map(|o| source_row(kind, o)));
            match list.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => return Ok(rows),
            }
        }
    }

    /// Objects per page of a list.
    pub const LIST_PAGE: u32 = 1000;

    /// The object as YAML without managedFields; a Secret's values masked.
    pub fn detail(kind: Kind, mut object: DynamicObject) -> Result<ResourceDetail, ConsoleError> {
        object.metadata.managed_fields = None;
        let mut secret_keys = Vec::new();
        if kind == Kind::Secrets {
            if let Some(data) = object.data.get_mut("data").and_then(Value::as_object_mut) {
                for (key, value) in data.iter_mut() {
                    secret_keys.push(key.clone());
                    *value = Value::String(MASK.into());
                }
            }
            // stringData never comes back from the API server, but a mutating webhook could
            // add anything: nothing but masked data leaves the server.
            if let Some(map) = object.data.as_object_mut() {
                map.remove("stringData");
            }
            if let Some(annotations) = object.metadata.annotations.as_mut() {
                annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
        }
        let containers = if kind == Kind::Pods {
            object.data["spec"]["containers"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .map(|c| c["name"].as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let yaml = serde_saphyr::to_string(&object).map_err(|e| ConsoleError::Internal {
            message: format!("the object could not be shown as YAML: {e}"),
        })?;
        Ok(ResourceDetail {
            yaml,
            secret_keys,
            containers,
        })
    }
}

/// The objects of `kind` in `namespace` (every namespace when empty), as the user.
#[server(endpoint = "resources/list")]
pub async fn list_resources(
    cluster: String,
    kind: String,
    namespace: String,
) -> Result<Vec<ResourceRow>, ConsoleError> {
    let kind = browsable(&kind)?;
    let mut rows = ssr::rows(&cluster, kind, &namespace).await?;
    ResourceRow::order(kind, &mut rows);
    Ok(rows)
}

#[server(endpoint = "resources/get")]
pub async fn get_resource(
    cluster: String,
    kind: String,
    namespace: String,
    name: String,
) -> Result<ResourceDetail, ConsoleError> {
    let kind = browsable(&kind)?;
    let object = ssr::api(&cluster, kind, &namespace)?
        .get(&name)
        .await
        .map_err(|e| crate::platform::kube_error(&cluster, e))?;
    ssr::detail(kind, object)
}

/// One value of a Secret, read as the user at the moment it is revealed.
#[server(endpoint = "resources/reveal-secret")]
pub async fn reveal_secret(
    cluster: String,
    namespace: String,
    name: String,
    key: String,
) -> Result<String, ConsoleError> {
    use base64::Engine as _;
    let secret = kube::Api::<k8s_openapi::api::core::v1::Secret>::namespaced(
        crate::platform::client_as_user(&cluster)?,
        &namespace,
    )
    .get(&name)
    .await
    .map_err(|e| crate::platform::kube_error(&cluster, e))?;
    let value = secret
        .data
        .unwrap_or_default()
        .remove(&key)
        .ok_or_else(|| ConsoleError::Invalid {
            message: format!("secret {namespace}/{name} has no key {key:?}"),
        })?;
    Ok(match String::from_utf8(value.0) {
        Ok(text) => text,
        Err(bytes) => format!(
            "(binary, base64) {}",
            base64::engine::general_purpose::STANDARD.encode(bytes.into_bytes())
        ),
    })
}

fn tab_label(i18n: leptos_i18n::I18nContext<crate::i18n::Locale>, kind: Kind) -> String {
    match kind {
        Kind::Deployments => t_string!(i18n, browser.deployments),
        Kind::Pods => t_string!(i18n, browser.pods),
        Kind::Events => t_string!(i18n, browser.events),
        Kind::ConfigMaps => t_string!(i18n, browser.configmaps),
        _ => t_string!(i18n, browser.secrets),
    }
    .to_string()
}

/// `/admin/clusters/:name/resources?kind=&namespace=`.
#[component]
pub fn ResourcesPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let query = use_query_map();
    let cluster = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let kind = Memo::new(move |_| {
        query
            .read()
            .get("kind")
            .and_then(|k| Kind::parse(&k))
            .filter(|k| BROWSABLE.contains(k))
            .unwrap_or(Kind::Deployments)
    });
    let namespace = Memo::new(move |_| query.read().get("namespace").unwrap_or_default());
    // Rows pushed by the stream (Secrets excepted: their changes make the list read again).
    let rows = use_live_list(
        move || WatchQuery::new(cluster.get(), kind.get()).in_namespace(namespace.get()),
        |q| {
            list_resources(
                q.cluster,
                q.kind.as_str().to_string(),
                q.namespace.unwrap_or_default(),
            )
        },
    );
    let href = move |k: Kind| {
        let ns = namespace.get();
        let mut url = format!("?kind={}", k.as_str());
        if !ns.is_empty() {
            url.push_str(&format!("&namespace={}", encode(&ns)));
        }
        url
    };
    let spec = TableSpec::new(
        "resources",
        vec![
            Column::text(
                "namespace",
                tr!(i18n, browser.namespace),
                |r: &ResourceRow| r.namespace.clone(),
            )
            .mono(),
            Column::link("name", tr!(i18n, browser.name), move |r: &ResourceRow| {
                let href = routes::resource(
                    &cluster.get_untracked(),
                    kind.get_untracked(),
                    &r.namespace,
                    &r.name,
                );
                (href, r.name.clone())
            })
            .mono(),
            Column::text("status", tr!(i18n, browser.status), |r: &ResourceRow| {
                r.status.clone()
            }),
            Column::text("detail", tr!(i18n, browser.detail), |r: &ResourceRow| {
                r.detail.clone()
            })
            .muted(),
            Column::new("created", tr!(i18n, ui.created), |r: &ResourceRow| {
                let at = r.created.clone();
                view! { <RelativeTime at /> }
            })
            .sort_by(|r: &ResourceRow| r.created.clone()),
        ],
    )
    .row_attrs(|r| {
        vec![
            ("data-name", r.name.clone()),
            ("data-status", r.status.clone()),
        ]
    })
    .filter(tr!(i18n, ui.filter))
    .virtual_rows();
    view! {
        <PageHeader title=tr!(i18n, browser.title, cluster = cluster.get())>
            {rows.badge()}
        </PageHeader>
        <Tabs label=tr!(i18n, browser.kinds)>
            {BROWSABLE.into_iter().map(|k| view! {
                <Tab href=Signal::derive(move || href(k)) current=Signal::derive(move || kind.get() == k) attr:data-kind=k.as_str()>
                    {move || tab_label(i18n, k)}
                </Tab>
            }).collect_view()}
        </Tabs>
        // A plain GET form: choosing a namespace works before hydration too.
        <form method="get" class="mb-3 flex items-end gap-2">
            <input type="hidden" name="kind" value=move || kind.get().as_str() />
            <TextField
                id="ns-filter"
                name="namespace"
                label=tr!(i18n, browser.namespace)
                value=Signal::derive(move || namespace.get())
                placeholder=tr!(i18n, browser.all_namespaces)
                inline=true
                mono=true
            />
            <Button submit=true>{t!(i18n, browser.show)}</Button>
        </form>
        <DataTable
            spec
            rows=rows.data
            empty_title=tr!(i18n, browser.empty_title)
            empty_body=tr!(i18n, browser.empty_body)
        />
    }
}

/// `/admin/clusters/:name/resources/:kind/:namespace/:object`: YAML, a Secret's reveal buttons,
/// a Pod's log.
#[component]
pub fn ResourcePage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let get = move |key: &str| params.read().get(key).unwrap_or_default();
    let key = Memo::new(move |_| (get("name"), get("kind"), get("namespace"), get("object")));
    let detail = Resource::new(move || key.get(), |(c, k, ns, o)| get_resource(c, k, ns, o));
    view! {
        <PageHeader title=Signal::derive(move || { let (_, k, ns, o) = key.get(); format!("{k} {ns}/{o}") }) />
        <Suspense fallback=move || view! { <Loading /> }>
            {move || Suspend::new(async move {
                let (cluster, kind, namespace, object) = key.get_untracked();
                match detail.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(found) => view! {
                        {(!found.secret_keys.is_empty()).then(|| view! {
                            <SecretValues cluster=cluster.clone() namespace=namespace.clone() name=object.clone() keys=found.secret_keys.clone() />
                        })}
                        {(kind == Kind::Pods.as_str()).then(|| view! {
                            <PodLog cluster=cluster.clone() namespace=namespace.clone() pod=object.clone() containers=found.containers.clone() />
                        })}
                        <SubHeading title=tr!(i18n, browser.yaml) />
                        <CodeView code=found.yaml language="yaml" testid="yaml" />
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SecretValues(
    cluster: String,
    namespace: String,
    name: String,
    keys: Vec<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <SubHeading title=tr!(i18n, browser.values) />
        <Help>{t!(i18n, browser.masked_help)}</Help>
        <ul class="max-w-3xl divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="secret-values">
            {keys.into_iter().map(|key| {
                let reveal = Action::new({
                    let (c, ns, n, k) = (cluster.clone(), namespace.clone(), name.clone(), key.clone());
                    move |_: &()| reveal_secret(c.clone(), ns.clone(), n.clone(), k.clone())
                });
                let shown = RwSignal::new(false);
                view! {
                    <li class="flex items-center gap-3 py-1.5" data-key=key.clone()>
                        <span class="w-48 font-mono">{key.clone()}</span>
                        <span class="flex-1 font-mono" data-testid="value">
                            {move || match (shown.get(), reveal.value().get()) {
                                (true, Some(Ok(value))) => value,
                                (true, Some(Err(error))) => error.to_string(),
                                _ => MASK.to_string(),
                            }}
                        </span>
                        <Button
                            size=Size::Small
                            busy=Signal::derive(move || shown.get() && reveal.pending().get())
                            attr:data-testid="reveal"
                            attr:aria-pressed=move || shown.get().to_string()
                            on_click=Callback::new(move |()| {
                                if !shown.get_untracked() { reveal.dispatch(()); }
                                shown.update(|s| *s = !*s);
                            })
                        >
                            {move || if shown.get() { t_string!(i18n, browser.hide).to_string() } else { t_string!(i18n, browser.reveal).to_string() }}
                        </Button>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

#[component]
fn PodLog(
    cluster: String,
    namespace: String,
    pod: String,
    containers: Vec<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let container = RwSignal::new(containers.first().cloned().unwrap_or_default());
    let (lines, state) = crate::live::use_log(move || LogQuery {
        cluster: cluster.clone(),
        namespace: namespace.clone(),
        pod: pod.clone(),
        container: Some(container.get()),
        tail: None,
    });
    let choices = containers
        .iter()
        .cloned()
        .map(Choice::plain)
        .collect::<Vec<_>>();
    let several = containers.len() > 1;
    view! {
        <Section
            id="log-heading"
            title=tr!(i18n, browser.log)
            wide=true
            aside=move || view! {
                <LiveBadge state />
                {several.then(|| view! {
                    <SelectField
                        id="log-container"
                        label=tr!(i18n, browser.container)
                        label_hidden=true
                        choices=choices.clone()
                        selected=Signal::derive(move || container.get())
                        on_change=Callback::new(move |c| container.set(c))
                    />
                })}
            }
        >
            <LogView attr:data-testid="log">
                {move || {
                    let lines = lines.get();
                    if lines.is_empty() && state.get() == LiveState::Live {
                        t_string!(i18n, browser.log_empty).to_string()
                    } else {
                        lines.join("\n")
                    }
                }}
            </LogView>
        </Section>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::ssr::{RowSource, row, source_row};
    use super::*;

    fn list_row(kind: Kind, json: serde_json::Value) -> ResourceRow {
        let source: RowSource = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        source_row(kind, &source)
    }

    fn object(json: serde_json::Value) -> kube::api::DynamicObject {
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_listed_pod_and_a_pushed_pod_give_the_same_row() {
        let pod = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "web-1", "namespace": "team-a",
                "creationTimestamp": "2026-12-01T20:00:00Z",
                "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
            },
            "spec": {"nodeName": "east-node-2", "containers": [{"name": "web", "image": "nginx"}]},
            "status": {"phase": "Running", "containerStatuses": [{"restartCount": 2}, {"restartCount": 1}]},
        });
        let listed = list_row(Kind::Pods, pod.clone());
        assert_eq!(listed, row(Kind::Pods, &object(pod)));
        assert_eq!(listed.status, "Running");
        assert_eq!(listed.detail, "east-node-2 · restarts 3");
        assert_eq!(listed.created, "2026-12-01T20:00:00Z");
    }

    #[test]
    fn deployments_events_and_configmaps_show_their_columns() {
        let deployment = list_row(
            Kind::Deployments,
            serde_json::json!({
                "metadata": {"name": "web", "namespace": "a"},
                "spec": {"replicas": 3, "template": {"spec": {"containers": [{"image": "a:1"}, {"image": "b:2"}]}}},
                "status": {"readyReplicas": 2},
            }),
        );
        assert_eq!(
            (deployment.status.as_str(), deployment.detail.as_str()),
            ("2/3", "a:1, b:2")
        );
        let event = list_row(
            Kind::Events,
            serde_json::json!({
                "metadata": {"name": "e", "namespace": "a"}, "type": "Warning", "reason": "BackOff",
                "message": "restarting", "involvedObject": {"kind": "Pod", "name": "web-1"},
            }),
        );
        assert_eq!(event.status, "Warning BackOff");
        assert_eq!(event.detail, "Pod/web-1: restarting");
        let configmap = list_row(
            Kind::ConfigMaps,
            serde_json::json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}),
        );
        assert_eq!(configmap.status, "3 keys");
        let empty = list_row(
            Kind::ConfigMaps,
            serde_json::json!({"metadata": {"name": "c"}, "data": null}),
        );
        assert_eq!(empty.status, "0 keys");
    }

    #[test]
    fn a_secrets_row_counts_its_keys_and_holds_no_value() {
        let secret = serde_json::json!({
            "metadata": {"name": "s", "namespace": "a"}, "type": "Opaque",
            "data": {"password": "aHVudGVyMg==", "token": "c2VjcmV0"},
        });
        let listed = list_row(Kind::Secrets, secret.clone());
        assert_eq!(
            (listed.status.as_str(), listed.detail.as_str()),
            ("Opaque", "2 keys")
        );
        let shown = serde_json::to_string(&listed).unwrap_or_default();
        assert!(
            !shown.contains("aHVudGVyMg==") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert_eq!(listed, row(Kind::Secrets, &object(secret)));
    }
}
