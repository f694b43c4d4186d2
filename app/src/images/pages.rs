//! The images pages: the Administrator view's list of every image the user may see with delete
//! and the prune preview, and the Container Platform view's images of the current project.
//! The list is filtered, sorted and paged on the server (a GET form and page links, so it works
//! before hydration). Deletes and prunes are previewed (dry run) first; confirming acts on
//! exactly what was previewed, after the typed confirmation.

use std::future::Future;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::{delete_images, list_images, prune_images};
use crate::ConsoleError;
use crate::i18n::{t_string, use_i18n};
use crate::routes;
use crate::ui::{
    Badge, Button, Checkbox, Choice, CodeView, Column, ConfirmDialog, EmptyState, ErrorPanel,
    FieldGrid, Help, Loading, Notice, PageHeader, RelativeTime, Section, SelectField, ServerPager,
    Stack, Table, TableSpec, TextField, Tone, ToneText, Toolbar, Variant, tr,
};
use console_api::image::{
    DeleteItem, DeleteOutcome, DeleteRequest, ImageList, ImageQuery, ImageSort, ImageTag,
    PruneCandidate, PrunePolicy, PruneRequest, Usage,
};

/// Tags a page of the list shows.
const PER_PAGE: usize = 50;

/// `1.2 MB`: bytes as people read them (powers of 1000, as registries report).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `sha256:0123456789ab`: enough of a digest to tell it apart.
fn short_digest(digest: &str) -> String {
    digest.chars().take(19).collect()
}

/// `east/team-a Pod web-7d9`: where one use is.
fn place(usage: &Usage) -> String {
    format!(
        "{}/{} {} {}",
        usage.cluster, usage.namespace, usage.kind, usage.name
    )
}

/// The entries of a comma-separated field, trimmed, empty ones dropped.
fn entries(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// What the user types to confirm deleting `images`: the image when there is one, else how
/// many (the dialog lists them).
fn confirmation_text(images: &[String]) -> String {
    match images {
        [one] => one.clone(),
        many => many.len().to_string(),
    }
}

/// The list's sort as the URL spells it.
fn sort_name(sort: ImageSort) -> &'static str {
    match sort {
        ImageSort::Repository => "repository",
        ImageSort::Created => "created",
        ImageSort::Size => "size",
        ImageSort::Usage => "usage",
    }
}

fn parse_sort(text: &str) -> ImageSort {
    match text {
        "created" => ImageSort::Created,
        "size" => ImageSort::Size,
        "usage" => ImageSort::Usage,
        _ => ImageSort::Repository,
    }
}

#[component]
pub fn ImagesPage() -> impl IntoView {
    let i18n = use_i18n();
    let refresh = RwSignal::new(0u32);
    view! {
        <PageHeader title=tr!(i18n, images.title) />
        <ImageTable project=Signal::derive(String::new) refresh />
        <DeleteSection refresh />
        <PruneSection refresh />
    }
}

#[component]
pub fn ProjectImagesPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let project = Memo::new(move |_| query.read().get("project").unwrap_or_default());
    let refresh = RwSignal::new(0u32);
    view! {
        <PageHeader title=Signal::derive(move || {
            t_string!(i18n, images.project_title, project = project.get()).to_string()
        }) />
        {move || {
            if project.get().is_empty() {
                view! {
                    <EmptyState
                        title=tr!(i18n, images.project_empty_title)
                        body=tr!(i18n, images.project_empty_body)
                    />
                }
                    .into_any()
            } else {
                view! {
                    <ImageTable project=Signal::derive(move || project.get()) refresh />
                    <DeleteSection refresh />
                }
                    .into_any()
            }
        }}
    }
}

