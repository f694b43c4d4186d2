//! The controllers never do more than the author of a resource may (issue: security). Against
//! the sandbox, with the console's application and project controllers running as the console:
//! - bob, with `edit` on a project's namespace on global and nothing on east, gets nothing on
//!   east: without an author nothing is applied, another user's name is refused at admission,
//!   and as himself the controller applies as bob, so east refuses and the status says why;
//! - a placement outside the project is refused, and an object the console did not make is not
//!   taken over;
//! - a Project cannot bind roles in a system namespace or another project's namespace, and its
//!   RoleBindings are made only as far as its author may grant them.

mod support;

use app::{
    access::author::{AUTHOR_ANNOTATION, AUTHOR_GROUPS_ANNOTATION},
    apps::resource::{
        AUTHORIZED, Application, ApplicationSpec, ApplicationState, FINALIZER, Health,
        WorkloadTemplate,
    },
    platform::registry::ClusterRegistry,
    projects::resource::{Member, Project, ProjectCluster, ProjectSpec, ProjectState, Role},
};
use k8s_openapi::api::{apps::v1::Deployment, rbac::v1::RoleBinding};
use kube::{
    Api, ResourceExt,
    api::{DeleteParams, Patch, PatchParams, PostParams},
    runtime::watcher,
};
use serde_json::json;
use support::{PLATFORM_ADMIN, RUN_LABEL, TestNamespace, authored_by, eventually, sandbox};

const BOB: &str = "bob@example.com";

/// A project `name` on east only, whose namespace on global bob may edit (and nothing on east),
/// with the application and project controllers for this run.
struct Fixture {
    run: String,
    name: String,
    _ns: Vec<TestNamespace>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let name = self.name.clone();
        support::block_on_own_runtime(async move {
            let admin = sandbox().cluster("global").admin_client().await;
            support::release_applications(&admin, &name).await;
            let _ = Api::<Project>::all(admin)
                .delete(&name, &DeleteParams::background())
                .await;
        });
    }
}

async fn start() -> Fixture {
    let sandbox = sandbox();
    let console = support::client_from(&sandbox.cluster("global").console_kubeconfig).await;
    server::controllers::install_crds(&console)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = support::run_id();
    let name = format!("t-auth-{run}");
    let mut ns = Vec::new();
    for cluster in ["global", "east"] {
        ns.push(TestNamespace::named(sandbox.cluster(cluster), &name).await);
    }
    let admin = sandbox.cluster("global").admin_client().await;
    let project = Project::new(
        &name,
        ProjectSpec {
            clusters: vec![ProjectCluster {
                name: "east".into(),
                namespace: None,
            }],
            ..ProjectSpec::default()
        },
    );
    Api::<Project>::all(admin.clone())
        .create(&PostParams::default(), &project)
        .await
        .unwrap_or_else(|e| panic!("project: {e}"));
    // bob may edit in the project's namespace on global (Applications aggregate into edit),
    // and has no binding at all on east.
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "bob-edit"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": BOB}],
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    Api::<RoleBinding>::namespaced(admin, &name)
        .create(&PostParams::default(), &binding)
        .await
        .unwrap_or_else(|e| panic!("binding: {e}"));
    let registry = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let watch = watcher::Config::default().labels(&format!("{RUN_LABEL}={run}"));
    let tasks = vec![
        tokio::spawn(server::controllers::apps::run(
            server::controllers::apps::Context::new(console.clone(), registry.clone()),
            watch.clone(),
        )),
        tokio::spawn(server::controllers::projects::run(
            server::controllers::projects::Context::new(console, registry),
            watch,
        )),
    ];
    Fixture {
        run,
        name,
        _ns: ns,
        tasks,
    }
}

