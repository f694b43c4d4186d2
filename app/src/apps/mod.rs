//! Applications: the Container Platform view's application list, scoped to the selected project.

pub mod resource;

use leptos::prelude::*;

use crate::i18n::{t_string, use_i18n};
use crate::ui::{EmptyState, PageHeader};

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <PageHeader title=Signal::derive(move || t_string!(i18n, pages.applications_title).to_string()) />
        <EmptyState
            title=Signal::derive(move || t_string!(i18n, pages.applications_empty_title).to_string())
            body=Signal::derive(move || t_string!(i18n, pages.applications_empty_body).to_string())
        />
    }
}
