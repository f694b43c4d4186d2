//! Permission checks against the sandbox's real RBAC, on a cluster with 60 operator CRDs: the
//! console's answers from one rules review must agree with the apiserver's own access review
//! for every kind and verb, and come from the cache the second time.

mod support;

use app::{
    access::{AccessCheck, VERBS, ssr::AccessCache},
    auth::Identity,
    platform::registry::ClusterRegistry,
};
use futures::{StreamExt, stream};
use support::{install_operator_crds, mixed_rbac_namespace, sandbox};

const OPERATOR_CRDS: usize = 60;
const READABLE: usize = 30;

fn alice() -> Identity {
    Identity {
        username: "alice@example.com".into(),
        groups: vec!["team-a".into()],
        display_name: "alice".into(),
        local: false,
    }
}

#[tokio::test]
async fn answers_from_one_rules_review_agree_with_access_reviews_across_sixty_crds() {
    let sandbox = sandbox();
    let east = sandbox.cluster("east");
    install_operator_crds(east, OPERATOR_CRDS).await;
    let ns = mixed_rbac_namespace(east, "team-a", READABLE).await;
    let registry = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
        .await
        .unwrap_or_else(|e| panic!("registry: {e}"));
    let cache = AccessCache::default();
    let alice = alice();

    let access = cache
        .namespace_access(&registry, "east", &alice, &ns.name)
        .await
        .unwrap_or_else(|e| panic!("namespace access: {e}"));
    let operators = access
        .kinds
        .iter()
        .filter(|k| k.group.ends_with(".perf.nextgen-console.io"))
        .count();
    assert!(
        operators >= OPERATOR_CRDS,
        "{operators} operator kinds listed"
    );
    assert_eq!(
        access.reviews, 1,
        "one rules review answers every kind and verb"
    );

    // Every answer against the apiserver's own access review, 16 at a time.
    let checks: Vec<(AccessCheck, bool)> = access
        .kinds
        .iter()
        .flat_map(|k| {
            k.verbs.iter().zip(VERBS).filter_map(|(answer, verb)| {
                answer.map(|allowed| {
                    (
                        AccessCheck::new(verb, &k.group, &k.resource).in_namespace(&ns.name),
                        allowed,
                    )
                })
            })
        })
        .collect();
    assert!(checks.len() > 7 * OPERATOR_CRDS, "{} checks", checks.len());
    let as_alice = registry
        .client_for("east", &alice)
        .unwrap_or_else(|e| panic!("{e}"));
    let mismatches: Vec<String> = stream::iter(checks.iter())
        .map(|(check, ours)| {
            let as_alice = &as_alice;
            async move {
                let truth = support::access_review(as_alice, check).await;
                (truth != *ours).then(|| format!("{check:?}: console {ours}, apiserver {truth}"))
            }
        })
        .buffer_unordered(16)
        .filter_map(|m| async move { m })
        .collect()
        .await;
    assert!(mismatches.is_empty(), "disagreements: {mismatches:#?}");

    let verb = |group: &str, resource: &str, verb: &str| {
        let kind = access
            .kinds
            .iter()
            .find(|k| k.group == group && k.resource == resource)
            .unwrap_or_else(|| panic!("{group}/{resource} not listed"));
        let column = VERBS.iter().position(|v| *v == verb).unwrap_or(0);
        kind.verbs[column]
    };
    let first = support::operator_group(0);
    let last = support::operator_group(OPERATOR_CRDS - 1);
    assert_eq!(verb(&first, "widget00s", "list"), Some(true));
    assert_eq!(verb(&first, "widget00s", "delete"), Some(false));
    assert_eq!(verb(&last, "widget59s", "get"), Some(false));
    assert_eq!(verb("apps", "deployments", "create"), Some(true));
    assert_eq!(verb("", "pods", "update"), Some(true));

    // The same page again within the cache's lifetime asks the cluster nothing.
    let again = cache
        .namespace_access(&registry, "east", &alice, &ns.name)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.reviews, 0);
    assert_eq!(again.kinds, access.kinds);

    // Named and cluster-scoped checks.
    let (answers, _) = cache
        .decide(
            &registry,
            "east",
            &alice,
            &[
                AccessCheck::new("get", "rbac.authorization.k8s.io", "roles")
                    .in_namespace(&ns.name)
                    .named("operator-reader"),
                AccessCheck::new("get", "rbac.authorization.k8s.io", "roles")
                    .in_namespace(&ns.name)
                    .named("other"),
                AccessCheck::new("list", "", "nodes"),
                AccessCheck::new("delete", "", "namespaces")
                    .in_namespace(&ns.name)
                    .named(&ns.name),
            ],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answers, [true, false, false, false]);
}

#[tokio::test]
async fn a_platform_admin_may_do_everything_and_an_auditor_only_read() {
    let sandbox = sandbox();
    let east = sandbox.cluster("east");
    let ns = support::TestNamespace::create(east, "audit").await;
    let registry = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
        .await
        .unwrap_or_else(|e| panic!("registry: {e}"));
    let cache = AccessCache::default();
    let who = |name: &str, group: &str| Identity {
        username: format!("{name}@example.com"),
        groups: vec![group.into()],
        display_name: name.into(),
        local: false,
    };
    let checks = [
        AccessCheck::new("list", "apps", "deployments").in_namespace(&ns.name),
        AccessCheck::new("create", "apps", "deployments").in_namespace(&ns.name),
        AccessCheck::new("delete", "", "namespaces")
            .in_namespace(&ns.name)
            .named(&ns.name),
    ];
    let (admin, _) = cache
        .decide(&registry, "east", &who("admin", "platform-admins"), &checks)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(admin, [true, true, true]);
    let (carol, _) = cache
        .decide(&registry, "east", &who("carol", "auditors"), &checks)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(carol, [true, false, false]);
}
