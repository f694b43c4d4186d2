//! Targets of the top bar's selector forms when the page has not hydrated: they turn the
//! form's query into the page the selector would have navigated to.

use axum::{
    Router,
    extract::Query,
    response::{IntoResponse, Redirect},
    routing::get,
};
use serde::Deserialize;

use crate::AppState;

#[derive(Deserialize)]
struct ClusterChoice {
    #[serde(default)]
    cluster: String,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/select/cluster", get(select_cluster))
}

async fn select_cluster(Query(choice): Query<ClusterChoice>) -> impl IntoResponse {
    Redirect::to(&cluster_page(&choice.cluster))
}

/// The page for a chosen cluster; the name is encoded so it stays one path segment.
fn cluster_page(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        return "/admin/clusters".into();
    }
    let mut path = String::from("/admin/clusters/");
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            path.push(byte as char);
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::cluster_page;

    #[test]
    fn a_chosen_cluster_stays_one_path_segment() {
        assert_eq!(cluster_page("east"), "/admin/clusters/east");
        assert_eq!(cluster_page("../../etc"), "/admin/clusters/..%2F..%2Fetc");
        assert_eq!(
            cluster_page("//evil.example"),
            "/admin/clusters/%2F%2Fevil.example"
        );
        assert_eq!(cluster_page(""), "/admin/clusters");
    }
}
