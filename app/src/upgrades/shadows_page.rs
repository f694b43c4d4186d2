//! Cluster updates through ClusterVersionShadow resources, as the signed-in user on global: the
//! list of clusters with their release and update state, and a cluster's page where an update
//! is requested and its preflight, stages and history follow live.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::matrix::RELEASES;
use super::shadow::{
    CheckResult, DesiredUpdate, PREFLIGHT_BLOCKED, PROGRESSING, RunState, ShadowState, StageState,
    UpdateRun,
};
use crate::ConsoleError;
use crate::clusters::GLOBAL_CLUSTER;
use crate::i18n::{t, t_string, use_i18n};
use crate::live::{Kind, LiveBadge, use_live, watch_url};
use crate::ui::{EmptyState, ErrorPanel, PageHeader};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowView {
    pub cluster: String,
    pub desired: Option<DesiredUpdate>,
    pub status: ShadowState,
}

#[cfg(feature = "ssr")]
fn shadows_api() -> Result<kube::Api<super::shadow::ClusterVersionShadow>, ConsoleError> {
    Ok(kube::Api::all(crate::clusters::client_as_user(
        GLOBAL_CLUSTER,
    )?))
}

#[cfg(feature = "ssr")]
impl From<super::shadow::ClusterVersionShadow> for ShadowView {
    fn from(s: super::shadow::ClusterVersionShadow) -> Self {
        ShadowView {
            cluster: s.metadata.name.unwrap_or_default(),
            desired: s.spec.desired_update,
            status: s.status.unwrap_or_default(),
        }
    }
}

#[server]
pub async fn list_shadows() -> Result<Vec<ShadowView>, ConsoleError> {
    if !crate::clusters::has_global() {
        return Ok(Vec::new());
    }
    let list = shadows_api()?
        .list(&Default::default())
        .await
        .map_err(|e| crate::clusters::kube_error(GLOBAL_CLUSTER, e))?;
    let mut views: Vec<ShadowView> = list.items.into_iter().map(ShadowView::from).collect();
    views.sort_by(|a, b| a.cluster.cmp(&b.cluster));
    Ok(views)
}

#[server]
pub async fn get_shadow(cluster: String) -> Result<ShadowView, ConsoleError> {
    shadows_api()?
        .get(&cluster)
        .await
        .map(ShadowView::from)
        .map_err(|e| crate::clusters::kube_error(GLOBAL_CLUSTER, e))
}

/// Sets `spec.desiredUpdate` as the user. An unknown release or a downgrade is refused here
/// with the reason; preflight is the controller's.
#[server]
pub async fn request_update(
    cluster: String,
    release: String,
    #[server(default)] force: bool,
) -> Result<(), ConsoleError> {
    use kube::api::{Patch, PatchParams};
    let api = shadows_api()?;
    let current = api
        .get(&cluster)
        .await
        .map_err(|e| crate::clusters::kube_error(GLOBAL_CLUSTER, e))?;
    let request = DesiredUpdate { release, force };
    let at = current.status.and_then(|s| s.current_release);
    super::shadow::check_request(&request, at.as_deref())
        .map_err(|message| ConsoleError::Invalid { message }.respond())?;
    api.patch(
        &cluster,
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"desiredUpdate": request}})),
    )
    .await
    .map_err(|e| crate::clusters::kube_error(GLOBAL_CLUSTER, e))?;
    Ok(())
}

