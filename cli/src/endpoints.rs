//! The console's server functions `ac` calls, by their stable endpoints (`/api/<feature>/<verb>`,
//! form-urlencoded POST unless noted, JSON answers; a failed call answers the `ConsoleError`
//! JSON with its HTTP status). One place, so a renamed endpoint is one edit.

/// `current_user() -> Option<Identity>`: checks a token.
pub const CURRENT_USER: &str = "/api/auth/me";
/// `list_clusters() -> Vec<ClusterRef>`: the registered clusters, without contacting them.
pub const LIST_CLUSTERS: &str = "/api/clusters/list";
/// `probe_clusters() -> Vec<ClusterStatus>`: every registered cluster with its health.
pub const PROBE_CLUSTERS: &str = "/api/clusters/probe-all";
/// `list_projects() -> Vec<ProjectRef>`: the projects the user belongs to.
pub const LIST_PROJECTS: &str = "/api/projects/list";
/// `get_project(name) -> ProjectView`.
pub const GET_PROJECT: &str = "/api/projects/get";
/// `list_applications(project) -> Vec<AppView>`.
pub const LIST_APPLICATIONS: &str = "/api/apps/list";
/// `get_application(project, name) -> AppView`.
pub const GET_APPLICATION: &str = "/api/apps/get";
/// `list_shadows() -> Vec<ShadowView>`: every cluster's ClusterVersionShadow.
pub const LIST_SHADOWS: &str = "/api/upgrades/list";
/// `get_shadow(cluster) -> ShadowView`.
pub const GET_SHADOW: &str = "/api/upgrades/get";
/// `request_update(cluster, release, force, allow_explicit_upgrade) -> ShadowView` (the shadow
/// it wrote, with the generation the controller's verdict will carry).
pub const REQUEST_UPDATE: &str = "/api/upgrades/request";
/// `available_updates(cluster) -> Vec<AvailableUpdate>`: the releases the console offers the
/// cluster, each marked whether it is a recommended next step.
pub const AVAILABLE_UPDATES: &str = "/api/upgrades/available";
/// `preflight_clusters(release) -> Vec<ClusterPreflight>`: the Kubernetes-version verdicts.
pub const PREFLIGHT: &str = "/api/upgrades/preflight";
/// `{"query": ImageQuery} -> ImageList` (JSON input).
pub const LIST_IMAGES: &str = "/api/images/list";
/// `{"request": DeleteRequest} -> DeleteResult` (JSON input).
pub const DELETE_IMAGES: &str = "/api/images/delete";
/// `{"request": PruneRequest} -> PruneResult` (JSON input).
pub const PRUNE_IMAGES: &str = "/api/images/prune";
/// `{"schedule", "policy": PrunePolicy} -> String` (CronJob YAML; JSON input).
pub const PRUNE_CRONJOB: &str = "/api/images/prune-cronjob";
/// `POST code, code_verifier -> {"token"}`: trades `ac login`'s one-time code for its token
/// (not a server function: the console's sign-in routes, public, form-urlencoded).
pub const CLI_TOKEN: &str = "/auth/cli/token";
/// The console's browser sign-in page for `ac login` (GET, opened in the browser).
pub const CLI_SIGN_IN: &str = "/auth/cli";
