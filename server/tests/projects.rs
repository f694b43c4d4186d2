//! Projects against the sandbox, with the project controller running as the console: the
//! project's namespaces, RoleBindings and quota appear on global, east and west; a member may
//! work in them and nowhere else; a cluster with applications placed on it is not taken out of
//! the project unless forced, and forcing takes it out of their placement first.

mod support;

use app::{
    apps::resource::{Application, ApplicationSpec},
    platform::registry::ClusterRegistry,
    projects::resource::{Member, Project, ProjectCluster, ProjectSpec, Role},
};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ResourceQuota};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::{
    Api, Client,
    api::{DeleteParams, PostParams},
    runtime::watcher,
};
use support::{RUN_LABEL, eventually, sandbox};

/// A client acting as a user of `group` on `cluster` (the sandbox admin impersonating).
async fn as_group_member(cluster: &str, group: &str) -> Client {
    let mut config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(&sandbox().cluster(cluster).admin_kubeconfig)
            .unwrap_or_else(|e| panic!("{e}")),
        &Default::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    config.auth_info.impersonate = Some("dave@example.com".into());
    config.auth_info.impersonate_groups = Some(vec![group.into()]);
    Client::try_from(config).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_project_makes_its_namespaces_and_bindings_and_guards_its_clusters() {
    let sandbox = sandbox();
    let console = support::client_from(&sandbox.cluster("global").console_kubeconfig).await;
    server::controllers::install_crds(&console)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = support::run_id();
    let name = format!("p-{run}");
    let group = format!("team-{run}");
    let registry = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let task = tokio::spawn(server::controllers::projects::run(
        server::controllers::projects::Context::new(console, registry),
        watcher::Config::default().labels(&format!("{RUN_LABEL}={run}")),
    ));
    // Written as the platform administrator of the identity provider, whom the controller then
    // acts as (the author annotations say so, and the admission policy vouches for them).
    let (user, groups) = support::PLATFORM_ADMIN;
    let admin = sandbox.cluster("global").client_as(user, groups).await;
    let projects = Api::<Project>::all(admin.clone());
    let mut project = Project::new(
        &name,
        ProjectSpec {
            clusters: vec![
                ProjectCluster {
                    name: "east".into(),
                    namespace: None,
                },
                ProjectCluster {
                    name: "west".into(),
                    namespace: Some(format!("{name}-w")),
                },
            ],
            members: vec![Member {
                kind: "Group".into(),
                name: group.clone(),
                role: Role::Developer,
            }],
            quota: Some([("pods".to_string(), "10".to_string())].into()),
            ..ProjectSpec::default()
        },
    );
    project.metadata.labels = Some([(RUN_LABEL.to_string(), run.clone())].into());
    project.metadata.annotations = Some(support::authored_by(user, groups));
    projects
        .create(&PostParams::default(), &project)
        .await
        .unwrap_or_else(|e| panic!("project: {e}"));

    let state = eventually("namespaces ready", 60, || async {
        let state = projects
            .get_status(&name)
            .await
            .map_err(|e| e.to_string())?
            .status
            .unwrap_or_default();
        if state.namespaces.len() == 3 && state.namespaces.iter().all(|n| n.ready) {
            Ok(state)
        } else {
            Err(format!("{state:#?}"))
        }
    })
    .await;
    let on = |cluster: &str| {
        state
            .namespaces
            .iter()
            .find(|n| n.cluster == cluster)
            .map(|n| n.namespace.clone())
            .unwrap_or_default()
    };
    assert_eq!(on("global"), name);
    assert_eq!(on("west"), format!("{name}-w"));
    let east = sandbox.cluster("east").admin_client().await;
    let binding = Api::<RoleBinding>::namespaced(east.clone(), &name)
        .get("project-developer")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(binding.role_ref.name, "edit");
    let quota = Api::<ResourceQuota>::namespaced(east.clone(), &name)
        .get("project-quota")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        quota
            .spec
            .and_then(|s| s.hard)
            .is_some_and(|h| h.contains_key("pods"))
    );

    // A member works in the project's namespace, and not outside it.
    let member = as_group_member("east", &group).await;
    let map: ConfigMap = serde_json::from_value(serde_json::json!({"metadata": {"name": "hello"}}))
        .unwrap_or_else(|e| panic!("{e}"));
    Api::<ConfigMap>::namespaced(member.clone(), &name)
        .create(&PostParams::default(), &map)
        .await
        .unwrap_or_else(|e| panic!("a developer creates in the project: {e}"));
    let outside = Api::<ConfigMap>::namespaced(member, "default")
        .create(&PostParams::default(), &map)
        .await;
    assert!(matches!(outside, Err(kube::Error::Api(s)) if s.code == 403));

    // West has an application: not taken out unless forced.
    let apps = Api::<Application>::namespaced(admin.clone(), &name);
    let app = Application::new(
        "shop",
        ApplicationSpec {
            template: app::apps::resource::WorkloadTemplate {
                deployment: serde_json::json!({"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}),
                ..Default::default()
            },
            placement: vec!["east".into(), "west".into()],
            ..ApplicationSpec::default()
        },
    );
    apps.create(&PostParams::default(), &app)
        .await
        .unwrap_or_else(|e| panic!("application: {e}"));
    let refused = app::projects::service::remove_cluster(admin.clone(), &name, "west", false).await;
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("shop") && message.contains("still run on west"),
        "{message}"
    );
    let still = projects.get(&name).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(still.spec.clusters.len(), 2);

    let moved = app::projects::service::remove_cluster(admin.clone(), &name, "west", true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(moved, ["shop"]);
    let app = apps.get("shop").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(app.spec.placement, ["east"]);
    let project = projects.get(&name).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        project
            .spec
            .clusters
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["east"]
    );

    task.abort();
    let _ = apps.delete("shop", &DeleteParams::default()).await;
    let _ = projects.delete(&name, &DeleteParams::default()).await;
    for (cluster, ns) in [
        ("global", name.clone()),
        ("east", name.clone()),
        ("west", format!("{name}-w")),
    ] {
        let client = sandbox.cluster(cluster).admin_client().await;
        let _ = Api::<Namespace>::all(client)
            .delete(&ns, &DeleteParams::background())
            .await;
    }
}
