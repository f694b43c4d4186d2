//! The platform registry's images as the console, the pages and the `ac` CLI share them: the
//! views of tags and manifests, delete and prune requests with their previews and results, the
//! `ImagePrunePolicy` resource, and the pure rules (references, the usage index, listing, prune
//! planning) that the server runs and the benchmark measures.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// The RBAC resource (in the console's API group, [`crate::GROUP`]) that decides who sees,
/// deletes or prunes the images of a namespace: `get`/`list` to see, `delete` to delete and prune.
pub const RESOURCE: &str = "images";

/// Media types a manifest request must accept, or the registry answers with another digest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// All four, for the `Accept` header of every manifest request.
pub const MANIFEST_ACCEPT: [&str; 4] = [
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
];

/// Whether `media_type` is an index (OCI index or Docker manifest list).
pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

// ------------------------------------------------------------------------------------------
// Views
// ------------------------------------------------------------------------------------------

/// One manifest of a repository as the registry holds it (a tag points at one of these).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub repository: String,
    /// `sha256:…`, as the registry computed it for the stored bytes.
    pub digest: String,
    pub media_type: String,
    /// Every tag pointing at this digest, sorted.
    pub tags: Vec<String>,
    /// `os/architecture[/variant]` per platform; one entry for a single-platform image.
    pub platforms: Vec<String>,
    /// Child manifests of an index (empty otherwise).
    pub children: Vec<String>,
    /// Config and layer blobs (of every child for an index): digest and size in bytes.
    pub blobs: Vec<(String, u64)>,
    /// Bytes of the manifest's blobs (config and layers, children's for an index).
    pub size: u64,
    /// The image config's `created`, RFC 3339, when it says.
    pub created: Option<String>,
    /// `created` in seconds since the Unix epoch (for sorting and policies).
    pub created_unix: Option<i64>,
}

impl Manifest {
    pub fn multi_arch(&self) -> bool {
        is_index(&self.media_type)
    }

    /// The namespace the repository belongs to: its first path segment.
    pub fn namespace(&self) -> Option<&str> {
        repository_namespace(&self.repository)
    }
}

/// The namespace `repository` belongs to: its first segment, when there is a second.
pub fn repository_namespace(repository: &str) -> Option<&str> {
    repository
        .split_once('/')
        .map(|(first, _)| first)
        .filter(|first| !first.is_empty())
}

/// How an image reference was found in a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UsageVia {
    /// `repository:tag` in a spec.
    Tag,
    /// `repository@sha256:…` in a spec.
    Digest,
    /// The `imageID` a Pod's status reports (what actually runs).
    ImageId,
}

/// One place an image is used: a Pod or a workload template on a cluster.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Usage {
    pub cluster: String,
    pub namespace: String,
    /// `Pod`, `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `Job` or `CronJob`.
    pub kind: String,
    pub name: String,
    pub via: UsageVia,
}

/// One tag with its manifest's details and where it runs: a row of the list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageTag {
    pub repository: String,
    pub namespace: Option<String>,
    pub tag: String,
    pub digest: String,
    pub media_type: String,
    pub platforms: Vec<String>,
    pub multi_arch: bool,
    pub size: u64,
    pub created: Option<String>,
    pub created_unix: Option<i64>,
    /// Other tags on the same digest (deleting this one deletes them too).
    pub shared_with: Vec<String>,
    /// Where it runs, in the namespaces the caller may see.
    pub usage: Vec<Usage>,
    /// Further uses in namespaces the caller may not see: counted, not named.
    #[serde(default)]
    pub usage_elsewhere: usize,
}

impl ImageTag {
    /// `repository:tag`.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.repository, self.tag)
    }

    /// Every use, seen or not.
    pub fn uses(&self) -> usize {
        self.usage.len() + self.usage_elsewhere
    }
}

/// How the list is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageSort {
    #[default]
    Repository,
    Created,
    Size,
    Usage,
}

/// What the list shows: filters, order and page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageQuery {
    /// Only this namespace's repositories.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Case-insensitive text in `repository:tag` or the digest.
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub sort: ImageSort,
    #[serde(default)]
    pub descending: bool,
    /// From 0.
    #[serde(default)]
    pub page: usize,
    #[serde(default = "default_per_page")]
    pub per_page: usize,
}

fn default_per_page() -> usize {
    50
}

impl Default for ImageQuery {
    fn default() -> Self {
        Self {
            namespace: None,
            text: String::new(),
            sort: ImageSort::default(),
            descending: false,
            page: 0,
            per_page: default_per_page(),
        }
    }
}

/// A page of the list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageList {
    pub items: Vec<ImageTag>,
    /// Tags matching the filters (all pages).
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    /// The namespaces the user sees images of (for the namespace filter); empty for admins,
    /// who see all.
    pub namespaces: Vec<String>,
    /// Whether the user sees every repository (platform admin).
    pub all_namespaces: bool,
    /// Clusters whose usage could not be read (their usage is missing from the rows), with why.
    pub unindexed: Vec<(String, String)>,
}

/// Orders, filters and pages `tags` by `query` (already scoped to what the user may see).
pub fn query_tags(mut tags: Vec<ImageTag>, query: &ImageQuery) -> (Vec<ImageTag>, usize) {
    let text = query.text.trim().to_lowercase();
    tags.retain(|t| {
        query
            .namespace
            .as_deref()
            .is_none_or(|ns| t.namespace.as_deref() == Some(ns))
            && (text.is_empty()
                || t.reference().to_lowercase().contains(&text)
                || t.digest.contains(&text))
    });
    match query.sort {
        ImageSort::Repository => tags.sort_by(|a, b| {
            (a.repository.as_str(), a.tag.as_str()).cmp(&(b.repository.as_str(), b.tag.as_str()))
        }),
        ImageSort::Created => tags.sort_by(|a, b| {
            a.created_unix
                .cmp(&b.created_unix)
                .then_with(|| a.reference().cmp(&b.reference()))
        }),
        ImageSort::Size => tags.sort_by(|a, b| {
            a.size
                .cmp(&b.size)
                .then_with(|| a.reference().cmp(&b.reference()))
        }),
        ImageSort::Usage => tags.sort_by(|a, b| {
            a.uses()
                .cmp(&b.uses())
                .then_with(|| a.reference().cmp(&b.reference()))
        }),
    }
    if query.descending {
        tags.reverse();
    }
    let total = tags.len();
    let per_page = query.per_page.clamp(1, 1000);
    let items = tags
        .into_iter()
        .skip(query.page.saturating_mul(per_page))
        .take(per_page)
        .collect();
    (items, total)
}

