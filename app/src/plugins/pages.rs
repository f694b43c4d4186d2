//! The plugin pages: the list with its upgrade picker, and a plugin's page; a monitoring
//! plugin's page adds its settings form, the preview (diff and dry run), its workloads, Pending
//! pods with the scheduler's reason, and placement others set on its workloads.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::catalog::{self, Lifecycle, PluginVersion};
use super::resource::PluginPhase;
use super::settings::{Backend, SettingsForm, SettingsPreview};
use super::{PluginRow, PreviewSettings, SaveSettings, UpgradePlugin, get_plugin, list_plugins};
use crate::i18n::{t, t_string, use_i18n};
use crate::live::{Kind, WatchQuery, use_live_resource, use_live_resource_with};
use crate::platform::GLOBAL_CLUSTER;
use crate::routes;
use crate::ui::{
    Badge, Block, Button, Choice, CodeView, Column, DataTable, DiffView, Disclosure, ErrorPanel,
    Fact, Facts, FormActions, FormGrid, Help, Line, Lines, Mono, Muted, Notice, PageHeader,
    SelectField, Size, StatusText, SubHeading, Table, TableSpec, Text, TextAreaField, TextField,
    TextLink, TextStyle, Tone, ToneText, Variant, tr,
};

/// How a plugin's lifecycle reads: Core follows the cluster, Aligned the platform release.
pub fn lifecycle_tone(lifecycle: Option<Lifecycle>) -> Tone {
    match lifecycle {
        Some(Lifecycle::Core) => Tone::Warning,
        Some(Lifecycle::Aligned) => Tone::Info,
        _ => Tone::Neutral,
    }
}

pub fn phase_tone(phase: PluginPhase) -> Tone {
    match phase {
        PluginPhase::Ready => Tone::Success,
        PluginPhase::Progressing | PluginPhase::Pending => Tone::Info,
        PluginPhase::Refused => Tone::Warning,
        PluginPhase::Failed => Tone::Danger,
    }
}

fn installed_text(row: &PluginRow) -> String {
    let installed = row.installed.clone().unwrap_or_else(|| "—".into());
    if row.installed.as_deref() == Some(row.desired.as_str()) {
        installed
    } else {
        format!("{installed} → {}", row.desired)
    }
}

fn plugins_watch() -> WatchQuery {
    WatchQuery::new(GLOBAL_CLUSTER, Kind::ClusterPlugins)
}

#[component]
pub fn PluginsPage() -> impl IntoView {
    let i18n = use_i18n();
    let plugins = use_live_resource(plugins_watch, |_| list_plugins());
    let spec = TableSpec::new(
        "plugins",
        vec![
            Column::text("cluster", tr!(i18n, plugins.cluster), |r: &PluginRow| {
                r.cluster.clone()
            })
            .mono(),
            Column::link("plugin", tr!(i18n, plugins.plugin), |r: &PluginRow| {
                (routes::plugin(&r.name), r.plugin.clone())
            })
            .mono(),
            Column::new(
                "lifecycle",
                tr!(i18n, plugins.lifecycle),
                |r: &PluginRow| {
                    let (tone, text) = (
                        lifecycle_tone(r.lifecycle),
                        r.lifecycle.map(|l| l.to_string()).unwrap_or_default(),
                    );
                    view! { <Badge tone attr:data-testid="lifecycle">{text}</Badge> }
                },
            )
            .sort_by(|r: &PluginRow| r.lifecycle.map(|l| l.to_string()))
            .filter_by(|r: &PluginRow| r.lifecycle.map(|l| l.to_string()).unwrap_or_default()),
            Column::text("installed", tr!(i18n, plugins.installed), installed_text)
                .mono()
                .testid("installed"),
            Column::new("phase", tr!(i18n, plugins.status), |r: &PluginRow| {
                let (tone, phase, message) = (
                    phase_tone(r.phase),
                    format!("{:?}", r.phase),
                    r.message.clone(),
                );
                view! {
                    <ToneText tone>{phase}</ToneText>
                    <Muted block=true>{message}</Muted>
                }
            })
            .sort_by(|r: &PluginRow| format!("{:?}", r.phase))
            .filter_by(|r: &PluginRow| format!("{:?} {}", r.phase, r.message))
            .testid("phase"),
            Column::new("upgrade", tr!(i18n, plugins.upgrade), |r: &PluginRow| {
                let row = r.clone();
                view! { <UpgradeCell row /> }
            }),
        ],
    )
    .row_attrs(|r| {
        vec![
            ("data-plugin", r.name.clone()),
            ("data-phase", format!("{:?}", r.phase)),
        ]
    })
    .filter(tr!(i18n, ui.filter))
    .paged(50);
    view! {
        <PageHeader title=tr!(i18n, pages.plugins_title)>{plugins.badge()}</PageHeader>
        <Help>{t!(i18n, plugins.help)}</Help>
        <DataTable
            spec
            rows=plugins.data
            empty_title=tr!(i18n, pages.plugins_empty_title)
            empty_body=tr!(i18n, pages.plugins_empty_body)
        />
    }
}

