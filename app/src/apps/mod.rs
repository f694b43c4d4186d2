//! Applications: the Container Platform view's application list and detail pages, scoped to a
//! project (its namespace on global). Every read and write is the signed-in user's, on global
//! and, for the workload itself, checked on each member cluster by a server-side dry run as the
//! user. Every change records the user as the Application's author; the controller applies it
//! to the project's clusters as that author, so it never does more than the user may.

pub mod resource;
mod yaml;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::ConsoleError;
use crate::clusters::GLOBAL_CLUSTER;
use crate::i18n::{t, t_string, use_i18n};
use crate::live::{Kind, LiveBadge, use_live, watch_url};
use crate::ui::{EmptyState, ErrorPanel, PageHeader};
use resource::{ApplicationState, Health};

pub use yaml::{NewApplicationPage, create_application};

/// An Application as the pages show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppView {
    pub name: String,
    pub project: String,
    pub placement: Vec<String>,
    pub spec_yaml: String,
    pub status: ApplicationState,
    pub deleting: bool,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use kube::Api;

    use super::*;

    pub fn api(project: &str) -> Result<Api<resource::Application>, ConsoleError> {
        if project.is_empty() {
            return Err(ConsoleError::Invalid {
                message: "choose a project first".into(),
            }
            .respond());
        }
        Ok(Api::namespaced(
            crate::clusters::client_as_user(GLOBAL_CLUSTER)?,
            project,
        ))
    }

    pub fn view(app: resource::Application) -> AppView {
        AppView {
            name: app.metadata.name.clone().unwrap_or_default(),
            project: app.metadata.namespace.clone().unwrap_or_default(),
            placement: app.spec.placement.clone(),
            spec_yaml: serde_saphyr::to_string(&app.spec).unwrap_or_default(),
            status: app.status.clone().unwrap_or_default(),
            deleting: app.metadata.deletion_timestamp.is_some(),
        }
    }

    pub fn global_error(e: kube::Error) -> ConsoleError {
        crate::clusters::kube_error(GLOBAL_CLUSTER, e)
    }

    /// The namespace the application's project uses on each placed cluster; a cluster outside
    /// the project, or a namespace of global that is no project's, is refused with the reason.
    /// The Project is read with the console's credential: it is platform state every member's
    /// page needs, and it decides nothing the user could widen.
    pub async fn targets(
        project: &str,
        spec: &resource::ApplicationSpec,
    ) -> Result<Vec<(String, String)>, ConsoleError> {
        let global = crate::clusters::registry()?
            .console_client(GLOBAL_CLUSTER)
            .map_err(ConsoleError::respond)?;
        let found = Api::<crate::projects::resource::Project>::all(global)
            .get_opt(project)
            .await
            .map_err(global_error)?;
        let Some(found) = found else {
            return Err(ConsoleError::Invalid {
                message: format!(
                    "{project} is not a project's namespace: applications run only in the namespace of a Project (kubectl get projects.platform.nextgen-console.io)"
                ),
            }
            .respond());
        };
        let mut targets = Vec::new();
        let mut refused = Vec::new();
        for (cluster, target) in
            resource::placement_namespaces(project, &found.spec, &spec.placement)
        {
            match target {
                Ok(ns) => targets.push((cluster, ns)),
                Err(reason) => refused.push(reason),
            }
        }
        if refused.is_empty() {
            Ok(targets)
        } else {
            Err(ConsoleError::Invalid {
                message: format!("spec.placement: {}", refused.join("; ")),
            }
            .respond())
        }
    }

    /// The annotations that record the signed-in user as the author of a change (the
    /// application controller acts on member clusters as this user).
    pub async fn author() -> Result<serde_json::Value, ConsoleError> {
        crate::access::author::stamp(&crate::clusters::client_as_user(GLOBAL_CLUSTER)?).await
    }

    /// Checks, as the user, that every placed cluster would accept the rendered workload in the
    /// project's namespace there: the member's API server validates every field (strictly) and
    /// applies the user's RBAC, as it will when the controller applies it as this user.
    pub async fn dry_run(
        project: &str,
        name: &str,
        spec: &resource::ApplicationSpec,
    ) -> Result<(), ConsoleError> {
        use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, ValidationDirective};
        let mut problems = Vec::new();
        for (cluster, namespace) in targets(project, spec).await? {
            let client = match crate::clusters::client_as_user(&cluster) {
                Ok(client) => client,
                Err(error) => {
                    problems.push(format!("{cluster}: {error}"));
                    continue;
                }
            };
            let overrides = spec.overrides.iter().find(|o| o.cluster == cluster);
            let deployment = resource::render_deployment(
                name,
                &namespace,
                project,
                0,
                &spec.template,
                overrides,
            );
            let ar = ApiResource::erase::<k8s_openapi::api::apps::v1::Deployment>(&());
            let api = Api::<DynamicObject>::namespaced_with(client, &namespace, &ar);
            let mut params = PatchParams::apply(resource::FIELD_MANAGER).force();
            params.dry_run = true;
            params.field_validation = Some(ValidationDirective::Strict);
            if let Err(error) = api.patch(name, &params, &Patch::Apply(&deployment)).await {
                problems.push(match error {
                    kube::Error::Api(status) if status.code == 403 => format!(
                        "{cluster}: you may not deploy to namespace {namespace} there ({})",
                        status.message
                    ),
                    kube::Error::Api(status) => format!("{cluster}: {}", status.message),
                    other => format!(
                        "{cluster} cannot be reached: {}",
                        crate::error::innermost(&other)
                    ),
                });
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConsoleError::Invalid {
                message: problems.join("; "),
            }
            .respond())
        }
    }
}

