//! `/admin/clusters/import`: paste a kubeconfig, pick a context, and see whether the console can
//! manage that cluster, or exactly why not.

use leptos::prelude::*;

use super::import::{CheckImport, ImportError, ImportPreview, RegisterCluster};
use crate::i18n::{t, t_string, use_i18n};
use crate::ui::{ErrorPanel, PageHeader};
use crate::upgrades::matrix::MANAGED_RANGE;

#[component]
pub fn ImportPage() -> impl IntoView {
    let i18n = use_i18n();
    let check = ServerAction::<CheckImport>::new();
    let pending = check.pending();
    // What was pasted, for the register step after a successful check.
    let kubeconfig = RwSignal::new(String::new());
    let context = RwSignal::new(String::new());
    view! {
        <PageHeader title=Signal::derive(move || t_string!(i18n, import.title).to_string())>
            <a href="/admin/clusters" class="text-sm text-sky-700 hover:underline dark:text-sky-400 focus-ring">
                {t!(i18n, clusters.back)}
            </a>
        </PageHeader>
        <p class="mb-4 max-w-3xl text-sm text-slate-600 dark:text-slate-300">
            {t_string!(i18n, import.help, range = MANAGED_RANGE).to_string()}
        </p>
        <ActionForm action=check attr:class="flex max-w-3xl flex-col gap-3">
            <label class="flex flex-col gap-1 text-sm">
                {t!(i18n, import.kubeconfig)}
                <textarea
                    name="kubeconfig"
                    rows="12"
                    required
                    spellcheck="false"
                    data-testid="import-kubeconfig"
                    prop:value=move || kubeconfig.get()
                    on:input=move |ev| kubeconfig.set(event_target_value(&ev))
                    class="rounded border border-slate-300 bg-transparent p-2 font-mono text-xs dark:border-slate-600 focus-ring"
                ></textarea>
            </label>
            <label class="flex items-center gap-2 text-sm">
                {t!(i18n, import.upload)}
                <input
                    type="file"
                    data-testid="import-file"
                    class="text-sm focus-ring"
                    on:change=move |ev| load_file(ev, kubeconfig)
                />
            </label>
            <label class="flex flex-col gap-1 text-sm">
                {t!(i18n, import.context)}
                <input
                    name="context"
                    data-testid="import-context"
                    on:input=move |ev| context.set(event_target_value(&ev))
                    placeholder=move || t_string!(i18n, import.context_placeholder).to_string()
                    class="rounded border border-slate-300 bg-transparent px-2 py-1 font-mono dark:border-slate-600 focus-ring"
                />
            </label>
            <div>
                <button
                    type="submit"
                    data-testid="import-check"
                    disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()
                    class="rounded-md bg-sky-600 px-4 py-2 text-sm font-medium text-white hover:bg-sky-700 focus-ring"
                >
                    {move || if pending.get() { t_string!(i18n, import.checking).to_string() } else { t_string!(i18n, import.check).to_string() }}
                </button>
            </div>
        </ActionForm>
        <div class="mt-4 max-w-3xl" aria-live="polite">
            {move || match check.value().get() {
                None => ().into_any(),
                Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
                Some(Ok(Ok(preview))) => view! {
                    <Preview preview=preview.clone() />
                    <Register kubeconfig=kubeconfig.get_untracked() context=context.get_untracked() suggested=preview.context />
                }
                .into_any(),
                Some(Ok(Err(refusal))) => view! { <Refusal refusal /> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn Preview(preview: ImportPreview) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div role="status" data-testid="import-ok" class="rounded-md border border-emerald-300 bg-emerald-50 p-4 text-emerald-950 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-100">
            <p class="font-medium">{t!(i18n, import.ok)}</p>
            <dl class="mt-2 grid grid-cols-[10rem_1fr] gap-y-1 text-sm">
                <dt>{t!(i18n, import.context)}</dt><dd class="font-mono">{preview.context}</dd>
                <dt>{t!(i18n, clusters.server)}</dt><dd class="font-mono">{preview.server}</dd>
                <dt>{t!(i18n, clusters.version)}</dt><dd class="font-mono" data-testid="import-version">{preview.version}</dd>
                <dt>{t!(i18n, import.nodes)}</dt><dd>{preview.nodes}</dd>
            </dl>
        </div>
    }
}

#[component]
fn Refusal(refusal: ImportError) -> impl IntoView {
    let i18n = use_i18n();
    let (kind, message) = match refusal {
        ImportError::InvalidKubeconfig { reason } => (
            "invalid",
            t_string!(i18n, import.invalid, reason = reason).to_string(),
        ),
        ImportError::NoSuchContext { context, available } => (
            "context",
            t_string!(
                i18n,
                import.no_context,
                context = context,
                available = available.join(", ")
            )
            .to_string(),
        ),
        ImportError::TooLarge {
            size_kib,
            limit_kib,
        } => (
            "too-large",
            t_string!(
                i18n,
                import.too_large,
                size = size_kib.to_string(),
                limit = limit_kib.to_string()
            )
            .to_string(),
        ),
        ImportError::ForbiddenAddress {
            server,
            address,
            what,
        } => (
            "address",
            t_string!(
                i18n,
                import.forbidden_address,
                server = server,
                address = address,
                what = what
            )
            .to_string(),
        ),
        ImportError::NotKubernetes { server, what } => (
            "not-kubernetes",
            t_string!(i18n, import.not_kubernetes, server = server, what = what).to_string(),
        ),
        ImportError::Unreachable { server, reason } => (
            "unreachable",
            t_string!(i18n, import.unreachable, server = server, reason = reason).to_string(),
        ),
        ImportError::UntrustedCertificate { server, reason } => (
            "certificate",
            t_string!(i18n, import.untrusted, server = server, reason = reason).to_string(),
        ),
        ImportError::Unauthorized { server, reason } => (
            "unauthorized",
            t_string!(i18n, import.unauthorized, server = server, reason = reason).to_string(),
        ),
        ImportError::VersionOutOfRange { version, range } => (
            "version",
            t_string!(i18n, import.version, version = version, range = range).to_string(),
        ),
        ImportError::Unsafe { field, what } => (
            "unsafe",
            t_string!(i18n, import.unsafe_kubeconfig, field = field, what = what).to_string(),
        ),
        ImportError::MissingRbac { missing } => (
            "rbac",
            t_string!(i18n, import.rbac, missing = missing.join(", ")).to_string(),
        ),
    };
    view! {
        <div role="alert" data-testid="import-refused" data-reason=kind class="rounded-md border border-red-300 bg-red-50 p-4 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
            <p class="font-medium">{t!(i18n, import.refused)}</p>
            <p class="mt-1 text-sm">{message}</p>
        </div>
    }
}

/// Registers the checked cluster under a name: a Cluster resource and its credential Secret on
/// the global cluster, created as the signed-in user.
#[component]
fn Register(kubeconfig: String, context: String, suggested: String) -> impl IntoView {
    let i18n = use_i18n();
    let register = ServerAction::<RegisterCluster>::new();
    let pending = register.pending();
    view! {
        <ActionForm action=register attr:class="mt-4 flex items-end gap-2">
            <input type="hidden" name="kubeconfig" value=kubeconfig />
            <input type="hidden" name="context" value=context />
            <label class="flex flex-col gap-1 text-sm">
                {t!(i18n, import.name)}
                <input
                    name="name"
                    required
                    value=suggested
                    data-testid="import-name"
                    class="rounded border border-slate-300 bg-transparent px-2 py-1 font-mono dark:border-slate-600 focus-ring"
                />
            </label>
            <button
                type="submit"
                data-testid="import-register"
                disabled=move || pending.get()
                aria-busy=move || pending.get().to_string()
                class="rounded-md bg-emerald-700 px-4 py-2 text-sm font-medium text-white hover:bg-emerald-800 focus-ring"
            >
                {t!(i18n, import.register)}
            </button>
        </ActionForm>
        <div class="mt-2" aria-live="polite">
            {move || match register.value().get() {
                None => ().into_any(),
                Some(Ok(Ok(_))) => view! {
                    <p role="status" data-testid="import-registered" class="text-sm text-emerald-800 dark:text-emerald-300">
                        {t!(i18n, import.registered)}
                        " "
                        <a href="/admin/clusters" class="underline focus-ring">{t!(i18n, clusters.back)}</a>
                    </p>
                }
                .into_any(),
                Some(Ok(Err(refusal))) => view! { <Refusal refusal /> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
            }}
        </div>
    }
}

/// Puts the text of the chosen file into the kubeconfig field (read in the browser; nothing is
/// sent until the user checks the cluster).
#[cfg(feature = "hydrate")]
fn load_file(ev: leptos::ev::Event, into: RwSignal<String>) {
    use wasm_bindgen::JsCast;
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    let Some(file) = input.files().and_then(|files| files.get(0)) else {
        return;
    };
    leptos::task::spawn_local(async move {
        if let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await
            && let Some(text) = text.as_string()
        {
            into.set(text);
        }
    });
}

/// Files are read in the browser only.
#[cfg(not(feature = "hydrate"))]
fn load_file(_: leptos::ev::Event, _: RwSignal<String>) {}
