//! Live updates as the signed-in user, on two transports:
//!
//! - `GET /api/live/ws` (WebSocket; `console_api::watch::SOCKET_PATH`): the browser's one
//!   connection per tab. It subscribes and unsubscribes watches and log follows by id
//!   (`ClientMessage`), and the server answers per id (`ServerMessage`: ready, change, line,
//!   refused). Each subscription counts against the per-user stream limit; a refused one ends
//!   only that id. A watch asked `rows` for a kind that has them (`Kind::pushes_rows`) watches
//!   whole objects and sends with each change the row the page's list shows, computed by the
//!   same function as the list's server function ([`row_of`]); every other watch, Secrets
//!   always, stays metadata-only. The upgrade passes the gate like any request and must come
//!   from the console's own pages (the Origin check, against cross-site WebSocket hijacking)
//!   unless a bearer token authenticates it.
//! - `GET /api/live/watch?cluster=&kind=&namespace=` (Server-Sent Events, a `WatchQuery`)
//!   watches one kind on one cluster's metadata with the user's impersonated client: after the
//!   initial list `ready`, then a `change` (`Change` as JSON: action, name, namespace; never an
//!   object's contents) per change; a watch the cluster refuses ends with `refused` and the
//!   reason. `GET /api/live/logs?cluster=&namespace=&pod=&container=&tail=` (a `LogQuery`)
//!   follows a container's log, one `line` per line, each cut at [`MAX_LINE`] bytes. The `ac`
//!   CLI and scripts use these.
//!
//! One user holds at most `--max-streams-per-user` streams (SSE streams and socket
//! subscriptions together); the next is refused (429 on SSE, `refused` on the socket).
//!
//! Served beside the proxy, outside the compression layer, so nothing buffers the stream.

use std::{collections::HashMap, convert::Infallible, pin::Pin, time::Duration};

use app::{
    auth::Identity,
    live::{
        Change, ClientMessage, Kind, LogQuery, SOCKET_PATH, ServerMessage, StreamId, WatchQuery,
        event,
    },
    platform::registry::ClusterRegistry,
};
use axum::{
    Extension, Router,
    extract::{
        Query, State,
        rejection::QueryRejection,
        ws::{Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event as SseEvent, KeepAlive, Sse},
    },
    routing::{any, get},
};
use futures::{AsyncBufRead, AsyncBufReadExt, SinkExt, Stream, StreamExt, stream};
use kube::{
    Api,
    api::{ApiResource, DynamicObject, GroupVersionKind, LogParams, ObjectMeta, PartialObjectMeta},
    runtime::{watcher, watcher::Event},
};
use tokio::sync::mpsc;

use crate::auth::Auth;
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
    Auth: axum::extract::FromRef<S>,
{
    Router::new()
        .route(app::live::WATCH_PATH, get(watch))
        .route(app::live::LOGS_PATH, get(logs))
        // `any`: a browser may open the socket over HTTP/2's extended CONNECT as well as GET.
        .route(SOCKET_PATH, any(socket))
}

/// Why a stream's query string is not one the console can follow, and what would be.
fn unparsable(rejection: &QueryRejection, expected: &str) -> String {
    format!("{}; a live stream needs {expected}", rejection.body_text())
}

/// What a watch query must hold, for the refusal of one that does not.
fn watch_expected() -> String {
    format!(
        "cluster, kind (one of {}) and optionally namespace",
        Kind::ALL.map(Kind::as_str).join(", ")
    )
}

/// A stream that only says why it cannot follow: an EventSource treats an HTTP error as a
/// connection to retry, while a `refused` event tells the page to stop and show the reason.
fn refuse(message: String) -> Response {
    sse(stream::once(async move {
        Ok(SseEvent::default().event(event::REFUSED).data(message))
    }))
}

fn api_resource(kind: Kind) -> ApiResource {
    let info = kind.api();
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(info.group, info.version, info.kind),
        info.plural,
    )
}

/// What a refusal of the cluster's says to the user.
fn refusal_reason(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => status.message.clone(),
        other => app::error::innermost(other),
    }
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
    let permit = (permit, crate::metrics::stream_opened());
    sse(events.map(move |event| {
        let _held = &permit;
        event
    }))
}

/// Why a user may open no more streams, and what to do.
fn too_many_message(limits: &Limits, identity: &Identity) -> String {
    format!(
        "{} already has {} live streams open, the most one user may hold; close some console \
         tabs or pages that follow changes or logs, then reload",
        identity.username,
        limits.streams.max()
    )
}

