//! Server side: listing, deleting and pruning the platform registry's images for a caller whose
//! scope is known. Plain async functions, so the server functions, the scheduled-cleanup
//! controller and the tests share them. Where images run is named only for the namespaces the
//! caller may see; other uses are counted.

use std::{
    collections::{BTreeSet, HashSet},
    sync::Arc,
    time::Instant,
};

use console_api::image::{
    DeleteItem, DeleteOutcome, DeleteRequest, DeleteResult, ImageList, ImageQuery, ImageTarget,
    KeepReason, Manifest, Parents, PruneDeleted, PruneRequest, PruneResult, RESOURCE, Usage,
    held_digests, parse_image_path, plan_prune, query_tags, repository_namespace, split_children,
    tag_rows, usages_with_parents,
};

use super::{
    registry::{PlatformRegistry, Read, RegistryError},
    usage::{Indexed, index_clusters},
};
use crate::{
    ConsoleError,
    access::{AccessCheck, ssr::AccessCache},
    platform::{GLOBAL_CLUSTER, registry::ClusterRegistry},
};
use console_api::identity::Identity;

/// What a caller may act on: every repository (platform admins), or those of `namespaces`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub all: bool,
    pub namespaces: BTreeSet<String>,
}

impl Scope {
    /// Everything (tests and benchmarks acting for the platform).
    pub fn everything() -> Self {
        Self {
            all: true,
            namespaces: BTreeSet::new(),
        }
    }

    pub fn allows(&self, repository: &str) -> bool {
        self.all || repository_namespace(repository).is_some_and(|ns| self.namespaces.contains(ns))
    }

    fn sees_usage(&self, usage: &Usage) -> bool {
        self.all || self.namespaces.contains(&usage.namespace)
    }

