//! The namespaces of a cluster that the signed-in user may see. Kubernetes lets a user list
//! namespaces only cluster-wide; a project member usually may not, but may `get` the
//! namespaces of their projects. So: list as the user; if that is forbidden, list with the
//! console's credential and keep only those the user may `get` (one SelfSubjectAccessReview
//! per namespace, as the user, all at once).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceRow {
    pub name: String,
    /// Active or Terminating.
    pub phase: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisibleNamespaces {
    pub namespaces: Vec<NamespaceRow>,
    /// True when the user may list every namespace; false when the list was filtered.
    pub cluster_wide: bool,
}

#[cfg(feature = "ssr")]
pub use ssr::visible_namespaces;

#[cfg(feature = "ssr")]
mod ssr {
    use futures::future::join_all;
    use k8s_openapi::api::{
        authorization::v1::{
            ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
        },
        core::v1::Namespace,
    };
    use kube::{
        Api, Client,
        api::{ListParams, PostParams},
    };

    use super::{NamespaceRow, VisibleNamespaces};
    use crate::ConsoleError;
    use crate::platform::registry::ClusterRegistry;
    use console_api::identity::Identity;

    pub async fn visible_namespaces(
        registry: &ClusterRegistry,
        cluster: &str,
        identity: &Identity,
    ) -> Result<VisibleNamespaces, ConsoleError> {
        let as_user = registry.client_for(cluster, identity)?;
        match Api::<Namespace>::all(as_user.clone())
            .list(&ListParams::default())
            .await
        {
            Ok(list) => Ok(VisibleNamespaces {
                namespaces: list.items.iter().map(row).collect(),
                cluster_wide: true,
            }),
            Err(kube::Error::Api(status)) if status.code == 403 => {
                let all = Api::<Namespace>::all(registry.console_client(cluster)?)
                    .list(&ListParams::default())
                    .await
                    .map_err(|e| crate::platform::kube_error(cluster, e))?;
                let checks = all.items.iter().map(|ns| may_get(&as_user, ns));
                let allowed = join_all(checks).await;
                let mut namespaces = Vec::new();
                for (ns, allowed) in all.items.iter().zip(allowed) {
                    if allowed.map_err(|e| crate::platform::kube_error(cluster, e))? {
                        namespaces.push(row(ns));
                    }
                }
                Ok(VisibleNamespaces {
                    namespaces,
                    cluster_wide: false,
                })
            }
            Err(error) => Err(crate::platform::kube_error(cluster, error)),
        }
    }

    fn row(ns: &Namespace) -> NamespaceRow {
        NamespaceRow {
            name: ns.metadata.name.clone().unwrap_or_default(),
            phase: ns
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Active".into()),
        }
    }

    async fn may_get(as_user: &Client, ns: &Namespace) -> Result<bool, kube::Error> {
        let name = ns.metadata.name.clone().unwrap_or_default();
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some("get".into()),
                    resource: Some("namespaces".into()),
                    name: Some(name.clone()),
                    namespace: Some(name),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let answer = Api::<SelfSubjectAccessReview>::all(as_user.clone())
            .create(&PostParams::default(), &review)
            .await?;
        Ok(answer.status.is_some_and(|s| s.allowed))
    }
}
