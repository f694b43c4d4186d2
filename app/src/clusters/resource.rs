//! The Cluster resource (`clusters.platform.nextgen-console.io`, cluster-scoped, on the global
//! cluster): one per managed cluster, with where it is, the Secret holding the console's
//! credential for it, and the status the console's controller keeps current.

use serde::{Deserialize, Serialize};

/// The API group of the console's own resources.
pub const GROUP: &str = "platform.nextgen-console.io";
/// Condition types the controller writes.
pub const REACHABLE: &str = "Reachable";
pub const VERSION_SUPPORTED: &str = "VersionSupported";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(kube::CustomResource, schemars::JsonSchema))]
#[cfg_attr(
    feature = "ssr",
    kube(
        group = "platform.nextgen-console.io",
        version = "v1alpha1",
        kind = "Cluster",
        plural = "clusters",
        status = "ClusterState",
        shortname = "ngcluster",
        printcolumn = r#"{"name":"Server","type":"string","jsonPath":".spec.server"}"#,
        printcolumn = r#"{"name":"Version","type":"string","jsonPath":".status.version"}"#,
        printcolumn = r#"{"name":"Nodes","type":"integer","jsonPath":".status.nodes"}"#,
        printcolumn = r#"{"name":"Reachable","type":"string","jsonPath":".status.conditions[?(@.type==\"Reachable\")].status"}"#
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    /// The name people see; the resource's name when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The API server's URL. Immutable: the credential was imported for this address, so
    /// pointing the Cluster elsewhere would send it there.
    #[cfg_attr(
        feature = "ssr",
        schemars(extend("x-kubernetes-validations" = [{
            "rule": "self == oldSelf",
            "message": "spec.server is immutable: the credential was imported for this address. To manage the cluster at another address, remove it and import it again."
        }]))
    )]
    pub server: String,
    /// Base64 of the PEM CA that signs the API server's certificate (as a kubeconfig's
    /// certificate-authority-data); the system's roots when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_data: Option<String>,
    /// The Secret with the console's credential for the cluster: `token`, or `tls.crt` and
    /// `tls.key` (a client certificate). Immutable, and used only when the Secret has an owner
    /// reference to this Cluster (kind, name and uid), as the import creates it.
    #[cfg_attr(
        feature = "ssr",
        schemars(extend("x-kubernetes-validations" = [{
            "rule": "self == oldSelf",
            "message": "spec.credentialSecret is immutable: the credential belongs to this Cluster. To use another credential, remove the cluster and import it again."
        }]))
    )]
    pub credential_secret: SecretRef,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SecretRef {
    pub namespace: String,
    pub name: String,
}

/// What the controller last found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClusterState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_nodes: Option<u32>,
    #[serde(default)]
    pub conditions: Vec<ClusterCondition>,
    /// RFC 3339 time of the last probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_probe_time: Option<String>,
    /// Probes failed in a row; the controller backs off on it.
    #[serde(default)]
    pub consecutive_failures: u32,
    /// The spec generation the last probe used: a changed spec is probed at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClusterCondition {
    #[serde(rename = "type")]
    pub type_: String,
    /// "True", "False" or "Unknown".
    pub status: String,
    pub reason: String,
    pub message: String,
    pub last_transition_time: String,
}

