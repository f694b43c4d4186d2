//! The command line: every command with its flags and examples (`--help`), and the source of
//! the shell completion scripts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

const ABOUT: &str = "The platform's command line: clusters, projects, applications, upgrades and images, through the console as you.";

const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  error (refused by the console, a failed or blocked upgrade, an expired token, ...)
  2  usage error (a wrong flag or argument)
  3  a dry run found something to do (delete or prune images without --confirm)";

const EXAMPLES: &str = "\
Examples:
  ac login --server https://console.example      # sign in through the browser
  ac get clusters
  ac get apps -n team-a -o wide
  ac adm upgrade --cluster east
  ac adm upgrade status --cluster east --watch";

#[derive(Debug, Parser)]
#[command(
    name = "ac",
    version,
    about = ABOUT,
    after_help = format!("{EXAMPLES}\n\n{EXIT_CODES}"),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The kubeconfig to read (default: $KUBECONFIG, else ~/.config/ac/config, which `ac login`
    /// writes). The kubeconfig the console issues works as is.
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The context to use instead of the current one.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The cluster to act on (default: the context's cluster, as kubectl's contexts name one).
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The console's address, instead of the context's (with --token for headless use; a
    /// context of the same console still lends its token, CA, cluster and namespace).
    #[arg(long, global = true, env = "AC_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// A console-issued token (the `token` of the console's kubeconfig) instead of the context's.
    #[arg(
        long,
        global = true,
        env = "AC_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// The CA certificate (PEM) the console's serving certificate is signed by, when private.
    #[arg(
        long,
        global = true,
        env = "AC_CERTIFICATE_AUTHORITY",
        value_name = "FILE"
    )]
    pub certificate_authority: Option<PathBuf>,
    /// Output format [default: table]. Applies to every command that prints data; `login`,
    /// `completion`, `config use-context` and `config current-context` print no data and
    /// refuse it.
    #[arg(short, long, global = true, value_enum)]
    pub output: Option<Format>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in to a console (--server URL, required) in the browser, or with --token, and save
    /// its contexts.
    #[command(after_help = "\
Examples:
  ac login --server https://console.example
  ac login --server https://console.example --no-browser      # print the URL to open elsewhere
  ac login --server https://console.example --token ngc_...   # headless (token from the console's kubeconfig)
  ac --kubeconfig ~/Downloads/nextgen-console.kubeconfig get clusters   # no login: use the console's kubeconfig

The browser shows a confirmation page; after you allow it, the console issues a token for ac
(listed in the user menu, revocable there) that lasts as long as that browser session. The
browser hands ac only a one-time code, which ac trades for the token with a secret it never
shared, so the token appears in no URL or browser history.
Contexts are saved to ~/.config/ac/config (one per cluster), which kubectl can use as well;
with --kubeconfig FILE they are added to FILE and everything else in it is kept.")]
    Login(Login),
    /// Show who the console takes you for.
    #[command(after_help = "Examples:\n  ac whoami\n  ac whoami -o json")]
    Whoami,
    /// List clusters, projects, applications or images.
    #[command(subcommand)]
    Get(Get),
    /// Show one object in detail.
    #[command(subcommand)]
    Describe(Describe),
    /// Delete images (a dry run unless --confirm).
    #[command(subcommand)]
    Delete(Delete),
    /// Administration: platform upgrades, image pruning.
    #[command(subcommand)]
    Adm(Adm),
    /// Show and switch contexts.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script.
    #[command(after_help = "\
Examples:
  ac completion bash > /etc/bash_completion.d/ac
  ac completion zsh > \"${fpath[1]}/_ac\"
  ac completion fish > ~/.config/fish/completions/ac.fish")]
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct Login {
    /// Print the sign-in URL instead of opening a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Seconds to wait for the browser sign-in.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum Get {
    /// The registered clusters with their health and Kubernetes version.
    #[command(after_help = "\
Examples:
  ac get clusters
  ac get clusters -o wide
  ac get clusters -o json | jq -r '.[].cluster.name'")]
    Clusters,
    /// The projects you belong to.
    #[command(
        after_help = "Examples:\n  ac get projects\n  ac get projects -o wide    # with member clusters and namespace state"
    )]
    Projects,
    /// A project's applications with their state on every cluster.
    #[command(
        visible_alias = "applications",
        after_help = "Examples:\n  ac get apps -n team-a\n  ac get apps -n team-a -o wide\n  ac get apps -n team-a -o yaml"
    )]
    Apps(InProject),
    /// Images in the platform's registry, with where they run.
    #[command(
        after_help = "Examples:\n  ac get images\n  ac get images -n team-a -o wide\n  ac get images --sort size --descending"
    )]
    Images {
        /// Only the images of this namespace (the repository's first path segment).
        #[arg(short, long)]
        namespace: Option<String>,
        /// Only images whose repository:tag or digest contains this text.
        #[arg(long, default_value = "")]
        filter: String,
        /// Order by.
        #[arg(long, value_enum, default_value_t = ImageSortArg::Repository)]
        sort: ImageSortArg,
        /// Reverse the order.
        #[arg(long)]
        descending: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ImageSortArg {
    Repository,
    Created,
    Size,
    Usage,
}

#[derive(Debug, Args)]
pub struct InProject {
    /// The project (its namespace on the global cluster); default: the context's namespace.
    #[arg(
        short = 'n',
        long = "project",
        visible_alias = "namespace",
        value_name = "PROJECT"
    )]
    pub project: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Describe {
    /// An application: its placement, state on each cluster, conditions, revisions and spec.
    #[command(
        visible_alias = "application",
        after_help = "Examples:\n  ac describe app web -n team-a\n  ac describe app web -n team-a -o json"
    )]
    App {
        name: String,
        #[command(flatten)]
        project: InProject,
    },
}

