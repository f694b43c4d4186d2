//! Snapshots of `ac`'s table and wide output from fixed data through the formatting functions
//! (plain text, no colour), and the decisions over an upgrade's state and a dry run's result
//! that the exit codes depend on. Columns are part of the interface scripts rely on: a change
//! here is a change to announce.

use ac::images::{self, Done};
use ac::reads;
use ac::upgrade::{self, Outcome};
use ac::views::{AppView, AvailableUpdate, ProjectRef, ProjectView, ShadowView};
use console_api::application::{ApplicationState, ClusterSync, Health};
use console_api::cluster::{ClusterCondition, ClusterHealth, ClusterRef, ClusterStatus};
use console_api::image::{
    DeleteItem, DeleteOutcome, DeleteResult, ImageTag, PruneCandidate, PruneDeleted, PrunePlan,
    PruneResult, Usage, UsageVia,
};
use console_api::matrix::{KubeVersion, Minor, Verdict};
use console_api::project::{NamespaceState, ProjectCluster, ProjectSpec, ProjectState};
use console_api::upgrade::{
    CheckResult, DesiredUpdate, PreflightCheck, RunState, ShadowState, Stage, StageState, UpdateRun,
};

fn clusters() -> Vec<ClusterStatus> {
    let cluster = |name: &str, managed: bool| ClusterRef {
        name: name.into(),
        server: format!("https://{name}.example:6443"),
        managed,
    };
    vec![
        ClusterStatus {
            cluster: cluster("global", false),
            health: ClusterHealth::Reachable {
                version: "v1.34.4".into(),
            },
        },
        ClusterStatus {
            cluster: cluster("east", true),
            health: ClusterHealth::Unreachable {
                reason: "connection refused".into(),
            },
        },
        ClusterStatus {
            cluster: cluster("west-2", true),
            health: ClusterHealth::Pending,
        },
    ]
}

#[test]
fn clusters_table_and_wide() {
    assert_eq!(
        reads::clusters_table(&clusters(), false).render(false),
        "\
NAME     STATUS        VERSION
global   Reachable     v1.34.4
east     Unreachable   <none>
west-2   Pending       <none>
"
    );
    assert_eq!(
        reads::clusters_table(&clusters(), true).render(false),
        "\
NAME     STATUS        VERSION   REGISTERED-BY   SERVER                        MESSAGE
global   Reachable     v1.34.4   kubeconfig      https://global.example:6443   <none>
east     Unreachable   <none>    Cluster         https://east.example:6443     connection refused
west-2   Pending       <none>    Cluster         https://west-2.example:6443   not probed yet
"
    );
}

fn sync(cluster: &str, health: Health, ready: i32, desired: i32) -> ClusterSync {
    ClusterSync {
        cluster: cluster.into(),
        namespace: "team-a".into(),
        health,
        synced_revision: Some(2),
        desired,
        ready,
        available: ready,
        updated: ready,
        last_sync_time: Some("2026-11-30T06:00:00Z".into()),
        ..ClusterSync::default()
    }
}

fn apps() -> Vec<AppView> {
    vec![
        AppView {
            name: "web".into(),
            project: "team-a".into(),
            placement: vec!["east".into(), "west".into()],
            spec_yaml: "placement: [east, west]\n".into(),
            status: ApplicationState {
                health: Health::Progressing,
                revision: 2,
                clusters: vec![
                    sync("east", Health::Healthy, 2, 2),
                    sync("west", Health::Progressing, 1, 2),
                ],
                message: "rolling out on west".into(),
                author: Some("alice@example.com".into()),
                ..ApplicationState::default()
            },
            deleting: false,
        },
        AppView {
            name: "api".into(),
            project: "team-a".into(),
            placement: vec!["east".into()],
            spec_yaml: String::new(),
            status: ApplicationState::default(),
            deleting: true,
        },
    ]
}