fn image_columns() -> Vec<Column<ImageTag>> {
    let i18n = use_i18n();
    vec![
        Column::new("image", tr!(i18n, images.col_image), move |t: &ImageTag| {
            let shared = (!t.shared_with.is_empty()).then(|| {
                let tags = t.shared_with.join(", ");
                view! {
                    <div>
                        <ToneText tone=Tone::Warning>
                            {t_string!(i18n, images.shared_with, tags = tags).to_string()}
                        </ToneText>
                    </div>
                }
            });
            view! { {t.reference()} {shared} }
        })
        .mono()
        .row_header()
        .testid("image-ref"),
        Column::new("digest", tr!(i18n, images.col_digest), |t: &ImageTag| {
            short_digest(&t.digest)
        })
        .mono()
        .muted(),
        Column::new(
            "platforms",
            tr!(i18n, images.col_platforms),
            move |t: &ImageTag| {
                let badge = t.multi_arch.then(|| {
                    view! { <Badge tone=Tone::Info>{t_string!(i18n, images.multi_arch).to_string()}</Badge> }
                });
                view! { {t.platforms.join(", ")} " " {badge} }
            },
        ),
        Column::new("size", tr!(i18n, images.col_size), |t: &ImageTag| {
            human_bytes(t.size)
        }),
        Column::new(
            "created",
            tr!(i18n, images.col_created),
            |t: &ImageTag| match t.created.clone() {
                Some(at) => view! { <RelativeTime at /> }.into_any(),
                None => "—".into_any(),
            },
        )
        .muted(),
        Column::new(
            "used-by",
            tr!(i18n, images.col_used_by),
            move |t: &ImageTag| {
                if t.uses() == 0 {
                    view! { <Badge>{t_string!(i18n, images.unused).to_string()}</Badge> }.into_any()
                } else {
                    let mut places: Vec<String> = t.usage.iter().map(place).collect();
                    if t.usage_elsewhere > 0 {
                        let count = t.usage_elsewhere.to_string();
                        places.push(t_string!(i18n, images.elsewhere, count = count).to_string());
                    }
                    places.join("; ").into_any()
                }
            },
        )
        .testid("image-usage"),
    ]
}

/// Every image the user may see (of `project` when set): filtered, sorted and paged by the
/// server as the URL says (`q`, `sort`, `order`, `page`).
#[component]
fn ImageTable(#[prop(into)] project: Signal<String>, refresh: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let text = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let sort = Memo::new(move |_| parse_sort(&query.read().get("sort").unwrap_or_default()));
    let descending = Memo::new(move |_| query.read().get("order").as_deref() == Some("desc"));
    let page = Memo::new(move |_| {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .saturating_sub(1)
    });
    let list = Resource::new(
        move || {
            let project = project.get();
            (
                ImageQuery {
                    namespace: (!project.is_empty()).then_some(project),
                    text: text.get(),
                    sort: sort.get(),
                    descending: descending.get(),
                    page: page.get(),
                    per_page: PER_PAGE,
                },
                refresh.get(),
            )
        },
        |(query, _)| list_images(query),
    );
    let href = move |page: usize| {
        routes::images_page(
            &project.get(),
            &text.get(),
            sort_name(sort.get()),
            descending.get(),
            page,
        )
    };
    let sort_choices = vec![
        Choice::new("repository", t_string!(i18n, images.sort_repository)),
        Choice::new("created", t_string!(i18n, images.sort_created)),
        Choice::new("size", t_string!(i18n, images.sort_size)),
        Choice::new("usage", t_string!(i18n, images.sort_usage)),
    ];
    let order_choices = vec![
        Choice::new("asc", t_string!(i18n, images.order_ascending)),
        Choice::new("desc", t_string!(i18n, images.order_descending)),
    ];
    let shown = move |list: ImageList| {
        let unindexed = (!list.unindexed.is_empty()).then(|| {
            let clusters = list
                .unindexed
                .iter()
                .map(|(c, why)| format!("{c} ({why})"))
                .collect::<Vec<_>>()
                .join(", ");
            view! {
                <Notice tone=Tone::Warning attr:data-testid="images-unindexed">
                    {t_string!(i18n, images.unindexed, clusters = clusters).to_string()}
                </Notice>
            }
        });
        let body = if list.total == 0 && !text.get_untracked().is_empty() {
            view! {
                <EmptyState
                    title=tr!(i18n, images.no_match_title)
                    body=tr!(i18n, images.no_match_body, text = text.get())
                />
            }
            .into_any()
        } else if list.total == 0 {
            view! {
                <EmptyState title=tr!(i18n, images.empty_title) body=tr!(i18n, images.empty_body) />
            }
            .into_any()
        } else {
            let from = list.page * list.per_page + 1;
            let to = (from + list.items.len()).saturating_sub(1);
            let summary = t_string!(
                i18n,
                images.page_summary,
                from = from.to_string(),
                to = to.to_string(),
                total = list.total.to_string()
            )
            .to_string();
            let (current, last) = (list.page, list.total.div_ceil(list.per_page.max(1)));
            let previous = (current > 0).then(|| href(current - 1));
            let next = (current + 1 < last).then(|| href(current + 1));
            let spec = TableSpec::new("images-table", image_columns())
                .caption(tr!(i18n, images.title))
                .row_attrs(|t: &ImageTag| vec![("data-image", t.reference())]);
            view! {
                <Table spec rows=list.items />
                <ServerPager summary previous next testid="images-pager" />
            }
            .into_any()
        };
        view! { {unindexed} {body} }
    };
    view! {
        // A plain GET form: filtering and sorting work before hydration too.
        <form method="get" data-testid="images-filter-form">
            <Toolbar>
                {move || {
                    let project = project.get();
                    (!project.is_empty())
                        .then(|| view! { <input type="hidden" name="project" value=project /> })
                }}
                <TextField
                    id="images-filter"
                    name="q"
                    label=tr!(i18n, images.filter)
                    value=Signal::derive(move || text.get())
                    input_type="search"
                    mono=true
                    testid="images-filter"
                />
                <SelectField
                    id="images-sort"
                    name="sort"
                    label=tr!(i18n, images.sort_label)
                    choices=sort_choices
                    selected=Signal::derive(move || sort_name(sort.get()).to_string())
                    testid="images-sort"
                />
                <SelectField
                    id="images-order"
                    name="order"
                    label=tr!(i18n, images.order_label)
                    choices=order_choices
                    selected=Signal::derive(move || {
                        if descending.get() { "desc" } else { "asc" }.to_string()
                    })
                    testid="images-order"
                />
                <Button submit=true attr:data-testid="images-show">
                    {move || t_string!(i18n, images.show).to_string()}
                </Button>
            </Toolbar>
        </form>
        <Transition fallback=move || view! { <Loading /> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(list) => shown(list).into_any(),
                }
            })}
        </Transition>
    }
}