/// A Core plugin points to its cluster's update; any other gets the version picker.
#[component]
fn UpgradeCell(row: PluginRow) -> impl IntoView {
    let i18n = use_i18n();
    if row.lifecycle == Some(Lifecycle::Core) {
        view! {
            <span data-testid="follows-cluster">
                <TextLink href=routes::upgrade(&row.cluster)>{t!(i18n, plugins.follows_cluster)}</TextLink>
            </span>
        }
        .into_any()
    } else {
        view! { <UpgradeForm row /> }.into_any()
    }
}

/// The version picker and button of an Aligned or Agnostic plugin (a plain form: works before
/// hydration too).
#[component]
fn UpgradeForm(row: PluginRow) -> impl IntoView {
    let i18n = use_i18n();
    let upgrade = ServerAction::<UpgradePlugin>::new();
    if row.available.is_empty() {
        return view! {
            <Muted attr:data-testid="no-upgrade">{t!(i18n, plugins.up_to_date)}</Muted>
        }
        .into_any();
    }
    let pending = upgrade.pending();
    view! {
        <ActionForm action=upgrade attr:data-testid="upgrade-form">
            <FormActions>
                <input type="hidden" name="name" value=row.name.clone() />
                <SelectField
                    id=format!("version-{}", row.name)
                    name="version"
                    label=tr!(i18n, plugins.target_version)
                    label_hidden=true
                    choices=row.available.iter().cloned().map(Choice::plain).collect()
                />
                <Button variant=Variant::Primary size=Size::Small submit=true busy=pending attr:data-testid="upgrade">
                    {move || if pending.get() { t_string!(i18n, plugins.upgrading).to_string() } else { t_string!(i18n, plugins.upgrade).to_string() }}
                </Button>
                {move || match upgrade.value().get() {
                    Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
                    Some(Ok(())) => view! { <StatusText tone=Tone::Success>{t!(i18n, plugins.requested)}</StatusText> }.into_any(),
                    None => ().into_any(),
                }}
            </FormActions>
        </ActionForm>
    }
    .into_any()
}

/// `/admin/plugins/:name`: one plugin, its versions and the rule that applies.
#[component]
pub fn PluginPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let plugin = use_live_resource_with(plugins_watch, move || name.get(), get_plugin);
    view! {
        <PageHeader title=Signal::derive(move || name.get())>{plugin.badge()}</PageHeader>
        {plugin.stable_view(|row| view! { <PluginDetail row /> })}
    }
}