/// One row per tag of `manifests`, with its usage from `index` (an index in use uses its
/// children): the usages `visible` lets through by name, the others counted.
pub fn tag_rows(
    manifests: &[Manifest],
    index: &UsageIndex,
    visible: impl Fn(&Usage) -> bool,
) -> Vec<ImageTag> {
    let mut rows = Vec::with_capacity(manifests.len());
    let parents = Parents::new(manifests);
    for m in manifests {
        let (usage, hidden): (Vec<Usage>, Vec<Usage>) = usages_with_parents(index, m, &parents)
            .into_iter()
            .partition(|u| visible(u));
        for tag in &m.tags {
            rows.push(ImageTag {
                repository: m.repository.clone(),
                namespace: m.namespace().map(str::to_string),
                tag: tag.clone(),
                digest: m.digest.clone(),
                media_type: m.media_type.clone(),
                platforms: m.platforms.clone(),
                multi_arch: m.multi_arch(),
                size: m.size,
                created: m.created.clone(),
                created_unix: m.created_unix,
                shared_with: m.tags.iter().filter(|t| *t != tag).cloned().collect(),
                usage: usage.clone(),
                usage_elsewhere: hidden.len(),
            });
        }
    }
    rows
}

// ------------------------------------------------------------------------------------------
// Delete
// ------------------------------------------------------------------------------------------

/// Delete tags by path (`repository:tag` or `repository@sha256:…`). A dry run (the default)
/// only previews; `confirm` acts, and an image still in use goes only with `allow_in_use`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteRequest {
    pub images: Vec<String>,
    #[serde(default)]
    pub confirm: bool,
    #[serde(default)]
    pub allow_in_use: bool,
}

/// What happened (or would) to one requested image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum DeleteOutcome {
    /// Dry run: it would be deleted.
    WouldDelete,
    Deleted,
    /// In use: deleting it needs the extra confirmation (`allow_in_use`).
    InUse,
    /// Used nowhere the console could look, but these clusters could not be read, so it may
    /// run there: deleting it needs the same extra confirmation.
    UsageUnknown {
        clusters: Vec<String>,
    },
    NotFound {
        message: String,
    },
    Forbidden {
        message: String,
    },
    Failed {
        message: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteItem {
    /// As requested.
    pub image: String,
    pub repository: String,
    /// The manifest that goes (empty when not found).
    pub digest: String,
    /// Every tag on that digest, the requested one included: the registry untags them all.
    pub tags: Vec<String>,
    /// The other tags on the digest that go along (the shared-digest warning).
    pub other_tags: Vec<String>,
    /// Pods and workloads still using the manifest (an index in use uses its children), in
    /// the namespaces the caller may see.
    pub in_use: Vec<Usage>,
    /// Further uses in namespaces the caller may not see: counted, not named.
    #[serde(default)]
    pub in_use_elsewhere: usize,
    /// The indexes this manifest is a child of (`sha256:… (tags)`): deleting it breaks them.
    #[serde(default)]
    pub part_of: Vec<String>,
    /// Children of this index that stay because another index or a tag still points at them.
    #[serde(default)]
    pub children_kept: Vec<String>,
    pub size: u64,
    pub outcome: DeleteOutcome,
}

impl DeleteItem {
    /// Every use of the manifest, seen or not.
    pub fn uses(&self) -> usize {
        self.in_use.len() + self.in_use_elsewhere
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteResult {
    pub dry_run: bool,
    pub items: Vec<DeleteItem>,
    /// Clusters whose usage could not be read, with why (their pods are not in `in_use`).
    pub unindexed: Vec<(String, String)>,
}

// ------------------------------------------------------------------------------------------
// References
// ------------------------------------------------------------------------------------------

/// An image reference as Pods and workloads write it, split and with the registry host kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// The registry host (with port), `None` for a Docker Hub short name.
    pub host: Option<String>,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// Parses `[host/]repository[:tag][@digest]`, as a container runtime reads an image field,
/// and the `imageID` forms runtimes report (`docker-pullable://…`, `docker://sha256:…`).
pub fn parse_reference(input: &str) -> Option<Reference> {
    let input = input.trim();
    let input = input
        .strip_prefix("docker-pullable://")
        .or_else(|| input.strip_prefix("docker://"))
        .unwrap_or(input);
    if input.is_empty() || input.chars().any(|c| c.is_whitespace()) {
        return None;
    }
    let (rest, digest) = match input.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest.to_string())),
        None => (input, None),
    };
    if let Some(d) = &digest
        && !valid_digest(d)
    {
        return None;
    }
    // A tag is after the last ':' that follows the last '/' (a ':' before it is a port).
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (
            &rest[..last_slash + i],
            Some(rest[last_slash + i + 1..].to_string()),
        ),
        None => (rest, None),
    };
    if tag.as_deref().is_some_and(|t| !valid_tag(t)) {
        return None;
    }
    let (host, repository) = match name.split_once('/') {
        Some((first, path))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first.to_lowercase()), path.to_string())
        }
        _ => (None, name.to_string()),
    };
    if repository.is_empty() || !repository.split('/').all(valid_path_component) {
        return None;
    }
    Some(Reference {
        host,
        repository,
        tag,
        digest,
    })
}

/// `sha256:` and 64 lowercase hex digits (or another algorithm with its hex).
pub fn valid_digest(digest: &str) -> bool {
    match digest.split_once(':') {
        Some((algorithm, hex)) => {
            !algorithm.is_empty()
                && algorithm.chars().all(|c| {
                    c.is_ascii_lowercase()
                        || c.is_ascii_digit()
                        || c == '+'
                        || c == '.'
                        || c == '_'
                        || c == '-'
                })
                && hex.len() >= 32
                && hex
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        }
        None => false,
    }
}