/// A dry run, then the same request confirmed: what Delete and Prune share. The request that
/// was previewed is kept, so confirming acts on exactly that, whatever the fields say by then.
struct Staged<Req: Send + Sync + 'static, Res: Send + Sync + 'static> {
    preview: Action<Req, Result<Res, ConsoleError>>,
    act: Action<Req, Result<Res, ConsoleError>>,
    previewed: RwSignal<Option<Req>>,
    /// The confirmation dialog.
    open: RwSignal<bool>,
}

impl<Req: Send + Sync + 'static, Res: Send + Sync + 'static> Clone for Staged<Req, Res> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Req: Send + Sync + 'static, Res: Send + Sync + 'static> Copy for Staged<Req, Res> {}

impl<Req, Res> Staged<Req, Res>
where
    Req: Clone + Send + Sync + 'static,
    Res: Clone + Send + Sync + 'static,
{
    /// Both steps call `call`; after the confirmed one the dialog closes and the list reloads.
    fn new<F, Fut>(call: F, refresh: RwSignal<u32>) -> Self
    where
        F: Fn(Req) -> Fut + Copy + Send + Sync + 'static,
        Fut: Future<Output = Result<Res, ConsoleError>> + Send + 'static,
    {
        let preview = Action::new(move |request: &Req| call(request.clone()));
        let act = Action::new(move |request: &Req| call(request.clone()));
        let open = RwSignal::new(false);
        Effect::new(move |_| {
            if act.value().get().is_some() {
                open.set(false);
                refresh.update(|n| *n += 1);
            }
        });
        Self {
            preview,
            act,
            previewed: RwSignal::new(None),
            open,
        }
    }

    /// Runs the dry run of `request` and keeps it for the confirmation.
    fn run_preview(&self, request: Req) {
        self.previewed.set(Some(request.clone()));
        self.act.value().set(None);
        self.preview.dispatch(request);
    }

    /// Acts on what was previewed, as `confirmed` turns it into the real request.
    fn confirm(&self, confirmed: impl FnOnce(Req) -> Req) {
        if let Some(request) = self.previewed.get_untracked() {
            self.act.dispatch(confirmed(request));
        }
    }

    /// The preview's answer: `ok` draws it, an error shows in the user's language.
    fn preview_view(self, ok: impl Fn(Res) -> AnyView + Send + Sync + 'static) -> impl IntoView {
        answer_view(self.preview, ok)
    }

    /// The confirmed step's answer.
    fn act_view(self, ok: impl Fn(Res) -> AnyView + Send + Sync + 'static) -> impl IntoView {
        answer_view(self.act, ok)
    }
}

