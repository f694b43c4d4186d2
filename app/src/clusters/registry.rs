//! Server side: the clusters the console manages, read from a kubeconfig (one cluster per
//! context), with a client per cluster and a bounded-time probe of each API server.

use std::{path::Path, sync::Arc, time::Duration};

use futures::future::join_all;
use kube::{
    Client, Config,
    config::{KubeConfigOptions, Kubeconfig},
};

use super::{ClusterHealth, ClusterRef, ClusterStatus};
use crate::{ConsoleError, auth::Identity};

/// How long one probe may take before the cluster counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

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

struct Registered {
    cluster: ClusterRef,
    client: Client,
}

/// Cheap to clone; shared by every request.
#[derive(Clone, Default)]
pub struct ClusterRegistry {
    clusters: Arc<Vec<Registered>>,
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
                },
                client,
            });
        }
        Ok(ClusterRegistry {
            clusters: Arc::new(clusters),
        })
    }

    pub fn list(&self) -> Vec<ClusterRef> {
        self.clusters.iter().map(|c| c.cluster.clone()).collect()
    }

    pub fn len(&self) -> usize {
        self.clusters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    fn find(&self, name: &str) -> Result<&Registered, ConsoleError> {
        self.clusters
            .iter()
            .find(|c| c.cluster.name == name)
            .ok_or_else(|| ConsoleError::ClusterNotFound { name: name.into() })
    }

    pub async fn probe(&self, name: &str) -> Result<ClusterStatus, ConsoleError> {
        Ok(probe(self.find(name)?).await)
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

    /// Probes every cluster at once, so one slow cluster costs at most one timeout.
    pub async fn probe_all(&self) -> Vec<ClusterStatus> {
        join_all(self.clusters.iter().map(probe)).await
    }
}

async fn probe(registered: &Registered) -> ClusterStatus {
    let health =
        match tokio::time::timeout(PROBE_TIMEOUT, registered.client.apiserver_version()).await {
            Ok(Ok(info)) => ClusterHealth::Reachable {
                version: info.git_version,
            },
            Ok(Err(error)) => ClusterHealth::Unreachable {
                reason: describe(&error),
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

/// The innermost cause is what a person can act on ("Connection refused"), not the wrapper chain.
fn describe(error: &kube::Error) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
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