#[test]
fn apps_table_and_wide_show_each_clusters_state() {
    assert_eq!(
        reads::apps_table(&apps(), false).render(false),
        "\
NAME   HEALTH        REVISION   READY   CLUSTERS
web    Progressing   2          3/4     east=Healthy(2/2),west=Progressing(1/2)
api    Deleting      0          0/0     east=Pending
"
    );
    assert_eq!(
        reads::apps_table(&apps(), true).render(false),
        "\
NAME   HEALTH        REVISION   READY   CLUSTERS                                  AUTHOR              MESSAGE
web    Progressing   2          3/4     east=Healthy(2/2),west=Progressing(1/2)   alice@example.com   rolling out on west
api    Deleting      0          0/0     east=Pending                              <none>              <none>
"
    );
}

#[test]
fn describe_app_lists_fields_then_clusters_then_spec() {
    let text = reads::describe_app_text(&apps()[0], false);
    assert_eq!(
        text,
        "\
Name:         web
Project:      team-a
Health:       Progressing
Revision:     2
Placement:    east, west
Author:       alice@example.com
Message:      rolling out on west

Clusters:
  CLUSTER   NAMESPACE   HEALTH        REVISION   DESIRED   READY   AVAILABLE   UPDATED   LAST-SYNC              MESSAGE
  east      team-a      Healthy       2          2         2       2           2         2026-11-30T06:00:00Z   <none>
  west      team-a      Progressing   2          2         1       1           1         2026-11-30T06:00:00Z   <none>

Spec:
  placement: [east, west]
"
    );
}

#[test]
fn projects_table() {
    let list = vec![
        ProjectRef {
            name: "team-a".into(),
        },
        ProjectRef {
            name: "team-b".into(),
        },
    ];
    assert_eq!(
        reads::projects_table(&list, &[], false).render(false),
        "NAME\nteam-a\nteam-b\n"
    );
    let detail = ProjectView {
        name: "team-a".into(),
        spec: ProjectSpec {
            clusters: vec![
                ProjectCluster {
                    name: "east".into(),
                    namespace: None,
                },
                ProjectCluster {
                    name: "west".into(),
                    namespace: None,
                },
            ],
            ..ProjectSpec::default()
        },
        status: ProjectState {
            namespaces: vec![
                NamespaceState {
                    cluster: "east".into(),
                    namespace: "team-a".into(),
                    ready: true,
                    message: String::new(),
                },
                NamespaceState {
                    cluster: "west".into(),
                    namespace: "team-a".into(),
                    ready: false,
                    message: "creating".into(),
                },
            ],
            ..ProjectState::default()
        },
    };
    // team-b's Project resource was not readable: its cells stay empty.
    assert_eq!(
        reads::projects_table(&list, &[detail], true).render(false),
        "\
NAME     CLUSTERS    NAMESPACES-READY   MEMBERS
team-a   east,west   1/2                0
team-b   <none>      <none>             <none>
"
    );
}

fn condition(type_: &str, status: &str, reason: &str, message: &str) -> ClusterCondition {
    ClusterCondition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message: message.into(),
        last_transition_time: "2026-11-30T06:00:00Z".into(),
    }
}

fn blocked_shadow() -> ShadowView {
    ShadowView {
        cluster: "east".into(),
        generation: Some(4),
        desired: Some(DesiredUpdate {
            release: "4.3".into(),
            ..DesiredUpdate::default()
        }),
        status: ShadowState {
            current_release: Some("4.2".into()),
            conditions: vec![
                condition(
                    "Progressing",
                    "False",
                    "PreflightBlocked",
                    "the update to 4.3 is blocked by preflight",
                ),
                condition(
                    "PreflightBlocked",
                    "True",
                    "Blocking",
                    "Plugin cert-manager: …",
                ),
            ],
            preflight: vec![
                PreflightCheck {
                    name: "Reachability".into(),
                    result: CheckResult::Passed,
                    message: "the API server answered v1.34.4".into(),
                },
                PreflightCheck {
                    name: "Plugin cert-manager".into(),
                    result: CheckResult::Blocking,
                    message: "1.14.0 does not run on 4.3; upgrade it first (to 1.18.0 or 1.16.2)"
                        .into(),
                },
            ],
            observed_generation: Some(4),
            ..ShadowState::default()
        },
    }
}