/// The clusters' releases and updates, for the upgrades page.
#[component]
pub fn ClusterUpdates() -> impl IntoView {
    let i18n = use_i18n();
    let (changes, live) = use_live(Signal::derive(|| {
        watch_url(GLOBAL_CLUSTER, Kind::ClusterVersionShadows, None)
    }));
    let shadows = Resource::new(move || changes.get(), |_| list_shadows());
    view! {
        <section class="mt-8 max-w-3xl" aria-labelledby="updates-heading">
            <div class="mb-2 flex items-center gap-3">
                <h2 id="updates-heading" class="text-lg font-semibold">{t!(i18n, cvsh.title)}</h2>
                <LiveBadge state=live />
            </div>
            <Transition fallback=move || view! { <p aria-busy="true">{t!(i18n, clusters.checking)}</p> }>
                {move || Suspend::new(async move {
                    match shadows.await {
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! {
                            <EmptyState
                                title=Signal::derive(move || t_string!(i18n, cvsh.empty_title).to_string())
                                body=Signal::derive(move || t_string!(i18n, cvsh.empty_body).to_string())
                            />
                        }
                        .into_any(),
                        Ok(rows) => view! {
                            <ul class="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="cluster-updates">
                                {rows.into_iter().map(|row| {
                                    let state = summary(i18n, &row.status);
                                    view! {
                                        <li class="flex items-center justify-between gap-4 py-2" data-cluster=row.cluster.clone()>
                                            <a href=format!("/admin/upgrades/{}", row.cluster) class="font-mono text-sky-700 hover:underline dark:text-sky-400 focus-ring">
                                                {row.cluster.clone()}
                                            </a>
                                            <span class="font-mono">{row.status.current_release.clone().map(|r| format!("ACP {r}")).unwrap_or_else(|| "—".into())}</span>
                                            <span class="flex-1 text-right text-slate-600 dark:text-slate-300">{state}</span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn summary(i18n: leptos_i18n::I18nContext<crate::i18n::Locale>, status: &ShadowState) -> String {
    if let Some(run) = &status.progress {
        let (done, total) = run.done();
        return t_string!(
            i18n,
            cvsh.updating,
            release = run.release.clone(),
            done = done,
            total = total
        )
        .to_string();
    }
    if status
        .condition(PREFLIGHT_BLOCKED)
        .is_some_and(|c| c.status == "True")
    {
        return t_string!(i18n, cvsh.blocked).to_string();
    }
    status
        .condition(PROGRESSING)
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

/// `/admin/upgrades/:cluster`.
#[component]
pub fn ShadowPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let cluster = Memo::new(move |_| params.read().get("cluster").unwrap_or_default());
    let (changes, live) = use_live(Signal::derive(|| {
        watch_url(GLOBAL_CLUSTER, Kind::ClusterVersionShadows, None)
    }));
    let shadow = Resource::new(
        move || (cluster.get(), changes.get()),
        |(c, _)| get_shadow(c),
    );
    view! {
        <PageHeader title=Signal::derive(move || t_string!(i18n, cvsh.page_title, cluster = cluster.get()).to_string())>
            <LiveBadge state=live />
        </PageHeader>
        <Transition fallback=move || view! { <p aria-busy="true">{t!(i18n, clusters.checking)}</p> }>
            {move || Suspend::new(async move {
                match shadow.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(view) => view! { <ShadowDetail view /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ShadowDetail(view: ShadowView) -> impl IntoView {
    let i18n = use_i18n();
    let status = view.status.clone();
    let progressing = status.condition(PROGRESSING).cloned();
    let reason = progressing.as_ref().map(|c| c.reason.clone());
    let blocked = status
        .condition(PREFLIGHT_BLOCKED)
        .filter(|c| c.status == "True")
        .cloned();
    view! {
        <dl class="grid max-w-2xl grid-cols-[auto_1fr] gap-x-6 gap-y-1 text-sm" data-testid="cvsh">
            <dt class="text-slate-500">{t!(i18n, cvsh.current)}</dt>
            <dd class="font-mono" data-testid="current-release">{status.current_release.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt class="text-slate-500">{t!(i18n, cvsh.desired)}</dt>
            <dd class="font-mono">{view.desired.as_ref().map(|d| if d.force { format!("{} (force)", d.release) } else { d.release.clone() }).unwrap_or_else(|| "—".into())}</dd>
            <dt class="text-slate-500">{t!(i18n, cvsh.state)}</dt>
            <dd data-testid="progressing" data-reason=reason>
                {progressing.map(|c| format!("{}: {}", c.reason, c.message))}
            </dd>
        </dl>
        {blocked.map(|c| view! {
            <p role="alert" data-testid="blocked" class="mt-3 max-w-3xl rounded border border-amber-300 bg-amber-50 p-2 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
                {c.message}
            </p>
        })}
        <RequestForm cluster=view.cluster.clone() busy=status.progress.is_some() />
        {(!status.preflight.is_empty()).then(|| view! {
            <h2 class="mt-6 mb-2 text-lg font-semibold">{t!(i18n, cvsh.preflight)}</h2>
            <ul class="max-w-3xl divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="preflight-checks">
                {status.preflight.iter().map(|c| {
                    let class = match c.result {
                        CheckResult::Passed => "text-emerald-700 dark:text-emerald-400",
                        CheckResult::Warning => "text-amber-700 dark:text-amber-400",
                        CheckResult::Blocking => "text-red-700 dark:text-red-400",
                    };
                    view! {
                        <li class="flex gap-4 py-1" data-check=c.name.clone() data-result=format!("{:?}", c.result)>
                            <span class="w-48 font-mono">{c.name.clone()}</span>
                            <span class=format!("w-20 {class}")>{format!("{:?}", c.result)}</span>
                            <span class="flex-1">{c.message.clone()}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
        {status.progress.clone().map(|run| view! {
            <h2 class="mt-6 mb-2 text-lg font-semibold">{t!(i18n, cvsh.in_progress)}</h2>
            <Run run />
        })}
        <h2 class="mt-6 mb-2 text-lg font-semibold">{t!(i18n, cvsh.history)}</h2>
        {if status.history.is_empty() {
            view! { <p class="text-sm text-slate-600 dark:text-slate-300">{t!(i18n, cvsh.no_history)}</p> }.into_any()
        } else {
            view! {
                <div class="flex max-w-3xl flex-col gap-4" data-testid="history">
                    {status.history.iter().cloned().map(|run| view! { <Run run /> }).collect_view()}
                </div>
            }
            .into_any()
        }}
    }
}

/// One update: its stages with a progress bar.
#[component]
fn Run(run: UpdateRun) -> impl IntoView {
    let (done, total) = run.done();
    let state = format!("{:?}", run.state);
    let bar = match run.state {
        RunState::Failed => "mt-2 h-2 w-full accent-red-500",
        RunState::Completed => "mt-2 h-2 w-full accent-emerald-500",
        RunState::Progressing => "mt-2 h-2 w-full accent-sky-500",
    };
    view! {
        <div class="max-w-3xl rounded border border-slate-200 p-3 text-sm dark:border-slate-700" data-testid="run" data-release=run.release.clone() data-state=state.clone()>
            <div class="flex justify-between">
                <span class="font-medium">
                    {format!("{} → {}", run.from_release.clone().unwrap_or_else(|| "?".into()), run.release)}
                    {run.forced.then_some(" (forced)")}
                </span>
                <span>{format!("{state} · {done}/{total}")}</span>
            </div>
            // A native progress bar: accessible as it is, and no inline style (the CSP allows none).
            <progress class=bar max=total.to_string() value=done.to_string()></progress>
            <ol class="mt-2 flex flex-col gap-1">
                {run.stages.into_iter().map(|stage| {
                    let (mark, class) = match stage.state {
                        StageState::Succeeded => ("✓", "text-emerald-700 dark:text-emerald-400"),
                        StageState::Running => ("…", "text-sky-700 dark:text-sky-400"),
                        StageState::Failed => ("✗", "text-red-700 dark:text-red-400"),
                        StageState::Pending => ("○", "text-slate-500"),
                    };
                    view! {
                        <li class="flex gap-2" data-stage=stage.name.clone() data-state=format!("{:?}", stage.state)>
                            <span class=class aria-hidden="true">{mark}</span>
                            <span class="font-mono">{stage.name.clone()}</span>
                            <span class="sr-only">{format!("{:?}", stage.state)}</span>
                            <span class="text-slate-500">{stage.message.clone()}</span>
                        </li>
                    }
                }).collect_view()}
            </ol>
            {(!run.message.is_empty()).then(|| view! { <p class="mt-2 text-red-700 dark:text-red-400">{run.message.clone()}</p> })}
        </div>
    }
}

/// Release picker, "force" with its warning, and the request button.
#[component]
fn RequestForm(cluster: String, busy: bool) -> impl IntoView {
    let i18n = use_i18n();
    let request = ServerAction::<RequestUpdate>::new();
    let force = RwSignal::new(false);
    view! {
        <ActionForm action=request attr:class="mt-4 flex max-w-3xl flex-wrap items-center gap-3 text-sm" attr:data-testid="request-form">
            <input type="hidden" name="cluster" value=cluster />
            <label for="release">{t!(i18n, upgrades.target)}</label>
            <select id="release" name="release" class="rounded border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-600 focus-ring">
                {RELEASES.iter().map(|r| view! { <option value=r.name>{format!("ACP {}", r.name)}</option> }).collect_view()}
            </select>
            <label class="flex items-center gap-1">
                <input type="checkbox" name="force" value="true" on:change=move |ev| force.set(event_target_checked(&ev)) />
                {t!(i18n, cvsh.force)}
            </label>
            <button
                type="submit"
                disabled=move || busy || request.pending().get()
                class="rounded-md bg-sky-600 px-3 py-1.5 font-medium text-white hover:bg-sky-700 disabled:opacity-50 focus-ring"
                data-testid="request-update"
            >
                {move || if request.pending().get() { t_string!(i18n, cvsh.requesting).to_string() } else { t_string!(i18n, cvsh.request).to_string() }}
            </button>
            <Show when=move || force.get()>
                <p role="alert" class="w-full text-amber-800 dark:text-amber-300">{t!(i18n, cvsh.force_warning)}</p>
            </Show>
            {busy.then(|| view! { <p class="w-full text-slate-600 dark:text-slate-300">{t!(i18n, cvsh.busy)}</p> })}
            {move || match request.value().get() {
                Some(Err(error)) => view! { <div class="w-full"><ErrorPanel error=leptos::error::Error::from(error) /></div> }.into_any(),
                Some(Ok(())) => view! { <p role="status" class="w-full text-emerald-700 dark:text-emerald-400" data-testid="requested">{t!(i18n, cvsh.requested)}</p> }.into_any(),
                None => ().into_any(),
            }}
        </ActionForm>
    }
}
