//! Cluster updates through ClusterVersionShadow resources, as the signed-in user on global: the
//! list of clusters with their release and update state, and a cluster's page where an update
//! is requested and its preflight, stages and history follow live.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::matrix::RELEASES;
use super::shadow::{
    AvailableUpdate, CheckResult, PREFLIGHT_BLOCKED, PROGRESSING, PreflightCheck, RunState,
    ShadowState, StageState, UpdateRun,
};
use crate::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};
use crate::live::{Kind, WatchQuery, use_live_resource, use_live_resource_with};
use crate::platform::GLOBAL_CLUSTER;
use crate::routes;
use crate::ui::{
    Button, Checkbox, Choice, Column, DataTable, ErrorPanel, Fact, Facts, Notice, PageHeader,
    Section, SelectField, StatusText, SubHeading, Table, TableSpec, Tone, ToneText, Variant,
    tone_text_class, tr,
};

/// A cluster's ClusterVersionShadow as the pages (and `ac`) read it: a wire view of
/// `console-api`.
pub use super::shadow::ShadowView;

#[cfg(feature = "ssr")]
fn shadows_api() -> Result<kube::Api<super::shadow::ClusterVersionShadow>, ConsoleError> {
    Ok(kube::Api::all(crate::platform::client_as_user(
        GLOBAL_CLUSTER,
    )?))
}

#[server(endpoint = "upgrades/list")]
pub async fn list_shadows() -> Result<Vec<ShadowView>, ConsoleError> {
    if !crate::platform::has_global() {
        return Ok(Vec::new());
    }
    let list = shadows_api()?
        .list(&Default::default())
        .await
        .map_err(|e| crate::platform::kube_error(GLOBAL_CLUSTER, e))?;
    let mut views: Vec<ShadowView> = list.items.into_iter().map(ShadowView::from).collect();
    views.sort_by(|a, b| a.cluster.cmp(&b.cluster));
    Ok(views)
}

#[server(endpoint = "upgrades/get")]
pub async fn get_shadow(cluster: String) -> Result<ShadowView, ConsoleError> {
    shadows_api()?
        .get(&cluster)
        .await
        .map(ShadowView::from)
        .map_err(|e| crate::platform::kube_error(GLOBAL_CLUSTER, e))
}

/// Sets `spec.desiredUpdate` as the user and answers the shadow it wrote (its generation is
/// what the controller's `observedGeneration` reaches once it has judged this request). An
/// unknown release, a downgrade, or a release that skips the recommended next step without
/// `allow_explicit_upgrade` is refused here with the reason (the controller applies the same
/// rule to specs written elsewhere); preflight is the controller's.
#[server(endpoint = "upgrades/request")]
pub async fn request_update(
    cluster: String,
    release: String,
    #[server(default)] force: bool,
    #[server(default)] allow_explicit_upgrade: bool,
) -> Result<ShadowView, ConsoleError> {
    use kube::api::{Patch, PatchParams};
    let api = shadows_api()?;
    let current = api
        .get(&cluster)
        .await
        .map_err(|e| crate::platform::kube_error(GLOBAL_CLUSTER, e))?;
    let request = super::shadow::DesiredUpdate {
        release,
        force,
        allow_explicit_upgrade,
    };
    let at = current.status.and_then(|s| s.current_release);
    super::shadow::check_request(&request, at.as_deref())
        .map_err(|message| ConsoleError::Invalid { message })?;
    api.patch(
        &cluster,
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"desiredUpdate": request}})),
    )
    .await
    .map(ShadowView::from)
    .map_err(|e| crate::platform::kube_error(GLOBAL_CLUSTER, e))
}

/// The releases `cluster` may move to from its current one, newest first, each marked whether
/// it is a recommended next step (`ac adm upgrade` shows them; `--to-latest` takes the newest
/// recommended one).
#[server(endpoint = "upgrades/available")]
pub async fn available_updates(cluster: String) -> Result<Vec<AvailableUpdate>, ConsoleError> {
    let shadow = get_shadow(cluster).await?;
    Ok(super::shadow::available_updates(
        shadow.status.current_release.as_deref(),
    ))
}