fn running_shadow() -> ShadowView {
    let stage = |name: &str, state: StageState| Stage {
        name: name.into(),
        state,
        started_time: (state != StageState::Pending).then(|| "06:01".into()),
        finished_time: (state == StageState::Succeeded).then(|| "06:02".into()),
        ..Stage::default()
    };
    ShadowView {
        cluster: "west".into(),
        generation: Some(7),
        desired: Some(DesiredUpdate {
            release: "4.3".into(),
            force: true,
            ..DesiredUpdate::default()
        }),
        status: ShadowState {
            current_release: Some("4.2".into()),
            conditions: vec![condition(
                "Progressing",
                "True",
                "Updating",
                "updating to 4.3",
            )],
            progress: Some(UpdateRun {
                release: "4.3".into(),
                from_release: Some("4.2".into()),
                forced: true,
                state: RunState::Progressing,
                started_time: "06:01".into(),
                current_stage: Some("Upgrade platform-agent to 4.3.0".into()),
                stages: vec![
                    stage("Preflight", StageState::Succeeded),
                    stage("Upgrade platform-agent to 4.3.0", StageState::Running),
                    stage("Verify", StageState::Pending),
                ],
                ..UpdateRun::default()
            }),
            history: vec![UpdateRun {
                release: "4.2".into(),
                from_release: Some("4.1".into()),
                state: RunState::Completed,
                started_time: "05:00".into(),
                completion_time: Some("05:03".into()),
                message: "updated to 4.2".into(),
                ..UpdateRun::default()
            }],
            observed_generation: Some(7),
            ..ShadowState::default()
        },
    }
}

#[test]
fn upgrade_summary_names_the_recommended_release_and_its_preflight() {
    let shadow = ShadowView {
        status: ShadowState {
            current_release: Some("4.1".into()),
            ..ShadowState::default()
        },
        cluster: "east".into(),
        ..ShadowView::default()
    };
    // What the console offers from 4.1 (the rule lives in console-api, shared with the console).
    let offered = console_api::upgrade::available_updates(Some("4.1"));
    let verdicts = vec![
        (
            "4.3".to_string(),
            Some(Verdict::OutsideCompatible {
                version: KubeVersion::new(1, 30, 2),
                min: Minor(1, 31),
                max: Minor(1, 34),
            }),
        ),
        ("4.2".to_string(), Some(Verdict::Ok)),
    ];
    let summary = upgrade::summary(&shadow, &offered, &verdicts);
    assert_eq!(
        upgrade::summary_text(&summary, false),
        "\
Cluster:         east
Current release: 4.1
Requested:       <none>

Updates:
  RELEASE   RECOMMENDED   KUBERNETES    PREFLIGHT
  4.3       no            1.31 – 1.34   Blocking: v1.30.2 is outside 1.31 – 1.34
  4.2       yes           1.30 – 1.33   OK

Update with: ac adm upgrade --cluster east --to 4.2 (other releases need --allow-explicit-upgrade)
"
    );
    // The JSON keeps the offer's fields beside the verdict.
    let json = serde_json::to_value(&summary).unwrap_or_default();
    assert_eq!(json["updates"][1]["release"], "4.2");
    assert_eq!(json["updates"][1]["recommended"], true);
    assert_eq!(json["updates"][1]["kubernetes"], "1.30 – 1.33");
    assert_eq!(json["updates"][1]["verdict"], "Ok");
}

#[test]
fn to_latest_takes_the_newest_release_the_console_recommends() {
    let offer = |release: &str, recommended: bool| AvailableUpdate {
        release: release.into(),
        recommended,
        kubernetes: String::new(),
    };
    let offered = [offer("4.3", false), offer("4.2", true)];
    assert_eq!(
        upgrade::newest_recommended(&offered).map(|u| u.release.as_str()),
        Some("4.2"),
        "not the newest release compiled into ac"
    );
    // A console that recommends several: the newest of them.
    let several = [offer("5.1", false), offer("5.0", true), offer("4.3", true)];
    assert_eq!(
        upgrade::newest_recommended(&several).map(|u| u.release.as_str()),
        Some("5.0")
    );
    assert_eq!(upgrade::newest_recommended(&[offer("4.3", false)]), None);
}