/// The 429 for a user who already holds as many streams as one may.
fn too_many_streams(limits: &Limits, identity: &Identity, path: &str) -> Response {
    tracing::warn!(user = %identity.username, max = limits.streams.max(), "live stream refused: too many open");
    crate::limits::refusal(
        path,
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        too_many_message(limits, identity),
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

/// What a followed watch reports, whatever carries it.
#[derive(Debug)]
pub enum Followed {
    Ready,
    Change(Change),
    /// The watch ended: refused by the cluster, or the cluster was lost.
    Refused(String),
}

fn watch_reason(error: watcher::Error) -> String {
    match error {
        watcher::Error::InitialListFailed(error)
        | watcher::Error::WatchStartFailed(error)
        | watcher::Error::WatchFailed(error) => refusal_reason(&error),
        other => other.to_string(),
    }
}

/// A watcher's events as [`Followed`] items, `to_change` turning each object into its change;
/// the first error ends the stream with its reason.
fn followed<K>(
    events: impl Stream<Item = Result<Event<K>, watcher::Error>> + Send + 'static,
    to_change: impl Fn(&'static str, &K) -> Change + Send + 'static,
) -> impl Stream<Item = Followed> + Send + 'static
where
    K: Send + 'static,
{
    events
        .map(move |event| match event {
            Ok(Event::Init | Event::InitApply(_)) => Ok(None),
            Ok(Event::InitDone) => Ok(Some(Followed::Ready)),
            Ok(Event::Apply(object)) => {
                Ok(Some(Followed::Change(to_change(Change::APPLIED, &object))))
            }
            Ok(Event::Delete(object)) => {
                Ok(Some(Followed::Change(to_change(Change::DELETED, &object))))
            }
            Err(error) => Err(error),
        })
        .scan(false, |ended, item| {
            if *ended {
                return futures::future::ready(None);
            }
            let out = match item {
                Ok(followed) => followed,
                Err(error) => {
                    *ended = true;
                    Some(Followed::Refused(watch_reason(error)))
                }
            };
            futures::future::ready(Some(out))
        })
        .filter_map(futures::future::ready)
}

fn bare_change(action: &str, metadata: &ObjectMeta) -> Change {
    Change {
        action: action.into(),
        name: metadata.name.clone().unwrap_or_default(),
        namespace: metadata.namespace.clone(),
        row: None,
    }
}

/// Follows `query` with `client` (the user's): metadata only, or, with `rows` for a kind that
/// has them, whole objects whose changes carry the page's row of the object. Secrets are never
/// watched whole.
pub fn follow_watch(
    client: kube::Client,
    query: &WatchQuery,
    rows: bool,
) -> Pin<Box<dyn Stream<Item = Followed> + Send>> {
    let kind = query.kind;
    if rows && kind.pushes_rows() && kind != Kind::Secrets {
        let resource = api_resource(kind);
        let api: Api<DynamicObject> = match query.scope() {
            Some(ns) => Api::namespaced_with(client, ns, &resource),
            None => Api::all_with(client, &resource),
        };
        Box::pin(followed(
            watcher(api, watcher::Config::default()),
            move |action, object: &DynamicObject| {
                let mut change = bare_change(action, &object.metadata);
                if action == Change::APPLIED {
                    change.row = row_of(kind, object);
                }
                change
            },
        ))
    } else {
        Box::pin(followed(
            metadata_events(metadata_api(client, kind, query.scope())),
            |action, object: &PartialObjectMeta<DynamicObject>| {
                bare_change(action, &object.metadata)
            },
        ))
    }
}

/// The row a page's list shows for `object` of `kind`, by the function its list server
/// function uses, so a pushed row and a read one agree; `None` for kinds without one (and
/// always for Secrets).
pub fn row_of(kind: Kind, object: &DynamicObject) -> Option<serde_json::Value> {
    match kind {
        Kind::Applications => object
            .clone()
            .try_parse::<app::apps::resource::Application>()
            .ok()
            .map(app::apps::service::view)
            .and_then(|view| serde_json::to_value(view).ok()),
        Kind::Deployments | Kind::Pods | Kind::Events | Kind::ConfigMaps => {
            serde_json::to_value(app::clusters::resource_row(kind, object)).ok()
        }
        _ => None,
    }
}

async fn watch(
    State(clusters): State<ClusterRegistry>,
    State(limits): State<Limits>,
    Extension(identity): Extension<Identity>,
    query: Result<Query<WatchQuery>, QueryRejection>,
) -> Response {
    let Some(permit) = limits.streams.try_acquire(&identity.username) else {
        return too_many_streams(&limits, &identity, app::live::WATCH_PATH);
    };
    // An unknown kind or a missing cluster is the page's mistake: say so in the stream, which
    // the browser shows, rather than as an HTTP error it would retry.
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => return refuse(unparsable(&rejection, &watch_expected())),
    };
    let client = match clusters.client_for(&query.cluster, &identity) {
        Ok(client) => client,
        Err(error) => return refuse(error.to_string()),
    };
    // The SSE stream never carries rows: names only, as the CLI expects.
    let events = follow_watch(client, &query, false).map(|followed| {
        Ok(match followed {
            Followed::Ready => SseEvent::default().event(event::READY).data("{}"),
            Followed::Change(change) => SseEvent::default()
                .event(event::CHANGE)
                .data(serde_json::to_string(&change).unwrap_or_default()),
            Followed::Refused(reason) => SseEvent::default().event(event::REFUSED).data(reason),
        })
    });
    sse_holding(permit, events)
}

/// Whether a socket's upgrade comes from the console's own pages: its Origin is the console's
/// public origin, or the origin of the Host it was sent to (the same console reached by another
/// loopback name in local mode). Browsers always send Origin on a WebSocket handshake; one
/// without is refused.
pub fn socket_origin_allowed(headers: &HeaderMap, public_origin: &str) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if origin.eq_ignore_ascii_case(public_origin) {
        return true;
    }
    let scheme = public_origin.split("://").next().unwrap_or("https");
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|host| origin.eq_ignore_ascii_case(&format!("{scheme}://{host}")))
}