fn shadows_watch() -> WatchQuery {
    WatchQuery::new(GLOBAL_CLUSTER, Kind::ClusterVersionShadows)
}

/// The clusters' releases and updates, for the upgrades page.
#[component]
pub fn ClusterUpdates() -> impl IntoView {
    let i18n = use_i18n();
    let shadows = use_live_resource(shadows_watch, |_| list_shadows());
    let release = |row: &ShadowView| {
        row.status
            .current_release
            .clone()
            .map(|r| format!("ACP {r}"))
            .unwrap_or_else(|| "—".into())
    };
    let spec = TableSpec::new(
        "cluster-updates",
        vec![
            Column::link("cluster", tr!(i18n, plugins.cluster), |row: &ShadowView| {
                (routes::upgrade(&row.cluster), row.cluster.clone())
            })
            .mono(),
            Column::text("release", tr!(i18n, cvsh.current), release).mono(),
            Column::text("state", tr!(i18n, cvsh.state), move |row: &ShadowView| {
                summary(i18n, &row.status)
            })
            .muted(),
        ],
    )
    .row_attrs(|row| vec![("data-cluster", row.cluster.clone())])
    .paged(50);
    view! {
        <Section id="updates-heading" title=tr!(i18n, cvsh.title) aside=move || shadows.badge()>
            <DataTable
                spec
                rows=shadows.data
                empty_title=tr!(i18n, cvsh.empty_title)
                empty_body=tr!(i18n, cvsh.empty_body)
            />
        </Section>
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
    let shadow = use_live_resource_with(shadows_watch, move || cluster.get(), get_shadow);
    view! {
        <PageHeader title=tr!(i18n, cvsh.page_title, cluster = cluster.get())>
            {shadow.badge()}
        </PageHeader>
        {shadow.stable_view(|view| view! { <ShadowDetail view /> })}
    }
}

fn check_tone(result: CheckResult) -> Tone {
    match result {
        CheckResult::Passed => Tone::Success,
        CheckResult::Warning => Tone::Warning,
        CheckResult::Blocking => Tone::Danger,
    }
}

/// The update state as it changes; the request form is built again only when the cluster's
/// release does, so the release chosen and the request's outcome stay while the stages run.
#[component]
fn ShadowDetail(view: Memo<ShadowView>) -> impl IntoView {
    let i18n = use_i18n();
    let progressing = Memo::new(move |_| view.with(|v| v.status.condition(PROGRESSING).cloned()));
    let blocked = Memo::new(move |_| {
        view.with(|v| {
            v.status
                .condition(PREFLIGHT_BLOCKED)
                .filter(|c| c.status == "True")
                .map(|c| c.message.clone())
        })
    });
    let current = Memo::new(move |_| view.with(|v| v.status.current_release.clone()));
    let desired = move || {
        view.with(|v| {
            v.desired
                .as_ref()
                .map(|d| {
                    if d.force {
                        format!("{} (force)", d.release)
                    } else {
                        d.release.clone()
                    }
                })
                .unwrap_or_else(|| "—".into())
        })
    };
    let checks = TableSpec::new(
        "preflight-checks",
        vec![
            Column::text("name", tr!(i18n, cvsh.preflight), |c: &PreflightCheck| {
                c.name.clone()
            })
            .mono(),
            Column::new(
                "result",
                tr!(i18n, clusters.status),
                |c: &PreflightCheck| {
                    let (tone, text) = (check_tone(c.result), format!("{:?}", c.result));
                    view! { <ToneText tone>{text}</ToneText> }
                },
            )
            .sort_by(|c: &PreflightCheck| format!("{:?}", c.result)),
            Column::text(
                "message",
                tr!(i18n, browser.detail),
                |c: &PreflightCheck| c.message.clone(),
            ),
        ],
    )
    .row_attrs(|c| {
        vec![
            ("data-check", c.name.clone()),
            ("data-result", format!("{:?}", c.result)),
        ]
    });
    let checks_state = checks.new_state();
    let preflight = Memo::new(move |_| view.with(|v| v.status.preflight.clone()));
    let progress = Memo::new(move |_| view.with(|v| v.status.progress.clone()));
    let history = Memo::new(move |_| view.with(|v| v.status.history.clone()));
    let busy = Signal::derive(move || progress.with(Option::is_some));
    let cluster = view.with_untracked(|v| v.cluster.clone());
    view! {
        <Facts attr:data-testid="cvsh">
            <Fact label=tr!(i18n, cvsh.current) mono=true testid="current-release">
                {move || current.get().unwrap_or_else(|| "—".into())}
            </Fact>
            <Fact label=tr!(i18n, cvsh.desired) mono=true>{desired}</Fact>
            <dt class="text-slate-500 dark:text-slate-400">{t!(i18n, cvsh.state)}</dt>
            <dd data-testid="progressing" data-reason=move || progressing.with(|c| c.as_ref().map(|c| c.reason.clone()))>
                {move || progressing.with(|c| c.as_ref().map(|c| format!("{}: {}", c.reason, c.message)))}
            </dd>
        </Facts>
        {move || blocked.get().map(|message| view! {
            <div class="mt-3 max-w-3xl">
                <Notice tone=Tone::Warning attr:data-testid="blocked">{message}</Notice>
            </div>
        })}
        {move || view! { <RequestForm cluster=cluster.clone() busy current=current.get() /> }}
        {move || {
            let rows = preflight.get();
            (!rows.is_empty()).then(|| view! {
                <SubHeading title=tr!(i18n, cvsh.preflight) />
                <div class="max-w-3xl">
                    <Table spec=checks.clone() rows state=checks_state />
                </div>
            })
        }}
        {move || progress.get().map(|run| view! {
            <SubHeading title=tr!(i18n, cvsh.in_progress) />
            <Run run />
        })}
        <SubHeading title=tr!(i18n, cvsh.history) />
        {move || {
            let history = history.get();
            if history.is_empty() {
                view! { <p class="text-sm text-slate-600 dark:text-slate-300">{t!(i18n, cvsh.no_history)}</p> }.into_any()
            } else {
                view! {
                    <div class="flex max-w-3xl flex-col gap-4" data-testid="history">
                        {history.into_iter().map(|run| view! { <Run run /> }).collect_view()}
                    </div>
                }
                .into_any()
            }
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
                    let (mark, tone) = match stage.state {
                        StageState::Succeeded => ("✓", Tone::Success),
                        StageState::Running => ("…", Tone::Info),
                        StageState::Failed => ("✗", Tone::Danger),
                        StageState::Pending => ("○", Tone::Neutral),
                    };
                    let class = tone_text_class(tone);
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
            {(!run.message.is_empty()).then(|| view! { <p class=format!("mt-2 {}", tone_text_class(Tone::Danger))>{run.message.clone()}</p> })}
        </div>
    }
}

/// Release picker (the recommended next step marked and chosen first), "force" with its
/// warning, "allow an explicit upgrade" where a release would skip the recommended one (with a
/// warning when such a release is chosen), and the request button. The console refuses a
/// skipping request without the checkbox, so the rule holds before hydration too.
#[component]
fn RequestForm(
    cluster: String,
    #[prop(into)] busy: Signal<bool>,
    current: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let request = ServerAction::<RequestUpdate>::new();
    let force = RwSignal::new(false);
    let pending = request.pending();
    let offered = super::shadow::available_updates(current.as_deref());
    let first = offered
        .iter()
        .find(|u| u.recommended)
        .or(offered.first())
        .map(|u| u.release.clone())
        .unwrap_or_else(|| RELEASES[0].name.to_string());
    let chosen = RwSignal::new(first);
    let choices: Vec<Choice> = RELEASES
        .iter()
        .map(|r| {
            let recommended = offered.iter().any(|u| u.recommended && u.release == r.name);
            let label = if recommended {
                t_string!(i18n, cvsh.recommended, release = r.name).to_string()
            } else {
                format!("ACP {}", r.name)
            };
            Choice::new(r.name, label)
        })
        .collect();
    let can_skip = offered.iter().any(|u| !u.recommended) && offered.iter().any(|u| u.recommended);
    let from = current.clone();
    // Why the chosen release needs the checkbox: (release, current, recommended).
    let explicit = Memo::new(move |_| {
        let release = chosen.get();
        let target = super::matrix::release(&release)?;
        super::shadow::explicit_upgrade_reason(from.as_deref(), target)?;
        let next = super::shadow::recommended_next(from.as_deref())?;
        Some((
            release,
            from.clone().unwrap_or_default(),
            next.name.to_string(),
        ))
    });
    view! {
        <ActionForm action=request attr:class="mt-4 flex max-w-3xl flex-wrap items-end gap-3 text-sm" attr:data-testid="request-form">
            <input type="hidden" name="cluster" value=cluster />
            <SelectField
                id="release"
                name="release"
                label=tr!(i18n, upgrades.target)
                inline=true
                choices
                selected=Signal::derive(move || chosen.get())
                on_change=Callback::new(move |release: String| chosen.set(release))
            />
            <Checkbox
                label=tr!(i18n, cvsh.force)
                name="force"
                value="true"
                on_change=Callback::new(move |on| force.set(on))
            />
            {can_skip.then(|| view! {
                <Checkbox
                    label=tr!(i18n, cvsh.explicit)
                    name="allow_explicit_upgrade"
                    value="true"
                    testid="allow-explicit-upgrade"
                />
            })}
            <Button
                variant=Variant::Primary
                submit=true
                disabled=busy
                busy=pending
                attr:data-testid="request-update"
            >
                {move || if pending.get() { t_string!(i18n, cvsh.requesting).to_string() } else { t_string!(i18n, cvsh.request).to_string() }}
            </Button>
            {move || explicit.get().map(|(release, current, next)| view! {
                <div class="w-full" data-testid="explicit-warning">
                    <Notice tone=Tone::Warning>
                        {t_string!(i18n, cvsh.explicit_warning, release = release, current = current, next = next).to_string()}
                    </Notice>
                </div>
            })}
            <Show when=move || force.get()>
                <div class="w-full">
                    <Notice tone=Tone::Warning>{t!(i18n, cvsh.force_warning)}</Notice>
                </div>
            </Show>
            {move || busy.get().then(|| view! { <p class="w-full text-slate-600 dark:text-slate-300">{t!(i18n, cvsh.busy)}</p> })}
            {move || match request.value().get() {
                Some(Err(error)) => view! { <div class="w-full"><ErrorPanel error=leptos::error::Error::from(error) /></div> }.into_any(),
                Some(Ok(_)) => view! {
                    <div class="w-full">
                        <StatusText tone=Tone::Success attr:data-testid="requested">{t!(i18n, cvsh.requested)}</StatusText>
                    </div>
                }
                .into_any(),
                None => ().into_any(),
            }}
        </ActionForm>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod render_tests {
    use super::*;
    use crate::i18n::I18nContextProvider;

    fn request_form(current: Option<&str>) -> String {
        let _ = any_spawner::Executor::init_tokio();
        let owner = Owner::new();
        let current = current.map(str::to_string);
        owner.with(|| {
            view! {
                <I18nContextProvider>
                    {
                        let current = current.clone();
                        view! { <RequestForm cluster="east".to_string() busy=false current /> }
                    }
                </I18nContextProvider>
            }
            .to_html()
        })
    }

    // A runtime around the render: the form's server action spawns on it.
    #[tokio::test]
    async fn a_release_that_would_skip_the_recommended_one_offers_the_explicit_checkbox() {
        let html = request_form(Some("4.1"));
        assert!(html.contains("ACP 4.2 (recommended)"), "{html}");
        assert!(
            html.contains(r#"name="allow_explicit_upgrade""#)
                && html.contains("Allow an explicit upgrade"),
            "the checkbox is there before hydration: {html}"
        );
        // The recommended release is chosen first, so no warning yet.
        assert!(!html.contains("explicit-warning"), "{html}");
    }

    #[tokio::test]
    async fn with_only_the_recommended_release_ahead_there_is_nothing_to_allow() {
        let html = request_form(Some("4.2"));
        assert!(html.contains("ACP 4.3 (recommended)"), "{html}");
        assert!(!html.contains("allow_explicit_upgrade"), "{html}");
        // An unknown current release recommends nothing and judges nothing.
        let html = request_form(None);
        assert!(!html.contains("(recommended)"), "{html}");
        assert!(!html.contains("allow_explicit_upgrade"), "{html}");
    }
}