#[test]
fn upgrade_status_table_and_wide() {
    let list = vec![blocked_shadow(), running_shadow()];
    assert_eq!(
        upgrade::shadows_table(&list, false).render(false),
        "\
CLUSTER   CURRENT   DESIRED   PROGRESSING   STAGE
east      4.2       4.3       False         <none>
west      4.2       4.3       True          Upgrade platform-agent to 4.3.0 (1/3)
"
    );
    assert_eq!(
        upgrade::shadows_table(&list, true).render(false),
        "\
CLUSTER   CURRENT   DESIRED   PROGRESSING   STAGE                                   REASON             MESSAGE
east      4.2       4.3       False         <none>                                  PreflightBlocked   Plugin cert-manager: …
west      4.2       4.3       True          Upgrade platform-agent to 4.3.0 (1/3)   Updating           updating to 4.3
"
    );
}

#[test]
fn upgrade_status_of_one_cluster_shows_stages_and_history() {
    assert_eq!(
        upgrade::status_text(&running_shadow(), false),
        "\
Cluster:         west
Current release: 4.2
Requested:       4.3 (forced)

Conditions:
  TYPE          STATUS   REASON     SINCE                  MESSAGE
  Progressing   True     Updating   2026-11-30T06:00:00Z   updating to 4.3

In progress: 4.2 → 4.3 (1/3 stages, started 06:01, forced)
  STAGE                             STATE       STARTED   FINISHED   MESSAGE
  Preflight                         Succeeded   06:01     06:02      <none>
  Upgrade platform-agent to 4.3.0   Running     06:01     <none>     <none>
  Verify                            Pending     <none>    <none>     <none>

History:
  RELEASE   FROM   STATE       FORCED   STARTED   COMPLETED   MESSAGE
  4.2       4.1    Completed   no       05:00     05:03       updated to 4.2
"
    );
}

#[test]
fn a_request_is_judged_by_what_the_controller_wrote() {
    let blocked = blocked_shadow();
    let outcome = upgrade::request_outcome(&blocked, "4.3", false);
    assert!(
        matches!(&outcome, Some(Outcome::Refused(m)) if m.contains("Plugin cert-manager") && m.contains("--force")),
        "{outcome:?}"
    );
    // Forced, a stale block is not the answer: wait for the controller.
    assert_eq!(upgrade::request_outcome(&blocked, "4.3", true), None);
    assert!(matches!(
        upgrade::request_outcome(&running_shadow(), "4.3", true),
        Some(Outcome::Started(_))
    ));
    // Watching: running continues, blocked ends with an error, done ends well.
    assert_eq!(upgrade::watch_outcome(&running_shadow()), None);
    assert!(matches!(upgrade::watch_outcome(&blocked), Some(Err(_))));
    let mut done = running_shadow();
    done.status.progress = None;
    done.status.current_release = Some("4.3".into());
    assert!(matches!(upgrade::watch_outcome(&done), Some(Ok(m)) if m.contains("is on 4.3")));
    let mut failed = running_shadow();
    failed.status.progress = None;
    failed.status.history.insert(
        0,
        UpdateRun {
            release: "4.3".into(),
            state: RunState::Failed,
            message: "platform-agent did not roll out".into(),
            ..UpdateRun::default()
        },
    );
    assert!(
        matches!(upgrade::watch_outcome(&failed), Some(Err(m)) if m.contains("did not roll out"))
    );
    // Requested, not yet picked up: keep waiting.
    let mut waiting = failed.clone();
    waiting.status.history.remove(0);
    assert_eq!(upgrade::watch_outcome(&waiting), None);
}