/// A tag as the distribution spec allows it: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    tag.len() <= 128
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn valid_path_component(component: &str) -> bool {
    !component.is_empty()
        && component
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        && component.starts_with(|c: char| c.is_ascii_alphanumeric())
        && component.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A path the user names for deletion: `repository:tag` or `repository@digest`, no host (or the
/// platform registry's host, which `hosts` lists).
pub fn parse_image_path(input: &str, hosts: &[String]) -> Result<(String, ImageTarget), String> {
    let reference = parse_reference(input).ok_or_else(|| {
        format!(
            "{input:?} is not an image path; write repository:tag or repository@sha256:<digest>"
        )
    })?;
    if let Some(host) = &reference.host
        && !hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    {
        return Err(format!(
            "{input:?} names registry {host}, not the platform registry; leave the host out"
        ));
    }
    let target = match (reference.tag, reference.digest) {
        (_, Some(digest)) => ImageTarget::Digest(digest),
        (Some(tag), None) => ImageTarget::Tag(tag),
        (None, None) => {
            return Err(format!(
                "{input:?} names no tag; write repository:tag (deleting a whole repository is not offered)"
            ));
        }
    };
    Ok((reference.repository, target))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageTarget {
    Tag(String),
    Digest(String),
}

// ------------------------------------------------------------------------------------------
// Usage index
// ------------------------------------------------------------------------------------------

/// Where every image of the platform registry is used, across clusters. References to other
/// registries are dropped; the registry's host aliases (its service name, a node-local port, …)
/// count as the registry.
#[derive(Clone, Debug, Default)]
pub struct UsageIndex {
    hosts: Vec<String>,
    /// Repository, then tag (nested, so lookups borrow instead of building keys).
    by_tag: HashMap<String, HashMap<String, Vec<Usage>>>,
    /// Repository, then digest.
    by_digest: HashMap<String, HashMap<String, Vec<Usage>>>,
    /// `imageID`s without a repository (`sha256:…` alone): any repository with that digest.
    by_bare_digest: HashMap<String, Vec<Usage>>,
}

impl UsageIndex {
    /// An empty index for a registry reachable under `hosts` (lowercase `host[:port]`).
    pub fn new(hosts: &[String]) -> Self {
        Self {
            hosts: hosts.iter().map(|h| h.to_lowercase()).collect(),
            ..Self::default()
        }
    }

    /// Whether `host` is the platform registry (after alias normalisation).
    pub fn is_registry(&self, host: &str) -> bool {
        let host = host.to_lowercase();
        self.hosts.contains(&host)
    }

    /// Records that `usage` refers to `image` (a spec's image field or a status' imageID).
    pub fn record(&mut self, image: &str, usage: Usage) {
        let trimmed = image
            .trim()
            .trim_start_matches("docker-pullable://")
            .trim_start_matches("docker://");
        if valid_digest(trimmed) {
            self.by_bare_digest
                .entry(trimmed.to_string())
                .or_default()
                .push(usage);
            return;
        }
        let Some(reference) = parse_reference(trimmed) else {
            return;
        };
        let Some(host) = reference.host.as_deref() else {
            return;
        };
        if !self.is_registry(host) {
            return;
        }
        if let Some(digest) = reference.digest {
            let usage = Usage {
                via: if usage.via == UsageVia::ImageId {
                    UsageVia::ImageId
                } else {
                    UsageVia::Digest
                },
                ..usage
            };
            self.by_digest
                .entry(reference.repository)
                .or_default()
                .entry(digest)
                .or_default()
                .push(usage);
        } else {
            let tag = reference.tag.unwrap_or_else(|| "latest".into());
            self.by_tag
                .entry(reference.repository)
                .or_default()
                .entry(tag)
                .or_default()
                .push(usage);
        }
    }

    /// Every use of `manifest`: by any of its tags, its digest, or a child's digest.
    pub fn usages(&self, manifest: &Manifest) -> Vec<Usage> {
        let mut found: BTreeSet<&Usage> = BTreeSet::new();
        if let Some(tags) = self.by_tag.get(&manifest.repository) {
            for tag in &manifest.tags {
                found.extend(tags.get(tag).into_iter().flatten());
            }
        }
        let digests = self.by_digest.get(&manifest.repository);
        for digest in std::iter::once(&manifest.digest).chain(manifest.children.iter()) {
            found.extend(digests.and_then(|d| d.get(digest)).into_iter().flatten());
            found.extend(self.by_bare_digest.get(digest).into_iter().flatten());
        }
        found.into_iter().cloned().collect()
    }

    /// How many references were recorded.
    pub fn len(&self) -> usize {
        let nested = |m: &HashMap<String, HashMap<String, Vec<Usage>>>| -> usize {
            m.values()
                .flat_map(|inner| inner.values())
                .map(Vec::len)
                .sum()
        };
        nested(&self.by_tag)
            + nested(&self.by_digest)
            + self.by_bare_digest.values().map(Vec::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// ------------------------------------------------------------------------------------------
// Prune
// ------------------------------------------------------------------------------------------

/// Which manifests a prune keeps. Without `all` and without any keep rule, the defaults keep
/// the newest [`DEFAULT_KEEP_NEWEST`] tags per repository and whatever is younger than
/// [`DEFAULT_KEEP_YOUNGER_THAN`]; `all` drops those defaults. Images in use are always kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PrunePolicy {
    /// Keep manifests created less than this long ago (`90m`, `36h`, `7d`, `2w`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_younger_than: Option<String>,
    /// Keep the newest N tags of every repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_newest: Option<u32>,
    /// Keep what matches any of these `repository[:tag]` patterns (`*` matches within a path
    /// segment, `**` across segments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Only the repositories of these namespaces (all when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// No default keep rules: every unused manifest not kept by an explicit rule goes.
    #[serde(default)]
    pub all: bool,
    /// Clusters left out of the usage index on purpose (otherwise a cluster that cannot be
    /// listed blocks the prune).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_clusters: Vec<String>,
}

pub const DEFAULT_KEEP_NEWEST: u32 = 3;
pub const DEFAULT_KEEP_YOUNGER_THAN: &str = "1h";

/// A prune: the policy, and whether to act (`confirm`) and collect garbage afterwards (`gc`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneRequest {
    #[serde(default)]
    pub policy: PrunePolicy,
    #[serde(default)]
    pub confirm: bool,
    #[serde(default)]
    pub gc: bool,
}

/// The CronJob that runs `ac adm prune images` on a schedule (`ac adm prune images
/// --print-cronjob`): what it prunes and how its pod reaches the console.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CronJobRequest {
    /// Cron syntax, as a CronJob takes it.
    pub schedule: String,
    #[serde(default)]
    pub policy: PrunePolicy,
    /// Run the registry's garbage collection after each prune (`--gc`).
    #[serde(default)]
    pub gc: bool,
    /// The console's address the job calls (`AC_SERVER`).
    pub server: String,
    /// The image with `ac` in it; by default `<platform registry>/platform/ac:<console version>`.
    #[serde(default)]
    pub image: Option<String>,
    /// The Secret in the CronJob's namespace holding `token` (`AC_TOKEN`) and, with `ca`,
    /// `ca.crt` (`AC_CERTIFICATE_AUTHORITY`).
    #[serde(default = "default_cronjob_secret")]
    pub secret: String,
    /// Whether the console's certificate needs a CA of its own (`ca.crt` in the Secret).
    #[serde(default)]
    pub ca: bool,
    /// The service account the job's pod runs as (its token is not mounted: `ac` needs none).
    #[serde(default = "default_cronjob_service_account")]
    pub service_account: String,
}

pub const DEFAULT_CRONJOB_SECRET: &str = "prune-images-ac";
pub const DEFAULT_CRONJOB_SERVICE_ACCOUNT: &str = "default";

fn default_cronjob_secret() -> String {
    DEFAULT_CRONJOB_SECRET.into()
}

fn default_cronjob_service_account() -> String {
    DEFAULT_CRONJOB_SERVICE_ACCOUNT.into()
}

/// Why a manifest stays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "camelCase")]
pub enum KeepReason {
    InUse {
        /// The uses the caller may see.
        usages: Vec<Usage>,
        /// Uses in namespaces the caller may not see: counted, not named.
        #[serde(default)]
        elsewhere: usize,
    },
    Younger {
        than: String,
    },
    /// Its config says no creation time: its age is unknown, so keep-younger-than keeps it.
    Undated {
        than: String,
    },
    Newest {
        n: u32,
    },
    /// A child of an index that stays (`index` is its digest): deleting it would break it.
    InIndex {
        index: String,
    },
    Allowed {
        pattern: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneKept {
    pub repository: String,
    pub digest: String,
    pub tags: Vec<String>,
    pub reason: KeepReason,
}

/// A manifest the prune removes, with its tags and (for an index) its children.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneCandidate {
    pub repository: String,
    pub digest: String,
    pub tags: Vec<String>,
    pub children: Vec<String>,
    pub size: u64,
    pub created: Option<String>,
    /// Why it goes, in words.
    pub why: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunePlan {
    pub candidates: Vec<PruneCandidate>,
    pub kept: Vec<PruneKept>,
    /// Bytes of the candidates' blobs that no kept manifest shares (what GC can free).
    pub bytes_reclaimable: u64,
    /// Clusters whose Pods and workloads were indexed.
    pub clusters: Vec<String>,
    /// Clusters left out on request.
    pub excluded: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneDeleted {
    pub repository: String,
    pub digest: String,
    /// `None` when deleted, else why not.
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneResult {
    pub dry_run: bool,
    pub plan: PrunePlan,
    pub deleted: Vec<PruneDeleted>,
    /// The garbage collector's output, when it ran.
    pub gc_output: Option<String>,
    /// Why the garbage collection failed, when it did (the deletions above stand).
    #[serde(default)]
    pub gc_error: Option<String>,
    pub duration_ms: u64,
}

/// Parses a duration as `90s`, `90m`, `36h`, `7d` or `2w` into seconds.
pub fn parse_duration(input: &str) -> Result<u64, String> {
    let input = input.trim();
    let split = input
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{input:?} has no unit; write for example 90m, 36h, 7d or 2w"))?;
    let (number, unit) = input.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{input:?} does not start with a number; write for example 7d"))?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        other => {
            return Err(format!(
                "{input:?} has unit {other:?}; use s, m, h, d or w (for example 7d)"
            ));
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("{input:?} is too long a duration"))
}

/// Whether `pattern` (`repository[:tag]`, `*` within a segment, `**` across) matches.
pub fn pattern_matches(pattern: &str, repository: &str, tag: Option<&str>) -> bool {
    let (repo_pattern, tag_pattern) = match pattern.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, Some(t)),
        _ => (pattern, None),
    };
    if !glob(repo_pattern, repository, true) {
        return false;
    }
    match (tag_pattern, tag) {
        (None, _) => true,
        (Some(p), Some(t)) => glob(p, t, false),
        (Some(_), None) => false,
    }
}

/// `*` matches any run of characters except `/` (when `segments`), `**` any run at all.
fn glob(pattern: &str, text: &str, segments: bool) -> bool {
    fn go(p: &[u8], t: &[u8], segments: bool) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some(b'*') => {
                let double = p.get(1) == Some(&b'*');
                let rest = if double { &p[2..] } else { &p[1..] };
                for i in 0..=t.len() {
                    if go(rest, &t[i..], segments) {
                        return true;
                    }
                    if i < t.len() && segments && !double && t[i] == b'/' {
                        return false;
                    }
                }
                false
            }
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..], segments),
        }
    }
    go(pattern.as_bytes(), text.as_bytes(), segments)
}