/// What bob sent through the proxy: a privileged pod with the host's root mounted.
fn privileged() -> WorkloadTemplate {
    WorkloadTemplate {
        deployment: json!({
            "replicas": 1,
            "template": {"spec": {
                "containers": [{
                    "name": "root", "image": "registry.example/shell:1",
                    "securityContext": {"privileged": true},
                    "volumeMounts": [{"name": "host", "mountPath": "/host"}],
                }],
                "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
            }}
        }),
        ..WorkloadTemplate::default()
    }
}

impl Fixture {
    fn application(
        &self,
        name: &str,
        placement: &[&str],
        annotations: Option<std::collections::BTreeMap<String, String>>,
    ) -> Application {
        let mut app = Application::new(
            name,
            ApplicationSpec {
                template: privileged(),
                placement: placement.iter().map(|c| c.to_string()).collect(),
                ..ApplicationSpec::default()
            },
        );
        app.metadata.labels = Some([(RUN_LABEL.to_string(), self.run.clone())].into());
        app.metadata.annotations = annotations;
        app
    }

    async fn apps_as(&self, user: &str, groups: &[&str]) -> Api<Application> {
        Api::namespaced(
            sandbox().cluster("global").client_as(user, groups).await,
            &self.name,
        )
    }

    async fn until(
        &self,
        app: &str,
        what: &str,
        want: impl Fn(&ApplicationState) -> bool,
    ) -> ApplicationState {
        let apps = self.apps_as(PLATFORM_ADMIN.0, PLATFORM_ADMIN.1).await;
        support::application_state(&apps, app, what, 60, want).await
    }

