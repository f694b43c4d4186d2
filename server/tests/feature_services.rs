//! The applications' and projects' service functions (`app::apps::service`,
//! `app::projects::service`), called directly as the `ac` CLI's server side and other tests do:
//! the user's RBAC on the sandbox's global cluster decides what they answer, and the input
//! checks refuse before any cluster is asked.

mod support;

use app::{
    ConsoleError, apps::manifest, apps::service as apps, auth::Identity,
    platform::registry::ClusterRegistry, projects::service as projects,
};
use support::sandbox;

fn identity(username: &str, groups: &[&str]) -> Identity {
    Identity {
        username: username.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        display_name: username.into(),
        local: false,
    }
}

#[tokio::test]
async fn listing_applications_is_the_users_own_read() {
    let sandbox = sandbox();
    let global = sandbox.cluster("global");
    let alice = global.client_as("alice@example.com", &["team-a"]).await;
    let listed = apps::list(alice, "team-a").await;
    assert!(listed.is_ok(), "alice lists team-a: {listed:?}");

    let bob = global.client_as("bob@example.com", &["team-b"]).await;
    match apps::list(bob.clone(), "team-a").await {
        Err(ConsoleError::Forbidden { .. }) => {}
        other => panic!("bob lists team-a: {other:?}"),
    }
    match apps::get(bob, "team-a", "anything").await {
        Err(ConsoleError::Forbidden { .. }) => {}
        other => panic!("bob reads an app of team-a: {other:?}"),
    }
    let admin = global.admin_client().await;
    match apps::get(admin, "team-a", "no-such-application-here").await {
        Err(ConsoleError::NotFound { .. }) => {}
        other => panic!("a missing application: {other:?}"),
    }
}

#[tokio::test]
async fn input_is_refused_before_any_cluster_is_asked() {
    let sandbox = sandbox();
    // An empty registry: any call to a cluster would fail with "not registered".
    let (registry, alice) = (
        ClusterRegistry::empty(),
        identity("alice@example.com", &["team-a"]),
    );
    let global = sandbox
        .cluster("global")
        .client_as("alice@example.com", &["team-a"])
        .await;
    let refused = |result: Result<(), ConsoleError>, what: &str| match result {
        Err(ConsoleError::Invalid { message }) => message,
        other => panic!("{what}: {other:?}"),
    };
    let message = refused(
        apps::scale(&registry, &alice, "team-a", "web", None, 5000).await,
        "5000 replicas",
    );
    assert!(message.contains("between 0 and 1000"), "{message}");
    let message = refused(
        apps::set_image(&registry, &alice, "team-a", "web", "web: 2").await,
        "an image with a space",
    );
    assert!(message.contains("not an image reference"), "{message}");
    match apps::list(global, "").await {
        Err(ConsoleError::Invalid { message }) => assert!(message.contains("project")),
        other => panic!("no project: {other:?}"),
    }

    let registry = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let manifest = manifest::from_form("web", "registry.example/web:1", 1, "east, nowhere")
        .unwrap_or_else(|e| panic!("{e}"));
    match apps::create(&registry, &alice, "team-a", manifest).await {
        Err(ConsoleError::Invalid { message }) => {
            assert!(
                message.contains("nowhere is not a registered cluster"),
                "{message}"
            )
        }
        other => panic!("an unregistered cluster: {other:?}"),
    }
}

#[tokio::test]
async fn projects_are_listed_as_their_members_see_them() {
    let sandbox = sandbox();
    let registry = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let names =
        |list: Vec<app::projects::ProjectRef>| list.into_iter().map(|p| p.name).collect::<Vec<_>>();
    let bob = projects::list(&registry, &identity("bob@example.com", &["team-b"]))
        .await
        .unwrap_or_else(|e| panic!("bob's projects: {e}"));
    assert!(
        !names(bob).contains(&"team-a".to_string()),
        "bob sees team-a"
    );
    let nobody = projects::list(&registry, &identity("nobody@example.com", &[]))
        .await
        .unwrap_or_else(|e| panic!("nobody's projects: {e}"));
    assert!(nobody.is_empty(), "a user of no team sees {nobody:?}");
}
