//! `/admin/clusters/import`: paste a kubeconfig, pick a context, and see whether the console can
//! manage that cluster, or exactly why not.

use leptos::prelude::*;

use super::import::{CheckImport, ImportError, ImportPreview, RegisterCluster};
use crate::i18n::{t, t_string, use_i18n};
use crate::routes;
use crate::ui::{
    Button, ErrorPanel, Fact, Facts, Help, Notice, PageHeader, StatusText, TextAreaField,
    TextField, TextLink, Tone, Variant, tr,
};
use console_api::matrix::MANAGED_RANGE;

#[component]
pub fn ImportPage() -> impl IntoView {
    let i18n = use_i18n();
    let check = ServerAction::<CheckImport>::new();
    let pending = check.pending();
    // What was pasted, for the register step after a successful check.
    let kubeconfig = RwSignal::new(String::new());
    let context = RwSignal::new(String::new());
    view! {
        <PageHeader title=tr!(i18n, import.title)>
            <TextLink href=routes::CLUSTERS>{t!(i18n, clusters.back)}</TextLink>
        </PageHeader>
        <Help>{t_string!(i18n, import.help, range = MANAGED_RANGE).to_string()}</Help>
        <ActionForm action=check attr:class="flex max-w-3xl flex-col gap-3">
            <TextAreaField
                id="import-kubeconfig"
                name="kubeconfig"
                label=tr!(i18n, import.kubeconfig)
                rows=12
                required=true
                testid="import-kubeconfig"
                value=Signal::derive(move || kubeconfig.get())
                on_input=Callback::new(move |text| kubeconfig.set(text))
            />
            <label class="flex items-center gap-2 text-sm">
                {t!(i18n, import.upload)}
                <input
                    type="file"
                    data-testid="import-file"
                    class="text-sm focus-ring"
                    on:change=move |ev| load_file(ev, kubeconfig)
                />
            </label>
            <TextField
                id="import-context"
                name="context"
                label=tr!(i18n, import.context)
                placeholder=tr!(i18n, import.context_placeholder)
                mono=true
                testid="import-context"
                on_input=Callback::new(move |text| context.set(text))
            />
            <div>
                <Button variant=Variant::Primary submit=true busy=pending attr:data-testid="import-check">
                    {move || if pending.get() { t_string!(i18n, import.checking).to_string() } else { t_string!(i18n, import.check).to_string() }}
                </Button>
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
        <Notice tone=Tone::Success title=tr!(i18n, import.ok) attr:data-testid="import-ok">
            <Facts>
                <Fact label=tr!(i18n, import.context) mono=true>{preview.context}</Fact>
                <Fact label=tr!(i18n, clusters.server) mono=true>{preview.server}</Fact>
                <Fact label=tr!(i18n, clusters.version) mono=true testid="import-version">{preview.version}</Fact>
                <Fact label=tr!(i18n, import.nodes)>{preview.nodes}</Fact>
            </Facts>
        </Notice>
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
        <Notice tone=Tone::Danger title=tr!(i18n, import.refused) attr:data-testid="import-refused" attr:data-reason=kind>
            {message}
        </Notice>
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
            <TextField
                id="import-name"
                name="name"
                label=tr!(i18n, import.name)
                required=true
                value=suggested
                mono=true
                testid="import-name"
            />
            <Button variant=Variant::Primary submit=true busy=pending attr:data-testid="import-register">
                {t!(i18n, import.register)}
            </Button>
        </ActionForm>
        <div class="mt-2" aria-live="polite">
            {move || match register.value().get() {
                None => ().into_any(),
                Some(Ok(Ok(_))) => view! {
                    <StatusText tone=Tone::Success attr:data-testid="import-registered">
                        {t!(i18n, import.registered)}
                        " "
                        <TextLink href=routes::CLUSTERS>{t!(i18n, clusters.back)}</TextLink>
                    </StatusText>
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