impl ClusterState {
    pub fn condition(&self, type_: &str) -> Option<&ClusterCondition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    /// Sets a condition, keeping its transition time when its status did not change.
    pub fn set_condition(
        &mut self,
        type_: &str,
        ok: Option<bool>,
        reason: &str,
        message: String,
        now: &str,
    ) {
        let status = match ok {
            Some(true) => "True",
            Some(false) => "False",
            None => "Unknown",
        };
        let last_transition_time = match self.condition(type_) {
            Some(c) if c.status == status => c.last_transition_time.clone(),
            _ => now.to_string(),
        };
        let condition = ClusterCondition {
            type_: type_.into(),
            status: status.into(),
            reason: reason.into(),
            message,
            last_transition_time,
        };
        match self.conditions.iter_mut().find(|c| c.type_ == type_) {
            Some(existing) => *existing = condition,
            None => self.conditions.push(condition),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "ssr")]
    #[test]
    fn server_and_credential_secret_are_immutable_in_the_crd() {
        use kube::CustomResourceExt as _;
        let crd = serde_json::to_value(Cluster::crd()).unwrap_or_default();
        let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
        for field in ["server", "credentialSecret"] {
            let rules = &spec[field]["x-kubernetes-validations"];
            assert_eq!(rules[0]["rule"], "self == oldSelf", "{field}: {spec:#}");
            let message = rules[0]["message"].as_str().unwrap_or_default();
            assert!(message.contains("import it again"), "{message}");
        }
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_credential_counts_only_when_its_secret_is_owned_by_that_very_cluster() {
        use k8s_openapi::api::core::v1::Secret;

        use super::ssr::{credential_owner, owned_by};
        let cluster = |name: &str, uid: &str| {
            let mut c = Cluster::new(name, ClusterSpec::default());
            c.metadata.uid = Some(uid.into());
            c
        };
        let east = cluster("east", "uid-east");
        let owned = |owners: Vec<_>| {
            let mut secret = Secret::default();
            secret.metadata.owner_references = Some(owners);
            secret
        };
        let own = |c: &Cluster| credential_owner(c).unwrap_or_default();
        assert!(owned_by(&owned(vec![own(&east)]), &east));
        // Another cluster's Secret, one re-created under the same name, and one owned by
        // something else of that name are all refused.
        assert!(!owned_by(
            &owned(vec![own(&cluster("west", "uid-west"))]),
            &east
        ));
        assert!(!owned_by(
            &owned(vec![own(&cluster("east", "uid-old"))]),
            &east
        ));
        let mut deployment = own(&east);
        deployment.kind = "Deployment".into();
        deployment.api_version = "apps/v1".into();
        assert!(!owned_by(&owned(vec![deployment]), &east));
        assert!(!owned_by(&Secret::default(), &east));
        // A Cluster that did not come from the API server has no uid and owns nothing.
        assert!(credential_owner(&Cluster::new("east", ClusterSpec::default())).is_none());
    }

    #[test]
    fn a_condition_keeps_its_transition_time_until_its_status_changes() {
        let mut state = ClusterState::default();
        state.set_condition(REACHABLE, Some(true), "Probed", "ok".into(), "t1");
        state.set_condition(REACHABLE, Some(true), "Probed", "still ok".into(), "t2");
        let c = state.condition(REACHABLE).cloned().unwrap_or_default();
        assert_eq!(
            (
                c.status.as_str(),
                c.last_transition_time.as_str(),
                c.message.as_str()
            ),
            ("True", "t1", "still ok")
        );
        state.set_condition(
            REACHABLE,
            Some(false),
            "Unreachable",
            "refused".into(),
            "t3",
        );
        let c = state.condition(REACHABLE).cloned().unwrap_or_default();
        assert_eq!(
            (c.status.as_str(), c.last_transition_time.as_str()),
            ("False", "t3")
        );
        assert_eq!(state.conditions.len(), 1);
    }
}

/// Server side: the console's own client for a Cluster resource, built from its spec and the
/// credential Secret on the global cluster.
#[cfg(feature = "ssr")]
pub mod ssr {
    use k8s_openapi::{api::core::v1::Secret, apimachinery::pkg::apis::meta::v1::OwnerReference};
    use kube::{
        Api, Client, Config, Resource,
        config::{
            AuthInfo, KubeConfigOptions, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
        },
    };

    use super::Cluster;

    /// How long connecting to a registered cluster may take. Reads have no timeout: watches
    /// and followed logs stay open as long as the cluster keeps them (kube's watcher and the
    /// API server end idle watches); calls that must answer soon carry their own timeout.
    const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

