//! The console's own client for a Cluster resource, built from its spec and the credential
//! Secret on the global cluster (which must be owned by that very Cluster).

use k8s_openapi::{api::core::v1::Secret, apimachinery::pkg::apis::meta::v1::OwnerReference};
use kube::{
    Api, Client, Config, Resource,
    config::{AuthInfo, KubeConfigOptions, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext},
};

use console_api::cluster::Cluster;

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
pub async fn console_client(global: &Client, cluster: &Cluster) -> Result<Client, CredentialError> {
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

#[cfg(test)]
mod tests {
    use console_api::cluster::{Cluster, ClusterSpec};

    #[test]
    fn a_credential_counts_only_when_its_secret_is_owned_by_that_very_cluster() {
        use k8s_openapi::api::core::v1::Secret;

        use super::{credential_owner, owned_by};
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
}