    async fn deployment_on(&self, cluster: &str, name: &str) -> Option<Deployment> {
        Api::<Deployment>::namespaced(sandbox().cluster(cluster).admin_client().await, &self.name)
            .get_opt(name)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

fn refusal(error: Result<Application, kube::Error>) -> String {
    match error {
        Err(kube::Error::Api(status)) => {
            assert!(
                status.code == 403 || status.code == 422,
                "refused with {}: {}",
                status.code,
                status.message
            );
            status.message
        }
        other => panic!("expected a refusal at admission, got {other:?}"),
    }
}

#[tokio::test]
async fn bob_with_edit_on_global_and_nothing_on_east_gets_nothing_on_east() {
    let f = start().await;
    let bob = f.apps_as(BOB, &[]).await;

    // Without an author: accepted on global, and nothing applied anywhere.
    bob.create(
        &PostParams::default(),
        &f.application("anon", &["east"], None),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let state = f
        .until("anon", "refused for want of an author", |s| {
            s.condition(AUTHORIZED)
                .is_some_and(|c| c.status == "False" && c.reason == "AuthorUnknown")
        })
        .await;
    assert_eq!(state.health, Health::Refused);
    assert!(state.message.contains("no author"), "{}", state.message);

    // Naming someone else, or a group bob is not in, is refused at admission.
    let message = refusal(
        bob.create(
            &PostParams::default(),
            &f.application(
                "forged",
                &["east"],
                Some(authored_by(PLATFORM_ADMIN.0, PLATFORM_ADMIN.1)),
            ),
        )
        .await,
    );
    assert!(
        message.contains(AUTHOR_ANNOTATION) && message.contains(BOB),
        "{message}"
    );
    let message = refusal(
        bob.create(
            &PostParams::default(),
            &f.application(
                "grouped",
                &["east"],
                Some(authored_by(BOB, &["platform-admins"])),
            ),
        )
        .await,
    );
    assert!(message.contains(AUTHOR_GROUPS_ANNOTATION), "{message}");

    // As himself: the controller applies as bob, east refuses, the status says why.
    bob.create(
        &PostParams::default(),
        &f.application("mine", &["east"], Some(authored_by(BOB, &[]))),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let state = f
        .until("mine", "refused on east", |s| {
            s.clusters
                .iter()
                .any(|c| c.cluster == "east" && c.health == Health::Refused)
        })
        .await;
    let east = state.clusters.iter().find(|c| c.cluster == "east");
    let reason = east.and_then(|c| c.last_error.clone()).unwrap_or_default();
    assert!(
        reason.contains("bob@example.com may not apply") && reason.contains("forbidden"),
        "{reason}"
    );
    let authorized = state
        .condition(AUTHORIZED)
        .unwrap_or_else(|| panic!("{state:#?}"));
    assert_eq!(
        (authorized.status.as_str(), authorized.reason.as_str()),
        ("False", "Forbidden")
    );
    assert_eq!(state.author.as_deref(), Some(BOB));

    // bob may not change the author of the platform admin's application either, but a change
    // that leaves spec and author alone (a label) passes.
    let admin = f.apps_as(PLATFORM_ADMIN.0, PLATFORM_ADMIN.1).await;
    admin
        .create(
            &PostParams::default(),
            &f.application(
                "admins",
                &["east"],
                Some(authored_by(PLATFORM_ADMIN.0, PLATFORM_ADMIN.1)),
            ),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let changed = bob
        .patch(
            "admins",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"template": {"deployment": {"replicas": 3}}}})),
        )
        .await;
    let message = refusal(changed);
    assert!(message.contains(BOB), "{message}");
    bob.patch(
        "admins",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"reviewed": "yes"}}})),
    )
    .await
    .unwrap_or_else(|e| panic!("a label is not a spec change: {e}"));

    // Nothing of bob's ever reached east; the admin's application did (cluster-admin there).
    for name in ["anon", "mine"] {
        assert!(
            f.deployment_on("east", name).await.is_none(),
            "{name} on east"
        );
    }
    f.until("admins", "applied as the admin", |s| {
        s.condition(AUTHORIZED).is_some_and(|c| c.status == "True")
            && s.clusters
                .iter()
                .any(|c| c.cluster == "east" && c.synced_revision.is_some())
    })
    .await;
    assert!(f.deployment_on("east", "admins").await.is_some());

    // The finalizer lets a refused application go: nothing of it was applied.
    for name in ["anon", "mine", "admins"] {
        let _ = admin.delete(name, &DeleteParams::default()).await;
    }
    eventually("applications deleted", 60, || async {
        let left = admin
            .list(&Default::default())
            .await
            .map_err(|e| e.to_string())?
            .items
            .into_iter()
            .filter(|a| a.finalizers().iter().any(|f| f == FINALIZER))
            .map(|a| a.name_any())
            .collect::<Vec<_>>();
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("{left:?}"))
        }
    })
    .await;
}