/// The plugin as it changes. The facts, the monitoring sections' state and the version picker
/// follow `row`; the settings form is built once per plugin, so a preview and what the user
/// typed outlive the controller's status writes.
#[component]
fn PluginDetail(row: Memo<PluginRow>) -> impl IntoView {
    let i18n = use_i18n();
    let versions = TableSpec::new(
        "plugin-versions",
        vec![
            Column::text(
                "version",
                tr!(i18n, plugins.version),
                |v: &&PluginVersion| v.version.to_string(),
            )
            .mono(),
            Column::text(
                "runs_on",
                tr!(i18n, plugins.runs_on),
                |v: &&PluginVersion| v.releases.join(", "),
            )
            .mono(),
        ],
    );
    let field = move |f: fn(&PluginRow) -> Option<String>| {
        move || row.with(|r| f(r).unwrap_or_else(|| "—".into()))
    };
    let lifecycle = Memo::new(move |_| row.with(|r| r.lifecycle));
    let phase = Memo::new(move |_| row.with(|r| r.phase));
    // The picker is built again only when what it offers changes.
    let offer = Memo::new(move |_| row.with(|r| (r.lifecycle, r.available.clone())));
    let plugin = Memo::new(move |_| row.with(|r| (r.plugin.clone(), r.backend)));
    view! {
        <Facts attr:data-testid="plugin-detail" attr:data-phase=move || format!("{:?}", phase.get())>
            <Fact label=tr!(i18n, plugins.cluster) mono=true>{move || row.with(|r| r.cluster.clone())}</Fact>
            <Fact label=tr!(i18n, plugins.lifecycle)>
                {move || {
                    let lifecycle = lifecycle.get();
                    view! { <Badge tone=lifecycle_tone(lifecycle)>{lifecycle.map(|l| l.to_string())}</Badge> }
                }}
            </Fact>
            <Fact label=tr!(i18n, plugins.installed) mono=true testid="installed">{field(|r| r.installed.clone())}</Fact>
            <Fact label=tr!(i18n, plugins.desired) mono=true>{move || row.with(|r| r.desired.clone())}</Fact>
            <Fact label=tr!(i18n, plugins.cluster_release) mono=true>{field(|r| r.cluster_release.clone())}</Fact>
            <Fact label=tr!(i18n, plugins.status) testid="phase">
                {move || {
                    let text = row.with(|r| format!("{:?}: {}", r.phase, r.message));
                    view! { <ToneText tone=phase_tone(phase.get())>{text}</ToneText> }
                }}
            </Fact>
        </Facts>
        <Text>
            {move || match lifecycle.get() {
                Some(Lifecycle::Core) => t_string!(i18n, plugins.rule_core).to_string(),
                Some(Lifecycle::Aligned) => t_string!(i18n, plugins.rule_aligned).to_string(),
                _ => t_string!(i18n, plugins.rule_agnostic).to_string(),
            }}
        </Text>
        <Block>
            {move || {
                offer.track();
                view! { <UpgradeCell row=row.get_untracked() /> }
            }}
        </Block>
        {move || {
            let (name, backend) = (row.with_untracked(|r| r.name.clone()), plugin.get().1);
            backend.map(|backend| view! { <MonitoringSections name row backend /> })
        }}
        <SubHeading title=tr!(i18n, plugins.versions) />
        {move || {
            let rows: Vec<&'static PluginVersion> = catalog::plugin(&plugin.get().0)
                .map(|e| e.versions.iter().rev().collect())
                .unwrap_or_default();
            if rows.is_empty() {
                view! { <Text style=TextStyle::Muted>{t!(i18n, ui.versions_empty)}</Text> }.into_any()
            } else {
                view! { <Table spec=versions.clone() rows /> }.into_any()
            }
        }}
    }
}