#[test]
fn what_the_status_says_about_an_earlier_request_is_not_the_verdict_on_this_one() {
    // A new request (generation 5) while the status still tells of generation 4's.
    let newer = |mut shadow: ShadowView| {
        shadow.generation = Some(5);
        shadow
    };
    // A leftover block of the same release.
    assert_eq!(
        upgrade::request_outcome(&newer(blocked_shadow()), "4.3", false),
        None
    );
    // A leftover refusal naming the release.
    let mut refused = blocked_shadow();
    refused.status.conditions = vec![condition(
        "Progressing",
        "False",
        "Refused",
        "4.3 is not a recommended next step from 4.1",
    )];
    assert!(matches!(
        upgrade::request_outcome(&refused, "4.3", false),
        Some(Outcome::Refused(m)) if m.contains("not a recommended next step")
    ));
    assert_eq!(
        upgrade::request_outcome(&newer(refused), "4.3", false),
        None
    );
    // A failed run of the same release in the history.
    let mut failed = blocked_shadow();
    failed.status.conditions.clear();
    failed.status.history.insert(
        0,
        UpdateRun {
            release: "4.3".into(),
            state: RunState::Failed,
            message: "timed out".into(),
            ..UpdateRun::default()
        },
    );
    assert!(matches!(
        upgrade::request_outcome(&failed, "4.3", false),
        Some(Outcome::Refused(m)) if m.contains("timed out")
    ));
    assert_eq!(
        upgrade::request_outcome(&newer(failed.clone()), "4.3", false),
        None
    );
    // Once the controller has observed generation 5, its verdict counts.
    let mut judged = newer(failed);
    judged.status.observed_generation = Some(5);
    assert!(upgrade::request_outcome(&judged, "4.3", false).is_some());
    // A run of another release is no verdict on this request.
    let mut other = running_shadow();
    if let Some(run) = other.status.progress.as_mut() {
        run.release = "4.2".into();
    }
    assert_eq!(upgrade::request_outcome(&other, "4.3", true), None);
}

fn tag(repository: &str, tag: &str, size: u64, usage: Vec<Usage>) -> ImageTag {
    ImageTag {
        repository: repository.into(),
        namespace: repository.split_once('/').map(|(n, _)| n.into()),
        tag: tag.into(),
        digest: "sha256:0123456789abcdef0123456789abcdef".into(),
        platforms: vec!["linux/amd64".into()],
        size,
        created: Some("2026-11-01T00:00:00Z".into()),
        usage,
        ..ImageTag::default()
    }
}

#[test]
fn images_table_and_wide() {
    let used = Usage {
        cluster: "east".into(),
        namespace: "team-a".into(),
        kind: "Pod".into(),
        name: "web-1".into(),
        via: UsageVia::Tag,
    };
    let list = vec![
        tag("team-a/web", "2", 3 * 1024 * 1024 + 300 * 1024, vec![used]),
        tag("team-a/web", "old", 900, vec![]),
    ];
    assert_eq!(
        images::images_table(&list, false).render(false),
        "\
REPOSITORY   TAG   DIGEST                SIZE      CREATED                IN-USE
team-a/web   2     sha256:0123456789ab   3.3 MiB   2026-11-01T00:00:00Z   1
team-a/web   old   sha256:0123456789ab   900 B     2026-11-01T00:00:00Z   no
"
    );
    assert_eq!(
        images::images_table(&list, true).render(false),
        "\
REPOSITORY   TAG   DIGEST                SIZE      CREATED                IN-USE   PLATFORMS     SHARED-WITH   USED-BY
team-a/web   2     sha256:0123456789ab   3.3 MiB   2026-11-01T00:00:00Z   1        linux/amd64   <none>        east/team-a/Pod/web-1
team-a/web   old   sha256:0123456789ab   900 B     2026-11-01T00:00:00Z   no       linux/amd64   <none>        <none>
"
    );
}

fn item(image: &str, outcome: DeleteOutcome) -> DeleteItem {
    DeleteItem {
        image: image.into(),
        repository: "team-a/web".into(),
        digest: "sha256:0123456789abcdef".into(),
        tags: vec!["old".into(), "older".into()],
        other_tags: vec!["older".into()],
        in_use: vec![],
        in_use_elsewhere: 0,
        part_of: vec![],
        children_kept: vec![],
        size: 2048,
        outcome,
    }
}

