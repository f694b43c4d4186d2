//! `ac adm upgrade`: a cluster's platform release and the releases the console offers it,
//! requesting one (through the console, which sets the ClusterVersionShadow's
//! `spec.desiredUpdate` as the user after the rule of recommended next steps, which the
//! controller applies as well), and `ac adm upgrade status [--watch]`, the shadow's status as
//! the controller writes it, followed live through the console's stream. The decisions over a
//! shadow are pure functions, tested with fixed data.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use console_api::cluster::ClusterCondition;
use console_api::matrix::Verdict;
use console_api::upgrade::{
    CheckResult, DesiredUpdate, PREFLIGHT_BLOCKED, PROGRESSING, PreflightCheck, RunState,
    StageState, UpdateRun,
};
use console_api::watch::{Change, Kind, WatchQuery, event};
use serde::Serialize;

use crate::client::Console;
use crate::endpoints;
use crate::error::{Error, Result};
use crate::live::{Backoff, Item};
use crate::output::{self, Cell, Format, Table, Tone};
use crate::views::{AvailableUpdate, ClusterPreflight, ShadowView};

/// The cluster the ClusterVersionShadows live on.
const GLOBAL: &str = "global";

/// What `ac adm upgrade` shows (and prints as JSON or YAML).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeSummary {
    pub cluster: String,
    pub current_release: Option<String>,
    pub desired: Option<DesiredUpdate>,
    pub conditions: Vec<ClusterCondition>,
    /// What the console offers, newest first, with its preflight for this cluster.
    pub updates: Vec<SummaryUpdate>,
    /// The controller's last preflight, of the desired release.
    pub preflight: Vec<PreflightCheck>,
}

/// A release the console offers, with its Kubernetes-version verdict for the cluster.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryUpdate {
    #[serde(flatten)]
    pub update: AvailableUpdate,
    /// The console's Kubernetes-version preflight for this cluster (none for global, which the
    /// matrix does not judge).
    pub verdict: Option<Verdict>,
}

/// The summary of `shadow` with the releases the console `offered` and the `verdicts` of each.
pub fn summary(
    shadow: &ShadowView,
    offered: &[AvailableUpdate],
    verdicts: &[(String, Option<Verdict>)],
) -> UpgradeSummary {
    UpgradeSummary {
        cluster: shadow.cluster.clone(),
        current_release: shadow.status.current_release.clone(),
        desired: shadow.desired.clone(),
        conditions: shadow.status.conditions.clone(),
        updates: offered
            .iter()
            .map(|u| SummaryUpdate {
                update: u.clone(),
                verdict: verdicts
                    .iter()
                    .find(|(r, _)| *r == u.release)
                    .and_then(|(_, v)| v.clone()),
            })
            .collect(),
        preflight: shadow.status.preflight.clone(),
    }
}

/// What `--to-latest` moves to: the newest release the console recommends.
pub fn newest_recommended(offered: &[AvailableUpdate]) -> Option<&AvailableUpdate> {
    offered.iter().find(|u| u.recommended)
}

fn verdict_cell(verdict: Option<&Verdict>) -> Cell {
    match verdict {
        None => Cell::toned("not judged", Tone::Dim),
        Some(Verdict::Ok) => Cell::toned("OK", Tone::Good),
        Some(Verdict::OutsideCompatible { version, min, max }) => Cell::toned(
            format!("Blocking: {version} is outside {min} – {max}"),
            Tone::Bad,
        ),
        Some(Verdict::NotLatestCompatible { version, required }) => Cell::toned(
            format!("Blocking: {version}, needs {required} first"),
            Tone::Bad,
        ),
        Some(Verdict::Unknown { reported }) => {
            Cell::toned(format!("Unknown: {reported}"), Tone::Bad)
        }
    }
}

fn check_tone(result: CheckResult) -> Tone {
    match result {
        CheckResult::Passed => Tone::Good,
        CheckResult::Warning => Tone::Busy,
        CheckResult::Blocking => Tone::Bad,
    }
}