/// The most a browser's socket message may hold (a subscription is a few hundred bytes).
const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
/// Messages queued for one socket before its streams wait for the browser to read.
const SOCKET_QUEUE: usize = 256;
/// How often an idle socket is pinged, so proxies keep it open.
const SOCKET_PING: Duration = Duration::from_secs(15);

async fn socket(
    State(clusters): State<ClusterRegistry>,
    State(limits): State<Limits>,
    State(auth): State<Auth>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // A bearer token authenticated this request (the gate took it instead of the cookie), and
    // no cross-site page can send one; a cookie rides along on any site's socket, so then the
    // socket must come from the console's own pages.
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    if !bearer && !socket_origin_allowed(&headers, &auth.public_origin) {
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        tracing::warn!(%origin, user = %identity.username, "refused a cross-site live socket");
        return crate::limits::refusal(
            SOCKET_PATH,
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "a live socket opens only from the console's own pages ({}); this one came \
                 from {origin}",
                auth.public_origin
            ),
        );
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let session = SocketSession {
        clusters,
        limits,
        identity,
    };
    upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| session.serve(socket))
}

/// One browser tab's socket: its user, and what serves its subscriptions.
struct SocketSession {
    clusters: ClusterRegistry,
    limits: Limits,
    identity: Identity,
}

/// A subscription's task, stopped when dropped (unsubscribed, or the socket closed), which
/// gives its permit back.
struct Subscription(tokio::task::JoinHandle<()>);

impl Drop for Subscription {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SocketSession {
    async fn serve(self, socket: WebSocket) {
        let (mut sink, mut incoming) = socket.split();
        let (tx, mut rx) = mpsc::channel::<ServerMessage>(SOCKET_QUEUE);
        let mut streams: HashMap<StreamId, Subscription> = HashMap::new();
        let mut ping = tokio::time::interval(SOCKET_PING);
        ping.reset();
        loop {
            tokio::select! {
                message = incoming.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        if let Some(refusal) = self.handle(text.as_str(), &tx, &mut streams) {
                            streams.remove(&refusal.id());
                            if send(&mut sink, &refusal).await.is_err() {
                                break;
                            }
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    // Pongs are answered by axum; binary messages mean nothing here.
                    Some(Ok(_)) => {}
                },
                Some(out) = rx.recv() => {
                    if let ServerMessage::Refused { id, .. } = &out {
                        // The stream has ended; its place is given back as its task ends.
                        streams.remove(id);
                    }
                    if send(&mut sink, &out).await.is_err() {
                        break;
                    }
                }
                _ = ping.tick() => {
                    if sink.send(Message::Ping(Default::default())).await.is_err() {
                        break;
                    }
                }
            }
        }
        // Dropping `streams` stops every subscription still running.
    }