#[tokio::test]
async fn a_placement_outside_the_project_and_objects_not_made_by_the_console_are_refused() {
    let f = start().await;
    let admin = f.apps_as(PLATFORM_ADMIN.0, PLATFORM_ADMIN.1).await;
    let author = Some(authored_by(PLATFORM_ADMIN.0, PLATFORM_ADMIN.1));

    // west is not one of the project's clusters.
    admin
        .create(
            &PostParams::default(),
            &f.application("wide", &["east", "west"], author.clone()),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let state = f
        .until("wide", "west refused", |s| {
            s.clusters
                .iter()
                .any(|c| c.cluster == "west" && c.health == Health::Refused)
        })
        .await;
    let west = state.clusters.iter().find(|c| c.cluster == "west");
    assert!(
        west.is_some_and(|c| c.message.contains("not a cluster of project")),
        "{state:#?}"
    );
    assert!(
        Api::<Deployment>::namespaced(sandbox().cluster("west").admin_client().await, &f.name)
            .get_opt("wide")
            .await
            .map(|d| d.is_none())
            .unwrap_or(true),
        "nothing on west"
    );

    // A Deployment someone else made on east under the application's name stays theirs.
    let east = sandbox().cluster("east").admin_client().await;
    let theirs: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "taken", "labels": {"owner": "someone-else"}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "taken"}},
            "template": {"metadata": {"labels": {"app": "taken"}},
                         "spec": {"containers": [{"name": "c", "image": "registry.example/theirs:1"}]}},
        },
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    Api::<Deployment>::namespaced(east.clone(), &f.name)
        .create(&PostParams::default(), &theirs)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    admin
        .create(
            &PostParams::default(),
            &f.application("taken", &["east"], author),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let state = f
        .until("taken", "refused to take over", |s| {
            s.clusters
                .iter()
                .any(|c| c.cluster == "east" && c.health == Health::Refused)
        })
        .await;
    let message = state
        .clusters
        .iter()
        .find(|c| c.cluster == "east")
        .map(|c| c.message.clone())
        .unwrap_or_default();
    assert!(message.contains("not made by the console"), "{message}");
    let still = f
        .deployment_on("east", "taken")
        .await
        .unwrap_or_else(|| panic!("their Deployment is gone"));
    assert_eq!(
        still
            .spec
            .and_then(|s| s.template.spec)
            .and_then(|s| s.containers.first().and_then(|c| c.image.clone()))
            .as_deref(),
        Some("registry.example/theirs:1")
    );
    for name in ["wide", "taken"] {
        let _ = admin.delete(name, &DeleteParams::default()).await;
    }
    eventually("taken deleted", 60, || async {
        match admin.get_opt("taken").await.map_err(|e| e.to_string())? {
            None => Ok(()),
            Some(a) => Err(format!("{:?}", a.status.map(|s| s.message))),
        }
    })
    .await;
    // Deleting the application left their Deployment alone.
    assert!(f.deployment_on("east", "taken").await.is_some());
}

/// A Project written by `author`, on east with `namespace`, with bob as project admin.
fn project(name: &str, run: &str, namespace: &str, author: (&str, &[&str])) -> Project {
    let mut project = Project::new(
        name,
        ProjectSpec {
            clusters: vec![ProjectCluster {
                name: "east".into(),
                namespace: Some(namespace.into()),
            }],
            members: vec![Member {
                kind: "User".into(),
                name: BOB.into(),
                role: Role::ProjectAdmin,
            }],
            ..ProjectSpec::default()
        },
    );
    project.metadata.labels = Some([(RUN_LABEL.to_string(), run.to_string())].into());
    project.metadata.annotations = Some(authored_by(author.0, author.1));
    project
}

async fn project_state(
    projects: &Api<Project>,
    name: &str,
    want: impl Fn(&ProjectState) -> bool,
) -> ProjectState {
    eventually(&format!("project {name}"), 60, || async {
        let state = projects
            .get_status(name)
            .await
            .map_err(|e| e.to_string())?
            .status
            .unwrap_or_default();
        if want(&state) {
            Ok(state)
        } else {
            Err(format!("{state:#?}"))
        }
    })
    .await
}

