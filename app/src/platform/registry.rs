//! Server side: the clusters the console manages, from its kubeconfig (one cluster per context)
//! and from the Cluster resources on the global cluster (followed with a watch), with the
//! console's client for each and a bounded-time probe of each API server.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, RwLock},
    time::Duration,
};

use futures::future::join_all;
use kube::{
    Client, Config,
    config::{KubeConfigOptions, Kubeconfig},
};

use super::{ClusterHealth, ClusterRef, ClusterStatus};
use crate::ConsoleError;
use console_api::identity::Identity;

/// How long one probe may take before the cluster counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// How soon a Cluster resource that is not usable is tried again, doubling up to
/// [`RETRY_MAX`] while it stays unusable.
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// Why the registry could not be built; names the file or context and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "kubeconfig {path} could not be read: {source}. Pass --kubeconfig with a readable kubeconfig file."
    )]
    Read {
        path: String,
        source: kube::config::KubeconfigError,
    },
    #[error("kubeconfig {path}, context {context:?}: {source}. Fix or remove that context.")]
    Context {
        path: String,
        context: String,
        source: kube::config::KubeconfigError,
    },
    #[error("kubeconfig {path}, context {context:?}: no client could be built: {source}")]
    Client {
        path: String,
        context: String,
        source: kube::Error,
    },
}

#[derive(Clone)]
struct Registered {
    cluster: ClusterRef,
    client: Client,
}

/// A cluster registered by a Cluster resource, with the uid and spec its client was built from
/// and the status its controller last wrote.
#[derive(Clone)]
struct Managed {
    registered: Registered,
    uid: Option<String>,
    spec: console_api::cluster::ClusterSpec,
    state: Option<console_api::cluster::ClusterState>,
}

/// Cheap to clone; shared by every request.
#[derive(Clone, Default)]
pub struct ClusterRegistry {
    clusters: Arc<Vec<Registered>>,
    /// From Cluster resources, by name; kept by [`ClusterRegistry::follow`].
    managed: Arc<RwLock<HashMap<String, Managed>>>,
    /// Cluster resources that are not usable, by name, with why (logged when it changes).
    unusable: Arc<RwLock<HashMap<String, String>>>,
}

impl ClusterRegistry {
    /// A registry with no clusters: pages show their empty states.
    pub fn empty() -> Self {
        Self::default()
    }

    /// One cluster per context of the kubeconfig at `path`, in the file's order.
    pub async fn from_kubeconfig(path: &Path) -> Result<Self, RegistryError> {
        let display = path.display().to_string();
        let kubeconfig = Kubeconfig::read_from(path).map_err(|source| RegistryError::Read {
            path: display.clone(),
            source,
        })?;
        let mut clusters = Vec::with_capacity(kubeconfig.contexts.len());
        for context in &kubeconfig.contexts {
            let options = KubeConfigOptions {
                context: Some(context.name.clone()),
                ..KubeConfigOptions::default()
            };
            let config = Config::from_custom_kubeconfig(kubeconfig.clone(), &options)
                .await
                .map_err(|source| RegistryError::Context {
                    path: display.clone(),
                    context: context.name.clone(),
                    source,
                })?;
            let server = config
                .cluster_url
                .to_string()
                .trim_end_matches('/')
                .to_string();
            let client = Client::try_from(config).map_err(|source| RegistryError::Client {
                path: display.clone(),
                context: context.name.clone(),
                source,
            })?;
            clusters.push(Registered {
                cluster: ClusterRef {
                    name: context.name.clone(),
                    server,
                    managed: false,
                },
                client,
            });
        }
        Ok(ClusterRegistry {
            clusters: Arc::new(clusters),
            ..ClusterRegistry::default()
        })
    }

    /// Every registered cluster: the kubeconfig's in its order, then Cluster resources by name
    /// (a Cluster named like a kubeconfig context is shadowed by it).
    fn all(&self) -> Vec<Registered> {
        let mut all: Vec<Registered> = self.clusters.iter().cloned().collect();
        let mut managed: Vec<Registered> = self
            .managed
            .read()
            .map(|m| m.values().map(|m| m.registered.clone()).collect())
            .unwrap_or_default();
        managed.sort_by(|a, b| a.cluster.name.cmp(&b.cluster.name));
        managed.retain(|m| {
            !self
                .clusters
                .iter()
                .any(|c| c.cluster.name == m.cluster.name)
        });
        all.extend(managed);
        all
    }

    pub fn list(&self) -> Vec<ClusterRef> {
        self.all().into_iter().map(|c| c.cluster).collect()
    }