    /// Acts on one message of the browser's; a refusal to send at once, if any.
    fn handle(
        &self,
        text: &str,
        tx: &mpsc::Sender<ServerMessage>,
        streams: &mut HashMap<StreamId, Subscription>,
    ) -> Option<ServerMessage> {
        let message = match serde_json::from_str::<ClientMessage>(text) {
            Ok(message) => message,
            Err(error) => {
                // Name the id when there is one, so the page that sent it learns why.
                let id = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v["id"].as_u64())
                    .and_then(|id| StreamId::try_from(id).ok())
                    .unwrap_or(0);
                return Some(ServerMessage::Refused {
                    id,
                    reason: format!(
                        "{error}; a live socket takes {{\"op\": \"watch\", \"id\", \"query\": \
                         {{cluster, kind, namespace}}}}, {{\"op\": \"logs\", \"id\", \"query\"}} or \
                         {{\"op\": \"close\", \"id\"}}"
                    ),
                });
            }
        };
        let (id, cluster) = match &message {
            ClientMessage::Close { id } => {
                streams.remove(id);
                return None;
            }
            ClientMessage::Watch { id, query, .. } => (*id, query.cluster.clone()),
            ClientMessage::Logs { id, query } => (*id, query.cluster.clone()),
        };
        // A new subscription under an id in use replaces it.
        streams.remove(&id);
        let Some(permit) = self.limits.streams.try_acquire(&self.identity.username) else {
            tracing::warn!(user = %self.identity.username, max = self.limits.streams.max(), "live subscription refused: too many open");
            return Some(ServerMessage::Refused {
                id,
                reason: too_many_message(&self.limits, &self.identity),
            });
        };
        let client = match self.clusters.client_for(&cluster, &self.identity) {
            Ok(client) => client,
            Err(error) => {
                return Some(ServerMessage::Refused {
                    id,
                    reason: error.to_string(),
                });
            }
        };
        let tx = tx.clone();
        let task = async move {
            let _held = (permit, crate::metrics::stream_opened());
            let mut messages: Pin<Box<dyn Stream<Item = ServerMessage> + Send>> = match message {
                ClientMessage::Watch { query, rows, .. } => {
                    Box::pin(follow_watch(client, &query, rows).map(move |f| match f {
                        Followed::Ready => ServerMessage::Ready { id },
                        Followed::Change(change) => ServerMessage::Change { id, change },
                        Followed::Refused(reason) => ServerMessage::Refused { id, reason },
                    }))
                }
                ClientMessage::Logs { query, .. } => {
                    Box::pin(follow_log(client, &query).await.map(move |f| match f {
                        LogItem::Ready => ServerMessage::Ready { id },
                        LogItem::Line(line) => ServerMessage::Line { id, line },
                        LogItem::Refused(reason) => ServerMessage::Refused { id, reason },
                    }))
                }
                ClientMessage::Close { .. } => return,
            };
            while let Some(message) = messages.next().await {
                if tx.send(message).await.is_err() {
                    return;
                }
            }
        };
        streams.insert(id, Subscription(tokio::spawn(task)));
        None
    }
}

async fn send(
    sink: &mut futures::stream::SplitSink<WebSocket, Message>,
    message: &ServerMessage,
) -> Result<(), axum::Error> {
    let text = serde_json::to_string(message).unwrap_or_default();
    sink.send(Message::Text(text.into())).await
}

async fn logs(
    State(clusters): State<ClusterRegistry>,
    State(limits): State<Limits>,
    Extension(identity): Extension<Identity>,
    query: Result<Query<LogQuery>, QueryRejection>,
) -> Response {
    let Some(permit) = limits.streams.try_acquire(&identity.username) else {
        return too_many_streams(&limits, &identity, app::live::LOGS_PATH);
    };
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => {
            return refuse(unparsable(
                &rejection,
                "cluster, namespace, pod and optionally container and tail",
            ));
        }
    };
    let client = match clusters.client_for(&query.cluster, &identity) {
        Ok(client) => client,
        Err(error) => return refuse(error.to_string()),
    };
    let events = follow_log(client, &query).await.map(|item| {
        Ok(match item {
            LogItem::Ready => SseEvent::default().event(event::READY).data("{}"),
            LogItem::Line(line) => SseEvent::default().event(event::LINE).data(line),
            LogItem::Refused(reason) => SseEvent::default().event(event::REFUSED).data(reason),
        })
    });
    sse_holding(permit, events)
}

