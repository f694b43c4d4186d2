//! What a page can follow live, and the streams' wire formats: shared by the server, which
//! watches the kind on the cluster as the signed-in user, the browser, which follows it over one
//! WebSocket per tab ([`ClientMessage`], [`ServerMessage`]), and the CLI, which reads the
//! Server-Sent Events of [`WATCH_PATH`].

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

    /// Whether a watch of this kind can carry the rows of the page's list. Never Secrets: their
    /// watches stay metadata-only, so no value of theirs reaches a stream.
    pub fn pushes_rows(self) -> bool {
        matches!(
            self,
            Kind::Applications | Kind::Deployments | Kind::Pods | Kind::Events | Kind::ConfigMaps
        )
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn api(self) -> ApiResourceInfo {
        const PLATFORM: &str = crate::cluster::GROUP;
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
    /// [`Change::APPLIED`] or [`Change::DELETED`].
    pub action: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The row the page shows for the object after an applied change, computed by the same
    /// function as the page's list (asked for with [`ClientMessage::Watch`]'s `rows`; never for
    /// Secrets, and never on the Server-Sent Events stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<serde_json::Value>,
}

impl Change {
    pub const APPLIED: &str = "applied";
    pub const DELETED: &str = "deleted";

    pub fn is_deleted(&self) -> bool {
        self.action == Self::DELETED
    }
}

/// Applies one pushed change to a page's `rows`: a deletion removes the object's row; an
/// applied change replaces the object's row with the one it carries, or adds it (the caller
/// puts the list back in its order). `is` tells whether a row shows the object the change
/// names. False when an applied change carries no row this list can take: read again instead.
pub fn apply_change<R: serde::de::DeserializeOwned>(
    rows: &mut Vec<R>,
    change: &Change,
    is: impl Fn(&R, &Change) -> bool,
) -> bool {
    if change.is_deleted() {
        rows.retain(|row| !is(row, change));
        return true;
    }
    let Some(row) = change
        .row
        .clone()
        .and_then(|row| serde_json::from_value::<R>(row).ok())
    else {
        return false;
    };
    match rows.iter_mut().find(|r| is(r, change)) {
        Some(old) => *old = row,
        None => rows.push(row),
    }
    true
}

/// The names of the Server-Sent Events the live streams send, shared by the server that sends
/// them and the browser that listens.
pub mod event {
    /// The initial list is done (watch) or the log is open (logs); the page is live.
    pub const READY: &str = "ready";
    /// One [`Change`](super::Change) as JSON.
    pub const CHANGE: &str = "change";
    /// The stream cannot go on; the data is the reason. The server ends the stream after it.
    pub const REFUSED: &str = "refused";
    /// One log line.
    pub const LINE: &str = "line";
}

/// The path of the watch stream.
pub const WATCH_PATH: &str = "/api/live/watch";
/// The path of the WebSocket that carries every live stream of a browser tab.
pub const SOCKET_PATH: &str = "/api/live/ws";

/// A subscription's id on the socket, chosen by the browser, unique within the socket.
pub type StreamId = u32;

/// What the browser sends on the [`SOCKET_PATH`] WebSocket, one JSON text message each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum ClientMessage {
    /// Follow `query` as stream `id`; with `rows`, changes carry the page's row of the object
    /// where the server has one for the kind (the kinds of [`Kind::pushes_rows`]).
    Watch {
        id: StreamId,
        query: WatchQuery,
        #[serde(default)]
        rows: bool,
    },
    /// Follow a container's log as stream `id`.
    Logs { id: StreamId, query: LogQuery },
    /// Stop stream `id` and give its place back.
    Close { id: StreamId },
}

/// What the server sends on the socket, one JSON text message each, naming the stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerMessage {
    /// The initial list is done (watch) or the log is open; the stream is live.
    Ready {
        id: StreamId,
    },
    Change {
        id: StreamId,
        change: Change,
    },
    Line {
        id: StreamId,
        line: String,
    },
    /// Stream `id` has ended for `reason` (refused by the cluster or the per-user limit, or a
    /// message the server could not read); the socket and its other streams go on.
    Refused {
        id: StreamId,
        reason: String,
    },
}

impl ServerMessage {
    pub fn id(&self) -> StreamId {
        match self {
            ServerMessage::Ready { id }
            | ServerMessage::Change { id, .. }
            | ServerMessage::Line { id, .. }
            | ServerMessage::Refused { id, .. } => *id,
        }
    }
}
/// The path of the log stream.
pub const LOGS_PATH: &str = "/api/live/logs";

