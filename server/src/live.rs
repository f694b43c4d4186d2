//! Live updates over Server-Sent Events, as the signed-in user:
//!
//! - `GET /api/live/watch?cluster=&kind=&namespace=` watches one kind (`app::live::Kind`) on one
//!   cluster with the user's impersonated client, so the stream carries only what the user may
//!   watch. After the initial list it sends `ready`, then a `change` (`app::live::Change` as
//!   JSON: action, name, namespace; never an object's contents) for every change. A watch the
//!   cluster refuses ends with `refused` and the reason.
//! - `GET /api/live/logs?cluster=&namespace=&pod=&container=&tail=` follows a container's log,
//!   one `line` event per line.
//!
//! Served beside the proxy, outside the compression layer, so nothing buffers the stream.

use std::{convert::Infallible, time::Duration};

use axum::{
    Extension, Router,
    extract::{Query, State},
    response::{
        IntoResponse, Response,
        sse::{Event as SseEvent, KeepAlive, Sse},
    },
    routing::get,
};
use futures::{Stream, StreamExt, stream};
use kube::{
    Api,
    api::{ApiResource, DynamicObject, GroupVersionKind, LogParams},
    runtime::{watcher, watcher::Event},
};
use serde::Deserialize;

use app::{
    auth::Identity,
    clusters::registry::ClusterRegistry,
    live::{Change, Kind},
};

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    ClusterRegistry: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/api/live/watch", get(watch))
        .route("/api/live/logs", get(logs))
}

#[derive(Debug, Deserialize)]
pub struct WatchQuery {
    pub cluster: String,
    pub kind: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

/// A stream that only says why it cannot follow: an EventSource treats an HTTP error as a
/// connection to retry, while a `refused` event tells the page to stop and show the reason.
fn refuse(message: String) -> Response {
    sse(stream::once(async move {
        Ok(SseEvent::default().event("refused").data(message))
    }))
}

fn api_resource(kind: Kind) -> ApiResource {
    let info = kind.api();
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(info.group, info.version, info.kind),
        info.plural,
    )
}

fn refused_event(error: &kube::Error) -> SseEvent {
    let reason = match error {
        kube::Error::Api(status) => status.message.clone(),
        other => app::error::innermost(other),
    };
    SseEvent::default().event("refused").data(reason)
}

fn sse<S>(events: S) -> Response
where
    S: Stream<Item = Result<SseEvent, Infallible>> + Send + 'static,
{
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

async fn watch(
    State(clusters): State<ClusterRegistry>,
    Extension(identity): Extension<Identity>,
    Query(query): Query<WatchQuery>,
) -> Response {
    let Some(kind) = Kind::parse(&query.kind) else {
        return refuse(format!(
            "{:?} cannot be followed; one of {}",
            query.kind,
            Kind::ALL.map(Kind::as_str).join(", ")
        ));
    };
    let client = match clusters.client_for(&query.cluster, &identity) {
        Ok(client) => client,
        Err(error) => return refuse(error.to_string()),
    };
    let resource = api_resource(kind);
    let namespace = query.namespace.filter(|ns| !ns.is_empty());
    let api = match (&namespace, kind.api().namespaced) {
        (Some(ns), true) => Api::<DynamicObject>::namespaced_with(client, ns, &resource),
        _ => Api::<DynamicObject>::all_with(client, &resource),
    };
    let events = watcher(api, watcher::Config::default())
        .map(|event| match event {
            Ok(Event::Init | Event::InitApply(_)) => Ok(None),
            Ok(Event::InitDone) => Ok(Some(SseEvent::default().event("ready").data("{}"))),
            Ok(Event::Apply(object)) => Ok(Some(change("applied", &object))),
            Ok(Event::Delete(object)) => Ok(Some(change("deleted", &object))),
            Err(error) => Err(error),
        })
        // The first error (a refusal, a lost cluster) ends the stream with its reason; the
        // browser's EventSource then shows the page as not live.
        .scan(false, |ended, item| {
            if *ended {
                return futures::future::ready(None);
            }
            let out = match item {
                Ok(event) => event,
                Err(watcher::Error::InitialListFailed(error))
                | Err(watcher::Error::WatchStartFailed(error))
                | Err(watcher::Error::WatchFailed(error)) => {
                    *ended = true;
                    Some(refused_event(&error))
                }
                Err(error) => {
                    *ended = true;
                    Some(SseEvent::default().event("refused").data(error.to_string()))
                }
            };
            futures::future::ready(Some(out))
        })
        .filter_map(|event| futures::future::ready(event.map(Ok)));
    sse(events)
}

fn change(action: &str, object: &DynamicObject) -> SseEvent {
    let change = Change {
        action: action.into(),
        name: object.metadata.name.clone().unwrap_or_default(),
        namespace: object.metadata.namespace.clone(),
    };
    SseEvent::default()
        .event("change")
        .data(serde_json::to_string(&change).unwrap_or_default())
}

#[derive(Debug, Deserialize)]
pub struct LogQuery {
    pub cluster: String,
    pub namespace: String,
    pub pod: String,
    #[serde(default)]
    pub container: Option<String>,
    #[serde(default)]
    pub tail: Option<i64>,
}

async fn logs(
    State(clusters): State<ClusterRegistry>,
    Extension(identity): Extension<Identity>,
    Query(query): Query<LogQuery>,
) -> Response {
    use futures::AsyncBufReadExt;
    let client = match clusters.client_for(&query.cluster, &identity) {
        Ok(client) => client,
        Err(error) => return refuse(error.to_string()),
    };
    let pods = Api::<k8s_openapi::api::core::v1::Pod>::namespaced(client, &query.namespace);
    let params = LogParams {
        follow: true,
        container: query.container.clone().filter(|c| !c.is_empty()),
        tail_lines: Some(query.tail.unwrap_or(200).clamp(1, 5000)),
        ..LogParams::default()
    };
    let events: std::pin::Pin<Box<dyn Stream<Item = Result<SseEvent, Infallible>> + Send>> =
        match pods.log_stream(&query.pod, &params).await {
            Err(error) => Box::pin(stream::once(async move { Ok(refused_event(&error)) })),
            Ok(reader) => {
                let ready =
                    stream::once(async { Ok(SseEvent::default().event("ready").data("{}")) });
                let lines = reader.lines().map(|line| {
                    Ok(match line {
                        Ok(line) => SseEvent::default().event("line").data(line),
                        Err(error) => SseEvent::default().event("refused").data(error.to_string()),
                    })
                });
                Box::pin(ready.chain(lines))
            }
        };
    sse(events)
}
