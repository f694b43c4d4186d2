//! Everyday reads: `ac get clusters|projects|apps`, `ac describe app`, `ac whoami`. The table
//! builders are pure functions of the console's answers (tested with fixed data).

use console_api::application::{ClusterSync, Health};
use console_api::cluster::{ClusterHealth, ClusterStatus};
use serde::Serialize;

use crate::client::Console;
use crate::endpoints;
use crate::error::{Error, Result};
use crate::output::{self, Cell, Format, Table, Tone};
use crate::views::{AppView, Identity, ProjectRef, ProjectView};

pub fn whoami(console: &Console, format: Format) -> Result<()> {
    let identity: Option<Identity> = console.call(endpoints::CURRENT_USER, &[])?;
    let identity = identity.ok_or_else(|| Error::SignIn {
        origin: console.origin.clone(),
        reason: "you are not signed in".into(),
    })?;
    output::print(format, &identity, |_| {
        let mut table = Table::new(&["USER", "GROUPS", "CONSOLE"]);
        table.row(vec![
            identity.username.clone().into(),
            identity.groups.join(",").into(),
            console.origin.clone().into(),
        ]);
        table
    })
}

pub fn clusters(console: &Console, format: Format) -> Result<()> {
    let list: Vec<ClusterStatus> = console.call(endpoints::PROBE_CLUSTERS, &[])?;
    output::print(format, &list, |wide| clusters_table(&list, wide))
}

pub fn clusters_table(list: &[ClusterStatus], wide: bool) -> Table {
    let mut table = if wide {
        Table::new(&[
            "NAME",
            "STATUS",
            "VERSION",
            "REGISTERED-BY",
            "SERVER",
            "MESSAGE",
        ])
    } else {
        Table::new(&["NAME", "STATUS", "VERSION"])
    };
    for status in list {
        let (state, version, message) = match &status.health {
            ClusterHealth::Reachable { version } => (
                Cell::toned("Reachable", Tone::Good),
                version.clone(),
                String::new(),
            ),
            ClusterHealth::Unreachable { reason } => (
                Cell::toned("Unreachable", Tone::Bad),
                String::new(),
                reason.clone(),
            ),
            ClusterHealth::Pending => (
                Cell::toned("Pending", Tone::Busy),
                String::new(),
                "not probed yet".to_string(),
            ),
        };
        let mut row = vec![status.cluster.name.clone().into(), state, version.into()];
        if wide {
            row.push(
                if status.cluster.managed {
                    "Cluster"
                } else {
                    "kubeconfig"
                }
                .into(),
            );
            row.push(status.cluster.server.clone().into());
            row.push(message.into());
        }
        table.row(row);
    }
    table
}

pub fn projects(console: &Console, format: Format) -> Result<()> {
    let list: Vec<ProjectRef> = console.call(endpoints::LIST_PROJECTS, &[])?;
    if format != Format::Wide {
        return output::print(format, &list, |_| projects_table(&list, &[], false));
    }
    // Wide: each project's clusters and namespaces, as far as the user may read the Project
    // resource (members of a project may not; their cells stay empty).
    let mut details = Vec::new();
    for project in &list {
        match console.call::<ProjectView>(endpoints::GET_PROJECT, &[("name", &project.name)]) {
            Ok(detail) => details.push(detail),
            Err(Error::Console(console_api::ConsoleError::Forbidden { .. })) => {}
            Err(other) => return Err(other),
        }
    }
    output::print(format, &list, |_| projects_table(&list, &details, true))
}