fn condition_line(c: &ClusterCondition) -> String {
    let mut line = format!("{}={} ({})", c.type_, c.status, c.reason);
    if !c.message.is_empty() {
        line.push_str(": ");
        line.push_str(&c.message);
    }
    line
}

fn field(out: &mut String, name: &str, value: &str) {
    let value = if value.is_empty() { "<none>" } else { value };
    out.push_str(&format!("{:<17}{value}\n", format!("{name}:")));
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// `ac adm upgrade` as text.
pub fn summary_text(s: &UpgradeSummary, colour: bool) -> String {
    let mut out = String::new();
    field(&mut out, "Cluster", &s.cluster);
    field(
        &mut out,
        "Current release",
        s.current_release.as_deref().unwrap_or("unknown"),
    );
    let requested = s
        .desired
        .as_ref()
        .map(|d| format!("{}{}", d.release, if d.force { " (forced)" } else { "" }))
        .unwrap_or_default();
    field(&mut out, "Requested", &requested);
    for c in &s.conditions {
        field(&mut out, &c.type_, &condition_line(c));
    }
    if s.updates.is_empty() {
        out.push_str("\nNo newer platform release: the cluster is on the latest.\n");
    } else {
        out.push_str("\nUpdates:\n");
        let mut table = Table::new(&["RELEASE", "RECOMMENDED", "KUBERNETES", "PREFLIGHT"]);
        for u in &s.updates {
            table.row(vec![
                u.update.release.clone().into(),
                if u.update.recommended { "yes" } else { "no" }.into(),
                u.update.kubernetes.clone().into(),
                verdict_cell(u.verdict.as_ref()),
            ]);
        }
        out.push_str(&indent(&table.render(colour)));
        if let Some(next) = s.updates.iter().find(|u| u.update.recommended) {
            out.push_str(&format!(
                "\nUpdate with: ac adm upgrade --cluster {} --to {}",
                s.cluster, next.update.release
            ));
            if s.updates.len() > 1 {
                out.push_str(" (other releases need --allow-explicit-upgrade)");
            }
            out.push('\n');
        }
    }
    if !s.preflight.is_empty() {
        let of = s
            .desired
            .as_ref()
            .map(|d| format!(" (of {})", d.release))
            .unwrap_or_default();
        out.push_str(&format!("\nLast preflight{of}:\n"));
        out.push_str(&indent(&checks_table(&s.preflight).render(colour)));
    }
    out
}

fn checks_table(checks: &[PreflightCheck]) -> Table {
    let mut table = Table::new(&["CHECK", "RESULT", "MESSAGE"]);
    for c in checks {
        table.row(vec![
            c.name.clone().into(),
            Cell::toned(format!("{:?}", c.result), check_tone(c.result)),
            c.message.clone().into(),
        ]);
    }
    table
}

fn stage_tone(state: StageState) -> Tone {
    match state {
        StageState::Succeeded => Tone::Good,
        StageState::Running => Tone::Busy,
        StageState::Pending => Tone::Dim,
        StageState::Failed => Tone::Bad,
    }
}

fn run_tone(state: RunState) -> Tone {
    match state {
        RunState::Completed => Tone::Good,
        RunState::Progressing => Tone::Busy,
        RunState::Failed => Tone::Bad,
    }
}

fn stages_table(run: &UpdateRun) -> Table {
    let mut table = Table::new(&["STAGE", "STATE", "STARTED", "FINISHED", "MESSAGE"]);
    for s in &run.stages {
        table.row(vec![
            s.name.clone().into(),
            Cell::toned(format!("{:?}", s.state), stage_tone(s.state)),
            s.started_time.clone().unwrap_or_default().into(),
            s.finished_time.clone().unwrap_or_default().into(),
            s.message.clone().into(),
        ]);
    }
    table
}

/// `ac adm upgrade status --cluster C` as text: conditions, preflight, the run in flight with
/// its stages, the history.
pub fn status_text(shadow: &ShadowView, colour: bool) -> String {
    let status = &shadow.status;
    let mut out = String::new();
    field(&mut out, "Cluster", &shadow.cluster);
    field(
        &mut out,
        "Current release",
        status.current_release.as_deref().unwrap_or("unknown"),
    );
    let requested = shadow
        .desired
        .as_ref()
        .map(|d| format!("{}{}", d.release, if d.force { " (forced)" } else { "" }))
        .unwrap_or_default();
    field(&mut out, "Requested", &requested);
    if !status.conditions.is_empty() {
        out.push_str("\nConditions:\n");
        let mut table = Table::new(&["TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"]);
        for c in &status.conditions {
            let bad = (c.type_ == PREFLIGHT_BLOCKED && c.status == "True")
                || (c.type_ == PROGRESSING && ["Refused", "Failed"].contains(&c.reason.as_str()));
            table.row(vec![
                c.type_.clone().into(),
                Cell::toned(c.status.clone(), if bad { Tone::Bad } else { Tone::Plain }),
                c.reason.clone().into(),
                c.last_transition_time.clone().into(),
                c.message.clone().into(),
            ]);
        }
        out.push_str(&indent(&table.render(colour)));
    }
    if !status.preflight.is_empty() {
        out.push_str("\nPreflight:\n");
        out.push_str(&indent(&checks_table(&status.preflight).render(colour)));
    }
    match &status.progress {
        Some(run) => {
            let (done, all) = run.done();
            out.push_str(&format!(
                "\nIn progress: {} → {} ({done}/{all} stages, started {}{})\n",
                run.from_release.as_deref().unwrap_or("unknown"),
                run.release,
                run.started_time,
                if run.forced { ", forced" } else { "" }
            ));
            out.push_str(&indent(&stages_table(run).render(colour)));
        }
        None => {
            out.push_str("\nNo update in progress.\n");
            if let Some(last) = status.history.first() {
                out.push_str(&format!(
                    "\nLast update: {} → {} ({:?}{})\n",
                    last.from_release.as_deref().unwrap_or("unknown"),
                    last.release,
                    last.state,
                    if last.forced { ", forced" } else { "" }
                ));
                out.push_str(&indent(&stages_table(last).render(colour)));
            }
        }
    }
    if !status.history.is_empty() {
        out.push_str("\nHistory:\n");
        let mut table = Table::new(&[
            "RELEASE",
            "FROM",
            "STATE",
            "FORCED",
            "STARTED",
            "COMPLETED",
            "MESSAGE",
        ]);
        for run in &status.history {
            table.row(vec![
                run.release.clone().into(),
                run.from_release.clone().unwrap_or_default().into(),
                Cell::toned(format!("{:?}", run.state), run_tone(run.state)),
                if run.forced { "yes" } else { "no" }.into(),
                run.started_time.clone().into(),
                run.completion_time.clone().unwrap_or_default().into(),
                run.message.clone().into(),
            ]);
        }
        out.push_str(&indent(&table.render(colour)));
    }
    out
}

/// Every cluster's release and update state, one row each.
pub fn shadows_table(list: &[ShadowView], wide: bool) -> Table {
    let mut table = if wide {
        Table::new(&[
            "CLUSTER",
            "CURRENT",
            "DESIRED",
            "PROGRESSING",
            "STAGE",
            "REASON",
            "MESSAGE",
        ])
    } else {
        Table::new(&["CLUSTER", "CURRENT", "DESIRED", "PROGRESSING", "STAGE"])
    };
    for s in list {
        let progressing = s.status.condition(PROGRESSING);
        let stage = s
            .status
            .progress
            .as_ref()
            .map(|run| {
                let (done, all) = run.done();
                format!(
                    "{} ({done}/{all})",
                    run.current_stage
                        .clone()
                        .unwrap_or_else(|| "starting".into())
                )
            })
            .unwrap_or_default();
        let blocked = s
            .status
            .condition(PREFLIGHT_BLOCKED)
            .is_some_and(|c| c.status == "True");
        let state = progressing.map(|c| c.status.clone()).unwrap_or_default();
        let tone = if blocked {
            Tone::Bad
        } else if state == "True" {
            Tone::Busy
        } else {
            Tone::Plain
        };
        let mut row = vec![
            s.cluster.clone().into(),
            s.status.current_release.clone().unwrap_or_default().into(),
            s.desired
                .as_ref()
                .map(|d| d.release.clone())
                .unwrap_or_default()
                .into(),
            Cell::toned(state, tone),
            stage.into(),
        ];
        if wide {
            row.push(
                progressing
                    .map(|c| c.reason.clone())
                    .unwrap_or_default()
                    .into(),
            );
            let message = if blocked {
                s.status
                    .condition(PREFLIGHT_BLOCKED)
                    .map(|c| c.message.clone())
                    .unwrap_or_default()
            } else {
                progressing.map(|c| c.message.clone()).unwrap_or_default()
            };
            row.push(message.into());
        }
        table.row(row);
    }
    table
}

/// The controller's verdict on a request, once it has given one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The update runs.
    Started(String),
    /// The cluster is on the release.
    Reached(String),
    /// Refused, blocked by preflight (unless forced) or failed: why.
    Refused(String),
}