/// A monitoring plugin's own sections: who applied it, placement others set on its workloads,
/// Pending pods with the scheduler's reason, its workloads, and the settings form.
#[component]
fn MonitoringSections(name: String, row: Memo<PluginRow>, backend: Backend) -> impl IntoView {
    let i18n = use_i18n();
    let author = move || {
        row.with(|r| r.author.clone())
            .unwrap_or_else(|| t_string!(i18n, plugins.no_author).to_string())
    };
    let customisations = Memo::new(move |_| row.with(|r| r.customisations.clone()));
    let customisations = move || {
        let list = customisations.get();
        (!list.is_empty()).then(|| {
            let all_gone = list.iter().all(|c| !c.remaining);
            let items = list
                .into_iter()
                .map(|c| {
                    let line = format!(
                        "{} · {} = {} ({}) → {}",
                        c.workload, c.field, c.value, c.manager, c.move_to
                    );
                    let manager = c.manager.clone();
                    let state = if c.remaining {
                        view! { <Badge tone=Tone::Warning attr:data-testid="customisation-remaining">{t!(i18n, plugins.still_set_by, manager = move || manager.clone())}</Badge> }.into_any()
                    } else {
                        view! { <Badge tone=Tone::Success attr:data-testid="customisation-gone">{t!(i18n, plugins.gone)}</Badge> }.into_any()
                    };
                    let (field, remaining) = (c.field.clone(), c.remaining.to_string());
                    view! {
                        <Line attr:data-testid="customisation" attr:data-field=field attr:data-remaining=remaining>
                            {state}
                            <Mono>{line}</Mono>
                        </Line>
                    }
                })
                .collect_view();
            let (tone, title) = if all_gone {
                (Tone::Success, t_string!(i18n, plugins.customisations_gone).to_string())
            } else {
                (Tone::Warning, t_string!(i18n, plugins.customisations_found).to_string())
            };
            view! {
                <Block attr:data-testid="customisations">
                    <Notice tone title>
                        {t!(i18n, plugins.customisations_help)}
                        <Lines>{items}</Lines>
                    </Notice>
                </Block>
            }
        })
    };
    let pending = Memo::new(move |_| row.with(|r| r.pending_pods.clone()));
    let pending = move || {
        let pods = pending.get();
        (!pods.is_empty()).then(|| {
            let items = pods
                .iter()
                .map(|p| {
                    let line = format!("{}: {} — {}", p.name, p.reason, p.message);
                    view! { <Line mono=true attr:data-testid="pending-pod">{line}</Line> }
                })
                .collect_view();
            view! {
                <Block attr:data-testid="pending-pods">
                    <Notice tone=Tone::Warning title=tr!(i18n, plugins.pending_title)>
                        <Lines>{items}</Lines>
                    </Notice>
                </Block>
            }
        })
    };
    let workloads = TableSpec::new(
        "plugin-workloads",
        vec![
            Column::text(
                "workload",
                tr!(i18n, plugins.workload),
                |w: &super::settings::WorkloadState| w.workload.clone(),
            )
            .mono(),
            Column::text(
                "ready",
                tr!(i18n, plugins.ready),
                |w: &super::settings::WorkloadState| format!("{}/{}", w.ready, w.desired),
            )
            .testid("ready"),
            Column::text(
                "nodes",
                tr!(i18n, plugins.nodes),
                |w: &super::settings::WorkloadState| w.nodes.join(", "),
            )
            .mono()
            .testid("nodes"),
        ],
    );
    let table_state = workloads.new_state();
    let workload_rows = Memo::new(move |_| row.with(|r| r.workloads.clone()));
    // The form starts from the settings as they were when the page opened, and keeps what the
    // user types while the controller applies them.
    let settings = row
        .with_untracked(|r| r.settings.clone())
        .unwrap_or_else(|| super::settings::MonitoringSettings::defaults(backend));
    let form = SettingsForm::from_settings(backend, &settings);
    view! {
        <SubHeading title=tr!(i18n, plugins.monitoring_title) />
        <Text attr:data-testid="settings-author">{t!(i18n, plugins.applied_as, author = author)}</Text>
        {customisations}
        {pending}
        <SubHeading title=tr!(i18n, plugins.workloads) />
        {move || {
            let rows = workload_rows.get();
            if rows.is_empty() {
                view! { <Text style=TextStyle::Muted>{t!(i18n, plugins.no_workloads)}</Text> }.into_any()
            } else {
                view! { <Table spec=workloads.clone() rows state=table_state /> }.into_any()
            }
        }}
        <SubHeading title=tr!(i18n, plugins.settings) />
        <Help>{t!(i18n, plugins.settings_help)}</Help>
        <SettingsFormView name backend form />
    }
}

