//! `ac get images`, `ac delete images`, `ac adm prune images`: the platform registry's images
//! through the console (which checks, per namespace, that the user may see or delete them).
//! Deleting and pruning are dry runs unless `--confirm`; a dry run that finds something to do
//! ends with exit code 3.

use console_api::image::{
    CronJobRequest, DeleteItem, DeleteOutcome, DeleteRequest, DeleteResult, ImageList, ImageQuery,
    ImageSort, ImageTag, PrunePolicy, PruneRequest, PruneResult,
};
use serde_json::json;

use crate::args::{ImageSortArg, PruneImages};
use crate::client::Console;
use crate::config::Target;
use crate::endpoints;
use crate::error::{Error, Result};
use crate::output::{self, Cell, Format, Table, Tone};

/// How a command that may only preview ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    /// Nothing (more) to do.
    Nothing,
    /// A dry run found something to do.
    WouldChange,
}

/// `1536` → `1.5 KiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `sha256:0123456789ab…` → `sha256:0123456789ab` (12 hex digits, as docker shows them).
pub fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algo, hex)) => format!("{algo}:{}", hex.chars().take(12).collect::<String>()),
        None => digest.chars().take(19).collect(),
    }
}

fn warn_unindexed(unindexed: &[(String, String)]) {
    for (cluster, why) in unindexed {
        output::warn(&format!(
            "cluster {cluster}'s workloads could not be read ({why}); its usage is missing"
        ));
    }
}

pub fn get(
    console: &Console,
    format: Format,
    namespace: Option<String>,
    text: String,
    sort: ImageSortArg,
    descending: bool,
) -> Result<()> {
    let sort = match sort {
        ImageSortArg::Repository => ImageSort::Repository,
        ImageSortArg::Created => ImageSort::Created,
        ImageSortArg::Size => ImageSort::Size,
        ImageSortArg::Usage => ImageSort::Usage,
    };
    let mut query = ImageQuery {
        namespace,
        text,
        sort,
        descending,
        page: 0,
        per_page: 500,
    };
    let mut items: Vec<ImageTag> = Vec::new();
    loop {
        let page: ImageList =
            console.call_json(endpoints::LIST_IMAGES, &json!({ "query": query }))?;
        let done = page.items.is_empty() || items.len() + page.items.len() >= page.total;
        if query.page == 0 {
            warn_unindexed(&page.unindexed);
        }
        items.extend(page.items);
        if done {
            break;
        }
        query.page += 1;
    }
    output::print(format, &items, |wide| images_table(&items, wide))
}

pub fn images_table(items: &[ImageTag], wide: bool) -> Table {
    let mut table = if wide {
        Table::new(&[
            "REPOSITORY",
            "TAG",
            "DIGEST",
            "SIZE",
            "CREATED",
            "IN-USE",
            "PLATFORMS",
            "SHARED-WITH",
            "USED-BY",
        ])
    } else {
        Table::new(&["REPOSITORY", "TAG", "DIGEST", "SIZE", "CREATED", "IN-USE"])
    };
    for t in items {
        let in_use = if t.uses() == 0 {
            Cell::toned("no", Tone::Dim)
        } else {
            Cell::toned(t.uses().to_string(), Tone::Good)
        };
        let mut row = vec![
            t.repository.clone().into(),
            t.tag.clone().into(),
            short_digest(&t.digest).into(),
            human_bytes(t.size).into(),
            t.created.clone().unwrap_or_default().into(),
            in_use,
        ];
        if wide {
            row.push(t.platforms.join(",").into());
            row.push(t.shared_with.join(",").into());
            let mut used: Vec<String> = t
                .usage
                .iter()
                .map(|u| format!("{}/{}/{}/{}", u.cluster, u.namespace, u.kind, u.name))
                .collect();
            used.dedup();
            row.push(used.join(",").into());
        }
        table.row(row);
    }
    table
}

fn outcome_cell(outcome: &DeleteOutcome) -> Cell {
    match outcome {
        DeleteOutcome::WouldDelete => Cell::toned("would delete", Tone::Busy),
        DeleteOutcome::Deleted => Cell::toned("deleted", Tone::Good),
        DeleteOutcome::InUse => Cell::toned("in use", Tone::Bad),
        DeleteOutcome::UsageUnknown { .. } => Cell::toned("use unknown", Tone::Bad),
        DeleteOutcome::NotFound { .. } => Cell::toned("not found", Tone::Bad),
        DeleteOutcome::Forbidden { .. } => Cell::toned("forbidden", Tone::Bad),
        DeleteOutcome::Failed { .. } => Cell::toned("failed", Tone::Bad),
    }
}

