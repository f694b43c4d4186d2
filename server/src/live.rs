//! Live updates over Server-Sent Events, as the signed-in user:
//!
//! - `GET /api/live/watch?cluster=&kind=&namespace=` watches one kind (`app::live::Kind`) on one
//!   cluster with the user's impersonated client, so the stream carries only what the user may
//!   watch. After the initial list it sends `ready`, then a `change` (`app::live::Change` as
//!   JSON: action, name, namespace; never an object's contents) for every change. A watch the
//!   cluster refuses ends with `refused` and the reason.
//! - `GET /api/live/logs?cluster=&namespace=&pod=&container=&tail=` follows a container's log,
//!   one `line` event per line, each cut at [`MAX_LINE`] bytes.
//!
//! Watches ask for metadata only (`PartialObjectMeta`): a stream never holds an object's
//! contents, a Secret's values least of all. One user holds at most `--max-streams-per-user`
//! streams at once; the next is refused with 429.
//!
//! Served beside the proxy, outside the compression layer, so nothing buffers the stream.

use std::{convert::Infallible, time::Duration};

use axum::{
    Extension, Router,
    extract::{Query, State},
    http::StatusCode,
    response::{
        IntoResponse, Response,
        sse::{Event as SseEvent, KeepAlive, Sse},
    },
    routing::get,
};
use futures::{AsyncBufRead, AsyncBufReadExt, Stream, StreamExt, stream};
use kube::{
    Api,
    api::{ApiResource, DynamicObject, GroupVersionKind, LogParams, ObjectMeta, PartialObjectMeta},
    runtime::{watcher, watcher::Event},
};
use serde::Deserialize;

use app::{
    auth::Identity,
    clusters::registry::ClusterRegistry,
    live::{Change, Kind},
};

use crate::limits::{Limits, Permit};

/// The longest log line sent whole; the rest of a longer line is dropped, unread into memory,
/// and the line ends with [`TRUNCATED`].
pub const MAX_LINE: usize = 16 * 1024;
/// Ends a line cut at [`MAX_LINE`] bytes.
pub const TRUNCATED: &str = " … [line truncated at 16 KiB]";

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    ClusterRegistry: axum::extract::FromRef<S>,
    Limits: axum::extract::FromRef<S>,
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

/// A stream that holds `permit` for as long as it is open: the place is given back when the
/// stream ends or the browser goes away (the body is dropped).
fn sse_holding<S>(permit: Permit, events: S) -> Response
where
    S: Stream<Item = Result<SseEvent, Infallible>> + Send + 'static,
{
    sse(events.map(move |event| {
        let _held = &permit;
        event
    }))
}

/// The 429 for a user who already holds as many streams as one may.
fn too_many_streams(limits: &Limits, identity: &Identity, path: &str) -> Response {
    tracing::warn!(user = %identity.username, max = limits.streams.max(), "live stream refused: too many open");
    crate::limits::refusal(
        path,
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        format!(
            "{} already has {} live streams open, the most one user may hold; close some console \
             tabs or pages that follow changes or logs, then reload",
            identity.username,
            limits.streams.max()
        ),
    )
}

/// The watch a live stream follows: metadata only, whatever the kind (an
/// `Api<PartialObjectMeta<_>>` asks the API server for `PartialObjectMetadata`), so no
/// object's contents, a Secret's values least of all, ever reach the console.
pub fn metadata_events(
    api: Api<PartialObjectMeta<DynamicObject>>,
) -> impl Stream<Item = Result<Event<PartialObjectMeta<DynamicObject>>, watcher::Error>> + Send {
    watcher(api, watcher::Config::default())
}

/// The metadata-only Api for `kind`, in `namespace` when the kind is namespaced and one is given.
pub fn metadata_api(
    client: kube::Client,
    kind: Kind,
    namespace: Option<&str>,
) -> Api<PartialObjectMeta<DynamicObject>> {
    let resource = api_resource(kind);
    match (namespace, kind.api().namespaced) {
        (Some(ns), true) => Api::namespaced_with(client, ns, &resource),
        _ => Api::all_with(client, &resource),
    }
}