/// Wide adds each project's member clusters, how many of its namespaces are ready and its
/// members, from `details` (empty cells for a project not among them).
pub fn projects_table(list: &[ProjectRef], details: &[ProjectView], wide: bool) -> Table {
    let mut table = if wide {
        Table::new(&["NAME", "CLUSTERS", "NAMESPACES-READY", "MEMBERS"])
    } else {
        Table::new(&["NAME"])
    };
    for project in list {
        let mut row = vec![Cell::plain(project.name.clone())];
        if wide {
            let detail = details.iter().find(|d| d.name == project.name);
            let clusters = detail
                .map(|d| {
                    d.spec
                        .clusters
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            let ready = detail.map(|d| {
                let ready = d.status.namespaces.iter().filter(|n| n.ready).count();
                let all = d.status.namespaces.len();
                let tone = if ready == all { Tone::Good } else { Tone::Busy };
                Cell::toned(format!("{ready}/{all}"), tone)
            });
            row.push(clusters.into());
            row.push(ready.unwrap_or_else(|| Cell::plain("")));
            row.push(
                detail
                    .map(|d| d.spec.members.len().to_string())
                    .unwrap_or_default()
                    .into(),
            );
        }
        table.row(row);
    }
    table
}

fn project(flag: Option<String>, context: Option<&str>) -> Result<String> {
    flag.or_else(|| context.map(str::to_string))
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            Error::Usage("which project? Pass -n PROJECT (see `ac get projects`)".into())
        })
}

pub fn apps(
    console: &Console,
    format: Format,
    flag: Option<String>,
    context: Option<&str>,
) -> Result<()> {
    let project = project(flag, context)?;
    let list: Vec<AppView> =
        console.call(endpoints::LIST_APPLICATIONS, &[("project", &project)])?;
    output::print(format, &list, |wide| apps_table(&list, wide))
}

pub fn health_tone(health: Health) -> Tone {
    match health {
        Health::Healthy => Tone::Good,
        Health::Progressing | Health::Pending => Tone::Busy,
        Health::Degraded | Health::Unreachable | Health::Refused => Tone::Bad,
    }
}

fn health_text(health: Health) -> String {
    format!("{health:?}")
}

/// `east=Healthy(2/2)`: a cluster's state in one word and its ready replicas.
fn cluster_state(sync: &ClusterSync) -> String {
    format!(
        "{}={}({}/{})",
        sync.cluster,
        health_text(sync.health),
        sync.ready,
        sync.desired
    )
}

/// One row per application; CLUSTERS holds each placed cluster's state. Wide adds the
/// replicas in total and the message.
pub fn apps_table(list: &[AppView], wide: bool) -> Table {
    let mut table = if wide {
        Table::new(&[
            "NAME", "HEALTH", "REVISION", "READY", "CLUSTERS", "AUTHOR", "MESSAGE",
        ])
    } else {
        Table::new(&["NAME", "HEALTH", "REVISION", "READY", "CLUSTERS"])
    };
    for app in list {
        let status = &app.status;
        let (ready, desired) = status
            .clusters
            .iter()
            .fold((0, 0), |(r, d), c| (r + c.ready, d + c.desired));
        let mut clusters: Vec<String> = status.clusters.iter().map(cluster_state).collect();
        for placed in &app.placement {
            if !status.clusters.iter().any(|c| &c.cluster == placed) {
                clusters.push(format!("{placed}=Pending"));
            }
        }
        let health = if app.deleting {
            Cell::toned("Deleting", Tone::Busy)
        } else {
            Cell::toned(health_text(status.health), health_tone(status.health))
        };
        let mut row = vec![
            app.name.clone().into(),
            health,
            status.revision.to_string().into(),
            format!("{ready}/{desired}").into(),
            clusters.join(",").into(),
        ];
        if wide {
            row.push(status.author.clone().unwrap_or_default().into());
            row.push(status.message.clone().into());
        }
        table.row(row);
    }
    table
}

pub fn describe_app(
    console: &Console,
    format: Format,
    name: &str,
    flag: Option<String>,
    context: Option<&str>,
) -> Result<()> {
    let project = project(flag, context)?;
    let app: AppView = console.call(
        endpoints::GET_APPLICATION,
        &[("project", &project), ("name", name)],
    )?;
    match format {
        Format::Json | Format::Yaml => output::print(format, &app, |_| Table::default()),
        Format::Table | Format::Wide => {
            print!("{}", describe_app_text(&app, output::colour_stdout()));
            Ok(())
        }
    }
}

