//! A namespace's page: what the signed-in user may do there (every kind the cluster serves
//! against every verb), and the namespace's actions, offered only as RBAC allows.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::{AccessCheck, AccessMatrix, DeleteNamespace, VERBS, check_access, namespace_access};
use crate::i18n::{t, t_string, use_i18n};
use crate::ui::{ErrorPanel, PageHeader};

const BUTTON: &str = "rounded-md px-3 py-1.5 text-sm font-medium focus-ring";
const DANGER: &str = "bg-red-600 text-white hover:bg-red-700";
const DISABLED: &str =
    "cursor-not-allowed bg-slate-200 text-slate-500 dark:bg-slate-800 dark:text-slate-400";

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
        <PageHeader title=Signal::derive(move || {
            t_string!(i18n, access.namespace_title, namespace = namespace.get(), cluster = cluster.get()).to_string()
        })>
            <div class="flex items-center gap-4">
                <a
                    href=move || format!("/admin/clusters/{}", cluster.get())
                    class="text-sm text-sky-700 hover:underline dark:text-sky-400 focus-ring"
                >
                    {move || t_string!(i18n, access.back, cluster = cluster.get()).to_string()}
                </a>
                <Guarded
                    cluster=cluster
                    check=delete_check
                    label=Signal::derive(move || t_string!(i18n, access.delete_namespace).to_string())
                    class=DANGER
                    testid="delete-namespace"
                    on_click=Callback::new(move |()| dialog_open.set(true))
                />
            </div>
        </PageHeader>
        <Show when=move || dialog_open.get()>
            <DeleteDialog cluster namespace open=dialog_open />
        </Show>
        <section aria-labelledby="access-heading">
            <h2 id="access-heading" class="mb-1 text-lg font-semibold">{t!(i18n, access.your_access)}</h2>
            <Suspense fallback=move || view! { <p aria-busy="true">{t!(i18n, access.checking)}</p> }>
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
    /// Classes of the enabled button (its colours).
    class: &'static str,
    testid: &'static str,
    on_click: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let allowed = Resource::new(
        move || (cluster.get(), check.get()),
        |(cluster, check)| async move {
            check_access(cluster, vec![check])
                .await
                .map(|answers| answers.first().copied().unwrap_or(false))
        },
    );
    let reason_id = format!("{testid}-reason");
    view! {
        <Suspense fallback=move || view! {
            <button type="button" disabled aria-busy="true" class=format!("{BUTTON} {DISABLED}") data-testid=testid>
                {label}
            </button>
        }>
            {move || {
                let reason_id = reason_id.clone();
                Suspend::new(async move {
                    match allowed.await {
                        Ok(true) => view! {
                            <button
                                type="button"
                                class=format!("{BUTTON} {class}")
                                data-testid=testid
                                data-allowed="true"
                                on:click=move |_| on_click.run(())
                            >
                                {label}
                            </button>
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
                            view! {
                                <span class="flex items-center gap-2">
                                    <button
                                        type="button"
                                        disabled
                                        aria-describedby=reason_id.clone()
                                        class=format!("{BUTTON} {DISABLED}")
                                        data-testid=testid
                                        data-allowed="false"
                                        title=reason.clone()
                                    >
                                        {label}
                                    </button>
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
    let filter = RwSignal::new(String::new());
    let kinds = StoredValue::new(access.kinds);
    let count = kinds.with_value(Vec::len);
    let (user, reviews) = (access.user, access.reviews);
    view! {
        <p class="mb-2 text-sm text-slate-600 dark:text-slate-300">
            {t_string!(i18n, access.your_access_help, user = user.clone()).to_string()}
        </p>
        <p class="mb-2 text-xs text-slate-500" data-testid="access-summary" data-kinds=count data-reviews=reviews>
            {t_string!(i18n, access.summary, kinds = count, reviews = reviews).to_string()}
        </p>
        <label class="mb-2 block text-sm">
            <span class="mr-2">{t!(i18n, access.filter)}</span>
            <input
                type="search"
                class="rounded border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-600 focus-ring"
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev).to_lowercase())
            />
        </label>
        <table class="w-full border-collapse text-left text-sm" data-testid="access-matrix">
            <thead class="border-b border-slate-200 text-slate-500 dark:border-slate-700 dark:text-slate-400">
                <tr>
                    <th scope="col" class="py-1 pr-4 font-medium">{t!(i18n, access.kind)}</th>
                    <th scope="col" class="py-1 pr-4 font-medium">{t!(i18n, access.group)}</th>
                    {VERBS.iter().map(|verb| view! { <th scope="col" class="px-1 py-1 text-center font-mono font-medium">{*verb}</th> }).collect_view()}
                </tr>
            </thead>
            <tbody>
                {move || {
                    let needle = filter.get();
                    kinds.with_value(|kinds| {
                        kinds
                            .iter()
                            .filter(|k| needle.is_empty() || k.kind.to_lowercase().contains(&needle) || k.group.contains(&needle))
                            .map(|k| {
                                let group = if k.group.is_empty() { t_string!(i18n, access.core).to_string() } else { k.group.clone() };
                                view! {
                                    <tr class="border-b border-slate-100 dark:border-slate-800" data-kind=format!("{}/{}", k.group, k.resource)>
                                        <th scope="row" class="py-1 pr-4 font-normal">{k.kind.clone()}</th>
                                        <td class="py-1 pr-4 font-mono text-xs text-slate-500">{group}</td>
                                        {k.verbs.iter().zip(VERBS).map(|(answer, verb)| verb_cell(*answer, verb)).collect_view()}
                                    </tr>
                                }
                            })
                            .collect_view()
                    })
                }}
            </tbody>
        </table>
    }
}

fn verb_cell(answer: Option<bool>, verb: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let (mark, label, class, data) = match answer {
        Some(true) => (
            "✓",
            t_string!(i18n, access.allowed).to_string(),
            "text-emerald-700 dark:text-emerald-400",
            "true",
        ),
        Some(false) => (
            "✗",
            t_string!(i18n, access.denied).to_string(),
            "text-red-700 dark:text-red-400",
            "false",
        ),
        None => (
            "–",
            t_string!(i18n, access.unsupported).to_string(),
            "text-slate-400",
            "none",
        ),
    };
    view! {
        <td class=format!("px-1 py-1 text-center {class}") data-verb=verb data-allowed=data title=label.clone()>
            <span aria-hidden="true">{mark}</span>
            <span class="sr-only">{format!("{verb}: {label}")}</span>
        </td>
    }
}

/// Confirmation before deleting: the user types the namespace's name. The form posts to the
/// server function, so it works before the page has hydrated too.
#[component]
fn DeleteDialog(
    cluster: Memo<String>,
    namespace: Memo<String>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let delete = ServerAction::<DeleteNamespace>::new();
    let typed = RwSignal::new(String::new());
    let pending = delete.pending();
    view! {
        <div class="fixed inset-0 z-40 flex items-center justify-center bg-black/40" on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }>
            <div
                role="dialog"
                aria-modal="true"
                aria-labelledby="delete-title"
                data-testid="delete-dialog"
                class="w-full max-w-md rounded-lg bg-white p-6 shadow-xl dark:bg-slate-900"
            >
                <h2 id="delete-title" class="text-lg font-semibold">
                    {move || t_string!(i18n, access.delete_title, namespace = namespace.get()).to_string()}
                </h2>
                <p class="mt-2 text-sm text-slate-600 dark:text-slate-300">
                    {move || t_string!(i18n, access.delete_body, cluster = cluster.get()).to_string()}
                </p>
                {move || match delete.value().get() {
                    Some(Ok(())) => view! {
                        <p role="status" class="mt-4 text-sm text-emerald-800 dark:text-emerald-300" data-testid="delete-done">
                            {t_string!(i18n, access.deleted, namespace = namespace.get()).to_string()}
                        </p>
                    }
                    .into_any(),
                    Some(Err(error)) => view! { <div class="mt-4"><ErrorPanel error=leptos::error::Error::from(error) /></div> }.into_any(),
                    None => ().into_any(),
                }}
                <ActionForm action=delete attr:class="mt-4 flex flex-col gap-3">
                    <input type="hidden" name="cluster" value=move || cluster.get() />
                    <input type="hidden" name="namespace" value=move || namespace.get() />
                    <label class="flex flex-col gap-1 text-sm">
                        {t!(i18n, access.delete_confirm_label)}
                        <input
                            name="confirm"
                            autocomplete="off"
                            autofocus
                            data-testid="delete-confirm-input"
                            class="rounded border border-slate-300 bg-transparent px-2 py-1 font-mono dark:border-slate-600 focus-ring"
                            on:input=move |ev| typed.set(event_target_value(&ev))
                        />
                    </label>
                    <div class="flex justify-end gap-2">
                        <button type="button" class=format!("{BUTTON} border border-slate-300 dark:border-slate-600") on:click=move |_| open.set(false)>
                            {t!(i18n, access.cancel)}
                        </button>
                        <button
                            type="submit"
                            data-testid="delete-confirm"
                            class=move || format!("{BUTTON} {}", if typed.get() == namespace.get() { DANGER } else { DISABLED })
                            disabled=move || typed.get() != namespace.get() || pending.get()
                            aria-busy=move || pending.get().to_string()
                        >
                            {move || if pending.get() { t_string!(i18n, access.deleting).to_string() } else { t_string!(i18n, access.delete_confirm).to_string() }}
                        </button>
                    </div>
                </ActionForm>
            </div>
        </div>
    }
}