/// What a followed log reports, whatever carries it.
#[derive(Debug)]
pub enum LogItem {
    Ready,
    Line(String),
    Refused(String),
}

/// Follows a container's log with `client` (the user's): `Ready` once it is open, then its
/// lines, each cut at [`MAX_LINE`] bytes.
pub async fn follow_log(
    client: kube::Client,
    query: &LogQuery,
) -> Pin<Box<dyn Stream<Item = LogItem> + Send>> {
    let pods = Api::<k8s_openapi::api::core::v1::Pod>::namespaced(client, &query.namespace);
    let params = LogParams {
        follow: true,
        container: query.container.clone().filter(|c| !c.is_empty()),
        tail_lines: Some(query.tail_lines()),
        ..LogParams::default()
    };
    match pods.log_stream(&query.pod, &params).await {
        Err(error) => {
            let reason = refusal_reason(&error);
            Box::pin(stream::once(async move { LogItem::Refused(reason) }))
        }
        Ok(reader) => {
            let lines = capped_lines(reader, MAX_LINE).map(|line| match line {
                Ok(line) => LogItem::Line(line),
                Err(error) => LogItem::Refused(error.to_string()),
            });
            Box::pin(stream::once(async { LogItem::Ready }).chain(lines))
        }
    }
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

    fn object(kind: &str, data: serde_json::Value) -> DynamicObject {
        let mut object: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": kind,
            "metadata": {"name": "web", "namespace": "team-a",
                "creationTimestamp": "2026-01-02T03:04:05Z"},
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        object.data = data;
        object
    }

    #[test]
    fn pushed_rows_are_the_lists_rows_and_secrets_have_none() {
        let map = object("ConfigMap", serde_json::json!({"data": {"a": "1"}}));
        let row = row_of(Kind::ConfigMaps, &map).unwrap_or_else(|| panic!("no row"));
        assert_eq!(
            row,
            serde_json::to_value(app::clusters::resource_row(Kind::ConfigMaps, &map))
                .unwrap_or_default()
        );
        assert_eq!(row["status"], "1 keys");
        let secret = object(
            "Secret",
            serde_json::json!({"type": "Opaque", "data": {"password": "c2VjcmV0"}}),
        );
        assert_eq!(row_of(Kind::Secrets, &secret), None);
        // Kinds whose pages read again get none either.
        assert_eq!(row_of(Kind::Nodes, &map), None);
    }

    #[test]
    fn a_socket_opens_only_from_the_consoles_own_origin() {
        let headers = |origin: Option<&str>, host: &str| {
            let mut headers = HeaderMap::new();
            if let Some(origin) = origin {
                headers.insert(
                    header::ORIGIN,
                    origin.parse().unwrap_or_else(|e| panic!("{e}")),
                );
            }
            headers.insert(header::HOST, host.parse().unwrap_or_else(|e| panic!("{e}")));
            headers
        };
        let console = "https://console.example";
        assert!(socket_origin_allowed(
            &headers(Some("https://console.example"), "console.example"),
            console
        ));
        assert!(socket_origin_allowed(
            &headers(Some("HTTPS://Console.Example"), "console.example"),
            console
        ));
        // Another site's page, even one that rebinds its name to the console's address.
        assert!(!socket_origin_allowed(
            &headers(Some("https://evil.example"), "console.example"),
            console
        ));
        assert!(!socket_origin_allowed(
            &headers(Some("http://console.example"), "console.example"),
            console
        ));
        assert!(!socket_origin_allowed(
            &headers(Some("null"), "console.example"),
            console
        ));
        assert!(!socket_origin_allowed(
            &headers(None, "console.example"),
            console
        ));
        // Local mode reached by another loopback name: the origin of the Host it was sent to.
        let local = "http://127.0.0.1:3000";
        assert!(socket_origin_allowed(
            &headers(Some("http://localhost:3000"), "localhost:3000"),
            local
        ));
        assert!(!socket_origin_allowed(
            &headers(Some("http://localhost:3001"), "localhost:3000"),
            local
        ));
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