fn answer_view<Req, Res>(
    action: Action<Req, Result<Res, ConsoleError>>,
    ok: impl Fn(Res) -> AnyView + Send + Sync + 'static,
) -> impl IntoView
where
    Req: Send + Sync + 'static,
    Res: Clone + Send + Sync + 'static,
{
    move || {
        action.value().get().map(|answer| match answer {
            Ok(result) => ok(result),
            Err(error) => view! { <ErrorPanel error /> }.into_any(),
        })
    }
}

/// The button that starts a dry run.
#[component]
fn PreviewButton(
    #[prop(into)] label: Signal<String>,
    #[prop(into)] busy: Signal<bool>,
    on_click: Callback<()>,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div>
            <Button busy on_click attr:data-testid=testid>
                {move || label.get()}
            </Button>
        </div>
    }
}

fn outcome_text(outcome: &DeleteOutcome) -> (Tone, String) {
    let i18n = use_i18n();
    match outcome {
        DeleteOutcome::WouldDelete => (
            Tone::Warning,
            t_string!(i18n, images.outcome_would_delete).to_string(),
        ),
        DeleteOutcome::Deleted => (
            Tone::Success,
            t_string!(i18n, images.outcome_deleted).to_string(),
        ),
        DeleteOutcome::InUse => (
            Tone::Danger,
            t_string!(i18n, images.outcome_in_use).to_string(),
        ),
        DeleteOutcome::UsageUnknown { clusters } => (
            Tone::Danger,
            t_string!(
                i18n,
                images.outcome_usage_unknown,
                clusters = clusters.join(", ")
            )
            .to_string(),
        ),
        DeleteOutcome::NotFound { message } => (
            Tone::Neutral,
            format!("{}: {message}", t_string!(i18n, images.outcome_not_found)),
        ),
        DeleteOutcome::Forbidden { message } => (
            Tone::Danger,
            format!("{}: {message}", t_string!(i18n, images.outcome_forbidden)),
        ),
        DeleteOutcome::Failed { message } => (
            Tone::Danger,
            format!("{}: {message}", t_string!(i18n, images.outcome_failed)),
        ),
    }
}

/// Where a delete item runs: the places the user may see, and how many others there are.
fn runs_on(item: &DeleteItem) -> Option<String> {
    let i18n = use_i18n();
    if item.uses() == 0 {
        return None;
    }
    let mut places = item.in_use.iter().map(place).collect::<Vec<_>>().join("; ");
    if item.in_use_elsewhere > 0 {
        let others = t_string!(
            i18n,
            images.elsewhere,
            count = item.in_use_elsewhere.to_string()
        )
        .to_string();
        places = if places.is_empty() {
            others
        } else {
            format!("{places}; {others}")
        };
    }
    Some(t_string!(i18n, images.runs_on, places = places).to_string())
}

/// A line of a delete item's outcome cell, in the colour of `tone`.
fn note(tone: Tone, text: String, testid: &'static str) -> impl IntoView {
    view! {
        <div data-testid=testid>
            <ToneText tone>{text}</ToneText>
        </div>
    }
}