fn east_message(state: &ProjectState) -> String {
    state
        .namespaces
        .iter()
        .find(|n| n.cluster == "east")
        .map(|n| n.message.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_project_binds_roles_only_where_its_author_may_and_never_in_system_namespaces() {
    let f = start().await;
    let sandbox = sandbox();
    let admin_cert = sandbox.cluster("global").admin_client().await;
    let east = sandbox.cluster("east").admin_client().await;
    let projects = Api::<Project>::all(
        sandbox
            .cluster("global")
            .client_as(PLATFORM_ADMIN.0, PLATFORM_ADMIN.1)
            .await,
    );
    let mut created = Vec::new();
    let east_bound = |ns: String| {
        let east = east.clone();
        async move {
            Api::<RoleBinding>::namespaced(east, &ns)
                .get_opt("project-project-admin")
                .await
                .ok()
                .flatten()
                .is_some()
        }
    };

    // kube-system on east: refused, even for the platform admin.
    let system = format!("{}-sys", f.name);
    projects
        .create(
            &PostParams::default(),
            &project(&system, &f.run, "kube-system", PLATFORM_ADMIN),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    created.push(system.clone());
    let state = project_state(&projects, &system, |s| {
        s.namespaces.iter().any(|n| n.cluster == "east" && !n.ready)
    })
    .await;
    assert!(
        east_message(&state).contains("system namespace"),
        "{state:#?}"
    );
    assert!(!east_bound("kube-system".into()).await);

    // The namespace of the fixture's project (labelled as its own once the project controller
    // has made it) is not another project's to take.
    let first = format!("{}-one", f.name);
    let shared = format!("{}-shared", f.name);
    projects
        .create(
            &PostParams::default(),
            &project(&first, &f.run, &shared, PLATFORM_ADMIN),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    created.push(first.clone());
    project_state(&projects, &first, |s| {
        s.namespaces.iter().all(|n| n.ready) && s.namespaces.len() == 2
    })
    .await;
    let second = format!("{}-two", f.name);
    projects
        .create(
            &PostParams::default(),
            &project(&second, &f.run, &shared, PLATFORM_ADMIN),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    created.push(second.clone());
    let state = project_state(&projects, &second, |s| {
        s.namespaces.iter().any(|n| n.cluster == "east" && !n.ready)
    })
    .await;
    assert!(
        east_message(&state).contains(&format!("belongs to project {first}")),
        "{state:#?}"
    );

    // A user who may write Projects on global but nothing on east binds nothing there.
    let pm = "pm@example.com";
    let grant = format!("t-projects-{}", f.run);
    let role: k8s_openapi::api::rbac::v1::ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": grant},
        "rules": [{"apiGroups": ["platform.nextgen-console.io"], "resources": ["projects"],
                   "verbs": ["get", "list", "create", "update", "patch"]}],
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    Api::<k8s_openapi::api::rbac::v1::ClusterRole>::all(admin_cert.clone())
        .create(&PostParams::default(), &role)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let binding: k8s_openapi::api::rbac::v1::ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": grant},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": grant},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": pm}],
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    Api::<k8s_openapi::api::rbac::v1::ClusterRoleBinding>::all(admin_cert.clone())
        .create(&PostParams::default(), &binding)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let as_pm = Api::<Project>::all(sandbox.cluster("global").client_as(pm, &[]).await);
    let third = format!("{}-pm", f.name);
    let third_ns = format!("{third}-ns");
    as_pm
        .create(
            &PostParams::default(),
            &project(&third, &f.run, &third_ns, (pm, &[])),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    created.push(third.clone());
    let state = project_state(&projects, &third, |s| {
        s.namespaces.iter().any(|n| n.cluster == "east" && !n.ready)
    })
    .await;
    assert!(
        east_message(&state).contains("pm@example.com may not apply"),
        "{state:#?}"
    );
    assert!(!east_bound(third_ns.clone()).await, "no binding on east");
    let authorized = state
        .conditions
        .iter()
        .find(|c| c.type_ == AUTHORIZED)
        .unwrap_or_else(|| panic!("{state:#?}"));
    assert_eq!(authorized.status, "False");

    for name in &created {
        let _ = Api::<Project>::all(admin_cert.clone())
            .delete(name, &DeleteParams::background())
            .await;
    }
    let _ = Api::<k8s_openapi::api::rbac::v1::ClusterRoleBinding>::all(admin_cert.clone())
        .delete(&grant, &DeleteParams::default())
        .await;
    let _ = Api::<k8s_openapi::api::rbac::v1::ClusterRole>::all(admin_cert)
        .delete(&grant, &DeleteParams::default())
        .await;
    // The namespaces the project controller made: each project's on global, `shared` on east.
    let global = sandbox.cluster("global").admin_client().await;
    for (client, ns) in [
        (&global, system),
        (&global, first),
        (&global, second),
        (&global, third),
        (&east, shared),
    ] {
        let _ = Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone())
            .delete(&ns, &DeleteParams::background())
            .await;
    }
}