/// Checks a policy's fields before anything runs; names the field and what to write.
pub fn validate_policy(policy: &PrunePolicy) -> Result<(), String> {
    if let Some(d) = &policy.keep_younger_than {
        parse_duration(d).map_err(|e| format!("keepYoungerThan: {e}"))?;
    }
    for pattern in &policy.allow {
        if pattern.trim().is_empty() {
            return Err("allow: an empty pattern; remove it or write repository[:tag]".into());
        }
    }
    Ok(())
}

/// Which indexes list each manifest as a child, by repository, then child digest.
pub struct Parents<'a>(HashMap<&'a str, HashMap<&'a str, Vec<&'a Manifest>>>);

impl<'a> Parents<'a> {
    pub fn new(manifests: &'a [Manifest]) -> Self {
        let mut map: HashMap<&str, HashMap<&str, Vec<&Manifest>>> = HashMap::new();
        for m in manifests {
            for child in &m.children {
                map.entry(m.repository.as_str())
                    .or_default()
                    .entry(child.as_str())
                    .or_default()
                    .push(m);
            }
        }
        Self(map)
    }

    /// The indexes of `repository` that list `digest` as a child.
    pub fn of(&self, repository: &str, digest: &str) -> &[&'a Manifest] {
        self.0
            .get(repository)
            .and_then(|children| children.get(digest))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

/// Every use of `manifest`, counting an index in use as using its children: what runs the
/// manifest itself, and what runs any index it is a child of.
pub fn usages_with_parents(
    index: &UsageIndex,
    manifest: &Manifest,
    parents: &Parents,
) -> Vec<Usage> {
    let mut found: BTreeSet<Usage> = index.usages(manifest).into_iter().collect();
    for parent in parents.of(&manifest.repository, &manifest.digest) {
        found.extend(index.usages(parent));
    }
    found.into_iter().collect()
}

/// What the manifests of `manifests` that stay (all but `going`, by repository and digest)
/// point at: their own digests and their children's.
pub fn held_digests<'a>(
    manifests: &'a [Manifest],
    going: &HashSet<(&str, &str)>,
) -> HashSet<(&'a str, &'a str)> {
    manifests
        .iter()
        .filter(|m| !going.contains(&(m.repository.as_str(), m.digest.as_str())))
        .flat_map(|m| {
            std::iter::once(m.digest.as_str())
                .chain(m.children.iter().map(String::as_str))
                .map(move |d| (m.repository.as_str(), d))
        })
        .collect()
}

/// Which children of `index` go with it: those nothing that stays points at (`held`, from
/// [`held_digests`]). Returns (deleted, kept).
pub fn split_children(
    index: &Manifest,
    held: &HashSet<(&str, &str)>,
) -> (Vec<String>, Vec<String>) {
    index
        .children
        .iter()
        .cloned()
        .partition(|c| !held.contains(&(index.repository.as_str(), c.as_str())))
}

/// Plans a prune against `index` at time `now` (Unix seconds). `manifests` is every tagged
/// manifest of the registry, not only those the prune may touch: the policy's namespaces (the
/// caller's scope) decide what may go, and the rest still counts for what stays (an index's
/// children, blobs shared across repositories). Pure: the server, the controller, the CLI
/// preview and the benchmark share it.
pub fn plan_prune(
    manifests: &[Manifest],
    index: &UsageIndex,
    policy: &PrunePolicy,
    now: i64,
) -> Result<PrunePlan, String> {
    validate_policy(policy)?;
    let defaults =
        !policy.all && policy.keep_younger_than.is_none() && policy.keep_newest.is_none();
    let younger = match (&policy.keep_younger_than, defaults) {
        (Some(d), _) => Some((d.clone(), parse_duration(d)?)),
        (None, true) => Some((
            DEFAULT_KEEP_YOUNGER_THAN.to_string(),
            parse_duration(DEFAULT_KEEP_YOUNGER_THAN)?,
        )),
        (None, false) => None,
    };
    let newest = policy
        .keep_newest
        .or(defaults.then_some(DEFAULT_KEEP_NEWEST));

    let in_scope = |m: &Manifest| {
        policy.namespaces.is_empty()
            || m.namespace()
                .is_some_and(|ns| policy.namespaces.iter().any(|n| n == ns))
    };
    // Children of an index in the same repository go (and stay) with their index.
    let children: HashSet<(&str, &str)> = manifests
        .iter()
        .flat_map(|m| {
            m.children
                .iter()
                .map(move |c| (m.repository.as_str(), c.as_str()))
        })
        .collect();

    // The newest N tags of each repository, by created time (then tag name, for ties).
    let mut newest_digests: HashSet<(&str, &str)> = HashSet::new();
    if let Some(n) = newest {
        // Per repository: (created, tag, digest) of every tag.
        type Tagged<'a> = Vec<(Option<i64>, &'a str, &'a str)>;
        let mut by_repo: BTreeMap<&str, Tagged> = BTreeMap::new();
        for m in manifests.iter().filter(|m| in_scope(m)) {
            for tag in &m.tags {
                by_repo.entry(&m.repository).or_default().push((
                    m.created_unix,
                    tag.as_str(),
                    m.digest.as_str(),
                ));
            }
        }
        for (repo, mut tags) in by_repo {
            tags.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(a.1)));
            for (_, _, digest) in tags.into_iter().take(n as usize) {
                newest_digests.insert((repo, digest));
            }
        }
    }

    let parents = Parents::new(manifests);
    let mut plan = PrunePlan::default();
    let mut going: Vec<&Manifest> = Vec::new();
    for m in manifests {
        if !in_scope(m) {
            continue;
        }
        if m.tags.is_empty() && children.contains(&(m.repository.as_str(), m.digest.as_str())) {
            continue;
        }
        let keep = |reason| PruneKept {
            repository: m.repository.clone(),
            digest: m.digest.clone(),
            tags: m.tags.clone(),
            reason,
        };
        let usages = usages_with_parents(index, m, &parents);
        if !usages.is_empty() {
            plan.kept.push(keep(KeepReason::InUse {
                usages,
                elsewhere: 0,
            }));
            continue;
        }
        if let Some(pattern) = policy.allow.iter().find(|p| {
            pattern_matches(p, &m.repository, None) && !p.contains(':')
                || m.tags
                    .iter()
                    .any(|t| pattern_matches(p, &m.repository, Some(t)))
        }) {
            plan.kept.push(keep(KeepReason::Allowed {
                pattern: pattern.clone(),
            }));
            continue;
        }
        if let Some((text, seconds)) = &younger {
            match m.created_unix {
                Some(created) if now.saturating_sub(created) < *seconds as i64 => {
                    plan.kept
                        .push(keep(KeepReason::Younger { than: text.clone() }));
                    continue;
                }
                None => {
                    plan.kept
                        .push(keep(KeepReason::Undated { than: text.clone() }));
                    continue;
                }
                Some(_) => {}
            }
        }
        if let Some(n) = newest
            && newest_digests.contains(&(m.repository.as_str(), m.digest.as_str()))
        {
            plan.kept.push(keep(KeepReason::Newest { n }));
            continue;
        }
        going.push(m);
    }

    // A tagged manifest that is also the child of an index that stays, stays with it
    // (repeated, as keeping one can keep the child of another).
    loop {
        let keys: HashSet<(&str, &str)> = going
            .iter()
            .map(|m| (m.repository.as_str(), m.digest.as_str()))
            .collect();
        let staying_parent = |m: &Manifest| {
            parents
                .of(&m.repository, &m.digest)
                .iter()
                .find(|p| !keys.contains(&(p.repository.as_str(), p.digest.as_str())))
                .map(|p| p.digest.clone())
        };
        let mut held = Vec::new();
        going.retain(|m| match staying_parent(m) {
            Some(index) => {
                held.push(PruneKept {
                    repository: m.repository.clone(),
                    digest: m.digest.clone(),
                    tags: m.tags.clone(),
                    reason: KeepReason::InIndex { index },
                });
                false
            }
            None => true,
        });
        if held.is_empty() {
            break;
        }
        plan.kept.extend(held);
    }

    let going_keys: HashSet<(&str, &str)> = going
        .iter()
        .map(|m| (m.repository.as_str(), m.digest.as_str()))
        .collect();
    let held = held_digests(manifests, &going_keys);
    for m in &going {
        let mut why = vec!["used by no Pod or workload on any indexed cluster".to_string()];
        if let Some((text, _)) = &younger {
            why.push(format!("older than {text}"));
        }
        if let Some(n) = newest {
            why.push(format!("not among the newest {n} tags of {}", m.repository));
        }
        let (children, kept_children) = split_children(m, &held);
        if !kept_children.is_empty() {
            why.push(format!(
                "{} of its children stay(s): another index or tag points at them",
                kept_children.len()
            ));
        }
        plan.candidates.push(PruneCandidate {
            repository: m.repository.clone(),
            digest: m.digest.clone(),
            tags: m.tags.clone(),
            children,
            size: m.size,
            created: m.created.clone(),
            why: why.join("; "),
        });
    }

    // Blobs any manifest that stays references, in any repository (out-of-scope ones too),
    // are not reclaimed.
    let mut kept_blobs: HashSet<&str> = HashSet::new();
    let mut going_blobs: HashMap<&str, u64> = HashMap::new();
    for m in manifests {
        let goes = going_keys.contains(&(m.repository.as_str(), m.digest.as_str()));
        for (digest, size) in &m.blobs {
            if goes {
                going_blobs.insert(digest, *size);
            } else {
                kept_blobs.insert(digest);
            }
        }
    }
    plan.bytes_reclaimable = going_blobs
        .iter()
        .filter(|(d, _)| !kept_blobs.contains(*d))
        .map(|(_, s)| s)
        .sum();
    Ok(plan)
}