#[server]
pub async fn list_applications(project: String) -> Result<Vec<AppView>, ConsoleError> {
    let list = ssr::api(&project)?
        .list(&Default::default())
        .await
        .map_err(ssr::global_error)?;
    Ok(list.items.into_iter().map(ssr::view).collect())
}

#[server]
pub async fn get_application(project: String, name: String) -> Result<AppView, ConsoleError> {
    ssr::api(&project)?
        .get(&name)
        .await
        .map(ssr::view)
        .map_err(ssr::global_error)
}

/// Scales on every cluster (`cluster` empty) or on one (an override), as the user.
#[server]
pub async fn scale_application(
    project: String,
    name: String,
    cluster: String,
    replicas: i32,
) -> Result<(), ConsoleError> {
    use kube::api::{Patch, PatchParams};
    if !(0..=1000).contains(&replicas) {
        return Err(ConsoleError::Invalid {
            message: format!("{replicas} replicas: choose between 0 and 1000"),
        }
        .respond());
    }
    let api = ssr::api(&project)?;
    let app = api.get(&name).await.map_err(ssr::global_error)?;
    let mut spec = app.spec.clone();
    if cluster.is_empty() {
        spec.template.deployment["replicas"] = serde_json::json!(replicas);
        for o in spec.overrides.iter_mut() {
            o.replicas = None;
        }
    } else {
        if !spec.placement.contains(&cluster) {
            return Err(ConsoleError::Invalid {
                message: format!("{name} is not placed on {cluster}"),
            }
            .respond());
        }
        match spec.overrides.iter_mut().find(|o| o.cluster == cluster) {
            Some(o) => o.replicas = Some(replicas),
            None => spec.overrides.push(resource::ClusterOverride {
                cluster: cluster.clone(),
                replicas: Some(replicas),
                ..Default::default()
            }),
        }
    }
    ssr::dry_run(&project, &name, &spec).await?;
    api.patch(
        &name,
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({
            "metadata": {"annotations": ssr::author().await?},
            "spec": {"template": spec.template, "overrides": spec.overrides},
        })),
    )
    .await
    .map_err(ssr::global_error)?;
    Ok(())
}

