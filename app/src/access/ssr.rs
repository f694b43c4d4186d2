//! Server side of access checks: rules reviews as the user, kept briefly per identity, and the
//! kinds each cluster serves (from aggregated discovery, two requests per cluster).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::future::{join_all, try_join_all};
use k8s_openapi::api::{
    authorization::v1::{
        ResourceAttributes, ResourceRule, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
        SelfSubjectRulesReview, SelfSubjectRulesReviewSpec,
    },
    core::v1::Namespace,
};
use kube::{
    Api, Client,
    api::{DeleteParams, PostParams},
    discovery::{Discovery, Scope},
};
use leptos::prelude::use_context;
use moka::future::Cache;

use super::{AccessCheck, AccessMatrix, KindAccess, VERBS, rules};
use crate::{
    ConsoleError,
    platform::{kube_error, registry::ClusterRegistry},
};
use console_api::identity::Identity;

/// How long an answer is reused: long enough that one page's checks, and the next page's,
/// cost one review; short enough that a changed RoleBinding shows within seconds.
pub const RULES_TTL: Duration = Duration::from_secs(10);
/// Served kinds change only when CRDs or aggregated APIs come and go.
const KINDS_TTL: Duration = Duration::from_secs(60);

/// Who asks where: the cache key's first half.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Asker {
    cluster: String,
    user: String,
    groups: Vec<String>,
    local: bool,
}

impl Asker {
    fn new(cluster: &str, identity: &Identity) -> Self {
        Self {
            cluster: cluster.into(),
            user: identity.username.clone(),
            groups: identity.groups.clone(),
            local: identity.local,
        }
    }
}

/// One namespace's rules for one user, as the cluster answered.
struct NamespaceRules {
    rules: Vec<ResourceRule>,
    /// The cluster could not list every rule (an authorizer that cannot enumerate, such as a
    /// webhook): a denial from these rules must be confirmed with an access review.
    incomplete: bool,
}

#[derive(Clone, Debug)]
struct ServedKind {
    group: String,
    kind: String,
    resource: String,
    verbs: Vec<String>,
}

/// Shared by every request of the server; cheap to clone.
#[derive(Clone)]
pub struct AccessCache {
    rules: Cache<(Asker, String), Arc<NamespaceRules>>,
    reviews: Cache<(Asker, AccessCheck), bool>,
    kinds: Cache<String, Arc<Vec<ServedKind>>>,
}

impl Default for AccessCache {
    fn default() -> Self {
        Self::new(RULES_TTL)
    }
}

/// The access cache of this server (provided as context to every request).
pub fn cache() -> Result<AccessCache, ConsoleError> {
    use_context::<AccessCache>().ok_or_else(|| ConsoleError::Internal {
        message: "the access cache is not available to this request".into(),
    })
}