/// What a delete item's row says besides its outcome.
pub fn delete_message(item: &DeleteItem) -> String {
    let mut notes: Vec<String> = Vec::new();
    match &item.outcome {
        DeleteOutcome::NotFound { message }
        | DeleteOutcome::Forbidden { message }
        | DeleteOutcome::Failed { message } => notes.push(message.clone()),
        DeleteOutcome::InUse => notes.push(format!(
            "used by {}; pass --allow-in-use to delete anyway",
            uses(item)
        )),
        DeleteOutcome::UsageUnknown { clusters } => notes.push(format!(
            "used nowhere the console could look, but cluster(s) {} could not be read and may run it; pass --allow-in-use to delete anyway",
            clusters.join(", ")
        )),
        DeleteOutcome::WouldDelete | DeleteOutcome::Deleted => {
            if item.uses() > 0 {
                notes.push(format!("was used by {}", uses(item)));
            }
        }
    }
    if !item.part_of.is_empty() {
        notes.push(format!(
            "part of index {}: deleting it breaks that index",
            item.part_of.join("; ")
        ));
    }
    if !item.children_kept.is_empty() {
        notes.push(format!(
            "{} child manifest(s) stay: another index or tag points at them",
            item.children_kept.len()
        ));
    }
    notes.join("; ")
}

/// `3 workload(s): east/team-a/Pod/web-1, … (and 2 in namespaces you may not see)`.
fn uses(item: &DeleteItem) -> String {
    let mut text = format!("{} workload(s)", item.uses());
    if !item.in_use.is_empty() {
        let places: Vec<String> = item
            .in_use
            .iter()
            .map(|u| format!("{}/{}/{}/{}", u.cluster, u.namespace, u.kind, u.name))
            .collect();
        text.push_str(&format!(": {}", places.join(", ")));
    }
    if item.in_use_elsewhere > 0 {
        text.push_str(&format!(
            " ({} in namespaces you may not see)",
            item.in_use_elsewhere
        ));
    }
    text
}

pub fn delete_table(result: &DeleteResult, wide: bool) -> Table {
    let mut table = if wide {
        Table::new(&[
            "IMAGE",
            "RESULT",
            "DIGEST",
            "SIZE",
            "ALSO-UNTAGGED",
            "USED-BY",
            "MESSAGE",
        ])
    } else {
        Table::new(&["IMAGE", "RESULT", "DIGEST", "ALSO-UNTAGGED", "MESSAGE"])
    };
    for item in &result.items {
        let message = delete_message(item);
        let mut row = vec![
            item.image.clone().into(),
            outcome_cell(&item.outcome),
            short_digest(&item.digest).into(),
        ];
        if wide {
            row.push(human_bytes(item.size).into());
        }
        row.push(item.other_tags.join(",").into());
        if wide {
            row.push(
                item.in_use
                    .iter()
                    .map(|u| format!("{}/{}/{}/{}", u.cluster, u.namespace, u.kind, u.name))
                    .collect::<Vec<_>>()
                    .join(",")
                    .into(),
            );
        }
        row.push(message.into());
        table.row(row);
    }
    table
}

/// Exit status of a delete: errors first, then whether a dry run found work.
pub fn delete_done(result: &DeleteResult) -> Result<Done> {
    let problems: Vec<String> = result
        .items
        .iter()
        .filter_map(|i| match &i.outcome {
            DeleteOutcome::NotFound { message }
            | DeleteOutcome::Forbidden { message }
            | DeleteOutcome::Failed { message } => Some(format!("{}: {message}", i.image)),
            DeleteOutcome::InUse | DeleteOutcome::UsageUnknown { .. } if !result.dry_run => {
                Some(format!("{}: {}", i.image, delete_message(i)))
            }
            _ => None,
        })
        .collect();
    if !problems.is_empty() {
        return Err(Error::Failed(problems.join("\n")));
    }
    // What `--confirm` alone would delete: images in use stay without `--allow-in-use`.
    let would = result
        .items
        .iter()
        .any(|i| matches!(i.outcome, DeleteOutcome::WouldDelete));
    Ok(if result.dry_run && would {
        Done::WouldChange
    } else {
        Done::Nothing
    })
}

pub fn delete(
    console: &Console,
    format: Format,
    images: Vec<String>,
    confirm: bool,
    allow_in_use: bool,
) -> Result<Done> {
    let request = DeleteRequest {
        images,
        confirm,
        allow_in_use,
    };
    let result: DeleteResult =
        console.call_json(endpoints::DELETE_IMAGES, &json!({ "request": request }))?;
    warn_unindexed(&result.unindexed);
    output::print(format, &result, |wide| delete_table(&result, wide))?;
    let done = delete_done(&result)?;
    if done == Done::WouldChange && matches!(format, Format::Table | Format::Wide) {
        eprintln!("Dry run: nothing was deleted. Pass --confirm to delete.");
    }
    Ok(done)
}

pub fn policy(args: &PruneImages) -> PrunePolicy {
    PrunePolicy {
        keep_younger_than: args.keep_younger_than.clone(),
        keep_newest: args.keep_newest,
        allow: args.allow.clone(),
        namespaces: args.namespace.clone(),
        all: args.all,
        exclude_clusters: args.exclude_cluster.clone(),
    }
}