/// Where a requested update to `release` stands: `None` while the controller has not judged
/// the spec as it is now (the status's `observedGeneration` is behind the spec's generation, so
/// what the status says is about an earlier request) or has not acted on it yet; otherwise the
/// verdict on this request.
pub fn request_outcome(shadow: &ShadowView, release: &str, forced: bool) -> Option<Outcome> {
    if !shadow.observed() {
        return None;
    }
    let status = &shadow.status;
    if let Some(run) = &status.progress {
        return (run.release == release).then(|| {
            Outcome::Started(format!(
                "the update of {} to {release} is running",
                shadow.cluster
            ))
        });
    }
    if status.current_release.as_deref() == Some(release) {
        return Some(Outcome::Reached(format!(
            "{} is on {release}",
            shadow.cluster
        )));
    }
    if let Some(c) = status.condition(PROGRESSING)
        && c.reason == "Refused"
    {
        return Some(Outcome::Refused(format!("refused: {}", c.message)));
    }
    if !forced
        && let Some(c) = status.condition(PREFLIGHT_BLOCKED)
        && c.status == "True"
    {
        return Some(Outcome::Refused(blocked_message(shadow, c)));
    }
    if let Some(last) = status.history.first()
        && last.release == release
        && last.state == RunState::Failed
    {
        return Some(Outcome::Refused(format!(
            "the update to {release} failed: {}; change the request to try again",
            last.message
        )));
    }
    None
}