/// Sets the image of every container, a rolling update on every cluster.
#[server]
pub async fn set_image(project: String, name: String, image: String) -> Result<(), ConsoleError> {
    use kube::api::{Patch, PatchParams};
    let image = image.trim().to_string();
    if image.is_empty() || image.contains(char::is_whitespace) {
        return Err(ConsoleError::Invalid {
            message: format!(
                "{image:?} is not an image reference (for example registry.example/web:2)"
            ),
        }
        .respond());
    }
    let api = ssr::api(&project)?;
    let app = api.get(&name).await.map_err(ssr::global_error)?;
    let mut spec = app.spec.clone();
    if let Some(containers) =
        spec.template.deployment["template"]["spec"]["containers"].as_array_mut()
    {
        for c in containers {
            c["image"] = serde_json::json!(image);
        }
    }
    ssr::dry_run(&project, &name, &spec).await?;
    let mut annotations = ssr::author().await?;
    annotations[resource::CAUSE_ANNOTATION] = format!("image {image}").into();
    api.patch(
        &name,
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({
            "metadata": {"annotations": annotations},
            "spec": {"template": spec.template},
        })),
    )
    .await
    .map_err(ssr::global_error)?;
    Ok(())
}

/// Rolls back to `revision` of the history: its template becomes the current one again.
#[server]
pub async fn rollback_application(
    project: String,
    name: String,
    revision: i64,
) -> Result<(), ConsoleError> {
    use kube::api::{Patch, PatchParams};
    let api = ssr::api(&project)?;
    let app = api.get(&name).await.map_err(ssr::global_error)?;
    let status = app.status.clone().unwrap_or_default();
    let Some(target) = status.history.iter().find(|r| r.revision == revision) else {
        return Err(ConsoleError::Invalid {
            message: format!(
                "revision {revision} is not in {name}'s history (kept: {})",
                status
                    .history
                    .iter()
                    .map(|r| r.revision.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
        .respond());
    };
    let mut spec = app.spec.clone();
    spec.template = target.template.clone();
    ssr::dry_run(&project, &name, &spec).await?;
    let mut annotations = ssr::author().await?;
    annotations[resource::CAUSE_ANNOTATION] = format!("rollback to {revision}").into();
    api.patch(
        &name,
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({
            "metadata": {"annotations": annotations},
            "spec": {"template": spec.template},
        })),
    )
    .await
    .map_err(ssr::global_error)?;
    Ok(())
}

#[server]
pub async fn delete_application(
    project: String,
    name: String,
    confirm: String,
) -> Result<(), ConsoleError> {
    if confirm != name {
        return Err(ConsoleError::Invalid {
            message: format!("type the application's name, {name}, to delete it"),
        }
        .respond());
    }
    ssr::api(&project)?
        .delete(&name, &Default::default())
        .await
        .map_err(ssr::global_error)?;
    Ok(())
}

/// A line diff of two texts, as (marker, line) with ' ', '-' or '+'.
pub fn line_diff(old: &str, new: &str) -> Vec<(char, String)> {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    // Longest common subsequence; templates are short.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push((' ', a[i].to_string()));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            out.push(('+', b[j].to_string()));
            j += 1;
        } else {
            out.push(('-', a[i].to_string()));
            i += 1;
        }
    }
    out
}

