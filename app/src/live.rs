//! Live updates: the kinds a page may follow, and the browser side of the stream. The server
//! (`server/src/live.rs`) watches the kind on the cluster as the signed-in user and sends a
//! Server-Sent Event for every change it is allowed to see; the page then reads again through
//! the same server function, so every read stays the user's own.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What a page can follow. Each maps to one API resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Clusters,
    ClusterPlugins,
    ClusterVersionShadows,
    Applications,
    Namespaces,
    Nodes,
    Deployments,
    Pods,
    Events,
    ConfigMaps,
    Secrets,
}

/// Where a kind lives in the API.
pub struct ApiResourceInfo {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Clusters,
        Kind::ClusterPlugins,
        Kind::ClusterVersionShadows,
        Kind::Applications,
        Kind::Namespaces,
        Kind::Nodes,
        Kind::Deployments,
        Kind::Pods,
        Kind::Events,
        Kind::ConfigMaps,
        Kind::Secrets,
    ];

    pub fn as_str(self) -> &'static str {
        self.api().plural
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn api(self) -> ApiResourceInfo {
        const PLATFORM: &str = crate::clusters::resource::GROUP;
        let (group, version, kind, plural, namespaced) = match self {
            Kind::Clusters => (PLATFORM, "v1alpha1", "Cluster", "clusters", false),
            Kind::ClusterPlugins => (
                PLATFORM,
                "v1alpha1",
                "ClusterPlugin",
                "clusterplugins",
                false,
            ),
            Kind::ClusterVersionShadows => (
                PLATFORM,
                "v1alpha1",
                "ClusterVersionShadow",
                "clusterversionshadows",
                false,
            ),
            Kind::Applications => (PLATFORM, "v1alpha1", "Application", "applications", true),
            Kind::Namespaces => ("", "v1", "Namespace", "namespaces", false),
            Kind::Nodes => ("", "v1", "Node", "nodes", false),
            Kind::Deployments => ("apps", "v1", "Deployment", "deployments", true),
            Kind::Pods => ("", "v1", "Pod", "pods", true),
            Kind::Events => ("", "v1", "Event", "events", true),
            Kind::ConfigMaps => ("", "v1", "ConfigMap", "configmaps", true),
            Kind::Secrets => ("", "v1", "Secret", "secrets", true),
        };
        ApiResourceInfo {
            group,
            version,
            kind,
            plural,
            namespaced,
        }
    }
}

/// One change the stream reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// "applied" or "deleted".
    pub action: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// The stream's URL for `kind` on `cluster`, optionally in one namespace.
pub fn watch_url(cluster: &str, kind: Kind, namespace: Option<&str>) -> String {
    let mut url = format!(
        "/api/live/watch?cluster={}&kind={}",
        encode(cluster),
        kind.as_str()
    );
    if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
        url.push_str("&namespace=");
        url.push_str(&encode(ns));
    }
    url
}

/// Percent-encodes a query value (names are DNS labels, but a typed URL may hold anything).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// How the stream is doing, for the badge beside a live page's title.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveState {
    /// Before hydration, or while (re)connecting.
    Connecting,
    Live,
    /// The server refused or lost the stream; the page still works by reloading.
    Unavailable(String),
}