#[derive(Debug, Subcommand)]
pub enum Delete {
    /// Delete image tags or repositories; without --confirm, only says what would go.
    #[command(after_help = "\
Examples:
  ac delete images team-a/web:old            # dry run: what would be deleted (exit 3 if anything)
  ac delete images team-a/web:old --confirm")]
    Images {
        /// Image paths (repository[:tag] or repository@digest).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<String>,
        /// Delete for real.
        #[arg(long)]
        confirm: bool,
        /// With --confirm: delete images that running workloads still use.
        #[arg(long, requires = "confirm")]
        allow_in_use: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum Adm {
    /// Show the cluster's platform release and the releases it may move to, or request one.
    #[command(after_help = "\
Examples:
  ac adm upgrade --cluster east                   # current release, recommended updates, preflight
  ac adm upgrade --cluster east --to-latest
  ac adm upgrade --cluster east --to 4.3
  ac adm upgrade --cluster east --to 4.3 --allow-explicit-upgrade   # not a recommended next step
  ac adm upgrade --cluster east --to 4.3 --force --yes              # past blocking preflight checks
  ac adm upgrade status --cluster east --watch")]
    Upgrade(Upgrade),
    /// Prune images by policy.
    #[command(subcommand)]
    Prune(Prune),
}

// Not `args_conflicts_with_subcommands`: that would refuse the global flags too
// (`ac adm upgrade --cluster east status`); [`Upgrade::check`] refuses the request flags with
// `status` instead.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("release").args(["to", "to_latest"]))]
pub struct Upgrade {
    #[command(subcommand)]
    pub status: Option<UpgradeStatus>,
    /// The release to move to, for example 4.3.
    #[arg(long, value_name = "RELEASE", conflicts_with = "to_latest")]
    pub to: Option<String>,
    /// Move to the newest release the console recommends for the cluster.
    #[arg(long)]
    pub to_latest: bool,
    /// Allow a release that is not a recommended next step (skipping releases).
    #[arg(long)]
    pub allow_explicit_upgrade: bool,
    /// Go ahead although preflight blocks (asks first unless --yes).
    #[arg(long, requires = "release")]
    pub force: bool,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
    /// Request and return at once, without waiting for the controller's verdict.
    #[arg(long)]
    pub no_wait: bool,
}

impl Upgrade {
    /// `status` shows; the flags that request an update do not go with it.
    pub fn check(&self) -> Result<(), String> {
        let requested = [
            ("--to", self.to.is_some()),
            ("--to-latest", self.to_latest),
            ("--allow-explicit-upgrade", self.allow_explicit_upgrade),
            ("--force", self.force),
            ("--yes", self.yes),
            ("--no-wait", self.no_wait),
        ];
        let given: Vec<&str> = requested
            .iter()
            .filter(|(_, on)| *on)
            .map(|(flag, _)| *flag)
            .collect();
        match (&self.status, given.is_empty()) {
            (Some(_), false) => Err(format!(
                "`ac adm upgrade status` shows the update and takes no {}; those request one (ac adm upgrade --to RELEASE)",
                given.join(", ")
            )),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UpgradeStatus {
    /// Conditions, preflight results, the stages of the update in flight and the history.
    #[command(after_help = "\
The cluster is --cluster, else the context's; with neither (--server without a context of that
console), or with --all-clusters, every cluster is listed.

Examples:
  ac adm upgrade status                          # the context's cluster
  ac adm upgrade status --all-clusters           # every cluster, one row each
  ac adm upgrade status --cluster east
  ac adm upgrade status --cluster east --watch   # follow until the update ends (exit 1 if it fails)")]
    Status {
        /// Follow the update until it completes, fails or is blocked (through the console's
        /// live stream).
        #[arg(short, long, conflicts_with = "all_clusters")]
        watch: bool,
        /// Every cluster, one row each, whatever the context's cluster.
        #[arg(short = 'A', long)]
        all_clusters: bool,
        /// Give up watching after this many seconds.
        #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
        timeout: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum Prune {
    /// Delete the registry's unused images by policy; a dry run unless --confirm.
    #[command(after_help = "\
Without a keep rule (and without --all) the console keeps the newest 3 tags of every repository
and what is younger than 1h (and what has no creation time). Images any cluster uses are always
kept. The registry's garbage collection (which frees the storage) runs only with --gc, and only
for whoever may delete images in every namespace: it collects the whole registry.

--print-cronjob prints a CronJob for global that runs the same prune with --confirm as the user
whose console token is in Secret --token-secret (with ca.crt when the console's certificate is
signed by a private CA), calling the console at --console-url (default: the address ac uses).
Its image (--image) must have ac in it; by default <platform registry>/platform/ac:<version>.

Examples:
  ac adm prune images --keep-newest 3 --keep-younger-than 30d        # dry run (exit 3 if anything)
  ac adm prune images --keep-newest 3 --keep-younger-than 30d --confirm
  ac adm prune images --keep-newest 3 --confirm --gc                 # then collect garbage (admins)
  ac adm prune images -n team-a --allow 'team-a/base:*' --confirm
  ac adm prune images --keep-newest 5 --print-cronjob --schedule '0 3 * * *' > prune.yaml")]
    Images(PruneImages),
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("act").args(["confirm", "print_cronjob"]))]
pub struct PruneImages {
    /// Keep the newest N tags of every repository.
    #[arg(long, visible_alias = "keep-tag-revisions", value_name = "N")]
    pub keep_newest: Option<u32>,
    /// Keep images created less than this long ago (90m, 36h, 7d, 2w).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub keep_younger_than: Option<String>,
    /// Keep what matches this repository[:tag] pattern (* within a segment, ** across); repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub allow: Vec<String>,
    /// Only the repositories of this namespace; repeatable (default: all you may prune).
    #[arg(short, long, value_name = "NAMESPACE")]
    pub namespace: Vec<String>,
    /// No default keep rules: every unused image not kept by an explicit rule goes.
    #[arg(long)]
    pub all: bool,
    /// Leave this cluster out of the in-use check (otherwise a cluster that cannot be read stops
    /// the prune); repeatable.
    #[arg(long, value_name = "CLUSTER")]
    pub exclude_cluster: Vec<String>,
    /// Delete for real.
    #[arg(long)]
    pub confirm: bool,
    /// With --confirm (or in the CronJob): run the registry's garbage collection afterwards.
    /// Registry-wide, so only for whoever may delete images in every namespace.
    #[arg(long, requires = "act")]
    pub gc: bool,
    /// Print a CronJob (YAML) that runs this prune on a schedule, instead of pruning.
    #[arg(long, conflicts_with = "confirm")]
    pub print_cronjob: bool,
    /// The CronJob's schedule (cron syntax).
    #[arg(long, default_value = "0 3 * * *", requires = "print_cronjob")]
    pub schedule: String,
    /// The CronJob's image, with ac in it (default: <platform registry>/platform/ac:<version>).
    #[arg(long, value_name = "IMAGE", requires = "print_cronjob")]
    pub image: Option<String>,
    /// The Secret the CronJob reads its console token (`token`) and CA (`ca.crt`) from.
    #[arg(long, value_name = "NAME", default_value = console_api::image::DEFAULT_CRONJOB_SECRET, requires = "print_cronjob")]
    pub token_secret: String,
    /// The service account the CronJob's pod runs as.
    #[arg(long, value_name = "NAME", default_value = console_api::image::DEFAULT_CRONJOB_SERVICE_ACCOUNT, requires = "print_cronjob")]
    pub service_account: String,
    /// The console's address the CronJob calls (default: the address ac uses now).
    #[arg(long, value_name = "URL", requires = "print_cronjob")]
    pub console_url: Option<String>,
}

/// A duration flag, checked by the same rule the console applies.
fn duration(value: &str) -> Result<String, String> {
    console_api::image::parse_duration(value).map(|_| value.to_string())
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// List the contexts.
    #[command(after_help = "Examples:\n  ac config get-contexts\n  ac config get-contexts -o json")]
    GetContexts,
    /// Print the current context.
    #[command(after_help = "Examples:\n  ac config current-context")]
    CurrentContext,
    /// Make a context the current one.
    #[command(after_help = "Examples:\n  ac config use-context east")]
    UseContext { name: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_examples_in_its_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            let examples = cmd
                .get_after_help()
                .map(|h| h.to_string().contains("Examples:"))
                .unwrap_or(false);
            // A group only chooses a subcommand; one with flags of its own needs examples.
            let is_group = cmd.has_subcommands()
                && cmd.get_arguments().all(|a| {
                    a.is_global_set() || ["help", "version"].contains(&a.get_id().as_str())
                });
            if !examples && !is_group && cmd.get_name() != "help" {
                missing.push(path.clone());
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "no examples: {missing:?}");
    }

    #[test]
    fn a_missing_subcommand_is_a_usage_error_and_help_is_not() {
        let kind = |args: &[&str]| Cli::try_parse_from(args).err().map(|e| e.kind());
        assert_eq!(
            kind(&["ac"]),
            Some(clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand)
        );
        assert_eq!(
            kind(&["ac", "get"]),
            Some(clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand)
        );
        assert_eq!(
            kind(&["ac", "--help"]),
            Some(clap::error::ErrorKind::DisplayHelp)
        );
    }

    #[test]
    fn upgrade_flags_parse_and_conflict_as_documented() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        assert!(parse(&["ac", "adm", "upgrade", "--to", "4.3", "--to-latest"]).is_err());
        assert!(parse(&["ac", "adm", "upgrade", "--force"]).is_err());
        assert!(parse(&["ac", "adm", "upgrade", "--to", "4.3", "--force", "--yes"]).is_ok());
        assert!(
            parse(&[
                "ac",
                "adm",
                "upgrade",
                "status",
                "--watch",
                "--cluster",
                "east"
            ])
            .is_ok()
        );
        assert!(parse(&["ac", "get", "apps", "-n", "team-a", "-o", "wide"]).is_ok());
        assert!(parse(&["ac", "adm", "upgrade", "status", "-A"]).is_ok());
        // Global flags go anywhere, as kubectl users expect.
        for args in [
            &[
                "ac",
                "adm",
                "upgrade",
                "--cluster",
                "east",
                "status",
                "--watch",
            ][..],
            &["ac", "--cluster", "east", "adm", "upgrade", "status"][..],
            &[
                "ac",
                "adm",
                "upgrade",
                "status",
                "--cluster",
                "east",
                "-o",
                "json",
            ][..],
        ] {
            let cli = parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert_eq!(cli.global.cluster.as_deref(), Some("east"), "{args:?}");
        }
        // The request flags do not go with `status`.
        let upgrade = |args: &[&str]| match parse(args).map(|c| c.command) {
            Ok(Command::Adm(Adm::Upgrade(up))) => up.check(),
            other => panic!("{args:?}: {other:?}"),
        };
        assert!(upgrade(&["ac", "adm", "upgrade", "--to", "4.3", "status"]).is_err());
        assert!(upgrade(&["ac", "adm", "upgrade", "--no-wait", "status"]).is_err());
        assert!(upgrade(&["ac", "adm", "upgrade", "--cluster", "east", "status"]).is_ok());
        assert!(upgrade(&["ac", "adm", "upgrade", "--to", "4.3"]).is_ok());
        assert!(parse(&["ac", "adm", "upgrade", "status", "-A", "--watch"]).is_err());
        assert!(parse(&["ac", "get", "apps", "-o", "xml"]).is_err());
        assert!(parse(&["ac", "delete", "images"]).is_err());
        assert!(parse(&["ac", "adm", "prune", "images", "--keep-younger-than", "7x"]).is_err());
        assert!(
            parse(&[
                "ac",
                "adm",
                "prune",
                "images",
                "--keep-tag-revisions",
                "3",
                "--confirm"
            ])
            .is_ok()
        );
        assert!(
            parse(&[
                "ac",
                "adm",
                "prune",
                "images",
                "--confirm",
                "--print-cronjob"
            ])
            .is_err()
        );
        // Garbage collection is asked for, never implied, and only where something acts.
        assert!(parse(&["ac", "adm", "prune", "images", "--gc"]).is_err());
        for acting in ["--confirm", "--print-cronjob"] {
            assert!(parse(&["ac", "adm", "prune", "images", acting, "--gc"]).is_ok());
        }
        let Ok(cli) = parse(&["ac", "adm", "prune", "images", "--confirm"]) else {
            panic!("--confirm parses")
        };
        let Command::Adm(Adm::Prune(Prune::Images(args))) = cli.command else {
            panic!("prune images")
        };
        assert!(!args.gc, "--confirm alone does not collect garbage");
        assert!(parse(&["ac", "adm", "prune", "images", "--image", "x"]).is_err());
    }
}