fn blocked_message(shadow: &ShadowView, c: &ClusterCondition) -> String {
    let checks: Vec<String> = shadow
        .status
        .preflight
        .iter()
        .filter(|p| p.result == CheckResult::Blocking)
        .map(|p| format!("  {}: {}", p.name, p.message))
        .collect();
    let detail = if checks.is_empty() {
        c.message.clone()
    } else {
        checks.join("\n")
    };
    format!(
        "the update is blocked by preflight:\n{detail}\nFix these, or pass --force to go ahead anyway."
    )
}

/// Whether a watch is over: `None` while an update runs or waits for the controller;
/// `Ok` when the requested release is reached (or nothing is requested), `Err` with the reason
/// when it is refused, blocked or failed.
pub fn watch_outcome(shadow: &ShadowView) -> Option<std::result::Result<String, String>> {
    let status = &shadow.status;
    if status.progress.is_some() {
        return None;
    }
    match &shadow.desired {
        None => Some(Ok(format!(
            "no update requested; {} is on {}",
            shadow.cluster,
            status
                .current_release
                .as_deref()
                .unwrap_or("an unknown release")
        ))),
        Some(d) => match request_outcome(shadow, &d.release, d.force)? {
            // A run seen in a view older than its end: keep watching.
            Outcome::Started(_) => None,
            Outcome::Reached(message) => Some(Ok(message)),
            Outcome::Refused(reason) => Some(Err(reason)),
        },
    }
}