pub(crate) fn health_class(health: Health) -> &'static str {
    match health {
        Health::Healthy => {
            "rounded bg-emerald-100 px-2 py-0.5 text-xs text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100"
        }
        Health::Progressing | Health::Pending => {
            "rounded bg-sky-100 px-2 py-0.5 text-xs text-sky-900 dark:bg-sky-900 dark:text-sky-100"
        }
        Health::Degraded => {
            "rounded bg-amber-100 px-2 py-0.5 text-xs text-amber-900 dark:bg-amber-900 dark:text-amber-100"
        }
        Health::Unreachable | Health::Refused => {
            "rounded bg-red-100 px-2 py-0.5 text-xs text-red-900 dark:bg-red-900 dark:text-red-100"
        }
    }
}

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let project = Memo::new(move |_| query.read().get("project").unwrap_or_default());
    view! {
        <PageHeader title=Signal::derive(move || t_string!(i18n, pages.applications_title).to_string())>
            <Show when=move || !project.get().is_empty()>
                <a
                    href=move || format!("/platform/applications/new?project={}", project.get())
                    class="rounded-md bg-sky-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-700 focus-ring"
                    data-testid="new-application"
                >
                    {t!(i18n, apps.create)}
                </a>
            </Show>
        </PageHeader>
        {move || if project.get().is_empty() {
            view! {
                <EmptyState
                    title=Signal::derive(move || t_string!(i18n, pages.applications_empty_title).to_string())
                    body=Signal::derive(move || t_string!(i18n, pages.applications_empty_body).to_string())
                />
            }
            .into_any()
        } else {
            view! { <ApplicationList project /> }.into_any()
        }}
    }
}