/// What a delete did (or would do) to each image: the manifest, the other tags that go with
/// it, the indexes it belongs to, the Pods still running it.
#[component]
fn DeleteItems(items: Vec<DeleteItem>, testid: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let columns = vec![
        Column::new("image", tr!(i18n, images.col_image), |d: &DeleteItem| {
            d.image.clone()
        })
        .mono()
        .row_header(),
        Column::new("digest", tr!(i18n, images.col_digest), |d: &DeleteItem| {
            short_digest(&d.digest)
        })
        .mono()
        .muted(),
        Column::new(
            "outcome",
            tr!(i18n, images.col_outcome),
            move |d: &DeleteItem| {
                let (tone, text) = outcome_text(&d.outcome);
                let also = (!d.other_tags.is_empty()).then(|| {
                    let tags = d.other_tags.join(", ");
                    note(
                        Tone::Warning,
                        t_string!(i18n, images.also_goes, tags = tags).to_string(),
                        "shared-digest",
                    )
                });
                let part_of = (!d.part_of.is_empty()).then(|| {
                    let index = d.part_of.join("; ");
                    note(
                        Tone::Warning,
                        t_string!(i18n, images.part_of, index = index).to_string(),
                        "part-of",
                    )
                });
                let kept = (!d.children_kept.is_empty()).then(|| {
                    let count = d.children_kept.len().to_string();
                    note(
                        Tone::Info,
                        t_string!(i18n, images.children_kept, count = count).to_string(),
                        "children-kept",
                    )
                });
                let running = runs_on(d).map(|text| note(Tone::Danger, text, "in-use"));
                view! { <Badge tone>{text}</Badge> {also} {part_of} {kept} {running} }
            },
        )
        .testid("delete-outcome"),
    ];
    view! { <Table spec=TableSpec::new(testid, columns) rows=items /> }
}

/// Whether a previewed item still has something to confirm.
fn deletable(item: &DeleteItem) -> bool {
    matches!(
        item.outcome,
        DeleteOutcome::WouldDelete | DeleteOutcome::InUse | DeleteOutcome::UsageUnknown { .. }
    )
}

#[component]
fn DeleteSection(refresh: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let input = RwSignal::new(String::new());
    let allow_in_use = RwSignal::new(false);
    let stage = Staged::new(delete_images, refresh);
    // What the preview found: the images to type, and those in use (with where they run).
    let previewed_items = Memo::new(move |_| {
        stage
            .preview
            .value()
            .get()
            .and_then(Result::ok)
            .map(|r| r.items)
            .unwrap_or_default()
    });
    let typed = Signal::derive(move || {
        confirmation_text(&stage.previewed.get().map(|r| r.images).unwrap_or_default())
    });
    let body = Signal::derive(move || {
        let images = stage
            .previewed
            .get()
            .map(|r| r.images.join(", "))
            .unwrap_or_default();
        format!(
            "{} {}",
            t_string!(i18n, images.delete_confirm_body),
            t_string!(i18n, images.delete_confirm_list, images = images)
        )
    });
    let in_use_lines = move || {
        previewed_items
            .get()
            .into_iter()
            .filter(|d| {
                matches!(
                    d.outcome,
                    DeleteOutcome::InUse | DeleteOutcome::UsageUnknown { .. }
                )
            })
            .map(|d| {
                let why = match &d.outcome {
                    DeleteOutcome::UsageUnknown { clusters } => t_string!(
                        i18n,
                        images.outcome_usage_unknown,
                        clusters = clusters.join(", ")
                    )
                    .to_string(),
                    _ => runs_on(&d).unwrap_or_default(),
                };
                format!("{}: {why}", d.image)
            })
            .collect::<Vec<String>>()
    };
    view! {
        <Section id="delete-images" title=tr!(i18n, images.delete_title) wide=true>
            <Stack>
                <TextField
                    id="delete-images-input"
                    label=tr!(i18n, images.delete_label)
                    hint=tr!(i18n, images.delete_hint)
                    mono=true
                    testid="delete-images-input"
                    on_input=Callback::new(move |v| input.set(v))
                />
                <PreviewButton
                    label=tr!(i18n, images.preview_delete)
                    busy=stage.preview.pending()
                    testid="delete-preview"
                    on_click=Callback::new(move |()| {
                        stage.run_preview(DeleteRequest {
                            images: entries(&input.get_untracked()),
                            confirm: false,
                            allow_in_use: false,
                        });
                    })
                />
                {stage.preview_view(move |result| {
                    let any = result.items.iter().any(deletable);
                    view! {
                        <DeleteItems items=result.items testid="delete-preview-table" />
                        <div>
                            <Button
                                variant=Variant::Danger
                                disabled=Signal::derive(move || !any)
                                on_click=Callback::new(move |()| {
                                    allow_in_use.set(false);
                                    stage.open.set(true);
                                })
                                attr:data-testid="delete-open"
                            >
                                {move || t_string!(i18n, images.delete_button).to_string()}
                            </Button>
                        </div>
                    }
                    .into_any()
                })}
                {stage.act_view(|result| {
                    view! { <DeleteItems items=result.items testid="delete-result-table" /> }.into_any()
                })}
            </Stack>
            <ConfirmDialog
                open=stage.open
                title=tr!(i18n, images.delete_confirm_title)
                body
                confirm_label=tr!(i18n, images.delete_button)
                typed_name=typed
                busy=stage.act.pending()
                testid="delete-images"
                on_confirm=Callback::new(move |_| {
                    let allow = allow_in_use.get_untracked();
                    stage.confirm(|request| DeleteRequest {
                        confirm: true,
                        allow_in_use: allow,
                        ..request
                    });
                })
            >
                {move || {
                    let lines = in_use_lines();
                    (!lines.is_empty()).then(|| {
                        let label = t_string!(
                            i18n,
                            images.in_use_confirm,
                            count = lines.len().to_string()
                        )
                        .to_string();
                        view! {
                            <Notice tone=Tone::Danger title=t_string!(i18n, images.in_use_title).to_string() attr:data-testid="delete-in-use-warning">
                                {lines.into_iter().map(|l| view! { <div>{l}</div> }).collect_view()}
                            </Notice>
                            <Checkbox
                                label=Signal::derive(move || label.clone())
                                testid="delete-allow-in-use"
                                on_change=Callback::new(move |v| allow_in_use.set(v))
                            />
                        }
                    })
                }}
            </ConfirmDialog>
        </Section>
    }
}