fn get_shadow(console: &Console, cluster: &str) -> Result<ShadowView> {
    console.call(endpoints::GET_SHADOW, &[("cluster", cluster)])
}

fn offered(console: &Console, cluster: &str) -> Result<Vec<AvailableUpdate>> {
    console.call(endpoints::AVAILABLE_UPDATES, &[("cluster", cluster)])
}

/// `--to-latest`: the newest release the console recommends for `cluster`; `None` (said on
/// stderr, exit 0) when it is on the newest release already.
pub fn latest_recommended(console: &Console, cluster: &str) -> Result<Option<String>> {
    let offered = offered(console, cluster)?;
    if offered.is_empty() {
        eprintln!("{cluster} is on the newest platform release; nothing to do.");
        return Ok(None);
    }
    match newest_recommended(&offered) {
        Some(update) => Ok(Some(update.release.clone())),
        None => Err(Error::Failed(format!(
            "the console recommends no release for {cluster} (its current release is unknown, so no next step can be named); it offers {}. Choose one with --to RELEASE --allow-explicit-upgrade.",
            offered
                .iter()
                .map(|u| u.release.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

pub fn show(console: &Console, format: Format, cluster: &str) -> Result<()> {
    let shadow = get_shadow(console, cluster)?;
    let offered = offered(console, cluster)?;
    let bar = output::steps(
        offered.len() as u64,
        "{spinner} preflight {pos}/{len} releases  {msg}",
    );
    let mut verdicts = Vec::new();
    for update in &offered {
        bar.set_message(format!("ACP {}", update.release));
        let rows: Vec<ClusterPreflight> =
            match console.call(endpoints::PREFLIGHT, &[("release", &update.release)]) {
                Ok(rows) => rows,
                Err(error) => {
                    bar.finish_and_clear();
                    return Err(error);
                }
            };
        verdicts.push((
            update.release.clone(),
            rows.into_iter()
                .find(|r| r.cluster == cluster)
                .map(|r| r.verdict),
        ));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let summary = summary(&shadow, &offered, &verdicts);
    match format {
        Format::Json | Format::Yaml => output::print(format, &summary, |_| Table::default()),
        _ => {
            print!("{}", summary_text(&summary, output::colour_stdout()));
            Ok(())
        }
    }
}

pub struct Request {
    pub release: String,
    pub allow_explicit: bool,
    pub force: bool,
    pub yes: bool,
    pub wait: bool,
}

/// Requests the update through the console (which refuses a release that is not a recommended
/// next step unless `allow_explicit`, with its reason) and waits for the controller's verdict
/// on this very request. `-o json|yaml` prints the shadow as the verdict found it.
pub fn request(console: &Console, format: Format, cluster: &str, request: Request) -> Result<()> {
    let shadow = get_shadow(console, cluster)?;
    let current = shadow.status.current_release.as_deref();
    if current == Some(request.release.as_str()) && shadow.status.progress.is_none() {
        return report(
            format,
            &format!("{cluster} is already on {}; nothing to do", request.release),
            &shadow,
        );
    }
    if request.allow_explicit
        && let Some(target) = console_api::matrix::release(&request.release)
        && let Some(reason) = console_api::upgrade::explicit_upgrade_reason(current, target)
    {
        output::warn(&format!(
            "{reason}; requesting it as asked (--allow-explicit-upgrade). Skipped releases get no preflight of their own."
        ));
    }
    if request.force && !request.yes {
        confirm(&format!(
            "Force the update of {cluster} to {} past blocking preflight checks?",
            request.release
        ))?;
    }
    let flag = |on: bool| if on { "true" } else { "false" };
    let written: ShadowView = console.call(
        endpoints::REQUEST_UPDATE,
        &[
            ("cluster", cluster),
            ("release", &request.release),
            ("force", flag(request.force)),
            ("allow_explicit_upgrade", flag(request.allow_explicit)),
        ],
    )?;
    eprintln!("Requested the update of {cluster} to {}.", request.release);
    let follow_hint = format!("Follow it with: ac adm upgrade status --cluster {cluster} --watch");
    if !request.wait {
        eprintln!("{follow_hint}");
        return report(
            format,
            "Not waiting for the controller (--no-wait)",
            &written,
        );
    }
    let spinner = output::spinner(&format!(
        "waiting for the controller's verdict on the request for {cluster}"
    ));
    let wanted = written.generation;
    let outcome = follow(
        console,
        cluster,
        Instant::now() + Duration::from_secs(60),
        |shadow| {
            // A view older than the write (its generation behind the request's) is not the
            // verdict either.
            if wanted.is_some_and(|g| shadow.generation.is_some_and(|now| now < g)) {
                return None;
            }
            request_outcome(shadow, &request.release, request.force)
                .map(|outcome| (outcome, shadow.clone()))
        },
    );
    spinner.finish_and_clear();
    match outcome? {
        Some((Outcome::Started(message) | Outcome::Reached(message), shadow)) => {
            report(format, &message, &shadow)?;
            eprintln!("{follow_hint}");
            Ok(())
        }
        Some((Outcome::Refused(reason), _)) => Err(Error::Failed(reason)),
        None => {
            report(
                format,
                "The controller has not acted on the request within 60 s (is the console's controller running?)",
                &written,
            )?;
            eprintln!("{follow_hint}");
            Ok(())
        }
    }
}

/// A request's end: the message on stdout, or with `-o json|yaml` the shadow on stdout and the
/// message on stderr.
fn report(format: Format, message: &str, shadow: &ShadowView) -> Result<()> {
    match format {
        Format::Json | Format::Yaml => {
            eprintln!("{message}.");
            output::print(format, shadow, |_| Table::default())
        }
        Format::Table | Format::Wide => {
            println!("{message}.");
            Ok(())
        }
    }
}

fn confirm(question: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "--force asks for confirmation, and there is no terminal to ask on; pass --yes to confirm".into(),
        ));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Usage(format!("no answer read: {e}")))?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(Error::Failed("not confirmed; nothing was requested".into()))
    }
}

pub fn status(console: &Console, format: Format, cluster: Option<&str>) -> Result<()> {
    match cluster {
        None => {
            let list: Vec<ShadowView> = console.call(endpoints::LIST_SHADOWS, &[])?;
            output::print(format, &list, |wide| shadows_table(&list, wide))
        }
        Some(cluster) => {
            let shadow = get_shadow(console, cluster)?;
            print_status(format, &shadow)
        }
    }
}

fn print_status(format: Format, shadow: &ShadowView) -> Result<()> {
    match format {
        Format::Json | Format::Yaml => output::print(format, shadow, |_| Table::default()),
        _ => {
            print!("{}", status_text(shadow, output::colour_stdout()));
            Ok(())
        }
    }
}

/// One line per change of the run, for logs (stderr not a terminal).
pub fn progress_line(shadow: &ShadowView) -> String {
    match &shadow.status.progress {
        Some(run) => {
            let (done, all) = run.done();
            format!(
                "{}: updating to {}: {} ({done}/{all})",
                shadow.cluster,
                run.release,
                run.current_stage.as_deref().unwrap_or("starting")
            )
        }
        None => format!(
            "{}: waiting for the controller ({})",
            shadow.cluster,
            shadow
                .status
                .condition(PROGRESSING)
                .map(condition_line)
                .unwrap_or_else(|| "no conditions yet".into())
        ),
    }
}

/// Follows `cluster`'s shadow until `decide` says it is over or `deadline` passes (`None`):
/// reads it once, then again whenever the console's live stream of ClusterVersionShadows
/// (`/api/live/watch?cluster=global&kind=clusterversionshadows`) reports a change of it, or is
/// ready again after a reconnection. A stream or a read that fails for a transient reason
/// (the console restarting, a proxy timing out) is reopened with backoff; a stream the console
/// refuses ends the follow with its reason.
pub fn follow<T>(
    console: &Console,
    cluster: &str,
    deadline: Instant,
    mut decide: impl FnMut(&ShadowView) -> Option<T>,
) -> Result<Option<T>> {
    let url = WatchQuery::new(GLOBAL, Kind::ClusterVersionShadows).url();
    let mut backoff = Backoff::default();
    let read = |decide: &mut dyn FnMut(&ShadowView) -> Option<T>| -> Result<Option<T>> {
        Ok(decide(&get_shadow(console, cluster)?))
    };
    loop {
        let lost = match read(&mut decide) {
            Ok(Some(done)) => return Ok(Some(done)),
            Ok(None) => match console.stream(&url) {
                Ok(mut events) => loop {
                    if Instant::now() > deadline {
                        return Ok(None);
                    }
                    match events.next_item() {
                        Ok(Some(Item::Event { name, data })) => {
                            let ours = match name.as_str() {
                                event::READY => {
                                    backoff.reset();
                                    true
                                }
                                event::CHANGE => serde_json::from_str::<Change>(&data)
                                    .map(|c| c.name == cluster)
                                    .unwrap_or(true),
                                event::REFUSED => {
                                    return Err(Error::Failed(format!(
                                        "the console cannot follow cluster updates for you: {data}"
                                    )));
                                }
                                _ => false,
                            };
                            if ours {
                                match read(&mut decide) {
                                    Ok(Some(done)) => return Ok(Some(done)),
                                    Ok(None) => {}
                                    Err(error) if error.is_transient() => break error.to_string(),
                                    Err(error) => return Err(error),
                                }
                            }
                        }
                        Ok(Some(Item::KeepAlive)) => {}
                        Ok(None) => break "the console ended the stream".to_string(),
                        Err(error) => break format!("the stream broke off: {error}"),
                    }
                },
                Err(error) if error.is_transient() => error.to_string(),
                Err(error) => return Err(error),
            },
            Err(error) if error.is_transient() => error.to_string(),
            Err(error) => return Err(error),
        };
        if Instant::now() > deadline {
            return Ok(None);
        }
        let wait = backoff.next_wait();
        output::warn(&format!(
            "{lost}; following again in {:.1} s",
            wait.as_secs_f64()
        ));
        std::thread::sleep(wait.min(deadline.saturating_duration_since(Instant::now())));
    }
}

/// Follows the cluster's update until it ends; the final status is printed, and a refused,
/// blocked or failed update ends with exit code 1.
pub fn watch(console: &Console, format: Format, cluster: &str, timeout: u64) -> Result<()> {
    let tty = std::io::stderr().is_terminal();
    let bar = output::steps(1, "{spinner} [{bar:30}] {pos}/{len} stages  {msg}");
    let deadline = Instant::now() + Duration::from_secs(timeout);
    let mut last_line = String::new();
    let ended = follow(console, cluster, deadline, |shadow| {
        let line = progress_line(shadow);
        if let Some(run) = &shadow.status.progress {
            let (done, all) = run.done();
            bar.set_length(all as u64);
            bar.set_position(done as u64);
        }
        bar.set_message(line.clone());
        if !tty && line != last_line {
            eprintln!("{line}");
        }
        last_line = line;
        watch_outcome(shadow).map(|outcome| (outcome, shadow.clone()))
    });
    bar.finish_and_clear();
    match ended? {
        Some((outcome, shadow)) => {
            print_status(format, &shadow)?;
            match outcome {
                Ok(message) => {
                    eprintln!("{message}.");
                    Ok(())
                }
                Err(reason) => Err(Error::Failed(reason)),
            }
        }
        None => Err(Error::Failed(format!(
            "{cluster}'s update is still in progress after {timeout} s; watch again with ac adm upgrade status --cluster {cluster} --watch"
        ))),
    }
}