/// What one live stream follows: `kind` on `cluster`, in `namespace` when the kind is
/// namespaced and one is given (empty or absent: every namespace the user may watch). The
/// browser builds the stream's URL with [`WatchQuery::url`]; the server parses the same struct
/// from the query string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WatchQuery {
    pub cluster: String,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl WatchQuery {
    pub fn new(cluster: impl Into<String>, kind: Kind) -> Self {
        WatchQuery {
            cluster: cluster.into(),
            kind,
            namespace: None,
        }
    }

    /// In `namespace`; an empty name means every namespace.
    pub fn in_namespace(mut self, namespace: impl Into<String>) -> Self {
        let namespace = namespace.into();
        self.namespace = (!namespace.is_empty()).then_some(namespace);
        self
    }

    /// The namespace to watch in, if one was given and the kind lives in namespaces.
    pub fn scope(&self) -> Option<&str> {
        self.namespace
            .as_deref()
            .filter(|ns| !ns.is_empty() && self.kind.api().namespaced)
    }

    /// The stream's URL, relative to the console's origin.
    pub fn url(&self) -> String {
        let mut url = format!(
            "{WATCH_PATH}?cluster={}&kind={}",
            encode(&self.cluster),
            self.kind.as_str()
        );
        if let Some(ns) = self.namespace.as_deref().filter(|ns| !ns.is_empty()) {
            url.push_str("&namespace=");
            url.push_str(&encode(ns));
        }
        url
    }
}

/// What one log stream follows: a container of a pod, from its last `tail` lines.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogQuery {
    pub cluster: String,
    pub namespace: String,
    pub pod: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<i64>,
}

impl LogQuery {
    /// The lines the stream starts with when the page asks for no other number.
    pub const DEFAULT_TAIL: i64 = 200;
    /// The most lines a stream starts with.
    pub const MAX_TAIL: i64 = 5000;

    /// The stream's URL, relative to the console's origin.
    pub fn url(&self) -> String {
        let mut url = format!(
            "{LOGS_PATH}?cluster={}&namespace={}&pod={}",
            encode(&self.cluster),
            encode(&self.namespace),
            encode(&self.pod)
        );
        if let Some(container) = self.container.as_deref().filter(|c| !c.is_empty()) {
            url.push_str("&container=");
            url.push_str(&encode(container));
        }
        if let Some(tail) = self.tail {
            url.push_str(&format!("&tail={tail}"));
        }
        url
    }

    /// The lines to start from: the asked number within 1..=[`Self::MAX_TAIL`].
    pub fn tail_lines(&self) -> i64 {
        self.tail
            .unwrap_or(Self::DEFAULT_TAIL)
            .clamp(1, Self::MAX_TAIL)
    }
}