#[component]
fn ApplicationList(project: Memo<String>) -> impl IntoView {
    let i18n = use_i18n();
    let (changes, live) = use_live(Signal::derive(move || {
        watch_url(GLOBAL_CLUSTER, Kind::Applications, Some(&project.get()))
    }));
    let apps = Resource::new(
        move || (project.get(), changes.get()),
        |(p, _)| list_applications(p),
    );
    view! {
        <div class="mb-2"><LiveBadge state=live /></div>
        <Transition fallback=move || view! { <p aria-busy="true">{t!(i18n, clusters.checking)}</p> }>
            {move || Suspend::new(async move {
                match apps.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState
                            title=Signal::derive(move || t_string!(i18n, apps.none_title).to_string())
                            body=Signal::derive(move || t_string!(i18n, apps.none_body).to_string())
                        />
                    }
                    .into_any(),
                    Ok(list) => view! {
                        <table class="w-full max-w-5xl border-collapse text-left text-sm" data-testid="applications">
                            <thead class="border-b border-slate-200 text-slate-500 dark:border-slate-700 dark:text-slate-400">
                                <tr>
                                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, apps.name)}</th>
                                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, apps.health)}</th>
                                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, apps.revision)}</th>
                                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, apps.clusters)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.into_iter().map(|app| view! {
                                    <tr class="border-b border-slate-100 align-top dark:border-slate-800" data-app=app.name.clone() data-health=format!("{:?}", app.status.health)>
                                        <td class="py-2 pr-4">
                                            <a href=format!("/platform/applications/{}/{}", app.project, app.name) class="font-mono text-sky-700 hover:underline dark:text-sky-400 focus-ring">{app.name.clone()}</a>
                                        </td>
                                        <td class="py-2 pr-4"><span class=health_class(app.status.health)>{format!("{:?}", app.status.health)}</span></td>
                                        <td class="py-2 pr-4">{app.status.revision}</td>
                                        <td class="py-2 pr-4">
                                            <ul class="flex flex-wrap gap-2">
                                                {app.status.clusters.iter().map(|c| view! {
                                                    <li data-cluster=c.cluster.clone() data-health=format!("{:?}", c.health)>
                                                        <span class=health_class(c.health)>{format!("{} {}/{}", c.cluster, c.ready, c.desired)}</span>
                                                    </li>
                                                }).collect_view()}
                                            </ul>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// `/platform/applications/:project/:name`.
#[component]
pub fn ApplicationPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let project = Memo::new(move |_| params.read().get("project").unwrap_or_default());
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let (changes, live) = use_live(Signal::derive(move || {
        watch_url(GLOBAL_CLUSTER, Kind::Applications, Some(&project.get()))
    }));
    let app = Resource::new(
        move || (project.get(), name.get(), changes.get()),
        |(p, n, _)| get_application(p, n),
    );
    view! {
        <PageHeader title=Signal::derive(move || name.get())>
            <LiveBadge state=live />
        </PageHeader>
        <Transition fallback=move || view! { <p aria-busy="true">{t!(i18n, clusters.checking)}</p> }>
            {move || Suspend::new(async move {
                match app.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(app) => view! { <ApplicationDetail app /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ApplicationDetail(app: AppView) -> impl IntoView {
    let i18n = use_i18n();
    let status = app.status.clone();
    view! {
        <p class="mb-3 text-sm" data-testid="app-summary" data-health=format!("{:?}", status.health) data-revision=status.revision>
            <span class=health_class(status.health)>{format!("{:?}", status.health)}</span>
            " "
            {status.message.clone()}
            {app.deleting.then(|| view! { <span class="ml-2 font-medium text-red-700 dark:text-red-400">{t!(i18n, apps.deleting)}</span> })}
        </p>
        <table class="w-full max-w-6xl border-collapse text-left text-sm" data-testid="app-clusters">
            <thead class="border-b border-slate-200 text-slate-500 dark:border-slate-700 dark:text-slate-400">
                <tr>
                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, apps.cluster)}</th>
                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, apps.health)}</th>
                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, apps.replicas)}</th>
                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, apps.revision)}</th>
                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, apps.details)}</th>
                </tr>
            </thead>
            <tbody>
                {status.clusters.iter().map(|c| view! {
                    <tr class="border-b border-slate-100 align-top dark:border-slate-800" data-cluster=c.cluster.clone() data-health=format!("{:?}", c.health) data-ready=c.ready data-desired=c.desired data-revision=c.synced_revision.unwrap_or(0)>
                        <td class="py-2 pr-4 font-mono">{c.cluster.clone()}</td>
                        <td class="py-2 pr-4"><span class=health_class(c.health)>{format!("{:?}", c.health)}</span></td>
                        <td class="py-2 pr-4">{format!("{} / {} ready, {} updated", c.ready, c.desired, c.updated)}</td>
                        <td class="py-2 pr-4">{c.synced_revision.map(|r| r.to_string()).unwrap_or_else(|| "—".into())}</td>
                        <td class="py-2 pr-4 text-slate-600 dark:text-slate-300">
                            {c.message.clone()}
                            {c.last_error.clone().map(|e| view! { <span class="block text-red-700 dark:text-red-400">{e}</span> })}
                            {c.drift.clone().map(|d| view! { <span class="block text-amber-700 dark:text-amber-400" data-testid="drift">{d}</span> })}
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <GuardedActions app=app.clone() />
    }
}

/// The change actions, shown only to users the global cluster lets change the application
/// (a viewer sees why they are missing instead of buttons that would be refused).
#[component]
fn GuardedActions(app: AppView) -> impl IntoView {
    use crate::access::{AccessCheck, check_access};
    let i18n = use_i18n();
    let (project, name) = (app.project.clone(), app.name.clone());
    let allowed = Resource::new(
        move || (project.clone(), name.clone()),
        |(project, name)| async move {
            let group = crate::clusters::resource::GROUP;
            check_access(
                GLOBAL_CLUSTER.to_string(),
                vec![
                    AccessCheck::new("patch", group, "applications")
                        .in_namespace(&project)
                        .named(&name),
                ],
            )
            .await
            .map(|answers| answers.first().copied().unwrap_or(false))
        },
    );
    let app = StoredValue::new(app);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match allowed.await {
                    Ok(true) => {
                        let app = app.get_value();
                        view! {
                            {(!app.deleting).then(|| view! { <Actions app=app.clone() /> })}
                            <History app=app.clone() can_roll_back=!app.deleting />
                        }
                        .into_any()
                    }
                    Ok(false) => view! {
                        <p class="mt-6 text-sm text-slate-600 dark:text-slate-300" data-testid="read-only">{t!(i18n, apps.read_only)}</p>
                        <History app=app.get_value() can_roll_back=false />
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Actions(app: AppView) -> impl IntoView {
    let i18n = use_i18n();
    let scale = ServerAction::<ScaleApplication>::new();
    let image = ServerAction::<SetImage>::new();
    let delete = ServerAction::<DeleteApplication>::new();
    let confirming = RwSignal::new(false);
    let result = move |value: Option<Result<(), ConsoleError>>| {
        match value {
        Some(Err(error)) => view! { <div class="w-full"><ErrorPanel error=leptos::error::Error::from(error) /></div> }.into_any(),
        Some(Ok(())) => view! { <span role="status" class="text-emerald-700 dark:text-emerald-400">{t!(i18n, apps.requested)}</span> }.into_any(),
        None => ().into_any(),
    }
    };
    let ids = StoredValue::new((app.project.clone(), app.name.clone()));
    view! {
        <section class="mt-6 flex max-w-4xl flex-col gap-4 text-sm" aria-label=move || t_string!(i18n, apps.actions)>
            <ActionForm action=scale attr:class="flex flex-wrap items-center gap-2" attr:data-testid="scale-form">
                <input type="hidden" name="project" value=ids.with_value(|i| i.0.clone()) />
                <input type="hidden" name="name" value=ids.with_value(|i| i.1.clone()) />
                <label for="scale-cluster">{t!(i18n, apps.scale)}</label>
                <select id="scale-cluster" name="cluster" class="rounded border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-600 focus-ring">
                    <option value="">{t!(i18n, apps.all_clusters)}</option>
                    {app.placement.iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                </select>
                <label for="scale-replicas" class="sr-only">{t!(i18n, apps.replicas)}</label>
                <input id="scale-replicas" name="replicas" type="number" min="0" max="1000" value="1" required class="w-20 rounded border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-600 focus-ring" />
                <button type="submit" disabled=move || scale.pending().get() data-testid="scale" class="rounded-md border border-slate-300 px-3 py-1 dark:border-slate-600 focus-ring">{t!(i18n, apps.apply)}</button>
                {move || result(scale.value().get())}
            </ActionForm>
            <ActionForm action=image attr:class="flex flex-wrap items-center gap-2" attr:data-testid="image-form">
                <input type="hidden" name="project" value=ids.with_value(|i| i.0.clone()) />
                <input type="hidden" name="name" value=ids.with_value(|i| i.1.clone()) />
                <label for="image">{t!(i18n, apps.image)}</label>
                <input id="image" name="image" required placeholder="registry.example/web:2" class="w-72 rounded border border-slate-300 bg-transparent px-2 py-1 font-mono dark:border-slate-600 focus-ring" />
                <button type="submit" disabled=move || image.pending().get() data-testid="set-image" class="rounded-md border border-slate-300 px-3 py-1 dark:border-slate-600 focus-ring">{t!(i18n, apps.update)}</button>
                {move || result(image.value().get())}
            </ActionForm>
            <div>
                <button type="button" data-testid="delete-app" on:click=move |_| confirming.set(true) class="rounded-md bg-red-600 px-3 py-1.5 font-medium text-white hover:bg-red-700 focus-ring">
                    {t!(i18n, apps.delete)}
                </button>
                <Show when=move || confirming.get()>
                    <ActionForm action=delete attr:class="mt-2 flex flex-wrap items-center gap-2 rounded border border-red-300 p-3 dark:border-red-800" attr:role="dialog" attr:aria-label=move || t_string!(i18n, apps.delete)>
                        <input type="hidden" name="project" value=ids.with_value(|i| i.0.clone()) />
                        <input type="hidden" name="name" value=ids.with_value(|i| i.1.clone()) />
                        <label for="confirm-name">{t!(i18n, apps.delete_confirm)}</label>
                        <input id="confirm-name" name="confirm" autocomplete="off" class="rounded border border-slate-300 bg-transparent px-2 py-1 font-mono dark:border-slate-600 focus-ring" />
                        <button type="submit" data-testid="delete-confirm" class="rounded-md bg-red-600 px-3 py-1 text-white focus-ring">{t!(i18n, apps.delete)}</button>
                        <button type="button" on:click=move |_| confirming.set(false) class="rounded-md border border-slate-300 px-3 py-1 dark:border-slate-600 focus-ring">{t!(i18n, clusters.cancel)}</button>
                        {move || result(delete.value().get())}
                    </ActionForm>
                </Show>
            </div>
        </section>
    }
}

#[component]
fn History(app: AppView, can_roll_back: bool) -> impl IntoView {
    let i18n = use_i18n();
    let rollback = ServerAction::<RollbackApplication>::new();
    let current = app.status.history.first().cloned();
    let current_yaml = current
        .as_ref()
        .map(|r| serde_json::to_string_pretty(&r.template).unwrap_or_default())
        .unwrap_or_default();
    let shown = RwSignal::new(None::<i64>);
    let history = StoredValue::new(app.status.history.clone());
    view! {
        <section class="mt-6 max-w-5xl" aria-labelledby="history-heading">
            <h2 id="history-heading" class="mb-2 text-lg font-semibold">{t!(i18n, apps.history)}</h2>
            <ul class="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="history">
                {app.status.history.iter().map(|r| {
                    let revision = r.revision;
                    let is_current = current.as_ref().is_some_and(|c| c.revision == revision);
                    let (project, name) = (app.project.clone(), app.name.clone());
                    view! {
                        <li class="flex flex-wrap items-center gap-3 py-1.5" data-revision=revision>
                            <span class="w-10 font-mono">{revision}</span>
                            <span class="w-52 text-slate-500">{r.created_time.clone()}</span>
                            <span class="flex-1">{r.cause.clone()}</span>
                            {if is_current {
                                view! { <span class="text-xs text-slate-500">{t!(i18n, apps.current)}</span> }.into_any()
                            } else {
                                view! {
                                    <button type="button" data-testid="diff" on:click=move |_| shown.set(Some(revision)) class="rounded border border-slate-300 px-2 py-0.5 text-xs dark:border-slate-600 focus-ring">{t!(i18n, apps.diff)}</button>
                                    {can_roll_back.then(|| view! {
                                        <ActionForm action=rollback>
                                            <input type="hidden" name="project" value=project />
                                            <input type="hidden" name="name" value=name />
                                            <input type="hidden" name="revision" value=revision />
                                            <button type="submit" data-testid="rollback" class="rounded border border-slate-300 px-2 py-0.5 text-xs dark:border-slate-600 focus-ring">{t!(i18n, apps.rollback)}</button>
                                        </ActionForm>
                                    })}
                                }
                                .into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || match rollback.value().get() {
                Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
                _ => ().into_any(),
            }}
            {move || shown.get().and_then(|revision| {
                let old = history.with_value(|h| h.iter().find(|r| r.revision == revision).map(|r| serde_json::to_string_pretty(&r.template).unwrap_or_default()))?;
                let lines = line_diff(&old, &current_yaml);
                Some(view! {
                    <pre class="mt-3 overflow-x-auto rounded bg-slate-50 p-3 font-mono text-xs dark:bg-slate-900" data-testid="diff-view" aria-label=format!("revision {revision} → current")>
                        {lines.into_iter().map(|(mark, line)| {
                            let class = match mark { '+' => "text-emerald-700 dark:text-emerald-400", '-' => "text-red-700 dark:text-red-400", _ => "" };
                            view! { <span class=class>{format!("{mark} {line}\n")}</span> }
                        }).collect_view()}
                    </pre>
                })
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_marks_removed_and_added_lines() {
        let diff = line_diff("a\nimage: web:1\nc", "a\nimage: web:2\nc");
        let marked: Vec<String> = diff.iter().map(|(m, l)| format!("{m}{l}")).collect();
        assert_eq!(marked, [" a", "-image: web:1", "+image: web:2", " c"]);
    }
}
