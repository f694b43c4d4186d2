//! The resource browser of a cluster: Deployments, Pods (with their log followed live), Events,
//! ConfigMaps and Secrets (values masked until revealed one by one), listed and read as the
//! signed-in user, each with a YAML view; lists update live.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};
use crate::live::{Kind, LiveBadge, LiveState, encode, use_live, watch_url};
use crate::ui::{EmptyState, ErrorPanel, PageHeader};

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
        let client = crate::clusters::client_as_user(cluster)?;
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

    fn text(value: &Value, path: &[&str]) -> String {
        let mut v = value;
        for key in path {
            v = &v[*key];
        }
        match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    pub fn row(kind: Kind, object: &DynamicObject) -> ResourceRow {
        let data = &object.data;
        let (status, detail) = match kind {
            Kind::Deployments => (
                format!(
                    "{}/{}",
                    data["status"]["readyReplicas"].as_i64().unwrap_or(0),
                    data["spec"]["replicas"].as_i64().unwrap_or(1)
                ),
                data["spec"]["template"]["spec"]["containers"]
                    .as_array()
                    .map(|cs| {
                        cs.iter()
                            .map(|c| text(c, &["image"]))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
            ),
            Kind::Pods => {
                let restarts: i64 = data["status"]["containerStatuses"]
                    .as_array()
                    .map(|cs| cs.iter().filter_map(|c| c["restartCount"].as_i64()).sum())
                    .unwrap_or(0);
                (
                    text(data, &["status", "phase"]),
                    format!(
                        "{} · restarts {restarts}",
                        text(data, &["spec", "nodeName"])
                    ),
                )
            }
            Kind::Events => (
                format!("{} {}", text(data, &["type"]), text(data, &["reason"])),
                format!(
                    "{}/{}: {}",
                    text(data, &["involvedObject", "kind"]),
                    text(data, &["involvedObject", "name"]),
                    text(data, &["message"])
                ),
            ),
            Kind::ConfigMaps => (
                format!(
                    "{} keys",
                    data["data"].as_object().map_or(0, |m| m.len())
                        + data["binaryData"].as_object().map_or(0, |m| m.len())
                ),
                String::new(),
            ),
            Kind::Secrets => (
                text(data, &["type"]),
                format!("{} keys", data["data"].as_object().map_or(0, |m| m.len())),
            ),
            _ => (String::new(), String::new()),
        };
        ResourceRow {
            name: object.metadata.name.clone().unwrap_or_default(),
            namespace: object.metadata.namespace.clone().unwrap_or_default(),
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
                .map(|cs| cs.iter().map(|c| text(c, &["name"])).collect())
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
#[server]
pub async fn list_resources(
    cluster: String,
    kind: String,
    namespace: String,
) -> Result<Vec<ResourceRow>, ConsoleError> {
    let kind = browsable(&kind).map_err(ConsoleError::respond)?;
    let list = ssr::api(&cluster, kind, &namespace)?
        .list(&Default::default())
        .await
        .map_err(|e| super::kube_error(&cluster, e))?;
    let mut rows: Vec<ResourceRow> = list.items.iter().map(|o| ssr::row(kind, o)).collect();
    if kind == Kind::Events {
        rows.sort_by(|a, b| b.created.cmp(&a.created));
    } else {
        rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    }
    Ok(rows)
}

#[server]
pub async fn get_resource(
    cluster: String,
    kind: String,
    namespace: String,
    name: String,
) -> Result<ResourceDetail, ConsoleError> {
    let kind = browsable(&kind).map_err(ConsoleError::respond)?;
    let object = ssr::api(&cluster, kind, &namespace)?
        .get(&name)
        .await
        .map_err(|e| super::kube_error(&cluster, e))?;
    ssr::detail(kind, object)
}

/// One value of a Secret, read as the user at the moment it is revealed.
#[server]
pub async fn reveal_secret(
    cluster: String,
    namespace: String,
    name: String,
    key: String,
) -> Result<String, ConsoleError> {
    use base64::Engine as _;
    let secret = kube::Api::<k8s_openapi::api::core::v1::Secret>::namespaced(
        super::client_as_user(&cluster)?,
        &namespace,
    )
    .get(&name)
    .await
    .map_err(|e| super::kube_error(&cluster, e))?;
    let value = secret
        .data
        .unwrap_or_default()
        .remove(&key)
        .ok_or_else(|| {
            ConsoleError::Invalid {
                message: format!("secret {namespace}/{name} has no key {key:?}"),
            }
            .respond()
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
    let (changes, live) = use_live(Signal::derive(move || {
        watch_url(&cluster.get(), kind.get(), Some(&namespace.get()))
    }));
    let rows = Resource::new(
        move || (cluster.get(), kind.get(), namespace.get(), changes.get()),
        |(c, k, ns, _)| list_resources(c, k.as_str().to_string(), ns),
    );
    let href = move |k: Kind| {
        let ns = namespace.get();
        let mut url = format!("?kind={}", k.as_str());
        if !ns.is_empty() {
            url.push_str(&format!("&namespace={}", encode(&ns)));
        }
        url
    };
    view! {
        <PageHeader title=Signal::derive(move || t_string!(i18n, browser.title, cluster = cluster.get()).to_string())>
            <LiveBadge state=live />
        </PageHeader>
        <nav aria-label=move || t_string!(i18n, browser.kinds) class="mb-3 flex flex-wrap gap-1 border-b border-slate-200 dark:border-slate-700">
            {BROWSABLE.into_iter().map(|k| view! {
                <a
                    href=move || href(k)
                    aria-current=move || (kind.get() == k).then_some("page")
                    data-kind=k.as_str()
                    class="rounded-t px-3 py-1.5 text-sm aria-[current=page]:border-b-2 aria-[current=page]:border-sky-600 aria-[current=page]:font-semibold focus-ring"
                >
                    {move || tab_label(i18n, k)}
                </a>
            }).collect_view()}
        </nav>
        <form method="get" class="mb-3 flex items-center gap-2 text-sm">
            <input type="hidden" name="kind" value=move || kind.get().as_str() />
            <label for="ns-filter">{t!(i18n, browser.namespace)}</label>
            <input
                id="ns-filter"
                name="namespace"
                value=move || namespace.get()
                placeholder=move || t_string!(i18n, browser.all_namespaces)
                class="rounded border border-slate-300 bg-transparent px-2 py-1 font-mono dark:border-slate-600 focus-ring"
            />
            <button type="submit" class="rounded border border-slate-300 px-2 py-1 dark:border-slate-600 focus-ring">{t!(i18n, browser.show)}</button>
        </form>
        <Transition fallback=move || view! { <p aria-busy="true">{t!(i18n, clusters.checking)}</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <EmptyState
                            title=Signal::derive(move || t_string!(i18n, browser.empty_title).to_string())
                            body=Signal::derive(move || t_string!(i18n, browser.empty_body).to_string())
                        />
                    }
                    .into_any(),
                    Ok(rows) => {
                        let c = cluster.get_untracked();
                        let k = kind.get_untracked();
                        view! {
                            <table class="w-full max-w-6xl border-collapse text-left text-sm" data-testid="resources" data-kind=k.as_str()>
                                <thead class="border-b border-slate-200 text-slate-500 dark:border-slate-700 dark:text-slate-400">
                                    <tr>
                                        <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, browser.namespace)}</th>
                                        <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, browser.name)}</th>
                                        <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, browser.status)}</th>
                                        <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, browser.detail)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows.into_iter().map(|row| view! {
                                        <tr class="border-b border-slate-100 align-top dark:border-slate-800" data-name=row.name.clone() data-status=row.status.clone()>
                                            <td class="py-1.5 pr-4 font-mono">{row.namespace.clone()}</td>
                                            <td class="py-1.5 pr-4">
                                                <a
                                                    href=format!("/admin/clusters/{c}/resources/{}/{}/{}", k.as_str(), row.namespace, row.name)
                                                    class="font-mono text-sky-700 hover:underline dark:text-sky-400 focus-ring"
                                                >
                                                    {row.name.clone()}
                                                </a>
                                            </td>
                                            <td class="py-1.5 pr-4">{row.status.clone()}</td>
                                            <td class="py-1.5 pr-4 text-slate-600 dark:text-slate-300">{row.detail.clone()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
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
        <Suspense fallback=move || view! { <p aria-busy="true">{t!(i18n, clusters.checking)}</p> }>
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
                        <h2 class="mt-4 mb-2 text-lg font-semibold">{t!(i18n, browser.yaml)}</h2>
                        <pre class="max-w-6xl overflow-x-auto rounded bg-slate-50 p-3 font-mono text-xs dark:bg-slate-900" data-testid="yaml" tabindex="0">{found.yaml}</pre>
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
        <h2 class="mb-2 text-lg font-semibold">{t!(i18n, browser.values)}</h2>
        <p class="mb-2 text-sm text-slate-600 dark:text-slate-300">{t!(i18n, browser.masked_help)}</p>
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
                        <button
                            type="button"
                            data-testid="reveal"
                            aria-pressed=move || shown.get().to_string()
                            class="rounded border border-slate-300 px-2 py-0.5 text-xs dark:border-slate-600 focus-ring"
                            on:click=move |_| {
                                if !shown.get_untracked() { reveal.dispatch(()); }
                                shown.update(|s| *s = !*s);
                            }
                        >
                            {move || if shown.get() { t_string!(i18n, browser.hide).to_string() } else { t_string!(i18n, browser.reveal).to_string() }}
                        </button>
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
    let url = Signal::derive(move || {
        format!(
            "/api/live/logs?cluster={}&namespace={}&pod={}&container={}",
            encode(&cluster),
            encode(&namespace),
            encode(&pod),
            encode(&container.get())
        )
    });
    let (lines, state) = crate::live::use_log(url);
    view! {
        <section class="mb-4 max-w-6xl" aria-labelledby="log-heading">
            <div class="mb-2 flex items-center gap-3">
                <h2 id="log-heading" class="text-lg font-semibold">{t!(i18n, browser.log)}</h2>
                <LiveBadge state />
                {(containers.len() > 1).then(|| view! {
                    <select
                        aria-label=move || t_string!(i18n, browser.container)
                        class="rounded border border-slate-300 bg-transparent px-2 py-0.5 text-sm dark:border-slate-600 focus-ring"
                        on:change=move |ev| container.set(event_target_value(&ev))
                    >
                        {containers.iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                    </select>
                })}
            </div>
            <pre class="h-64 overflow-y-auto rounded bg-slate-900 p-3 font-mono text-xs text-slate-100" data-testid="log" tabindex="0" aria-live="polite">
                {move || {
                    let lines = lines.get();
                    if lines.is_empty() && state.get() == LiveState::Live {
                        t_string!(i18n, browser.log_empty).to_string()
                    } else {
                        lines.join("\n")
                    }
                }}
            </pre>
        </section>
    }
}