/// The stream's URL for `kind` on `cluster`, optionally in one namespace.
#[doc(hidden)]
pub fn watch_url(cluster: &str, kind: Kind, namespace: Option<&str>) -> String {
    WatchQuery::new(cluster, kind)
        .in_namespace(namespace.unwrap_or_default())
        .url()
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
    fn a_watch_query_builds_the_url_the_server_parses() {
        let query = WatchQuery::new("east", Kind::Pods).in_namespace("team a");
        assert_eq!(
            query.url(),
            "/api/live/watch?cluster=east&kind=pods&namespace=team%20a"
        );
        assert_eq!(query.scope(), Some("team a"));
        let all = WatchQuery::new("global", Kind::ClusterPlugins).in_namespace("");
        assert_eq!(all.namespace, None);
        assert_eq!(
            all.url(),
            "/api/live/watch?cluster=global&kind=clusterplugins"
        );
        // A namespace given for a cluster-scoped kind is ignored when watching.
        let nodes = WatchQuery::new("east", Kind::Nodes).in_namespace("team-a");
        assert_eq!(nodes.scope(), None);
    }

    #[test]
    fn kinds_travel_as_the_names_in_the_url() {
        for kind in Kind::ALL {
            let json = serde_json::to_string(&kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        let parsed: WatchQuery =
            serde_json::from_str(r#"{"cluster":"east","kind":"configmaps","namespace":"team-a"}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            parsed,
            WatchQuery::new("east", Kind::ConfigMaps).in_namespace("team-a")
        );
        assert!(
            serde_json::from_str::<WatchQuery>(r#"{"cluster":"east","kind":"roles"}"#).is_err()
        );
    }

    #[test]
    fn a_log_query_encodes_its_values_and_bounds_its_tail() {
        let query = LogQuery {
            cluster: "east".into(),
            namespace: "team-a".into(),
            pod: "web-1".into(),
            container: Some("side car".into()),
            tail: None,
        };
        assert_eq!(
            query.url(),
            "/api/live/logs?cluster=east&namespace=team-a&pod=web-1&container=side%20car"
        );
        assert_eq!(query.tail_lines(), LogQuery::DEFAULT_TAIL);
        let huge = LogQuery {
            tail: Some(1_000_000),
            container: None,
            ..query.clone()
        };
        assert_eq!(huge.tail_lines(), LogQuery::MAX_TAIL);
        assert!(huge.url().ends_with("&tail=1000000"));
        assert_eq!(
            LogQuery {
                tail: Some(-3),
                ..query
            }
            .tail_lines(),
            1
        );
    }

    #[test]
    fn socket_messages_travel_as_tagged_json() {
        let watch = ClientMessage::Watch {
            id: 7,
            query: WatchQuery::new("east", Kind::ConfigMaps).in_namespace("team-a"),
            rows: true,
        };
        let json = serde_json::to_value(&watch).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"op": "watch", "id": 7, "rows": true,
                "query": {"cluster": "east", "kind": "configmaps", "namespace": "team-a"}})
        );
        // `rows` may be left out: a plain watch.
        let plain: ClientMessage = serde_json::from_str(
            r#"{"op":"watch","id":1,"query":{"cluster":"global","kind":"clusters"}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(plain, ClientMessage::Watch { rows: false, .. }));
        let close: ClientMessage =
            serde_json::from_str(r#"{"op":"close","id":3}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(close, ClientMessage::Close { id: 3 });
        assert!(serde_json::from_str::<ClientMessage>(r#"{"op":"exec","id":3}"#).is_err());

        let change = ServerMessage::Change {
            id: 7,
            change: Change {
                action: Change::APPLIED.into(),
                name: "web".into(),
                namespace: Some("team-a".into()),
                row: Some(serde_json::json!({"name": "web"})),
            },
        };
        let text = serde_json::to_string(&change).unwrap_or_default();
        assert_eq!(
            serde_json::from_str::<ServerMessage>(&text).ok(),
            Some(change.clone())
        );
        assert_eq!(change.id(), 7);
        // A change without a row (metadata-only watches, Secrets) leaves the field out.
        let bare = ServerMessage::Change {
            id: 2,
            change: Change {
                action: Change::DELETED.into(),
                name: "token".into(),
                namespace: None,
                row: None,
            },
        };
        let text = serde_json::to_string(&bare).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"type":"change","id":2,"change":{"action":"deleted","name":"token"}}"#
        );
        let refused: ServerMessage =
            serde_json::from_str(r#"{"type":"refused","id":4,"reason":"forbidden"}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(refused.id(), 4);
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Row {
        namespace: String,
        name: String,
        status: String,
    }

    fn row_is(row: &Row, change: &Change) -> bool {
        row.name == change.name && Some(row.namespace.as_str()) == change.namespace.as_deref()
    }

    fn applied(namespace: &str, name: &str, status: &str) -> Change {
        Change {
            action: Change::APPLIED.into(),
            name: name.into(),
            namespace: Some(namespace.into()),
            row: Some(serde_json::json!({"namespace": namespace, "name": name, "status": status})),
        }
    }

    #[test]
    fn pushed_changes_upsert_and_delete_rows_by_namespace_and_name() {
        let mut rows = Vec::<Row>::new();
        assert!(apply_change(&mut rows, &applied("a", "web", "1/1"), row_is));
        assert!(apply_change(&mut rows, &applied("b", "web", "0/1"), row_is));
        assert_eq!(
            rows.len(),
            2,
            "same name in another namespace is another row"
        );
        assert!(apply_change(&mut rows, &applied("a", "web", "2/2"), row_is));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].status, "2/2", "replaced in place");
        let deleted = Change {
            action: Change::DELETED.into(),
            row: None,
            ..applied("b", "web", "")
        };
        assert!(apply_change(&mut rows, &deleted, row_is));
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].namespace.as_str(), rows[0].name.as_str()),
            ("a", "web")
        );
        // No row (a metadata-only watch) or one of another shape: the page must read again.
        let bare = Change {
            row: None,
            ..applied("a", "db", "")
        };
        assert!(!apply_change(&mut rows, &bare, row_is));
        let odd = Change {
            row: Some(serde_json::json!({"unexpected": true})),
            ..applied("a", "db", "")
        };
        assert!(!apply_change(&mut rows, &odd, row_is));
        assert_eq!(rows.len(), 1, "nothing half-applied");
    }

    #[test]
    fn secrets_never_push_rows() {
        assert!(!Kind::Secrets.pushes_rows());
        assert!(Kind::ConfigMaps.pushes_rows() && Kind::Applications.pushes_rows());
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