    pub fn len(&self) -> usize {
        self.all().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn find(&self, name: &str) -> Result<Registered, ConsoleError> {
        if let Some(found) = self.clusters.iter().find(|c| c.cluster.name == name) {
            return Ok(found.clone());
        }
        self.managed
            .read()
            .ok()
            .and_then(|m| m.get(name).map(|m| m.registered.clone()))
            .ok_or_else(|| ConsoleError::ClusterNotFound { name: name.into() })
    }

    /// Follows the Cluster resources on `global` (with the console's client there) until the
    /// watch ends: each Cluster becomes a registered cluster with the console's credential from
    /// its Secret; a deleted Cluster is no longer managed (nothing on it is touched).
    pub async fn follow(self, global: Client) {
        use futures::StreamExt;
        use kube::runtime::{WatchStreamExt, reflector, watcher, watcher::Event};

        let api = kube::Api::<console_api::cluster::Cluster>::all(global.clone());
        let (reader, writer) = reflector::store();
        let events = reflector(
            writer,
            watcher(api, watcher::Config::default()).default_backoff(),
        );
        let mut events = std::pin::pin!(events);
        // Set while some Cluster is not usable: how long until trying it again. The import
        // creates a Cluster just before its credential Secret, and a Secret's arrival is no
        // Cluster event.
        let mut retry: Option<Duration> = None;
        loop {
            let event = match retry {
                Some(wait) => match tokio::time::timeout(wait, events.next()).await {
                    Ok(event) => event,
                    Err(_) => {
                        let unusable = self.sync(&global, reader.state()).await;
                        retry = (unusable > 0).then(|| (wait * 2).min(RETRY_MAX));
                        continue;
                    }
                },
                None => events.next().await,
            };
            let Some(event) = event else { break };
            match event {
                Err(error) => tracing::warn!(%error, "watching Cluster resources"),
                // The store fills during the initial list and is complete only at InitDone;
                // syncing on each listed object would see an empty store.
                Ok(Event::Init | Event::InitApply(_)) => {}
                Ok(Event::InitDone | Event::Apply(_) | Event::Delete(_)) => {
                    let unusable = self.sync(&global, reader.state()).await;
                    retry = (unusable > 0).then(|| retry.unwrap_or(RETRY_FIRST));
                }
            }
        }
    }

    /// Makes the managed clusters match `clusters`, reusing the client of every Cluster whose
    /// uid and spec did not change (status updates arrive every probe). A Cluster removed and
    /// registered again under the same name is a new object (new uid, new credential Secret)
    /// and gets a new client.
    ///
    /// Returns how many Clusters are not usable (their reason is logged when it changes).
    async fn sync(
        &self,
        global: &Client,
        clusters: Vec<Arc<console_api::cluster::Cluster>>,
    ) -> usize {
        let known = self.managed.read().map(|m| m.clone()).unwrap_or_default();
        let mut next = HashMap::with_capacity(clusters.len());
        let reported = self.unusable.read().map(|u| u.clone()).unwrap_or_default();
        let mut unusable = HashMap::new();
        for cluster in clusters {
            let name = cluster.metadata.name.clone().unwrap_or_default();
            if let Some(existing) = known
                .get(&name)
                .filter(|m| m.uid == cluster.metadata.uid && m.spec == cluster.spec)
            {
                let mut kept = existing.clone();
                kept.state = cluster.status.clone();
                next.insert(name, kept);
                continue;
            }
            match super::credential::console_client(global, &cluster).await {
                Ok(client) => {
                    let registered = Registered {
                        cluster: ClusterRef {
                            name: name.clone(),
                            server: cluster.spec.server.trim_end_matches('/').to_string(),
                            managed: true,
                        },
                        client,
                    };
                    tracing::info!(cluster = %name, "cluster registered from its Cluster resource");
                    next.insert(
                        name,
                        Managed {
                            registered,
                            uid: cluster.metadata.uid.clone(),
                            spec: cluster.spec.clone(),
                            state: cluster.status.clone(),
                        },
                    );
                }
                Err(error) => {
                    let error = error.to_string();
                    if reported.get(&name) != Some(&error) {
                        tracing::warn!(cluster = %name, %error, "Cluster resource not usable");
                    }
                    unusable.insert(name, error);
                }
            }
        }
        if let Ok(mut managed) = self.managed.write() {
            *managed = next;
        }
        let count = unusable.len();
        if let Ok(mut reported) = self.unusable.write() {
            *reported = unusable;
        }
        count
    }

    pub async fn probe(&self, name: &str) -> Result<ClusterStatus, ConsoleError> {
        Ok(probe(&self.find(name)?).await)
    }

    /// The console's own client for the cluster: for its controllers and probes only, never
    /// for work done on a user's behalf.
    pub fn console_client(&self, name: &str) -> Result<Client, ConsoleError> {
        Ok(self.find(name)?.client.clone())
    }

    /// A client that acts as `identity` on the cluster, so its API server applies that user's
    /// RBAC. In local mode (no identity provider) the kubeconfig's own credentials act.
    pub fn client_for(&self, name: &str, identity: &Identity) -> Result<Client, ConsoleError> {
        let base = &self.find(name)?.client;
        if identity.local {
            return Ok(base.clone());
        }
        super::impersonate::client_as(base, identity)
    }

    /// Every cluster's health for the cluster list: a Cluster resource's from the status its
    /// controller keeps (so a list of hundreds costs no request to them), a kubeconfig
    /// context's from a probe now (all at once).
    pub async fn overview(&self) -> Vec<ClusterStatus> {
        let recorded: HashMap<String, ClusterHealth> = self
            .managed
            .read()
            .map(|m| {
                m.iter()
                    .map(|(name, managed)| (name.clone(), health_from(managed.state.as_ref())))
                    .collect()
            })
            .unwrap_or_default();
        let all = self.all();
        join_all(all.iter().map(|registered| {
            let recorded = recorded.get(&registered.cluster.name).cloned();
            async move {
                match recorded {
                    Some(health) if registered.cluster.managed => ClusterStatus {
                        cluster: registered.cluster.clone(),
                        health,
                    },
                    _ => probe(registered).await,
                }
            }
        }))
        .await
    }

    /// Probes every cluster at once, so one slow cluster costs at most one timeout.
    pub async fn probe_all(&self) -> Vec<ClusterStatus> {
        let all = self.all();
        join_all(all.iter().map(probe)).await
    }
}

/// What a Cluster's status says of its health.
fn health_from(state: Option<&console_api::cluster::ClusterState>) -> ClusterHealth {
    use console_api::cluster::REACHABLE;
    let Some(state) = state else {
        return ClusterHealth::Pending;
    };
    match state.condition(REACHABLE) {
        Some(c) if c.status == "True" => ClusterHealth::Reachable {
            version: state.version.clone().unwrap_or_default(),
        },
        Some(c) if c.status == "False" => ClusterHealth::Unreachable {
            reason: c.message.clone(),
        },
        _ => ClusterHealth::Pending,
    }
}

async fn probe(registered: &Registered) -> ClusterStatus {
    let health =
        match tokio::time::timeout(PROBE_TIMEOUT, registered.client.apiserver_version()).await {
            Ok(Ok(info)) => ClusterHealth::Reachable {
                version: info.git_version,
            },
            Ok(Err(error)) => ClusterHealth::Unreachable {
                reason: crate::error::innermost(&error),
            },
            Err(_) => ClusterHealth::Unreachable {
                reason: format!("no answer within {} s", PROBE_TIMEOUT.as_secs()),
            },
        };
    if let ClusterHealth::Unreachable { reason } = &health {
        tracing::debug!(cluster = %registered.cluster.name, %reason, "cluster probe failed");
    }
    ClusterStatus {
        cluster: registered.cluster.clone(),
        health,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn kubeconfig_file(contents: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("temp file: {e}"));
        file.write_all(contents.as_bytes())
            .unwrap_or_else(|e| panic!("temp file: {e}"));
        file
    }

    /// Two contexts whose API servers are on loopback ports nothing listens on.
    const TWO_CLOSED_CLUSTERS: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: east
  cluster: {server: "https://127.0.0.1:9"}
- name: west
  cluster: {server: "https://127.0.0.1:10"}
users:
- name: u
  user: {token: "t"}
contexts:
- name: east
  context: {cluster: east, user: u}
- name: west
  context: {cluster: west, user: u}
current-context: east
"#;

    #[tokio::test]
    async fn every_context_becomes_a_cluster_in_file_order() {
        let file = kubeconfig_file(TWO_CLOSED_CLUSTERS);
        let registry = ClusterRegistry::from_kubeconfig(file.path()).await;
        let names: Vec<String> = registry
            .map(|r| r.list().into_iter().map(|c| c.name).collect())
            .unwrap_or_default();
        assert_eq!(names, vec!["east", "west"]);
    }

    #[tokio::test]
    async fn a_closed_port_reports_unreachable_with_the_cause() {
        let file = kubeconfig_file(TWO_CLOSED_CLUSTERS);
        let Ok(registry) = ClusterRegistry::from_kubeconfig(file.path()).await else {
            panic!("the kubeconfig should load");
        };
        let statuses = registry.probe_all().await;
        assert_eq!(statuses.len(), 2);
        for status in statuses {
            match status.health {
                ClusterHealth::Unreachable { reason } => {
                    assert!(
                        reason.to_lowercase().contains("refused"),
                        "reason was {reason:?}"
                    )
                }
                other => panic!("expected unreachable, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn an_unknown_cluster_is_named_in_the_error() {
        let registry = ClusterRegistry::empty();
        assert_eq!(
            registry.probe("north").await,
            Err(ConsoleError::ClusterNotFound {
                name: "north".into()
            })
        );
    }

    #[tokio::test]
    async fn an_unreadable_kubeconfig_names_the_file_and_the_fix() {
        let error = ClusterRegistry::from_kubeconfig(Path::new("/nonexistent/kubeconfig"))
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("/nonexistent/kubeconfig"), "{error}");
        assert!(error.contains("--kubeconfig"), "{error}");
    }

    #[tokio::test]
    async fn invalid_yaml_is_refused_with_the_file_named() {
        let file = kubeconfig_file("clusters: [unclosed");
        let error = ClusterRegistry::from_kubeconfig(file.path())
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("could not be read"), "{error}");
    }
}
