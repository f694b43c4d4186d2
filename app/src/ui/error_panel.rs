//! Turns an error into a readable message in the user's language: typed console errors get
//! their own text; anything else is shown as its message.

use leptos::prelude::*;

use crate::ConsoleError;
use crate::i18n::{t, use_i18n};

#[component]
pub fn ErrorPanel(#[prop(into)] error: leptos::error::Error) -> impl IntoView {
    let i18n = use_i18n();
    let message = match (**error).downcast_ref::<ConsoleError>().cloned() {
        Some(ConsoleError::ClusterNotFound { name }) => {
            t!(i18n, errors.cluster_not_found, name = move || name.clone()).into_any()
        }
        Some(ConsoleError::ClusterUnreachable { name, reason }) => t!(
            i18n,
            errors.cluster_unreachable,
            name = move || name.clone(),
            reason = move || reason.clone()
        )
        .into_any(),
        Some(ConsoleError::Unauthenticated) => view! {
            {t!(i18n, errors.unauthenticated)}
            " "
            <a href=crate::routes::signin_error("expired") rel="external" class="underline">{t!(i18n, auth.sign_in_button)}</a>
        }
        .into_any(),
        Some(ConsoleError::Forbidden { message }) => {
            t!(i18n, errors.forbidden, message = move || message.clone()).into_any()
        }
        Some(ConsoleError::NotFound { message }) => {
            t!(i18n, errors.not_found, message = move || message.clone()).into_any()
        }
        Some(ConsoleError::Conflict { message }) => {
            t!(i18n, errors.conflict, message = move || message.clone()).into_any()
        }
        Some(ConsoleError::Invalid { message }) => {
            t!(i18n, errors.invalid, message = move || message.clone()).into_any()
        }
        Some(ConsoleError::CrossSite) => t!(i18n, errors.csrf).into_any(),
        Some(ConsoleError::Internal { message }) => {
            t!(i18n, errors.internal, message = move || message.clone()).into_any()
        }
        Some(ConsoleError::Request { message }) => {
            t!(i18n, errors.transport, message = move || message.clone()).into_any()
        }
        None => {
            let message = error.to_string();
            t!(i18n, errors.internal, message = move || message.clone()).into_any()
        }
    };
    view! {
        <div
            role="alert"
            data-testid="error-panel"
            class="rounded-md border border-red-300 bg-red-50 p-4 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100"
        >
            <p class="font-medium">{t!(i18n, errors.title)}</p>
            <p class="mt-1 text-sm">{message}</p>
        </div>
    }
}