pub fn prune_table(result: &PruneResult, wide: bool) -> Table {
    let mut table = if wide {
        Table::new(&[
            "REPOSITORY",
            "DIGEST",
            "TAGS",
            "SIZE",
            "CREATED",
            "RESULT",
            "WHY",
        ])
    } else {
        Table::new(&["REPOSITORY", "DIGEST", "TAGS", "SIZE", "RESULT"])
    };
    for c in &result.plan.candidates {
        let deleted = result
            .deleted
            .iter()
            .find(|d| d.repository == c.repository && d.digest == c.digest);
        let state = match (result.dry_run, deleted) {
            (true, _) => Cell::toned("would delete", Tone::Busy),
            (false, Some(d)) if d.error.is_none() => Cell::toned("deleted", Tone::Good),
            (false, Some(d)) => Cell::toned(
                format!("failed: {}", d.error.clone().unwrap_or_default()),
                Tone::Bad,
            ),
            (false, None) => Cell::toned("not deleted", Tone::Bad),
        };
        let mut row = vec![
            c.repository.clone().into(),
            short_digest(&c.digest).into(),
            c.tags.join(",").into(),
            human_bytes(c.size).into(),
        ];
        if wide {
            row.push(c.created.clone().unwrap_or_default().into());
        }
        row.push(state);
        if wide {
            row.push(c.why.clone().into());
        }
        table.row(row);
    }
    table
}

pub fn prune_done(result: &PruneResult) -> Result<Done> {
    let failed: Vec<String> = result
        .deleted
        .iter()
        .filter_map(|d| {
            d.error
                .as_ref()
                .map(|e| format!("{}@{}: {e}", d.repository, d.digest))
        })
        .collect();
    if !failed.is_empty() {
        return Err(Error::Failed(format!(
            "some images could not be deleted:\n{}",
            failed.join("\n")
        )));
    }
    if let Some(error) = &result.gc_error {
        return Err(Error::Failed(format!(
            "{} image(s) were deleted, but the registry's garbage collection failed, so their storage is not freed yet: {error}",
            result.deleted.len()
        )));
    }
    Ok(if result.dry_run && !result.plan.candidates.is_empty() {
        Done::WouldChange
    } else {
        Done::Nothing
    })
}

/// What `--print-cronjob` asks the console for: the CronJob calls `target`'s console (or
/// `--console-url`) and trusts a CA of its own when `target` does.
pub fn cronjob_request(args: &PruneImages, target: &Target) -> CronJobRequest {
    CronJobRequest {
        schedule: args.schedule.clone(),
        policy: policy(args),
        gc: args.gc,
        server: args
            .console_url
            .clone()
            .unwrap_or_else(|| target.origin.clone()),
        image: args.image.clone(),
        secret: args.token_secret.clone(),
        ca: target.ca_pem.is_some(),
        service_account: args.service_account.clone(),
    }
}

pub fn prune(
    console: &Console,
    target: &Target,
    format: Format,
    args: &PruneImages,
) -> Result<Done> {
    let policy = policy(args);
    if args.print_cronjob {
        let yaml: String = console.call_json(
            endpoints::PRUNE_CRONJOB,
            &json!({ "request": cronjob_request(args, target) }),
        )?;
        print!("{yaml}");
        if !yaml.ends_with('\n') {
            println!();
        }
        return Ok(Done::Nothing);
    }
    let request = PruneRequest {
        policy,
        confirm: args.confirm,
        gc: args.gc,
    };
    let spinner = if request.confirm {
        output::spinner(if request.gc {
            "pruning, then collecting the registry's garbage"
        } else {
            "pruning"
        })
    } else {
        output::spinner("planning the prune")
    };
    let result = console.call_json_slow(endpoints::PRUNE_IMAGES, &json!({ "request": request }));
    spinner.finish_and_clear();
    let result: PruneResult = result?;
    output::print(format, &result, |wide| prune_table(&result, wide))?;
    if matches!(format, Format::Table | Format::Wide) {
        let plan = &result.plan;
        eprintln!(
            "{} {} image(s), keeping {}; {} reclaimable. Clusters checked for use: {}{}.",
            if result.dry_run {
                "Would delete"
            } else {
                "Deleted"
            },
            plan.candidates.len(),
            plan.kept.len(),
            human_bytes(plan.bytes_reclaimable),
            if plan.clusters.is_empty() {
                "none".to_string()
            } else {
                plan.clusters.join(", ")
            },
            if plan.excluded.is_empty() {
                String::new()
            } else {
                format!(" (left out: {})", plan.excluded.join(", "))
            }
        );
        if result.dry_run && !plan.candidates.is_empty() {
            eprintln!("Dry run: nothing was deleted. Pass --confirm to prune.");
        }
        if let Some(gc) = &result.gc_output {
            eprintln!("Registry garbage collection:\n{}", gc.trim_end());
        } else if !result.dry_run && !args.gc && !result.deleted.is_empty() {
            eprintln!(
                "The registry frees the storage at its next garbage collection (this prune did not run one: --gc, for whoever may delete images in every namespace)."
            );
        }
    }
    prune_done(&result)
}
