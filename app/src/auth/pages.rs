//! The sign-in page (outside the shell's navigation) and the user menu in the top bar.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{KubectlToken, SignInReason, current_user, list_kubectl_tokens, utc_minute};
use crate::i18n::{t, t_string, use_i18n};
use crate::ui::{Button, Size, Variant};

/// `/signin`: a button to the organisation's identity provider, and why the user is here.
#[component]
pub fn SignInPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let reason = move || SignInReason::from_query(&query.read().get("error").unwrap_or_default());
    // The refused name, shown only when it is the reserved kind the message is about.
    let refused_name = move || {
        query
            .read()
            .get("name")
            .filter(|n| n.starts_with("system:") && n.chars().count() <= 200)
            .unwrap_or_else(|| "system:…".into())
    };
    let login_href = move || {
        let next = query.read().get("next").unwrap_or_else(|| "/".into());
        format!("/auth/login?next={}", urlencoding_component(&next))
    };
    view! {
        <Title text=move || t_string!(i18n, auth.sign_in_title).to_string() />
        <div class="mx-auto mt-16 flex max-w-md flex-col gap-4 rounded-lg border border-slate-200 p-8 dark:border-slate-700">
            <h1 class="text-xl font-semibold">{t!(i18n, auth.sign_in_title)}</h1>
            {move || {
                let (message, kind) = match reason() {
                    SignInReason::None => return None,
                    SignInReason::Cancelled => (t!(i18n, auth.cancelled).into_any(), "warning"),
                    SignInReason::ProviderUnreachable => {
                        (t!(i18n, auth.provider_unreachable).into_any(), "error")
                    }
                    SignInReason::Invalid => (t!(i18n, auth.invalid).into_any(), "error"),
                    SignInReason::Expired => (t!(i18n, auth.expired).into_any(), "warning"),
                    SignInReason::SignedOut => (t!(i18n, auth.signed_out).into_any(), "info"),
                    SignInReason::UnverifiedEmail => {
                        (t!(i18n, auth.unverified_email).into_any(), "error")
                    }
                    SignInReason::SystemName => {
                        (t!(i18n, auth.system_name, name = refused_name).into_any(), "error")
                    }
                };
                Some(view! {
                    <p
                        role=if kind == "info" { "status" } else { "alert" }
                        data-testid="signin-reason"
                        data-reason=reason().as_query()
                        class="rounded-md border border-amber-300 bg-amber-50 p-3 text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100"
                    >
                        {message}
                    </p>
                })
            }}
            <p class="text-sm text-slate-600 dark:text-slate-300">{t!(i18n, auth.sign_in_help)}</p>
            <a
                href=login_href
                rel="external"
                data-testid="signin-button"
                class="rounded-md bg-sky-600 px-4 py-2 text-center font-medium text-white hover:bg-sky-700 focus-ring"
            >
                {t!(i18n, auth.sign_in_button)}
            </a>
        </div>
    }
}

/// Percent-encodes a query component (the `next` path) without another dependency.
fn urlencoding_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The signed-in user's name, a kubeconfig for kubectl (minted by a form POST, so it works
/// before hydration and passes the same-origin check), this session's kubectl tokens with a
/// revoke button each, and sign-out.
#[component]
pub fn UserMenu() -> impl IntoView {
    let i18n = use_i18n();
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(identity)) => {
                        let title = format!("{} ({})", identity.username, identity.groups.join(", "));
                        Some(view! {
                            <div class="flex items-center gap-2 text-sm">
                                <span data-testid="user-name" title=title>{identity.display_name.clone()}</span>
                                <form method="post" action="/auth/kubeconfig">
                                    <Button variant=Variant::TopBar submit=true attr:data-testid="kubeconfig">{t!(i18n, auth.kubeconfig)}</Button>
                                </form>
                                {(!identity.local).then(|| view! { <KubectlTokenList /> })}
                                {(!identity.local).then(|| view! {
                                    <form method="post" action="/auth/logout">
                                        <Button variant=Variant::TopBar submit=true attr:data-testid="sign-out">{t!(i18n, auth.sign_out)}</Button>
                                    </form>
                                })}
                            </div>
                        })
                    }
                    _ => None,
                }
            })}
        </Suspense>
    }
}

/// This session's kubectl tokens, read whenever the list is opened (a kubeconfig download adds
/// one without leaving the page). Nothing is fetched while rendering, on the server or during
/// hydration, so both render the same closed list.
#[component]
fn KubectlTokenList() -> impl IntoView {
    let i18n = use_i18n();
    let tokens = RwSignal::new(None::<Vec<KubectlToken>>);
    let here = leptos_router::hooks::use_location();
    // Read on every toggle: opening shows the current list, closing costs one small request.
    let open = move |_| {
        leptos::task::spawn_local(async move {
            tokens.set(Some(list_kubectl_tokens().await.unwrap_or_default()));
        });
    };
    let listing = move || {
        let listed = tokens.get()?;
        // Back to this page after a revoke.
        let search = here.search.get_untracked();
        let next = if search.is_empty() {
            here.pathname.get_untracked()
        } else {
            format!("{}?{search}", here.pathname.get_untracked())
        };
        if listed.is_empty() {
            return Some(
                view! {
                    <p data-testid="kubectl-tokens-empty" class="text-xs">{t!(i18n, auth.tokens_none)}</p>
                }
                .into_any(),
            );
        }
        Some(
            view! {
                <ul class="flex flex-col gap-2">
                    {listed
                        .into_iter()
                        .map(|token| {
                            let created = utc_minute(token.created_at);
                            let expires = utc_minute(token.expires_at);
                            view! {
                                <li data-testid="kubectl-token" data-token-id=token.id.clone() class="flex items-center justify-between gap-2 text-xs">
                                    <span>
                                        <code>{token.short_id().to_string()}</code>
                                        " · "
                                        {t!(i18n, auth.token_times, created = move || created.clone(), expires = move || expires.clone())}
                                    </span>
                                    <form method="post" action="/auth/tokens/revoke">
                                        <input type="hidden" name="id" value=token.id.clone() />
                                        <input type="hidden" name="next" value=next.clone() />
                                        <Button size=Size::Small submit=true attr:data-testid="revoke-token">{t!(i18n, auth.revoke_token)}</Button>
                                    </form>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any(),
        )
    };
    view! {
        <details class="relative" data-testid="kubectl-tokens" on:toggle=open>
            <summary class="cursor-pointer rounded px-2 py-1 hover:bg-slate-700 focus-ring">
                {t!(i18n, auth.tokens)}
            </summary>
            <div class="absolute right-0 z-10 mt-1 w-80 rounded-md border border-slate-200 bg-white p-3 text-slate-900 shadow-lg dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100">
                <p class="mb-2 text-xs text-slate-600 dark:text-slate-300">{t!(i18n, auth.tokens_help)}</p>
                {listing}
            </div>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::urlencoding_component;

    #[test]
    fn next_paths_are_encoded_for_the_query_string() {
        assert_eq!(
            urlencoding_component("/admin/clusters?x=1&y"),
            "/admin/clusters%3Fx%3D1%26y"
        );
        assert_eq!(urlencoding_component("/集群"), "/%E9%9B%86%E7%BE%A4");
    }
}