#[test]
fn an_image_in_use_says_by_what_and_an_unread_cluster_is_named() {
    let mut in_use = item("team-a/web:old", DeleteOutcome::InUse);
    in_use.in_use = vec![Usage {
        cluster: "east".into(),
        namespace: "team-a".into(),
        kind: "Pod".into(),
        name: "web-1".into(),
        via: UsageVia::Tag,
    }];
    in_use.in_use_elsewhere = 2;
    assert_eq!(
        images::delete_message(&in_use),
        "used by 3 workload(s): east/team-a/Pod/web-1 (2 in namespaces you may not see); pass --allow-in-use to delete anyway"
    );
    let unknown = item(
        "team-a/web:old",
        DeleteOutcome::UsageUnknown {
            clusters: vec!["east".into()],
        },
    );
    let message = images::delete_message(&unknown);
    assert!(
        message.contains("cluster(s) east could not be read") && !message.contains("0 workload"),
        "{message}"
    );
    let refused = DeleteResult {
        dry_run: false,
        items: vec![unknown],
        unindexed: vec![("east".into(), "connection refused".into())],
    };
    assert!(
        images::delete_done(&refused).is_err(),
        "not deleted: an error"
    );
}

#[test]
fn a_dry_run_that_finds_work_exits_3_and_errors_win() {
    let dry = DeleteResult {
        dry_run: true,
        items: vec![item("team-a/web:old", DeleteOutcome::WouldDelete)],
        unindexed: vec![],
    };
    assert_eq!(
        images::delete_table(&dry, false).render(false),
        "\
IMAGE            RESULT         DIGEST                ALSO-UNTAGGED   MESSAGE
team-a/web:old   would delete   sha256:0123456789ab   older           <none>
"
    );
    assert!(matches!(images::delete_done(&dry), Ok(Done::WouldChange)));
    let done = DeleteResult {
        dry_run: false,
        items: vec![item("team-a/web:old", DeleteOutcome::Deleted)],
        unindexed: vec![],
    };
    assert!(matches!(images::delete_done(&done), Ok(Done::Nothing)));
    let missing = DeleteResult {
        dry_run: true,
        items: vec![
            item("team-a/web:old", DeleteOutcome::WouldDelete),
            item(
                "team-a/web:nope",
                DeleteOutcome::NotFound {
                    message: "no tag nope".into(),
                },
            ),
        ],
        unindexed: vec![],
    };
    assert!(images::delete_done(&missing).is_err());
    assert_eq!(images::human_bytes(0), "0 B");
    assert_eq!(images::human_bytes(1536), "1.5 KiB");
}

#[test]
fn a_dry_run_of_images_in_use_only_finds_nothing_to_do_without_allow_in_use() {
    let mut in_use = item("team-a/web:2", DeleteOutcome::InUse);
    in_use.in_use = vec![Usage {
        cluster: "east".into(),
        namespace: "team-a".into(),
        kind: "Pod".into(),
        name: "web-1".into(),
        via: UsageVia::Tag,
    }];
    let dry = DeleteResult {
        dry_run: true,
        items: vec![in_use.clone()],
        unindexed: vec![],
    };
    // `--confirm` alone would delete nothing, so the dry run found nothing to do.
    assert!(matches!(images::delete_done(&dry), Ok(Done::Nothing)));
    let mixed = DeleteResult {
        dry_run: true,
        items: vec![
            in_use.clone(),
            item("team-a/web:old", DeleteOutcome::WouldDelete),
        ],
        unindexed: vec![],
    };
    assert!(matches!(images::delete_done(&mixed), Ok(Done::WouldChange)));
    // Confirmed, an image in use that stayed is an error.
    let confirmed = DeleteResult {
        dry_run: false,
        items: vec![in_use.clone()],
        unindexed: vec![],
    };
    assert!(images::delete_done(&confirmed).is_err());
    assert_eq!(
        images::delete_table(&mixed, true).render(false),
        "\
IMAGE            RESULT         DIGEST                SIZE      ALSO-UNTAGGED   USED-BY                 MESSAGE
team-a/web:2     in use         sha256:0123456789ab   2.0 KiB   older           east/team-a/Pod/web-1   used by 1 workload(s): east/team-a/Pod/web-1; pass --allow-in-use to delete anyway
team-a/web:old   would delete   sha256:0123456789ab   2.0 KiB   older           <none>                  <none>
"
    );
}