    #[derive(Debug, thiserror::Error)]
    pub enum CredentialError {
        #[error(
            "secret {namespace}/{name} cannot be read with the console's credential on global: {reason}"
        )]
        Unreadable {
            namespace: String,
            name: String,
            reason: String,
        },
        #[error(
            "credential Secret {namespace}/{name} does not exist; re-import the cluster if it does not appear"
        )]
        Missing { namespace: String, name: String },
        #[error(
            "credential Secret {namespace}/{name} is not owned by Cluster {cluster}; re-import the cluster"
        )]
        NotOwned {
            namespace: String,
            name: String,
            cluster: String,
        },
        #[error("secret {namespace}/{name} holds neither `token` nor `tls.crt` and `tls.key`")]
        Empty { namespace: String, name: String },
        #[error("cluster {name}: {reason}")]
        Config { name: String, reason: String },
    }

    /// The owner reference that ties a credential Secret to `cluster` (which must have come
    /// from the API server, so that it has a uid). Not a controller reference, and it does not
    /// block the Cluster's deletion: deleting the Cluster garbage-collects the Secret.
    pub fn credential_owner(cluster: &Cluster) -> Option<OwnerReference> {
        cluster.owner_ref(&())
    }

    /// Whether `secret` carries an owner reference to exactly `cluster` (kind, group, name and
    /// uid): only then may the console use it as that cluster's credential. Anyone who may
    /// edit Cluster resources could otherwise point one at another cluster's Secret.
    pub fn owned_by(secret: &Secret, cluster: &Cluster) -> bool {
        let (Some(name), Some(uid)) = (&cluster.metadata.name, &cluster.metadata.uid) else {
            return false;
        };
        secret.metadata.owner_references.iter().flatten().any(|r| {
            r.kind == Cluster::kind(&())
                && r.api_version.split('/').next() == Some(&*Cluster::group(&()))
                && &r.name == name
                && &r.uid == uid
        })
    }

    /// A client for the cluster `cluster` describes, as the console (never as a user).
    pub async fn console_client(
        global: &Client,
        cluster: &Cluster,
    ) -> Result<Client, CredentialError> {
        use base64::Engine as _;
        let name = cluster.metadata.name.clone().unwrap_or_default();
        let secret_ref = &cluster.spec.credential_secret;
        let secret = Api::<Secret>::namespaced(global.clone(), &secret_ref.namespace)
            .get(&secret_ref.name)
            .await
            .map_err(|e| match e {
                kube::Error::Api(status) if status.code == 404 => CredentialError::Missing {
                    namespace: secret_ref.namespace.clone(),
                    name: secret_ref.name.clone(),
                },
                e => CredentialError::Unreadable {
                    namespace: secret_ref.namespace.clone(),
                    name: secret_ref.name.clone(),
                    reason: e.to_string(),
                },
            })?;
        if !owned_by(&secret, cluster) {
            return Err(CredentialError::NotOwned {
                namespace: secret_ref.namespace.clone(),
                name: secret_ref.name.clone(),
                cluster: name,
            });
        }
        let data = secret.data.unwrap_or_default();
        let b64 = |key: &str| {
            data.get(key)
                .map(|v| base64::engine::general_purpose::STANDARD.encode(&v.0))
        };
        let token = data
            .get("token")
            .map(|v| String::from_utf8_lossy(&v.0).trim().to_string());
        let (cert, key) = (b64("tls.crt"), b64("tls.key"));
        if token.is_none() && (cert.is_none() || key.is_none()) {
            return Err(CredentialError::Empty {
                namespace: secret_ref.namespace.clone(),
                name: secret_ref.name.clone(),
            });
        }
        let kubeconfig = Kubeconfig {
            clusters: vec![NamedCluster {
                name: name.clone(),
                cluster: Some(kube::config::Cluster {
                    server: Some(cluster.spec.server.clone()),
                    certificate_authority_data: cluster.spec.ca_data.clone(),
                    ..kube::config::Cluster::default()
                }),
                ..NamedCluster::default()
            }],
            auth_infos: vec![NamedAuthInfo {
                name: name.clone(),
                auth_info: Some(AuthInfo {
                    token: token.map(Into::into),
                    client_certificate_data: cert,
                    client_key_data: key.map(Into::into),
                    ..AuthInfo::default()
                }),
                ..NamedAuthInfo::default()
            }],
            contexts: vec![NamedContext {
                name: name.clone(),
                context: Some(kube::config::Context {
                    cluster: name.clone(),
                    user: Some(name.clone()),
                    ..kube::config::Context::default()
                }),
                ..NamedContext::default()
            }],
            current_context: Some(name.clone()),
            ..Kubeconfig::default()
        };
        let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .map_err(|e| CredentialError::Config {
                name: name.clone(),
                reason: e.to_string(),
            })?;
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        config.read_timeout = None;
        Client::try_from(config).map_err(|e| CredentialError::Config {
            name,
            reason: e.to_string(),
        })
    }
}