// ------------------------------------------------------------------------------------------
// The ImagePrunePolicy resource
// ------------------------------------------------------------------------------------------

/// A scheduled prune of the platform registry (`imageprunepolicies.platform.nextgen-console.io`,
/// cluster-scoped on global), run by the console's leader-elected controller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(kube::CustomResource, schemars::JsonSchema))]
#[cfg_attr(
    feature = "kube",
    kube(
        group = "platform.nextgen-console.io",
        version = "v1alpha1",
        kind = "ImagePrunePolicy",
        plural = "imageprunepolicies",
        status = "ImagePruneState",
        shortname = "imgprune",
        printcolumn = r#"{"name":"Schedule","type":"string","jsonPath":".spec.schedule"}"#,
        printcolumn = r#"{"name":"Authorized","type":"string","jsonPath":".status.conditions[?(@.type==\"Authorized\")].status"}"#,
        printcolumn = r#"{"name":"Last run","type":"string","jsonPath":".status.lastRun"}"#,
        printcolumn = r#"{"name":"Next run","type":"string","jsonPath":".status.nextRun"}"#
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ImagePrunePolicySpec {
    /// When to run: `@every <duration>` (for example `@every 6h`), `@hourly`, `@daily` or
    /// `@weekly`.
    pub schedule: String,
    #[serde(default)]
    pub policy: PrunePolicy,
    /// Run the registry's garbage collection after each prune (registry-wide, so only for an
    /// author who may delete images in every namespace).
    #[serde(default)]
    pub gc: bool,
    /// Only plan, never delete (each run's plan is still recorded).
    #[serde(default)]
    pub dry_run: bool,
    /// Stop running until unset.
    #[serde(default)]
    pub suspend: bool,
}

/// The seconds between runs of `schedule`.
pub fn schedule_interval(schedule: &str) -> Result<u64, String> {
    match schedule.trim() {
        "@hourly" => Ok(3600),
        "@daily" => Ok(86_400),
        "@weekly" => Ok(604_800),
        other => match other.strip_prefix("@every ") {
            Some(d) => {
                let seconds = parse_duration(d)?;
                if seconds < 10 {
                    Err(format!("schedule {other:?} is shorter than 10 s"))
                } else {
                    Ok(seconds)
                }
            }
            None => Err(format!(
                "schedule {other:?} is not understood; write @every 6h, @hourly, @daily or @weekly"
            )),
        },
    }
}

/// The condition that says whether the controller may prune for the policy's author (shared
/// with Applications).
pub use crate::application::AUTHORIZED;

/// The history a policy keeps in its status.
pub const HISTORY_LIMIT: usize = 10;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImagePruneState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run: Option<String>,
    /// Newest first, at most [`HISTORY_LIMIT`].
    #[serde(default)]
    pub history: Vec<PruneRun>,
    /// What is wrong with the spec, or why the policy does not run, when something is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The author the last run acted for (from the author annotations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// `Authorized`: whether the controller may prune for the policy's author, and if not, why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<crate::cluster::ClusterCondition>,
}