fn candidate(repository: &str, digest: &str, tags: &[&str]) -> PruneCandidate {
    PruneCandidate {
        repository: repository.into(),
        digest: digest.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        children: vec![],
        size: 5 * 1024 * 1024,
        created: Some("2026-10-01T00:00:00Z".into()),
        why: "older than the newest 3 tags".into(),
    }
}

fn prune_result(dry_run: bool) -> PruneResult {
    PruneResult {
        dry_run,
        plan: PrunePlan {
            candidates: vec![
                candidate("team-a/web", "sha256:aaaaaaaaaaaaaaaaaaaa", &["1", "1.0"]),
                candidate("team-a/worker", "sha256:bbbbbbbbbbbbbbbbbbbb", &[]),
            ],
            bytes_reclaimable: 10 * 1024 * 1024,
            clusters: vec!["east".into(), "west".into()],
            ..PrunePlan::default()
        },
        ..PruneResult::default()
    }
}

#[test]
fn prune_table_and_wide_say_what_goes_and_why() {
    let dry = prune_result(true);
    assert_eq!(
        images::prune_table(&dry, false).render(false),
        "\
REPOSITORY      DIGEST                TAGS     SIZE      RESULT
team-a/web      sha256:aaaaaaaaaaaa   1,1.0    5.0 MiB   would delete
team-a/worker   sha256:bbbbbbbbbbbb   <none>   5.0 MiB   would delete
"
    );
    assert!(matches!(images::prune_done(&dry), Ok(Done::WouldChange)));
    let mut done = prune_result(false);
    done.deleted = vec![
        PruneDeleted {
            repository: "team-a/web".into(),
            digest: "sha256:aaaaaaaaaaaaaaaaaaaa".into(),
            error: None,
        },
        PruneDeleted {
            repository: "team-a/worker".into(),
            digest: "sha256:bbbbbbbbbbbbbbbbbbbb".into(),
            error: Some("405 Method Not Allowed".into()),
        },
    ];
    assert_eq!(
        images::prune_table(&done, true).render(false),
        "\
REPOSITORY      DIGEST                TAGS     SIZE      CREATED                RESULT                           WHY
team-a/web      sha256:aaaaaaaaaaaa   1,1.0    5.0 MiB   2026-10-01T00:00:00Z   deleted                          older than the newest 3 tags
team-a/worker   sha256:bbbbbbbbbbbb   <none>   5.0 MiB   2026-10-01T00:00:00Z   failed: 405 Method Not Allowed   older than the newest 3 tags
"
    );
    assert!(
        images::prune_done(&done).is_err(),
        "a failed delete is an error"
    );
    done.deleted.truncate(1);
    done.plan.candidates.truncate(1);
    assert!(matches!(images::prune_done(&done), Ok(Done::Nothing)));
}

#[test]
fn contexts_table_and_wide() {
    let file = ac::config::parse(
        r#"{"apiVersion":"v1","kind":"Config",
  "clusters":[{"name":"east","cluster":{"server":"https://c.example/clusters/east"}},
              {"name":"kind","cluster":{"server":"https://127.0.0.1:6443"}}],
  "users":[{"name":"alice","user":{"token":"ngc_x"}}],
  "contexts":[{"name":"east","context":{"cluster":"east","user":"alice","namespace":"team-a"}},
              {"name":"kind","context":{"cluster":"kind","user":"kind-admin"}}],
  "current-context":"east"}"#,
        std::path::Path::new("k"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let rows = ac::context_rows(&file);
    assert_eq!(
        ac::contexts_table(&rows, false).render(false),
        "\
CURRENT   NAME   CONSOLE             CLUSTER
*         east   https://c.example   east
          kind   <none>              kind
"
    );
    assert_eq!(
        ac::contexts_table(&rows, true).render(false),
        "\
CURRENT   NAME   CONSOLE             CLUSTER   USER         NAMESPACE
*         east   https://c.example   east      alice        team-a
          kind   <none>              kind      kind-admin   <none>
"
    );
    let json = serde_json::to_value(&rows).unwrap_or_default();
    assert_eq!(json[0]["current"], true);
    assert_eq!(json[0]["namespace"], "team-a");
    assert!(json[1].get("namespace").is_none());
}