async fn watch(
    State(clusters): State<ClusterRegistry>,
    State(limits): State<Limits>,
    Extension(identity): Extension<Identity>,
    Query(query): Query<WatchQuery>,
) -> Response {
    let Some(permit) = limits.streams.try_acquire(&identity.username) else {
        return too_many_streams(&limits, &identity, "/api/live/watch");
    };
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
    let namespace = query.namespace.filter(|ns| !ns.is_empty());
    let events = metadata_events(metadata_api(client, kind, namespace.as_deref()))
        .map(|event| match event {
            Ok(Event::Init | Event::InitApply(_)) => Ok(None),
            Ok(Event::InitDone) => Ok(Some(SseEvent::default().event("ready").data("{}"))),
            Ok(Event::Apply(object)) => Ok(Some(change("applied", &object.metadata))),
            Ok(Event::Delete(object)) => Ok(Some(change("deleted", &object.metadata))),
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
    sse_holding(permit, events)
}

fn change(action: &str, metadata: &ObjectMeta) -> SseEvent {
    let change = Change {
        action: action.into(),
        name: metadata.name.clone().unwrap_or_default(),
        namespace: metadata.namespace.clone(),
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
    State(limits): State<Limits>,
    Extension(identity): Extension<Identity>,
    Query(query): Query<LogQuery>,
) -> Response {
    let Some(permit) = limits.streams.try_acquire(&identity.username) else {
        return too_many_streams(&limits, &identity, "/api/live/logs");
    };
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
                let lines = capped_lines(reader, MAX_LINE).map(|line| {
                    Ok(match line {
                        Ok(line) => SseEvent::default().event("line").data(line),
                        Err(error) => SseEvent::default().event("refused").data(error.to_string()),
                    })
                });
                Box::pin(ready.chain(lines))
            }
        };
    sse_holding(permit, events)
}

/// The lines of `reader`, each at most `max` bytes (cut at a character boundary and marked
/// with [`TRUNCATED`]); the rest of a longer line is skipped as it arrives, so an endless line
/// holds no more than `max` bytes in memory. Invalid UTF-8 is replaced, as a terminal would.
pub fn capped_lines<R>(reader: R, max: usize) -> impl Stream<Item = std::io::Result<String>>
where
    R: AsyncBufRead + Unpin,
{
    stream::unfold(Some(reader), move |reader| async move {
        let mut reader = reader?;
        let mut line = Vec::new();
        let mut cut = false;
        loop {
            let buffer = match reader.fill_buf().await {
                Ok(buffer) => buffer,
                Err(error) => return Some((Err(error), None)),
            };
            if buffer.is_empty() {
                // The end: a last line without a newline still counts.
                if line.is_empty() && !cut {
                    return None;
                }
                return Some((Ok(finish(line, cut)), None));
            }
            let (taken, ended) = match buffer.iter().position(|&b| b == b'\n') {
                Some(at) => (at, true),
                None => (buffer.len(), false),
            };
            let room = max.saturating_sub(line.len());
            if taken > room {
                cut = true;
            }
            line.extend_from_slice(&buffer[..taken.min(room)]);
            reader.consume_unpin(if ended { taken + 1 } else { taken });
            if ended {
                return Some((Ok(finish(line, cut)), Some(reader)));
            }
        }
    })
}

fn finish(mut line: Vec<u8>, cut: bool) -> String {
    if cut {
        // A character the cut split in two is left out whole.
        if let Err(error) = std::str::from_utf8(&line)
            && error.error_len().is_none()
        {
            line.truncate(error.valid_up_to());
        }
    } else if line.last() == Some(&b'\r') {
        line.pop();
    }
    let mut text = String::from_utf8_lossy(&line).into_owned();
    if cut {
        text.push_str(TRUNCATED);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;
    use std::sync::{Arc, Mutex};

    async fn lines_of(chunks: Vec<Vec<u8>>, max: usize) -> Vec<String> {
        let reader =
            stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>)).into_async_read();
        capped_lines(reader, max)
            .map(|line| line.unwrap_or_else(|e| panic!("{e}")))
            .collect()
            .await
    }

    #[tokio::test]
    async fn a_line_longer_than_the_cap_is_cut_and_marked_and_the_next_arrives_whole() {
        // 10 MiB of one line, arriving in 64-KiB chunks, then an ordinary line.
        let mut chunks = vec![b"start ".to_vec()];
        chunks.extend((0..160).map(|_| vec![b'x'; 64 * 1024]));
        chunks.push(b"\nnext line\r\nlast without newline".to_vec());
        let lines = lines_of(chunks, MAX_LINE).await;
        assert_eq!(
            lines.len(),
            3,
            "{:?}",
            lines.iter().map(String::len).collect::<Vec<_>>()
        );
        assert_eq!(lines[0].len(), MAX_LINE + TRUNCATED.len());
        assert!(lines[0].starts_with("start xxx") && lines[0].ends_with(TRUNCATED));
        assert_eq!(lines[1], "next line");
        assert_eq!(lines[2], "last without newline");
    }

    #[tokio::test]
    async fn short_lines_pass_unchanged_and_a_line_of_exactly_the_cap_is_not_marked() {
        let exact = "a".repeat(16);
        let lines = lines_of(
            vec![
                format!("one\ntwo\n\n{exact}\n").into_bytes(),
                b"t".to_vec(),
                b"hree\n".to_vec(),
            ],
            16,
        )
        .await;
        assert_eq!(lines, ["one", "two", "", exact.as_str(), "three"]);
    }

    #[tokio::test]
    async fn a_cut_never_splits_a_character() {
        // 'é' is two bytes; a cap of 5 falls inside the third one.
        let lines = lines_of(vec!["ééééé\n".as_bytes().to_vec()], 5).await;
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0], format!("éé{TRUNCATED}"));
        assert!(lines[0].ends_with(TRUNCATED));
    }

    /// A fake API server that records the requests' Accept headers and answers every list with
    /// an empty PartialObjectMetadataList (enough for a watcher to report InitDone).
    fn recording_client(seen: Arc<Mutex<Vec<(String, String)>>>) -> kube::Client {
        let service = tower::service_fn(move |request: http::Request<kube::client::Body>| {
            let seen = seen.clone();
            async move {
                let accept = request
                    .headers()
                    .get(http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                seen.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((request.uri().to_string(), accept));
                let list = serde_json::json!({
                    "apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList",
                    "metadata": {"resourceVersion": "1"}, "items": [],
                });
                Ok::<_, std::convert::Infallible>(
                    http::Response::builder()
                        .header(http::header::CONTENT_TYPE, "application/json")
                        .body(http_body_util::Full::new(bytes::Bytes::from(
                            list.to_string(),
                        )))
                        .unwrap_or_default(),
                )
            }
        });
        kube::Client::new(service, "default")
    }

    #[tokio::test]
    async fn live_watches_ask_for_metadata_only_for_every_kind_secrets_included() {
        for kind in Kind::ALL {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let api = metadata_api(recording_client(seen.clone()), kind, Some("team-a"));
            let mut events = Box::pin(metadata_events(api));
            let first = tokio::time::timeout(Duration::from_secs(5), async {
                while let Some(event) = events.next().await {
                    if let Ok(Event::InitDone) = event {
                        return true;
                    }
                }
                false
            })
            .await;
            assert_eq!(
                first,
                Ok(true),
                "{kind:?}: the watch reached its initial state"
            );
            let seen = seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            assert!(!seen.is_empty(), "{kind:?}");
            for (uri, accept) in seen.iter() {
                assert!(
                    accept.contains("as=PartialObjectMetadata"),
                    "{kind:?}: {uri} asked for {accept:?}"
                );
            }
        }
    }
}