impl ImagePruneState {
    /// The [`AUTHORIZED`] condition, once the controller has looked at the policy.
    pub fn authorized(&self) -> Option<&crate::cluster::ClusterCondition> {
        self.conditions.iter().find(|c| c.type_ == AUTHORIZED)
    }

    /// Says whether the controller may prune for the author (`ok`), and why not.
    pub fn authorize(&mut self, ok: bool, reason: &str, message: String, now: &str) {
        crate::application::set_condition(
            &mut self.conditions,
            AUTHORIZED,
            ok,
            reason,
            message,
            now,
        );
    }
}

/// One run of a policy: its plan in numbers and what came of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PruneRun {
    pub started: String,
    pub duration_ms: u64,
    pub dry_run: bool,
    /// What the run could touch, as far as its author may: `namespaces team-a, team-b`, or
    /// `every repository`.
    #[serde(default)]
    pub scope: String,
    pub candidates: u32,
    pub kept: u32,
    pub deleted: u32,
    pub bytes_reclaimable: u64,
    #[serde(default)]
    pub errors: Vec<String>,
    /// The candidates as `repository@digest (tags)`, at most 50.
    #[serde(default)]
    pub plan: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gc_output: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    const D3: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
    const D4: &str = "sha256:4444444444444444444444444444444444444444444444444444444444444444";

    fn usage(name: &str, via: UsageVia) -> Usage {
        Usage {
            cluster: "east".into(),
            namespace: "team-a".into(),
            kind: "Pod".into(),
            name: name.into(),
            via,
        }
    }

    fn manifest(repo: &str, digest: &str, tags: &[&str], created: i64) -> Manifest {
        Manifest {
            repository: repo.into(),
            digest: digest.into(),
            media_type: OCI_MANIFEST.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            platforms: vec!["linux/amd64".into()],
            created_unix: Some(created),
            size: 100,
            blobs: vec![(format!("blob-{digest}"), 100)],
            ..Manifest::default()
        }
    }

    #[test]
    fn references_split_host_repository_tag_and_digest() {
        let r = parse_reference("registry.example:5000/team-a/web:1.2").unwrap_or_else(|| panic!());
        assert_eq!(r.host.as_deref(), Some("registry.example:5000"));
        assert_eq!(r.repository, "team-a/web");
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        let r = parse_reference(&format!(
            "docker-pullable://127.0.0.1:17500/team-a/web@{D1}"
        ))
        .unwrap_or_else(|| panic!());
        assert_eq!(
            (r.host.as_deref(), r.digest.as_deref()),
            (Some("127.0.0.1:17500"), Some(D1))
        );
        let r = parse_reference("nginx:1.27").unwrap_or_else(|| panic!());
        assert_eq!((r.host, r.repository.as_str()), (None, "nginx"));
        assert!(parse_reference("Team/Web:1").is_none());
        assert!(parse_reference("web@sha256:short").is_none());
    }

    #[test]
    fn host_aliases_count_as_the_registry_and_others_are_dropped() {
        let hosts = vec![
            "127.0.0.1:17500".to_string(),
            "registry.platform.svc:5000".to_string(),
        ];
        let mut index = UsageIndex::new(&hosts);
        index.record(
            "REGISTRY.platform.svc:5000/team-a/web:1.0",
            usage("a", UsageVia::Tag),
        );
        index.record("docker.io/team-a/web:1.0", usage("b", UsageVia::Tag));
        index.record("team-a/web:1.0", usage("c", UsageVia::Tag));
        let m = manifest("team-a/web", D1, &["1.0"], 0);
        let names: Vec<String> = index.usages(&m).into_iter().map(|u| u.name).collect();
        assert_eq!(names, ["a"]);
    }

    #[test]
    fn image_ids_and_child_digests_keep_their_manifest() {
        let mut index = UsageIndex::new(&["127.0.0.1:17500".to_string()]);
        index.record(
            &format!("127.0.0.1:17500/team-a/multi@{D3}"),
            usage("p", UsageVia::ImageId),
        );
        index.record(D4, usage("bare", UsageVia::ImageId));
        let mut multi = manifest("team-a/multi", D2, &["1.0"], 0);
        multi.media_type = OCI_INDEX.into();
        multi.children = vec![D3.into()];
        assert_eq!(index.usages(&multi).len(), 1);
        let bare = manifest("other/repo", D4, &["x"], 0);
        assert_eq!(index.usages(&bare)[0].name, "bare");
    }

    #[test]
    fn prune_keeps_images_in_use_by_tag_and_by_digest_alone() {
        let mut index = UsageIndex::new(&["r:5000".to_string()]);
        index.record("r:5000/team-a/web:v1", usage("by-tag", UsageVia::Tag));
        index.record(
            &format!("r:5000/team-a/web@{D2}"),
            usage("by-digest", UsageVia::Digest),
        );
        let manifests = vec![
            manifest("team-a/web", D1, &["v1"], 0),
            manifest("team-a/web", D2, &["v2"], 0),
            manifest("team-a/web", D3, &["v3"], 0),
        ];
        let policy = PrunePolicy {
            all: true,
            ..PrunePolicy::default()
        };
        let plan =
            plan_prune(&manifests, &index, &policy, 1_000_000).unwrap_or_else(|e| panic!("{e}"));
        let going: Vec<&str> = plan.candidates.iter().map(|c| c.digest.as_str()).collect();
        assert_eq!(going, [D3]);
        assert_eq!(plan.kept.len(), 2);
        assert_eq!(plan.bytes_reclaimable, 100);
    }

    #[test]
    fn prune_honours_each_policy() {
        let index = UsageIndex::new(&["r:5000".to_string()]);
        let day = 86_400;
        let now = 100 * day;
        let manifests = vec![
            manifest("team-a/web", D1, &["v1"], now - 30 * day),
            manifest("team-a/web", D2, &["v2"], now - 20 * day),
            manifest("team-a/web", D3, &["v3"], now - 2 * day),
            manifest("team-b/api", D4, &["keep-me"], now - 50 * day),
        ];
        let going = |policy: PrunePolicy| -> Vec<String> {
            plan_prune(&manifests, &index, &policy, now)
                .unwrap_or_else(|e| panic!("{e}"))
                .candidates
                .into_iter()
                .map(|c| format!("{}:{}", c.repository, c.tags.join(",")))
                .collect()
        };
        let younger = PrunePolicy {
            keep_younger_than: Some("7d".into()),
            ..PrunePolicy::default()
        };
        assert_eq!(
            going(younger),
            ["team-a/web:v1", "team-a/web:v2", "team-b/api:keep-me"]
        );
        let newest = PrunePolicy {
            keep_newest: Some(2),
            ..PrunePolicy::default()
        };
        assert_eq!(going(newest), ["team-a/web:v1"]);
        let allow = PrunePolicy {
            all: true,
            allow: vec!["team-b/*:keep-*".into(), "team-a/web:v1".into()],
            ..PrunePolicy::default()
        };
        assert_eq!(going(allow), ["team-a/web:v2", "team-a/web:v3"]);
        let scoped = PrunePolicy {
            all: true,
            namespaces: vec!["team-b".into()],
            ..PrunePolicy::default()
        };
        assert_eq!(going(scoped), ["team-b/api:keep-me"]);
        // Defaults: newest 3 per repository and anything younger than an hour stay.
        assert_eq!(going(PrunePolicy::default()), Vec::<String>::new());
        assert_eq!(
            going(PrunePolicy {
                all: true,
                ..PrunePolicy::default()
            })
            .len(),
            4
        );
    }

    #[test]
    fn bytes_shared_with_repositories_out_of_scope_are_not_reclaimable() {
        let index = UsageIndex::new(&["r:5000".to_string()]);
        let mut mine = manifest("team-a/web", D1, &["v1"], 0);
        mine.blobs = vec![("shared".into(), 1000), ("own".into(), 10)];
        let mut theirs = manifest("team-b/api", D2, &["v1"], 0);
        theirs.blobs = vec![("shared".into(), 1000)];
        let policy = PrunePolicy {
            all: true,
            namespaces: vec!["team-a".into()],
            ..PrunePolicy::default()
        };
        let plan = plan_prune(&[mine, theirs], &index, &policy, 1_000_000)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.candidates.len(), 1, "team-b is out of scope");
        assert_eq!(
            plan.bytes_reclaimable, 10,
            "team-b still holds the shared blob"
        );
    }

    #[test]
    fn keep_younger_than_keeps_manifests_of_unknown_age_and_says_so() {
        let index = UsageIndex::new(&["r:5000".to_string()]);
        let mut undated = manifest("team-a/web", D1, &["old"], 0);
        undated.created_unix = None;
        let policy = PrunePolicy {
            keep_younger_than: Some("7d".into()),
            ..PrunePolicy::default()
        };
        let plan = plan_prune(
            std::slice::from_ref(&undated),
            &index,
            &policy,
            1_000_000_000,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(plan.candidates.is_empty());
        assert_eq!(
            plan.kept[0].reason,
            KeepReason::Undated { than: "7d".into() }
        );
        // Without an age rule nothing protects it.
        let all = PrunePolicy {
            all: true,
            ..PrunePolicy::default()
        };
        let plan = plan_prune(&[undated], &index, &all, 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.candidates.len(), 1);
    }

    #[test]
    fn children_another_index_or_a_tag_holds_stay_and_an_index_in_use_uses_its_children() {
        const D5: &str = "sha256:5555555555555555555555555555555555555555555555555555555555555555";
        let mut index = UsageIndex::new(&["r:5000".to_string()]);
        index.record("r:5000/team-a/multi:live", usage("p", UsageVia::Tag));
        // old (unused) lists D3 and D4; live (in use) lists D4 and D5; D5 is also tagged.
        let mut old = manifest("team-a/multi", D1, &["old"], 0);
        old.media_type = OCI_INDEX.into();
        old.children = vec![D3.into(), D4.into()];
        let mut live = manifest("team-a/multi", D2, &["live"], 0);
        live.media_type = OCI_INDEX.into();
        live.children = vec![D4.into(), D5.into()];
        let arm = manifest("team-a/multi", D5, &["arm-only"], 0);
        let manifests = vec![old, live, arm];
        let policy = PrunePolicy {
            all: true,
            ..PrunePolicy::default()
        };
        let plan =
            plan_prune(&manifests, &index, &policy, 1_000_000).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.candidates.len(), 1, "{plan:?}");
        assert_eq!(plan.candidates[0].digest, D1);
        assert_eq!(plan.candidates[0].children, [D3], "D4 stays with live");
        let arm_kept = plan
            .kept
            .iter()
            .find(|k| k.digest == D5)
            .unwrap_or_else(|| panic!("arm-only stays"));
        assert!(
            matches!(&arm_kept.reason, KeepReason::InUse { usages, .. } if usages[0].name == "p"),
            "a child of an index in use is in use: {:?}",
            arm_kept.reason
        );
        // Deleting the index `old` alone: D4 is held by live.
        let going: HashSet<(&str, &str)> = [("team-a/multi", D1)].into();
        let held = held_digests(&manifests, &going);
        assert_eq!(
            split_children(&manifests[0], &held),
            (vec![D3.to_string()], vec![D4.to_string()])
        );
    }

    #[test]
    fn a_tagged_child_of_an_index_that_stays_stays_with_it() {
        let index = UsageIndex::new(&["r:5000".to_string()]);
        let mut multi = manifest("team-a/multi", D1, &["v1"], 0);
        multi.media_type = OCI_INDEX.into();
        multi.children = vec![D2.into()];
        let child = manifest("team-a/multi", D2, &["v1-amd64"], 0);
        let policy = PrunePolicy {
            all: true,
            allow: vec!["team-a/multi:v1".into()],
            ..PrunePolicy::default()
        };
        let plan = plan_prune(&[multi, child], &index, &policy, 1_000_000)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(plan.candidates.is_empty(), "{plan:?}");
        assert!(
            plan.kept
                .iter()
                .any(|k| k.reason == KeepReason::InIndex { index: D1.into() })
        );
    }

    #[test]
    fn rows_name_the_uses_the_caller_sees_and_count_the_others() {
        let mut index = UsageIndex::new(&["r:5000".to_string()]);
        index.record("r:5000/team-a/web:v1", usage("mine", UsageVia::Tag));
        let mut theirs = usage("theirs", UsageVia::Tag);
        theirs.namespace = "team-b".into();
        index.record("r:5000/team-a/web:v1", theirs);
        let rows = tag_rows(&[manifest("team-a/web", D1, &["v1"], 0)], &index, |u| {
            u.namespace == "team-a"
        });
        assert_eq!(rows[0].usage.len(), 1);
        assert_eq!(rows[0].usage[0].name, "mine");
        assert_eq!(rows[0].usage_elsewhere, 1);
        assert_eq!(rows[0].uses(), 2);
    }

    #[test]
    fn patterns_match_segments_and_tags() {
        assert!(pattern_matches("team-a/*", "team-a/web", None));
        assert!(!pattern_matches("team-a/*", "team-a/x/web", None));
        assert!(pattern_matches("team-a/**", "team-a/x/web", None));
        assert!(pattern_matches("**:release-*", "a/b", Some("release-1")));
        assert!(!pattern_matches("**:release-*", "a/b", Some("dev")));
    }

    #[test]
    fn durations_and_schedules_parse_or_say_what_to_write() {
        assert_eq!(parse_duration("90m"), Ok(5400));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert!(
            parse_duration("7")
                .err()
                .unwrap_or_default()
                .contains("no unit")
        );
        assert!(
            parse_duration("7y")
                .err()
                .unwrap_or_default()
                .contains("unit")
        );
        assert_eq!(schedule_interval("@every 30s"), Ok(30));
        assert_eq!(schedule_interval("@daily"), Ok(86_400));
        assert!(schedule_interval("0 * * * *").is_err());
    }

    #[test]
    fn the_list_filters_sorts_and_pages() {
        let tags: Vec<ImageTag> = (0..25)
            .map(|i| ImageTag {
                repository: format!("team-{}/app{i:02}", if i % 2 == 0 { "a" } else { "b" }),
                namespace: Some(if i % 2 == 0 { "team-a" } else { "team-b" }.into()),
                tag: "v1".into(),
                size: i,
                ..ImageTag::default()
            })
            .collect();
        let query = ImageQuery {
            namespace: Some("team-a".into()),
            sort: ImageSort::Size,
            descending: true,
            per_page: 5,
            page: 1,
            ..ImageQuery::default()
        };
        let (page, total) = query_tags(tags, &query);
        assert_eq!(total, 13);
        assert_eq!(
            page.iter().map(|t| t.size).collect::<Vec<_>>(),
            [14, 12, 10, 8, 6]
        );
    }

    #[test]
    fn delete_paths_need_a_tag_or_digest_and_no_foreign_host() {
        let hosts = vec!["127.0.0.1:17500".to_string()];
        assert_eq!(
            parse_image_path("team-a/web:1.0", &hosts),
            Ok(("team-a/web".into(), ImageTarget::Tag("1.0".into())))
        );
        assert_eq!(
            parse_image_path(&format!("127.0.0.1:17500/team-a/web@{D1}"), &hosts),
            Ok(("team-a/web".into(), ImageTarget::Digest(D1.into())))
        );
        assert!(
            parse_image_path("team-a/web", &hosts)
                .err()
                .unwrap_or_default()
                .contains("no tag")
        );
        assert!(
            parse_image_path("quay.io/x/y:1", &hosts)
                .err()
                .unwrap_or_default()
                .contains("not the platform")
        );
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parsing_any_text_never_panics(input in "\\PC{0,80}") {
                let _ = parse_reference(&input);
                let _ = parse_image_path(&input, &[]);
                let _ = parse_duration(&input);
                let _ = schedule_interval(&input);
            }

            #[test]
            fn well_formed_references_round_trip(
                ns in "[a-z][a-z0-9]{0,8}",
                name in "[a-z][a-z0-9-]{0,8}[a-z0-9]",
                tag in "[A-Za-z0-9_][A-Za-z0-9._-]{0,20}",
            ) {
                let text = format!("127.0.0.1:17500/{ns}/{name}:{tag}");
                let r = parse_reference(&text).unwrap_or_else(|| panic!("{text}"));
                prop_assert_eq!(r.host.as_deref(), Some("127.0.0.1:17500"));
                prop_assert_eq!(r.repository, format!("{ns}/{name}"));
                prop_assert_eq!(r.tag, Some(tag));
            }
        }
    }
}