impl AccessCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            rules: Cache::builder()
                .max_capacity(20_000)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build(),
            reviews: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build(),
            kinds: Cache::builder()
                .max_capacity(1_000)
                .time_to_live(KINDS_TTL)
                .build(),
        }
    }

    /// Drops what is cached for `identity` on `cluster` (after it changed something there).
    pub fn forget(&self, cluster: &str, identity: &Identity) {
        let asker = Asker::new(cluster, identity);
        let (a, b) = (asker.clone(), asker);
        // Both only fail when invalidation closures are not enabled, which `new` does.
        let _ = self.rules.invalidate_entries_if(move |(k, _), _| *k == a);
        let _ = self.reviews.invalidate_entries_if(move |(k, _), _| *k == b);
    }

    /// Answers `checks` in order, and how many review requests reached the cluster. Checks in
    /// a namespace share that namespace's rules review (fetched once, concurrently with the
    /// other namespaces'); cluster-scoped checks, and denials from incomplete rules, get an
    /// access review each, all at once.
    pub async fn decide(
        &self,
        registry: &ClusterRegistry,
        cluster: &str,
        identity: &Identity,
        checks: &[AccessCheck],
    ) -> Result<(Vec<bool>, usize), ConsoleError> {
        let as_user = registry.client_for(cluster, identity)?;
        let asker = Asker::new(cluster, identity);
        let sent = AtomicUsize::new(0);

        let mut namespaces: Vec<&str> = checks
            .iter()
            .filter_map(|c| c.namespace.as_deref())
            .collect();
        namespaces.sort_unstable();
        namespaces.dedup();
        let fetched = try_join_all(
            namespaces
                .iter()
                .map(|ns| self.namespace_rules(&as_user, &asker, ns, &sent)),
        )
        .await?;

        let answers = checks.iter().map(|check| {
            let from_rules = check.namespace.as_deref().and_then(|ns| {
                let index = namespaces.binary_search(&ns).ok()?;
                let rules = &fetched[index];
                let allowed = rules::allows(&rules.rules, check);
                (allowed || !rules.incomplete).then_some(allowed)
            });
            let (as_user, asker, sent) = (&as_user, &asker, &sent);
            async move {
                match from_rules {
                    Some(allowed) => Ok(allowed),
                    None => self.review(as_user, asker, check, sent).await,
                }
            }
        });
        let decisions = join_all(answers)
            .await
            .into_iter()
            .collect::<Result<Vec<bool>, ConsoleError>>()?;
        Ok((decisions, sent.load(Ordering::Relaxed)))
    }

    async fn namespace_rules(
        &self,
        as_user: &Client,
        asker: &Asker,
        namespace: &str,
        sent: &AtomicUsize,
    ) -> Result<Arc<NamespaceRules>, ConsoleError> {
        self.rules
            .try_get_with((asker.clone(), namespace.to_string()), async {
                sent.fetch_add(1, Ordering::Relaxed);
                let review = SelfSubjectRulesReview {
                    spec: SelfSubjectRulesReviewSpec {
                        namespace: Some(namespace.into()),
                    },
                    ..SelfSubjectRulesReview::default()
                };
                let answer = Api::<SelfSubjectRulesReview>::all(as_user.clone())
                    .create(&PostParams::default(), &review)
                    .await
                    .map_err(|e| kube_error(&asker.cluster, e))?;
                let status = answer.status.unwrap_or_default();
                Ok::<_, ConsoleError>(Arc::new(NamespaceRules {
                    rules: status.resource_rules,
                    incomplete: status.incomplete,
                }))
            })
            .await
            .map_err(|e| (*e).clone())
    }

    async fn review(
        &self,
        as_user: &Client,
        asker: &Asker,
        check: &AccessCheck,
        sent: &AtomicUsize,
    ) -> Result<bool, ConsoleError> {
        self.reviews
            .try_get_with((asker.clone(), check.clone()), async {
                sent.fetch_add(1, Ordering::Relaxed);
                let (resource, subresource) = match check.resource.split_once('/') {
                    Some((r, s)) => (r.to_string(), Some(s.to_string())),
                    None => (check.resource.clone(), None),
                };
                let review = SelfSubjectAccessReview {
                    spec: SelfSubjectAccessReviewSpec {
                        resource_attributes: Some(ResourceAttributes {
                            verb: Some(check.verb.clone()),
                            group: Some(check.group.clone()),
                            resource: Some(resource),
                            subresource,
                            namespace: check.namespace.clone(),
                            name: check.name.clone(),
                            ..ResourceAttributes::default()
                        }),
                        ..SelfSubjectAccessReviewSpec::default()
                    },
                    ..SelfSubjectAccessReview::default()
                };
                let answer = Api::<SelfSubjectAccessReview>::all(as_user.clone())
                    .create(&PostParams::default(), &review)
                    .await
                    .map_err(|e| kube_error(&asker.cluster, e))?;
                Ok::<_, ConsoleError>(answer.status.is_some_and(|s| s.allowed))
            })
            .await
            .map_err(|e| (*e).clone())
    }

    /// The kinds `cluster` serves, from the console's own discovery (the same for every user).
    async fn served_kinds(
        &self,
        registry: &ClusterRegistry,
        cluster: &str,
    ) -> Result<Arc<Vec<ServedKind>>, ConsoleError> {
        let client = registry.console_client(cluster)?;
        self.kinds
            .try_get_with(cluster.to_string(), async {
                // Aggregated discovery (Kubernetes 1.30+) is two requests; older clusters get
                // the classic walk over every group version.
                let discovery = match Discovery::new(client.clone()).run_aggregated().await {
                    Ok(d) => d,
                    Err(_) => Discovery::new(client)
                        .run()
                        .await
                        .map_err(|e| kube_error(cluster, e))?,
                };
                let mut kinds: Vec<ServedKind> = discovery
                    .groups()
                    .flat_map(|g| g.recommended_resources())
                    .filter(|(_, caps)| caps.scope == Scope::Namespaced)
                    .map(|(resource, caps)| ServedKind {
                        group: resource.group,
                        kind: resource.kind,
                        resource: resource.plural,
                        verbs: caps.operations,
                    })
                    .collect();
                kinds.sort_by(|a, b| (&a.group, &a.kind).cmp(&(&b.group, &b.kind)));
                kinds.dedup_by(|a, b| a.group == b.group && a.resource == b.resource);
                Ok::<_, ConsoleError>(Arc::new(kinds))
            })
            .await
            .map_err(|e| (*e).clone())
    }

    /// Every namespaced kind of `cluster` against every verb of [`VERBS`] it supports, for
    /// `identity` in `namespace`: one rules review however many kinds there are.
    pub async fn namespace_access(
        &self,
        registry: &ClusterRegistry,
        cluster: &str,
        identity: &Identity,
        namespace: &str,
    ) -> Result<AccessMatrix, ConsoleError> {
        let kinds = self.served_kinds(registry, cluster).await?;
        let mut checks = Vec::with_capacity(kinds.len() * VERBS.len());
        for kind in kinds.iter() {
            for verb in VERBS {
                if kind.verbs.iter().any(|v| v == verb) {
                    checks.push(
                        AccessCheck::new(verb, &kind.group, &kind.resource).in_namespace(namespace),
                    );
                }
            }
        }
        let (decisions, reviews) = self.decide(registry, cluster, identity, &checks).await?;
        let mut answers = decisions.into_iter();
        let kinds = kinds
            .iter()
            .map(|kind| KindAccess {
                group: kind.group.clone(),
                kind: kind.kind.clone(),
                resource: kind.resource.clone(),
                verbs: VERBS
                    .iter()
                    .map(|verb| {
                        kind.verbs
                            .iter()
                            .any(|v| v == verb)
                            .then(|| answers.next().unwrap_or(false))
                    })
                    .collect(),
            })
            .collect();
        Ok(AccessMatrix {
            cluster: cluster.into(),
            namespace: namespace.into(),
            user: identity.username.clone(),
            kinds,
            reviews,
        })
    }
}

/// Deletes `namespace` as `identity`; the cluster's RBAC decides.
pub async fn delete_namespace(
    registry: &ClusterRegistry,
    cluster: &str,
    identity: &Identity,
    namespace: &str,
) -> Result<(), ConsoleError> {
    Api::<Namespace>::all(registry.client_for(cluster, identity)?)
        .delete(namespace, &DeleteParams::default())
        .await
        .map(|_| ())
        .map_err(|e| kube_error(cluster, e))
}