    /// `namespaces team-a, team-b` or `every repository`, for messages and the policy status.
    pub fn describe(&self) -> String {
        if self.all {
            "every repository".into()
        } else {
            format!(
                "namespaces {}",
                self.namespaces
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

/// Who asks: a user (or a policy's author) whose RBAC on global decides what they may see of
/// where images run. The service's `None` is the platform itself, which sees everything.
#[derive(Clone)]
pub struct Caller {
    pub identity: Identity,
    pub access: AccessCache,
}

/// What `identity` may `verb` (get/list/delete) among `images` of the console's API group, as
/// global's RBAC answers: everything when allowed cluster-wide, otherwise the namespaces of
/// `namespaces` where it is allowed. The pages ask it for the signed-in user, the controller
/// for a policy's author; both through the impersonating client and the shared access cache.
pub async fn scope_of(
    access: &AccessCache,
    clusters: &ClusterRegistry,
    identity: &Identity,
    verb: &str,
    namespaces: &[String],
) -> Result<Scope, ConsoleError> {
    let mut checks = vec![AccessCheck::new(verb, console_api::GROUP, RESOURCE)];
    checks.extend(
        namespaces
            .iter()
            .map(|ns| AccessCheck::new(verb, console_api::GROUP, RESOURCE).in_namespace(ns)),
    );
    let (answers, _) = access
        .decide(clusters, GLOBAL_CLUSTER, identity, &checks)
        .await?;
    let all = answers.first().copied().unwrap_or(false);
    Ok(Scope {
        all,
        namespaces: namespaces
            .iter()
            .cloned()
            .zip(answers.into_iter().skip(1))
            .filter_map(|(ns, allowed)| allowed.then_some(ns))
            .collect(),
    })
}

/// The registry and the clusters a call works with.
#[derive(Clone)]
pub struct Images {
    pub registry: PlatformRegistry,
    pub clusters: ClusterRegistry,
}

/// The namespaces the catalog's repositories name (candidates for a user's scope).
pub fn catalog_namespaces(repositories: &[String]) -> Vec<String> {
    let set: BTreeSet<&str> = repositories
        .iter()
        .filter_map(|r| repository_namespace(r))
        .collect();
    set.into_iter().map(str::to_string).collect()
}

/// Splits `usages` into those `seen` lets the caller see, and how many others there are.
fn shown(usages: Vec<Usage>, seen: &Scope) -> (Vec<Usage>, usize) {
    let (shown, hidden): (Vec<Usage>, Vec<Usage>) =
        usages.into_iter().partition(|u| seen.sees_usage(u));
    (shown, hidden.len())
}

impl Images {
    /// The usage index, at most a few seconds old (list pages).
    async fn recent_index(&self) -> Arc<Indexed> {
        let hosts = self.registry.hosts();
        let clusters = self.clusters.clone();
        self.registry
            .usage_cache()
            .get_with((), async move {
                Arc::new(index_clusters(&clusters, &hosts, &[]).await)
            })
            .await
    }

    /// A fresh usage index (deletes and prunes).
    async fn fresh_index(&self, exclude: &[String]) -> Indexed {
        let indexed = index_clusters(&self.clusters, &self.registry.hosts(), exclude).await;
        if exclude.is_empty() {
            self.registry
                .usage_cache()
                .insert((), Arc::new(indexed.clone()))
                .await;
        }
        indexed
    }

    /// The namespaces among those of `usages` where `caller` may see where images run: those
    /// where they may list images on global (a project's namespace is named alike on every
    /// cluster). Everything for the platform.
    async fn seen(
        &self,
        caller: Option<&Caller>,
        usages: impl Iterator<Item = &Usage>,
    ) -> Result<Scope, ConsoleError> {
        let Some(caller) = caller else {
            return Ok(Scope::everything());
        };
        let namespaces: BTreeSet<String> = usages.map(|u| u.namespace.clone()).collect();
        if namespaces.is_empty() {
            return Ok(Scope::default());
        }
        let namespaces: Vec<String> = namespaces.into_iter().collect();
        scope_of(
            &caller.access,
            &self.clusters,
            &caller.identity,
            "list",
            &namespaces,
        )
        .await
    }

    /// A page of the tags `scope` sees.
    pub async fn list(
        &self,
        caller: Option<&Caller>,
        scope: &Scope,
        repositories: Vec<String>,
        query: &ImageQuery,
    ) -> Result<ImageList, ConsoleError> {
        let visible: Vec<String> = repositories
            .into_iter()
            .filter(|r| scope.allows(r))
            .filter(|r| {
                query
                    .namespace
                    .as_deref()
                    .is_none_or(|ns| repository_namespace(r) == Some(ns))
            })
            .collect();
        let manifests = self.registry.manifests_of(&visible).await?;
        let indexed = self.recent_index().await;
        let mut rows = tag_rows(&manifests, &indexed.index, |_| true);
        if !scope.all {
            let seen = self
                .seen(caller, rows.iter().flat_map(|r| r.usage.iter()))
                .await?;
            for row in &mut rows {
                (row.usage, row.usage_elsewhere) = shown(std::mem::take(&mut row.usage), &seen);
            }
        }
        let (items, total) = query_tags(rows, query);
        Ok(ImageList {
            items,
            total,
            page: query.page,
            per_page: query.per_page.clamp(1, 1000),
            namespaces: if scope.all {
                Vec::new()
            } else {
                scope.namespaces.iter().cloned().collect()
            },
            all_namespaces: scope.all,
            unindexed: indexed.failed.clone(),
        })
    }

    /// Previews (or, with `confirm`, carries out) deleting each image of `request`.
    pub async fn delete(
        &self,
        caller: Option<&Caller>,
        scope: &Scope,
        request: &DeleteRequest,
    ) -> Result<DeleteResult, ConsoleError> {
        let hosts = self.registry.hosts();
        let indexed = self.fresh_index(&[]).await;
        let unread: Vec<String> = indexed.failed.iter().map(|(c, _)| c.clone()).collect();
        let mut result = DeleteResult {
            dry_run: !request.confirm,
            items: Vec::new(),
            unindexed: indexed.failed.clone(),
        };
        // Once the registry says it refuses deletes, the rest is not tried.
        let mut refused: Option<String> = None;
        for image in &request.images {
            let mut item = DeleteItem {
                image: image.clone(),
                repository: String::new(),
                digest: String::new(),
                tags: Vec::new(),
                other_tags: Vec::new(),
                in_use: Vec::new(),
                in_use_elsewhere: 0,
                part_of: Vec::new(),
                children_kept: Vec::new(),
                size: 0,
                outcome: DeleteOutcome::WouldDelete,
            };
            let (repository, target) = match parse_image_path(image, &hosts) {
                Ok(parsed) => parsed,
                Err(message) => {
                    item.outcome = DeleteOutcome::Failed { message };
                    result.items.push(item);
                    continue;
                }
            };
            item.repository = repository.clone();
            if !scope.allows(&repository) {
                item.outcome = DeleteOutcome::Forbidden {
                    message: forbidden_message(&repository),
                };
                result.items.push(item);
                continue;
            }
            let (manifest, neighbours) = match self.find(&repository, &target).await {
                Ok(found) => found,
                Err(RegistryError::NotFound { what }) => {
                    item.outcome = DeleteOutcome::NotFound {
                        message: format!("{what} is not in the platform registry"),
                    };
                    result.items.push(item);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let requested_tag = match &target {
                ImageTarget::Tag(t) => Some(t.clone()),
                ImageTarget::Digest(_) => None,
            };
            item.digest = manifest.digest.clone();
            item.tags = manifest.tags.clone();
            item.other_tags = manifest
                .tags
                .iter()
                .filter(|t| Some(*t) != requested_tag.as_ref())
                .cloned()
                .collect();
            item.size = manifest.size;
            let parents = Parents::new(&neighbours);
            item.part_of = parents
                .of(&repository, &manifest.digest)
                .iter()
                .map(|p| format!("{} ({})", p.digest, p.tags.join(", ")))
                .collect();
            let going: HashSet<(&str, &str)> =
                [(repository.as_str(), manifest.digest.as_str())].into();
            let held = held_digests(&neighbours, &going);
            let (children, kept) = split_children(&manifest, &held);
            item.children_kept = kept;
            // An index in use uses its children: deleting a child of one is deleting in use.
            let usages = usages_with_parents(&indexed.index, &manifest, &parents);
            let in_use = !usages.is_empty();
            let seen = self.seen(caller, usages.iter()).await?;
            (item.in_use, item.in_use_elsewhere) = shown(usages, &seen);
            item.outcome = if in_use && !request.allow_in_use {
                DeleteOutcome::InUse
            } else if !unread.is_empty() && !request.allow_in_use {
                // A cluster that could not be read may run it.
                DeleteOutcome::UsageUnknown {
                    clusters: unread.clone(),
                }
            } else if !request.confirm {
                DeleteOutcome::WouldDelete
            } else if let Some(message) = &refused {
                DeleteOutcome::Failed {
                    message: format!("not tried: {message}"),
                }
            } else {
                match self
                    .delete_manifest(&repository, &manifest.digest, &children)
                    .await
                {
                    Ok(()) => DeleteOutcome::Deleted,
                    Err(RegistryError::NotFound { what }) => DeleteOutcome::NotFound {
                        message: format!("{what} was deleted meanwhile"),
                    },
                    Err(
                        e @ (RegistryError::DeleteDisabled { .. } | RegistryError::ReadOnly { .. }),
                    ) => {
                        refused = Some(e.to_string());
                        DeleteOutcome::Failed {
                            message: e.to_string(),
                        }
                    }
                    Err(e) => DeleteOutcome::Failed {
                        message: e.to_string(),
                    },
                }
            };
            result.items.push(item);
        }
        Ok(result)
    }

    /// The manifest `target` names in `repository` (with every tag on its digest), read now,
    /// and every tagged manifest of the repository beside it.
    async fn find(
        &self,
        repository: &str,
        target: &ImageTarget,
    ) -> Result<(Manifest, Vec<Manifest>), RegistryError> {
        let reference = match target {
            ImageTarget::Tag(t) => t.as_str(),
            ImageTarget::Digest(d) => d.as_str(),
        };
        let digest = self.registry.resolve(repository, reference).await?;
        let manifests = self
            .registry
            .manifests_read(&[repository.to_string()], Read::Fresh)
            .await?;
        let found = match manifests.iter().find(|m| m.digest == digest) {
            Some(m) => m.clone(),
            None => {
                self.registry
                    .manifest(repository, &digest, Vec::new())
                    .await?
            }
        };
        Ok((found, manifests))
    }

    /// Deletes `digest` of `repository`, then `children` (an index's children that nothing
    /// else holds).
    async fn delete_manifest(
        &self,
        repository: &str,
        digest: &str,
        children: &[String],
    ) -> Result<(), RegistryError> {
        self.registry.delete(repository, digest).await?;
        for child in children {
            match self.registry.delete(repository, child).await {
                Ok(()) | Err(RegistryError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Plans (and with `confirm` carries out) a prune within `scope`. Refuses, naming it, when
    /// a cluster not excluded cannot be listed completely, and before anything is deleted when
    /// the garbage collection it asks for may not or cannot run.
    pub async fn prune(
        &self,
        caller: Option<&Caller>,
        scope: &Scope,
        repositories: Vec<String>,
        request: &PruneRequest,
        now: i64,
    ) -> Result<PruneResult, ConsoleError> {
        let started = Instant::now();
        let mut policy = request.policy.clone();
        console_api::image::validate_policy(&policy)
            .map_err(|message| ConsoleError::Invalid { message })?;
        if !scope.all {
            if policy.namespaces.is_empty() {
                policy.namespaces = scope.namespaces.iter().cloned().collect();
                if policy.namespaces.is_empty() {
                    return Err(ConsoleError::Forbidden {
                        message: "you may delete images in no namespace (delete images.platform.nextgen-console.io)".into(),
                    });
                }
            } else if let Some(ns) = policy
                .namespaces
                .iter()
                .find(|ns| !scope.namespaces.contains(*ns))
            {
                return Err(ConsoleError::Forbidden {
                    message: forbidden_message(&format!("{ns}/")),
                });
            }
        }
        if request.gc && !scope.all {
            return Err(ConsoleError::Forbidden {
                message: "the registry's garbage collection frees storage of every repository, so only whoever may delete images in every namespace may run it; prune without it (leave out --gc)".into(),
            });
        }
        if request.gc && request.confirm && self.registry.gc_command().is_none() {
            return Err(gc_not_configured());
        }
        let unknown: Vec<&String> = policy
            .exclude_clusters
            .iter()
            .filter(|c| !self.clusters.list().iter().any(|r| &r.name == *c))
            .collect();
        if let Some(c) = unknown.first() {
            return Err(ConsoleError::ClusterNotFound {
                name: c.to_string(),
            });
        }
        let indexed = self.fresh_index(&policy.exclude_clusters).await;
        if let Some((name, reason)) = indexed.failed.first() {
            let others: Vec<&str> = indexed.failed[1..]
                .iter()
                .map(|(n, _)| n.as_str())
                .collect();
            return Err(ConsoleError::ClusterUnreachable {
                name: name.clone(),
                reason: format!(
                    "{reason}; the prune refuses while a cluster cannot be listed completely{}. Exclude it explicitly (excludeClusters, --exclude-cluster {name}) to prune without it",
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!(" (also: {})", others.join(", "))
                    }
                ),
            });
        }
        let (in_scope, others): (Vec<String>, Vec<String>) =
            repositories.into_iter().partition(|r| {
                scope.allows(r)
                    && (policy.namespaces.is_empty()
                        || repository_namespace(r)
                            .is_some_and(|ns| policy.namespaces.iter().any(|n| n == ns)))
            });
        // What may go is read now when it goes; the rest only counts for the blobs it keeps.
        let read = if request.confirm {
            Read::Fresh
        } else {
            Read::Recent
        };
        let mut manifests = self.registry.manifests_read(&in_scope, read).await?;
        manifests.extend(self.registry.manifests_of(&others).await?);
        let mut plan = plan_prune(&manifests, &indexed.index, &policy, now)
            .map_err(|message| ConsoleError::Invalid { message })?;
        plan.clusters = indexed.clusters.clone();
        plan.excluded = indexed.excluded.clone();
        let seen = self
            .seen(
                caller,
                plan.kept.iter().flat_map(|k| match &k.reason {
                    KeepReason::InUse { usages, .. } => usages.as_slice(),
                    _ => &[],
                }),
            )
            .await?;
        for kept in &mut plan.kept {
            if let KeepReason::InUse { usages, elsewhere } = &mut kept.reason {
                let (visible, hidden) = shown(std::mem::take(usages), &seen);
                *usages = visible;
                *elsewhere += hidden;
            }
        }
        let mut result = PruneResult {
            dry_run: !request.confirm,
            ..PruneResult::default()
        };
        if request.confirm {
            let mut refused: Option<String> = None;
            for candidate in &plan.candidates {
                let error = match &refused {
                    Some(message) => Some(format!("not tried: {message}")),
                    None => match self
                        .delete_manifest(
                            &candidate.repository,
                            &candidate.digest,
                            &candidate.children,
                        )
                        .await
                    {
                        Ok(()) | Err(RegistryError::NotFound { .. }) => None,
                        Err(
                            e @ (RegistryError::DeleteDisabled { .. }
                            | RegistryError::ReadOnly { .. }),
                        ) => {
                            refused = Some(e.to_string());
                            Some(e.to_string())
                        }
                        Err(e) => Some(e.to_string()),
                    },
                };
                result.deleted.push(PruneDeleted {
                    repository: candidate.repository.clone(),
                    digest: candidate.digest.clone(),
                    error,
                });
            }
            // The deletions stand whatever the collection does; its failure is reported beside.
            if request.gc {
                match self.garbage_collect().await {
                    Ok(output) => result.gc_output = Some(output),
                    Err(error) => result.gc_error = Some(error.to_string()),
                }
            }
        }
        result.plan = plan;
        result.duration_ms = started.elapsed().as_millis() as u64;
        Ok(result)
    }

    /// Runs the configured garbage-collection command (one at a time) and returns its output.
    /// The command owns the registry's side of it: it puts the registry in read-only mode
    /// while it collects and restarts it afterwards (`sandbox/registry-gc` shows how).
    pub async fn garbage_collect(&self) -> Result<String, ConsoleError> {
        let Some(command) = self.registry.gc_command() else {
            return Err(gc_not_configured());
        };
        let _one_at_a_time = self.registry.gc_lock().await;
        let shown = command.display().to_string();
        let output =
            tokio::task::spawn_blocking(move || std::process::Command::new(&command).output())
                .await
                .map_err(|e| ConsoleError::Internal {
                    message: format!("garbage collection did not finish: {e}"),
                })?
                .map_err(|e| ConsoleError::Internal {
                    message: format!("garbage collection {shown} could not start: {e}"),
                })?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if !output.status.success() {
            return Err(ConsoleError::Internal {
                message: format!(
                    "garbage collection {shown} failed ({}): {}",
                    output.status,
                    tail(&text)
                ),
            });
        }
        Ok(text)
    }
}

fn gc_not_configured() -> ConsoleError {
    ConsoleError::Invalid {
        message: "no garbage collection is configured; start the console with --registry-gc-command, or prune without it".into(),
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

fn forbidden_message(repository: &str) -> String {
    match repository_namespace(repository) {
        Some(ns) => format!(
            "you may not delete images of namespace {ns} (delete on images.platform.nextgen-console.io there)"
        ),
        None => format!(
            "{repository} belongs to no namespace; only platform administrators may delete it"
        ),
    }
}