/// The settings form; Preview checks it and shows the diff and dry run, from which the settings
/// are applied. Plain forms: both work before hydration.
#[component]
fn SettingsFormView(name: String, backend: Backend, form: SettingsForm) -> impl IntoView {
    let i18n = use_i18n();
    let preview = ServerAction::<PreviewSettings>::new();
    let save = ServerAction::<SaveSettings>::new();
    let pending = preview.pending();
    let storage_choices = vec![
        Choice::new(
            "LocalVolume",
            t_string!(i18n, plugins.local_volume).to_string(),
        ),
        Choice::new(
            "StorageClass",
            t_string!(i18n, plugins.storage_class).to_string(),
        ),
    ];
    let backend_fields = match backend {
        Backend::Prometheus => view! {
            <TextField id="s-replicas" name="form[replicas]" label=tr!(i18n, plugins.replicas) value=form.replicas.clone() input_type="number" testid="replicas" />
            <TextField id="s-replica-label" name="form[replica_label]" label=tr!(i18n, plugins.replica_label) hint=tr!(i18n, plugins.replica_label_hint) value=form.replica_label.clone() mono=true testid="replica-label" />
        }
        .into_any(),
        Backend::VictoriaMetrics => view! {
            <SelectField id="s-vm-mode" name="form[vm_mode]" label=tr!(i18n, plugins.vm_mode) selected=form.vm_mode.clone() testid="vm-mode"
                choices=vec![Choice::new("Single", t_string!(i18n, plugins.vm_single).to_string()), Choice::new("Cluster", t_string!(i18n, plugins.vm_cluster).to_string())] />
            <TextField id="s-replicas" name="form[replicas]" label=tr!(i18n, plugins.vm_replicas) value=form.replicas.clone() input_type="number" testid="replicas" />
            <TextField id="s-vmstorage" name="form[vmstorage]" label=tr!(i18n, plugins.vmstorage) value=form.vmstorage.clone() input_type="number" testid="vmstorage" />
            <TextField id="s-vminsert" name="form[vminsert]" label=tr!(i18n, plugins.vminsert) value=form.vminsert.clone() input_type="number" testid="vminsert" />
            <TextField id="s-vmselect" name="form[vmselect]" label=tr!(i18n, plugins.vmselect) value=form.vmselect.clone() input_type="number" testid="vmselect" />
            <TextField id="s-rf" name="form[replication_factor]" label=tr!(i18n, plugins.replication_factor) hint=tr!(i18n, plugins.replication_factor_hint) value=form.replication_factor.clone() input_type="number" testid="replication-factor" />
            <TextField id="s-dedup" name="form[deduplication_interval]" label=tr!(i18n, plugins.dedup) value=form.deduplication_interval.clone() mono=true testid="dedup" />
        }
        .into_any(),
    };
    let shown_for = name.clone();
    view! {
        <ActionForm action=preview attr:data-testid="settings-form">
            <FormGrid>
                <input type="hidden" name="name" value=name.clone() />
                <TextField id="s-node-selector" name="form[node_selector]" label=tr!(i18n, plugins.node_selector) hint=tr!(i18n, plugins.node_selector_hint) value=form.node_selector.clone() mono=true testid="node-selector" />
                <TextAreaField id="s-tolerations" name="form[tolerations]" label=tr!(i18n, plugins.tolerations) hint=tr!(i18n, plugins.tolerations_hint) value=form.tolerations.clone() rows=3 testid="tolerations" />
                <TextField id="s-retention" name="form[retention]" label=tr!(i18n, plugins.retention) hint=tr!(i18n, plugins.retention_hint) value=form.retention.clone() mono=true testid="retention" />
                <TextField id="s-cluster-label" name="form[cluster_label]" label=tr!(i18n, plugins.cluster_label) hint=tr!(i18n, plugins.cluster_label_hint) value=form.cluster_label.clone() mono=true testid="cluster-label" />
                <TextField id="s-cpu-request" name="form[cpu_request]" label=tr!(i18n, plugins.cpu_request) value=form.cpu_request.clone() mono=true testid="cpu-request" />
                <TextField id="s-memory-request" name="form[memory_request]" label=tr!(i18n, plugins.memory_request) value=form.memory_request.clone() mono=true testid="memory-request" />
                <TextField id="s-cpu-limit" name="form[cpu_limit]" label=tr!(i18n, plugins.cpu_limit) value=form.cpu_limit.clone() mono=true testid="cpu-limit" />
                <TextField id="s-memory-limit" name="form[memory_limit]" label=tr!(i18n, plugins.memory_limit) value=form.memory_limit.clone() mono=true testid="memory-limit" />
                <SelectField id="s-storage-type" name="form[storage_type]" label=tr!(i18n, plugins.storage_type) choices=storage_choices selected=form.storage_type.clone() testid="storage-type" />
                <TextField id="s-path" name="form[path]" label=tr!(i18n, plugins.data_directory) hint=tr!(i18n, plugins.data_directory_hint) value=form.path.clone() mono=true testid="path" />
                <TextField id="s-storage-class" name="form[storage_class]" label=tr!(i18n, plugins.storage_class_name) value=form.storage_class.clone() mono=true testid="storage-class" />
                <TextField id="s-size" name="form[size]" label=tr!(i18n, plugins.size) value=form.size.clone() mono=true testid="size" />
                {backend_fields}
                <FormActions>
                    <Button variant=Variant::Primary submit=true busy=pending attr:data-testid="preview">
                        {t!(i18n, plugins.preview)}
                    </Button>
                </FormActions>
            </FormGrid>
        </ActionForm>
        {move || match preview.value().get() {
            Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
            Some(Ok(result)) => view! { <PreviewView name=shown_for.clone() result save /> }.into_any(),
            None => ().into_any(),
        }}
    }
}