#[component]
fn PruneSection(refresh: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let younger = RwSignal::new(String::new());
    let newest = RwSignal::new(String::new());
    let allow = RwSignal::new(String::new());
    let namespaces = RwSignal::new(String::new());
    let exclude = RwSignal::new(String::new());
    let all = RwSignal::new(false);
    let gc = RwSignal::new(false);
    let stage = Staged::new(prune_images, refresh);
    let request = move || PruneRequest {
        policy: PrunePolicy {
            keep_younger_than: Some(younger.get_untracked().trim().to_string())
                .filter(|s| !s.is_empty()),
            keep_newest: newest.get_untracked().trim().parse().ok(),
            allow: entries(&allow.get_untracked()),
            namespaces: entries(&namespaces.get_untracked()),
            all: all.get_untracked(),
            exclude_clusters: entries(&exclude.get_untracked()),
        },
        confirm: false,
        gc: gc.get_untracked(),
    };
    let count = Signal::derive(move || {
        stage
            .preview
            .value()
            .get()
            .and_then(|r| r.ok())
            .map(|r| r.plan.candidates.len())
            .unwrap_or(0)
    });
    let field = |id: &'static str,
                 label: Signal<String>,
                 hint: Option<Signal<String>>,
                 target: RwSignal<String>| {
        view! {
            <TextField
                id=id
                label
                hint=hint.map(|h| h.get_untracked()).unwrap_or_default()
                testid=id
                on_input=Callback::new(move |v| target.set(v))
            />
        }
    };
    let candidate_columns = move || {
        vec![
            Column::new(
                "repository",
                tr!(i18n, images.col_repository),
                |c: &PruneCandidate| c.repository.clone(),
            )
            .mono()
            .row_header(),
            Column::new("tags", tr!(i18n, images.col_tags), |c: &PruneCandidate| {
                c.tags.join(", ")
            })
            .mono(),
            Column::new(
                "digest",
                tr!(i18n, images.col_digest),
                |c: &PruneCandidate| short_digest(&c.digest),
            )
            .mono()
            .muted(),
            Column::new("size", tr!(i18n, images.col_size), |c: &PruneCandidate| {
                human_bytes(c.size)
            }),
            Column::new("why", tr!(i18n, images.col_why), |c: &PruneCandidate| {
                c.why.clone()
            })
            .muted(),
        ]
    };
    view! {
        <Section id="prune-images" title=tr!(i18n, images.prune_title) wide=true>
            <Stack>
                <FieldGrid>
                    {field("prune-keep-younger", tr!(i18n, images.keep_younger), Some(tr!(i18n, images.keep_younger_hint)), younger)}
                    {field("prune-keep-newest", tr!(i18n, images.keep_newest), None, newest)}
                    {field("prune-allow", tr!(i18n, images.allow), Some(tr!(i18n, images.allow_hint)), allow)}
                    {field("prune-namespaces", tr!(i18n, images.namespaces), None, namespaces)}
                    {field("prune-exclude", tr!(i18n, images.exclude), None, exclude)}
                </FieldGrid>
                <Checkbox label=tr!(i18n, images.all) testid="prune-all" on_change=Callback::new(move |v| all.set(v)) />
                <Checkbox label=tr!(i18n, images.gc) testid="prune-gc" on_change=Callback::new(move |v| gc.set(v)) />
                <PreviewButton
                    label=tr!(i18n, images.preview_prune)
                    busy=stage.preview.pending()
                    testid="prune-preview"
                    on_click=Callback::new(move |()| stage.run_preview(request()))
                />
                {stage.preview_view(move |result| {
                    let summary = t_string!(
                        i18n,
                        images.plan_summary,
                        candidates = result.plan.candidates.len().to_string(),
                        kept = result.plan.kept.len().to_string(),
                        bytes = human_bytes(result.plan.bytes_reclaimable),
                        clusters = result.plan.clusters.join(", ")
                    )
                    .to_string();
                    view! {
                        <div data-testid="prune-plan">
                            <Help>{summary}</Help>
                            <Table spec=TableSpec::new("prune-candidates", candidate_columns()) rows=result.plan.candidates />
                        </div>
                        <div>
                            <Button
                                variant=Variant::Danger
                                disabled=Signal::derive(move || count.get() == 0)
                                on_click=Callback::new(move |()| stage.open.set(true))
                                attr:data-testid="prune-open"
                            >
                                {move || t_string!(i18n, images.prune_button).to_string()}
                            </Button>
                        </div>
                    }
                    .into_any()
                })}
                {stage.act_view(move |result| {
                    let deleted = result.deleted.iter().filter(|d| d.error.is_none()).count();
                    let errors: Vec<String> = result
                        .deleted
                        .iter()
                        .filter_map(|d| d.error.as_ref().map(|e| format!("{}@{}: {e}", d.repository, d.digest)))
                        .collect();
                    let errors = (!errors.is_empty()).then(|| view! {
                        <Notice tone=Tone::Danger attr:data-testid="prune-errors">
                            {errors.into_iter().map(|e| view! { <div>{e}</div> }).collect_view()}
                        </Notice>
                    });
                    let gc_failed = result.gc_error.map(|error| view! {
                        <Notice tone=Tone::Warning attr:data-testid="prune-gc-error">
                            {t_string!(i18n, images.gc_failed, error = error).to_string()}
                        </Notice>
                    });
                    let gc_output = result.gc_output.map(|text| view! {
                        <Help>{t_string!(i18n, images.gc_output).to_string()}</Help>
                        <CodeView code=text />
                    });
                    view! {
                        <div data-testid="prune-result">
                            <Help>{t_string!(i18n, images.pruned, deleted = deleted.to_string()).to_string()}</Help>
                            {errors}
                            {gc_failed}
                            {gc_output}
                        </div>
                    }
                    .into_any()
                })}
            </Stack>
            <ConfirmDialog
                open=stage.open
                title=Signal::derive(move || {
                    t_string!(i18n, images.prune_confirm_title, count = count.get().to_string()).to_string()
                })
                body=tr!(i18n, images.prune_confirm_body)
                confirm_label=tr!(i18n, images.prune_button)
                typed_name="prune".to_string()
                busy=stage.act.pending()
                testid="prune-images"
                on_confirm=Callback::new(move |_| {
                    stage.confirm(|request| PruneRequest { confirm: true, ..request });
                })
            />
        </Section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_lists_read_as_people_write_them() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(52_000_000), "52.0 MB");
        assert_eq!(
            entries(" a:1, ,b:2\nc@sha256:x "),
            ["a:1", "b:2", "c@sha256:x"]
        );
    }

    #[test]
    fn one_image_is_confirmed_by_its_name_several_by_their_count() {
        assert_eq!(confirmation_text(&["team-a/web:1".into()]), "team-a/web:1");
        assert_eq!(confirmation_text(&["a:1".into(), "b:2".into()]), "2");
        for sort in [
            ImageSort::Repository,
            ImageSort::Created,
            ImageSort::Size,
            ImageSort::Usage,
        ] {
            assert_eq!(parse_sort(sort_name(sort)), sort);
        }
    }
}
