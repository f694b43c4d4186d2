//! A namespace's page: what the signed-in user may do there (every kind the cluster serves
//! against every verb), and the namespace's actions, offered only as RBAC allows.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::{AccessCheck, AccessMatrix, DeleteNamespace, KindAccess, VERBS, may, namespace_access};
use crate::i18n::{t, t_string, use_i18n};
use crate::routes;
use crate::ui::{
    Button, Column, ConfirmDialog, ErrorPanel, Loading, PageHeader, StatusText, Table, TableSpec,
    TextLink, Tone, Variant, tone_text_class, tr,
};

#[component]
pub fn NamespacePage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let cluster = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let namespace = Memo::new(move |_| params.read().get("namespace").unwrap_or_default());
    let access = Resource::new(
        move || (cluster.get(), namespace.get()),
        |(cluster, namespace)| namespace_access(cluster, namespace),
    );
    let delete_check = Signal::derive(move || {
        let ns = namespace.get();
        AccessCheck::new("delete", "", "namespaces")
            .in_namespace(&ns)
            .named(&ns)
    });
    let dialog_open = RwSignal::new(false);
    view! {
        <PageHeader title=tr!(i18n, access.namespace_title, namespace = namespace.get(), cluster = cluster.get())>
            <TextLink href=Signal::derive(move || routes::cluster(&cluster.get()))>
                {move || t_string!(i18n, access.back, cluster = cluster.get()).to_string()}
            </TextLink>
            <Guarded
                cluster=cluster
                check=delete_check
                label=tr!(i18n, access.delete_namespace)
                variant=Variant::Danger
                testid="delete-namespace"
                on_click=Callback::new(move |()| dialog_open.set(true))
            />
        </PageHeader>
        <DeleteDialog cluster namespace open=dialog_open />
        <section aria-labelledby="access-heading">
            <h2 id="access-heading" class="mb-1 text-lg font-semibold">{t!(i18n, access.your_access)}</h2>
            <Suspense fallback=move || view! { <Loading label=tr!(i18n, access.checking) /> }>
                {move || Suspend::new(async move {
                    match access.await {
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        Ok(access) => view! { <MatrixTable access /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// An action button that is enabled only when the cluster lets the user do `check`; otherwise
/// disabled, with the reason next to it (and read out with the button).
#[component]
pub fn Guarded(
    #[prop(into)] cluster: Signal<String>,
    #[prop(into)] check: Signal<AccessCheck>,
    #[prop(into)] label: Signal<String>,
    /// How the enabled button looks (Danger for deletions).
    #[prop(optional)]
    variant: Variant,
    testid: &'static str,
    on_click: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let allowed = Resource::new(
        move || (cluster.get(), check.get()),
        |(cluster, check)| may(cluster, check),
    );
    let reason_id = format!("{testid}-reason");
    view! {
        <Suspense fallback=move || view! {
            <Button variant disabled=true busy=true attr:data-testid=testid>{move || label.get()}</Button>
        }>
            {move || {
                let reason_id = reason_id.clone();
                Suspend::new(async move {
                    match allowed.await {
                        Ok(true) => view! {
                            <Button variant on_click attr:data-testid=testid attr:data-allowed="true">
                                {move || label.get()}
                            </Button>
                        }
                        .into_any(),
                        answer => {
                            let check = check.get_untracked();
                            let reason = match answer {
                                Err(error) => error.to_string(),
                                Ok(_) => t_string!(
                                    i18n,
                                    access.denied_reason,
                                    cluster = cluster.get_untracked(),
                                    verb = check.verb.clone(),
                                    resource = check.resource.clone(),
                                    namespace = check.namespace.clone().unwrap_or_default()
                                )
                                .to_string(),
                            };
                            let describedby = reason_id.clone();
                            view! {
                                <span class="flex items-center gap-2">
                                    <Button
                                        variant
                                        disabled=true
                                        attr:aria-describedby=describedby
                                        attr:data-testid=testid
                                        attr:data-allowed="false"
                                        attr:title=reason.clone()
                                    >
                                        {move || label.get()}
                                    </Button>
                                    <span id=reason_id class="max-w-xs text-xs text-slate-600 dark:text-slate-300" data-testid=format!("{testid}-reason")>
                                        {reason}
                                    </span>
                                </span>
                            }
                            .into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}

/// The kinds × verbs table, filterable by kind or group.
#[component]
fn MatrixTable(access: AccessMatrix) -> impl IntoView {
    let i18n = use_i18n();
    let count = access.kinds.len();
    let (user, reviews) = (access.user, access.reviews);
    let mut columns = vec![
        Column::text("kind", tr!(i18n, access.kind), |k: &KindAccess| {
            k.kind.clone()
        })
        .row_header(),
        Column::new("group", tr!(i18n, access.group), move |k: &KindAccess| {
            if k.group.is_empty() {
                t_string!(i18n, access.core).to_string()
            } else {
                k.group.clone()
            }
        })
        .filter_by(|k: &KindAccess| k.group.clone())
        .sort_by(|k: &KindAccess| k.group.clone())
        .mono()
        .muted(),
    ];
    columns.extend(VERBS.iter().enumerate().map(|(i, verb)| {
        let verb: &'static str = verb;
        Column::new(
            verb,
            Signal::stored(verb.to_string()),
            move |k: &KindAccess| verb_cell(k.verbs.get(i).copied().flatten(), verb),
        )
        .centered()
    }));
    let spec = TableSpec::new("access-matrix", columns)
        .row_attrs(|k| vec![("data-kind", format!("{}/{}", k.group, k.resource))])
        .filter(tr!(i18n, access.filter));
    view! {
        <p class="mb-2 text-sm text-slate-600 dark:text-slate-300">
            {t_string!(i18n, access.your_access_help, user = user.clone()).to_string()}
        </p>
        <p class="mb-2 text-xs text-slate-500" data-testid="access-summary" data-kinds=count data-reviews=reviews>
            {t_string!(i18n, access.summary, kinds = count, reviews = reviews).to_string()}
        </p>
        <Table spec rows=access.kinds />
    }
}

fn verb_cell(answer: Option<bool>, verb: &'static str) -> impl IntoView + use<> {
    let i18n = use_i18n();
    let (mark, label, tone, data) = match answer {
        Some(true) => (
            "✓",
            t_string!(i18n, access.allowed).to_string(),
            Tone::Success,
            "true",
        ),
        Some(false) => (
            "✗",
            t_string!(i18n, access.denied).to_string(),
            Tone::Danger,
            "false",
        ),
        None => (
            "–",
            t_string!(i18n, access.unsupported).to_string(),
            Tone::Neutral,
            "none",
        ),
    };
    view! {
        <span class=tone_text_class(tone) data-verb=verb data-allowed=data title=label.clone()>
            <span aria-hidden="true">{mark}</span>
            <span class="sr-only">{format!("{verb}: {label}")}</span>
        </span>
    }
}

/// Confirmation before deleting: the user types the namespace's name; the server checks it too.
#[component]
fn DeleteDialog(
    cluster: Memo<String>,
    namespace: Memo<String>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let delete = ServerAction::<DeleteNamespace>::new();
    view! {
        <ConfirmDialog
            open
            testid="delete"
            title=tr!(i18n, access.delete_title, namespace = namespace.get())
            body=tr!(i18n, access.delete_body, cluster = cluster.get())
            confirm_label=tr!(i18n, access.delete_confirm)
            typed_name=namespace
            busy=delete.pending()
            on_confirm=Callback::new(move |confirm| {
                delete.dispatch(DeleteNamespace {
                    cluster: cluster.get_untracked(),
                    namespace: namespace.get_untracked(),
                    confirm,
                });
            })
        >
            {move || match delete.value().get() {
                Some(Ok(())) => view! {
                    <StatusText tone=Tone::Success attr:data-testid="delete-done">
                        {t_string!(i18n, access.deleted, namespace = namespace.get()).to_string()}
                    </StatusText>
                }
                .into_any(),
                Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
                None => ().into_any(),
            }}
        </ConfirmDialog>
    }
}