/// What applying the previewed settings would do, and the button that applies them.
#[component]
fn PreviewView(
    name: String,
    result: SettingsPreview,
    save: ServerAction<SaveSettings>,
) -> impl IntoView {
    let i18n = use_i18n();
    if !result.errors.is_empty() {
        let items = result
            .errors
            .iter()
            .map(|e| view! { <li data-testid="settings-error">{e.clone()}</li> })
            .collect_view();
        return view! {
            <Block attr:data-testid="settings-errors">
                <Notice tone=Tone::Danger title=tr!(i18n, plugins.settings_refused)>
                    <Lines bullets=true>{items}</Lines>
                </Notice>
            </Block>
        }
        .into_any();
    }
    let applicable = result.applicable();
    let objects = result
        .objects
        .into_iter()
        .map(|o| {
            let changed = o.diff.iter().any(|(m, _)| *m != console_api::application::DiffMark::Same);
            let (tone, state) = if o.new {
                (Tone::Info, t_string!(i18n, plugins.object_new).to_string())
            } else if changed {
                (Tone::Warning, t_string!(i18n, plugins.object_changed).to_string())
            } else {
                (Tone::Neutral, t_string!(i18n, plugins.object_unchanged).to_string())
            };
            let (dry_run_error, asked) = (o.dry_run_error.clone(), o.dry_run);
            let dry_run = move || match dry_run_error.clone() {
                None if !asked => view! { <Badge tone=Tone::Neutral attr:data-testid="dry-run-skipped">{t!(i18n, plugins.dry_run_skipped)}</Badge> }.into_any(),
                None => view! { <Badge tone=Tone::Success attr:data-testid="dry-run-ok">{t!(i18n, plugins.dry_run_ok)}</Badge> }.into_any(),
                Some(error) => view! { <ToneText tone=Tone::Danger attr:data-testid="dry-run-error">{error}</ToneText> }.into_any(),
            };
            let open = changed || o.new;
            let (object, diff) = (o.object, o.diff);
            let (label, shown) = (object.clone(), object.clone());
            let summary = ViewFn::from(move || {
                let (shown, state) = (shown.clone(), state.clone());
                view! {
                    <Mono>{shown}</Mono>
                    <Badge tone>{state}</Badge>
                    {dry_run()}
                }
            });
            view! {
                <Disclosure summary open attr:data-testid="preview-object" attr:data-object=object>
                    <DiffView lines=diff label testid="preview-diff" />
                </Disclosure>
            }
        })
        .collect_view();
    let settings_yaml = result.settings_yaml.clone();
    let settings_json = result.settings_json.clone();
    let saving = save.pending();
    view! {
        <Block attr:data-testid="settings-preview">
            <SubHeading title=tr!(i18n, plugins.preview_title) />
            <Text>{t!(i18n, plugins.preview_help)}</Text>
            <Text style=TextStyle::Label>{t!(i18n, plugins.yaml_view)}</Text>
            <CodeView code=settings_yaml language="yaml" testid="settings-yaml" />
            {objects}
            {if applicable {
                view! {
                    <Block>
                        <ActionForm action=save>
                            <FormActions>
                                <input type="hidden" name="name" value=name.clone() />
                                <input type="hidden" name="settings" value=settings_json />
                                <Button variant=Variant::Primary submit=true busy=saving attr:data-testid="apply">
                                    {t!(i18n, plugins.apply)}
                                </Button>
                            </FormActions>
                        </ActionForm>
                    </Block>
                }
                .into_any()
            } else {
                view! { <StatusText tone=Tone::Danger>{t!(i18n, plugins.dry_run_refused)}</StatusText> }.into_any()
            }}
            {move || match save.value().get() {
                Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
                Some(Ok(())) => view! { <StatusText tone=Tone::Success>{t!(i18n, plugins.saved)}</StatusText> }.into_any(),
                None => ().into_any(),
            }}
        </Block>
    }
    .into_any()
}