/// Follows `url` (a `watch_url`) while the page is open: the returned counter goes up, at most
/// about every 150 ms, after each burst of changes. Key a Resource on it to read again.
pub fn use_live(url: Signal<String>) -> (ReadSignal<u64>, ReadSignal<LiveState>) {
    let (version, set_version) = signal(0u64);
    let (state, set_state) = signal(LiveState::Connecting);
    #[cfg(feature = "hydrate")]
    {
        use std::{cell::Cell, rc::Rc, time::Duration};
        let pending = Rc::new(Cell::new(false));
        browser::listen(url, set_state, "change", move |_| {
            if pending.replace(true) {
                return;
            }
            let pending = pending.clone();
            set_timeout(
                move || {
                    pending.set(false);
                    set_version.update(|v| *v += 1);
                },
                Duration::from_millis(150),
            );
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, set_version, set_state);
    (version, state)
}

/// The most log lines a page keeps.
pub const LOG_LINES: usize = 2000;

/// Follows a container's log (`/api/live/logs?...`): its lines so far, the newest last.
pub fn use_log(url: Signal<String>) -> (ReadSignal<Vec<String>>, ReadSignal<LiveState>) {
    let (lines, set_lines) = signal(Vec::<String>::new());
    let (state, set_state) = signal(LiveState::Connecting);
    #[cfg(feature = "hydrate")]
    {
        // A new stream (another container) starts from its own tail.
        Effect::new(move |_| {
            url.track();
            set_lines.set(Vec::new());
        });
        browser::listen(url, set_state, "line", move |line| {
            set_lines.update(|lines| {
                lines.push(line);
                if lines.len() > LOG_LINES {
                    lines.drain(..lines.len() - LOG_LINES);
                }
            })
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, set_lines, set_state);
    (lines, state)
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, closure::Closure};
    use web_sys::{EventSource, MessageEvent};

    use super::LiveState;

    /// Opens an EventSource on `url` (again whenever it changes, closing the old one) and calls
    /// `on_data` with the data of every `event`; `ready` and `refused` set the state.
    pub fn listen(
        url: Signal<String>,
        set_state: WriteSignal<LiveState>,
        event: &'static str,
        on_data: impl Fn(String) + 'static,
    ) {
        let on_data = std::rc::Rc::new(on_data);
        let current = StoredValue::new_local(None::<EventSource>);
        let close = move || {
            if let Some(source) = current.try_update_value(Option::take).flatten() {
                source.close();
            }
        };
        on_cleanup(close);
        // Effects run only in the browser, after hydration.
        Effect::new(move |_| {
            close();
            set_state.set(LiveState::Connecting);
            let Ok(source) = EventSource::new(&url.get()) else {
                return;
            };
            let on_data = on_data.clone();
            let on_event = Closure::<dyn Fn(MessageEvent)>::new(move |message: MessageEvent| {
                on_data(message.data().as_string().unwrap_or_default());
            });
            let on_ready = Closure::<dyn Fn(MessageEvent)>::new(move |_event: MessageEvent| {
                set_state.set(LiveState::Live);
            });
            let refused = source.clone();
            let on_refused = Closure::<dyn Fn(MessageEvent)>::new(move |message: MessageEvent| {
                // The server ends the stream after a refusal; reconnecting would be refused again.
                refused.close();
                let reason = message.data().as_string().unwrap_or_default();
                set_state.set(LiveState::Unavailable(reason));
            });
            let closed = source.clone();
            let on_error = Closure::<dyn Fn(web_sys::Event)>::new(move |_event: web_sys::Event| {
                // The browser reconnects by itself unless the stream is closed for good.
                if closed.ready_state() == EventSource::CLOSED {
                    set_state.update(|s| {
                        if !matches!(s, LiveState::Unavailable(_)) {
                            *s = LiveState::Unavailable(String::new());
                        }
                    });
                } else {
                    set_state.set(LiveState::Connecting);
                }
            });
            let _ =
                source.add_event_listener_with_callback(event, on_event.as_ref().unchecked_ref());
            let _ =
                source.add_event_listener_with_callback("ready", on_ready.as_ref().unchecked_ref());
            let _ = source
                .add_event_listener_with_callback("refused", on_refused.as_ref().unchecked_ref());
            source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            // The listeners live as long as the stream, which the page owns.
            on_event.forget();
            on_ready.forget();
            on_refused.forget();
            on_error.forget();
            current.set_value(Some(source));
        });
    }
}

/// The badge that says whether the page is following changes.
#[component]
pub fn LiveBadge(state: ReadSignal<LiveState>) -> impl IntoView {
    use crate::i18n::{t_string, use_i18n};
    let i18n = use_i18n();
    let text = move || match state.get() {
        LiveState::Connecting => t_string!(i18n, live.connecting).to_string(),
        LiveState::Live => t_string!(i18n, live.live).to_string(),
        LiveState::Unavailable(reason) if reason.is_empty() => {
            t_string!(i18n, live.unavailable).to_string()
        }
        LiveState::Unavailable(reason) => {
            format!("{}: {reason}", t_string!(i18n, live.unavailable))
        }
    };
    let dot = move || match state.get() {
        LiveState::Live => "inline-block h-2 w-2 rounded-full bg-emerald-500",
        LiveState::Connecting => "inline-block h-2 w-2 rounded-full bg-slate-400",
        LiveState::Unavailable(_) => "inline-block h-2 w-2 rounded-full bg-amber-500",
    };
    let name = move || match state.get() {
        LiveState::Live => "live",
        LiveState::Connecting => "connecting",
        LiveState::Unavailable(_) => "unavailable",
    };
    view! {
        <span
            class="inline-flex items-center gap-1 text-xs text-slate-600 dark:text-slate-300"
            role="status"
            data-testid="live"
            data-live=name
        >
            <span class=dot aria-hidden="true"></span>
            {text}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("roles"), None);
    }

    #[test]
    fn the_watch_url_encodes_its_values() {
        assert_eq!(
            watch_url("east", Kind::Pods, Some("team a")),
            "/api/live/watch?cluster=east&kind=pods&namespace=team%20a"
        );
        assert_eq!(
            watch_url("global", Kind::ClusterPlugins, None),
            "/api/live/watch?cluster=global&kind=clusterplugins"
        );
    }
}
