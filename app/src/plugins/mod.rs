//! Cluster plugins: the Administrator view's plugin list.

pub mod catalog;
pub mod resource;

use leptos::prelude::*;

use crate::i18n::{t_string, use_i18n};
use crate::ui::{EmptyState, PageHeader};

#[component]
pub fn PluginsPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <PageHeader title=Signal::derive(move || t_string!(i18n, pages.plugins_title).to_string()) />
        <EmptyState
            title=Signal::derive(move || t_string!(i18n, pages.plugins_empty_title).to_string())
            body=Signal::derive(move || t_string!(i18n, pages.plugins_empty_body).to_string())
        />
    }
}