/// `ac describe app`: fields, then the per-cluster table, conditions, revisions and the spec.
pub fn describe_app_text(app: &AppView, colour: bool) -> String {
    let status = &app.status;
    let mut out = String::new();
    let field = |out: &mut String, name: &str, value: &str| {
        out.push_str(&format!(
            "{:<14}{}\n",
            format!("{name}:"),
            if value.is_empty() { "<none>" } else { value }
        ));
    };
    field(&mut out, "Name", &app.name);
    field(&mut out, "Project", &app.project);
    let health = if app.deleting {
        "Deleting".to_string()
    } else {
        output::paint(
            &health_text(status.health),
            health_tone(status.health),
            colour,
        )
    };
    field(&mut out, "Health", &health);
    field(&mut out, "Revision", &status.revision.to_string());
    field(&mut out, "Placement", &app.placement.join(", "));
    field(&mut out, "Author", status.author.as_deref().unwrap_or(""));
    field(&mut out, "Message", &status.message);
    out.push_str("\nClusters:\n");
    let mut clusters = Table::new(&[
        "CLUSTER",
        "NAMESPACE",
        "HEALTH",
        "REVISION",
        "DESIRED",
        "READY",
        "AVAILABLE",
        "UPDATED",
        "LAST-SYNC",
        "MESSAGE",
    ]);
    for c in &status.clusters {
        let message = [
            c.last_error.clone().unwrap_or_default(),
            c.drift
                .clone()
                .map(|d| format!("drift set back: {d}"))
                .unwrap_or_default(),
            c.message.clone(),
        ]
        .into_iter()
        .filter(|m| !m.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
        clusters.row(vec![
            c.cluster.clone().into(),
            c.namespace.clone().into(),
            Cell::toned(health_text(c.health), health_tone(c.health)),
            c.synced_revision
                .map(|r| r.to_string())
                .unwrap_or_default()
                .into(),
            c.desired.to_string().into(),
            c.ready.to_string().into(),
            c.available.to_string().into(),
            c.updated.to_string().into(),
            c.last_sync_time.clone().unwrap_or_default().into(),
            message.into(),
        ]);
    }
    out.push_str(&indent(&clusters.render(colour)));
    if !status.conditions.is_empty() {
        out.push_str("\nConditions:\n");
        let mut conditions = Table::new(&["TYPE", "STATUS", "REASON", "MESSAGE"]);
        for c in &status.conditions {
            let tone = if c.status == "True" {
                Tone::Good
            } else {
                Tone::Bad
            };
            conditions.row(vec![
                c.type_.clone().into(),
                Cell::toned(c.status.clone(), tone),
                c.reason.clone().into(),
                c.message.clone().into(),
            ]);
        }
        out.push_str(&indent(&conditions.render(colour)));
    }
    if !status.history.is_empty() {
        out.push_str("\nRevisions:\n");
        let mut revisions = Table::new(&["REVISION", "CREATED", "CAUSE"]);
        for r in &status.history {
            revisions.row(vec![
                r.revision.to_string().into(),
                r.created_time.clone().into(),
                r.cause.clone().into(),
            ]);
        }
        out.push_str(&indent(&revisions.render(colour)));
    }
    out.push_str("\nSpec:\n");
    out.push_str(&indent(app.spec_yaml.trim_end()));
    out
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("  {l}\n")
            }
        })
        .collect()
}

/// Prints a list as the format asks, for commands with no table of their own.
pub fn print_value<T: Serialize>(format: Format, value: &T) -> Result<()> {
    match format {
        Format::Yaml => print!("{}", output::yaml(value)?),
        _ => print!("{}", output::json(value)?),
    }
    Ok(())
}
