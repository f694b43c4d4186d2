//! `ac`, the platform's command line. It talks to the console, never around it: every call is
//! a server function of the console made with the user's console-issued token, so the clusters
//! authorise it as that user. Built on `console-api` (the shared resources, views and
//! `ConsoleError`), without Leptos or a Kubernetes client.

pub mod args;
pub mod client;
pub mod config;
pub mod endpoints;
pub mod error;
pub mod images;
pub mod live;
pub mod login;
pub mod output;
pub mod reads;
pub mod upgrade;
pub mod views;

use std::time::Duration;

use clap::{CommandFactory as _, Parser as _};
use serde::Serialize;

use args::{Adm, Cli, Command, ConfigCommand, Delete, Describe, Get, Prune, UpgradeStatus};
use error::{Error, Result, exit};
use output::Format;

/// Runs `ac` with the process's arguments; returns the exit code.
pub fn main() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return parse_exit_code(error.kind());
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!(
                "{} {error}",
                output::paint("error:", output::Tone::Bad, output::colour_stderr())
            );
            error.exit_code()
        }
    }
}

/// The exit code of a command line clap did not accept: 0 only for the help and the version
/// asked for; a missing subcommand (help shown instead) is a usage error like any other.
pub fn parse_exit_code(kind: clap::error::ErrorKind) -> u8 {
    match kind {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => exit::OK,
        _ => exit::USAGE,
    }
}

fn selection(cli: &Cli) -> config::Selection {
    config::Selection {
        kubeconfig: cli.global.kubeconfig.clone(),
        context: cli.global.context.clone(),
        server: cli.global.server.clone(),
        token: cli.global.token.clone(),
        certificate_authority: cli.global.certificate_authority.clone(),
    }
}

/// The cluster to act on: `--cluster`, else the context's (`None` when neither names one).
pub fn chosen_cluster(flag: Option<&str>, target: &config::Target) -> Option<String> {
    flag.map(str::to_string)
        .or_else(|| target.cluster.clone())
        .filter(|c| !c.is_empty())
}

/// [`chosen_cluster`], required.
fn cluster(cli: &Cli, target: &config::Target) -> Result<String> {
    chosen_cluster(cli.global.cluster.as_deref(), target).ok_or_else(|| {
        Error::Usage(
            "which cluster? Pass --cluster NAME (see `ac get clusters`), or use a context that names one"
                .into(),
        )
    })
}

/// Commands that print no data refuse `-o`, rather than ignore it.
fn no_output_flag(cli: &Cli, command: &str, prints: &str) -> Result<()> {
    match cli.global.output {
        Some(_) => Err(Error::Usage(format!(
            "-o does not apply to `{command}`: it prints {prints}, not data; drop -o"
        ))),
        None => Ok(()),
    }
}

pub fn run(cli: Cli) -> Result<u8> {
    let format = cli.global.output.unwrap_or_default();
    match &cli.command {
        Command::Completion { shell } => {
            no_output_flag(&cli, "ac completion", "a shell script")?;
            clap_complete::generate(*shell, &mut Cli::command(), "ac", &mut std::io::stdout());
            return Ok(exit::OK);
        }
        Command::Login(login) => {
            no_output_flag(&cli, "ac login", "a message")?;
            let ca_pem = match &cli.global.certificate_authority {
                Some(path) => Some(std::fs::read(path).map_err(|e| {
                    Error::Config(format!("--certificate-authority {}: {e}", path.display()))
                })?),
                None => None,
            };
            let config_path = match &cli.global.kubeconfig {
                Some(path) => path.clone(),
                None => config::own_config_path()?,
            };
            let server = cli.global.server.clone().ok_or_else(|| {
                Error::Usage(
                    "ac login needs the console's address: ac login --server https://<console>"
                        .into(),
                )
            })?;
            login::login(login::LoginOptions {
                server,
                token: cli.global.token.clone(),
                ca_pem,
                no_browser: login.no_browser,
                timeout: Duration::from_secs(login.timeout),
                config_path,
            })?;
            return Ok(exit::OK);
        }
        Command::Config(command) => return config_command(&cli, command, format),
        _ => {}
    }
    if let Command::Adm(Adm::Upgrade(up)) = &cli.command {
        up.check().map_err(Error::Usage)?;
    }
    let target = config::resolve(&selection(&cli))?;
    let console = client::Console::new(&target)?;
    let done = match &cli.command {
        Command::Whoami => reads::whoami(&console, format).map(|()| images::Done::Nothing)?,
        Command::Get(Get::Clusters) => {
            reads::clusters(&console, format).map(|()| images::Done::Nothing)?
        }
        Command::Get(Get::Projects) => {
            reads::projects(&console, format).map(|()| images::Done::Nothing)?
        }
        Command::Get(Get::Apps(p)) => reads::apps(
            &console,
            format,
            p.project.clone(),
            target.namespace.as_deref(),
        )
        .map(|()| images::Done::Nothing)?,
        Command::Describe(Describe::App { name, project }) => reads::describe_app(
            &console,
            format,
            name,
            project.project.clone(),
            target.namespace.as_deref(),
        )
        .map(|()| images::Done::Nothing)?,
        Command::Get(Get::Images {
            namespace,
            filter,
            sort,
            descending,
        }) => images::get(
            &console,
            format,
            namespace.clone(),
            filter.clone(),
            *sort,
            *descending,
        )
        .map(|()| images::Done::Nothing)?,
        Command::Delete(Delete::Images {
            paths,
            confirm,
            allow_in_use,
        }) => images::delete(&console, format, paths.clone(), *confirm, *allow_in_use)?,
        Command::Adm(Adm::Prune(Prune::Images(args))) => {
            images::prune(&console, &target, format, args)?
        }
        Command::Adm(Adm::Upgrade(up)) => match &up.status {
            Some(UpgradeStatus::Status {
                watch,
                all_clusters,
                timeout,
            }) => {
                let one = chosen_cluster(cli.global.cluster.as_deref(), &target)
                    .filter(|_| !*all_clusters);
                match (one, *watch) {
                    (Some(cluster), true) => upgrade::watch(&console, format, &cluster, *timeout)?,
                    (Some(cluster), false) => upgrade::status(&console, format, Some(&cluster))?,
                    (None, false) => upgrade::status(&console, format, None)?,
                    (None, true) => {
                        return Err(Error::Usage(
                            "--watch follows one cluster: pass --cluster NAME, or use a context that names one"
                                .into(),
                        ));
                    }
                }
                images::Done::Nothing
            }
            None => {
                let cluster = cluster(&cli, &target)?;
                let release = match (&up.to, up.to_latest) {
                    (Some(release), _) => Some(release.clone()),
                    (None, true) => match upgrade::latest_recommended(&console, &cluster)? {
                        Some(release) => Some(release),
                        None => return Ok(exit::OK),
                    },
                    (None, false) => None,
                };
                match release {
                    None => upgrade::show(&console, format, &cluster)?,
                    Some(release) => upgrade::request(
                        &console,
                        format,
                        &cluster,
                        upgrade::Request {
                            release,
                            allow_explicit: up.allow_explicit_upgrade,
                            force: up.force,
                            yes: up.yes,
                            wait: !up.no_wait,
                        },
                    )?,
                }
                images::Done::Nothing
            }
        },
        Command::Login(_) | Command::Config(_) | Command::Completion { .. } => {
            images::Done::Nothing
        }
    };
    Ok(match done {
        images::Done::Nothing => exit::OK,
        images::Done::WouldChange => exit::DRY_RUN_FOUND,
    })
}

/// One row of `ac config get-contexts` (and its JSON or YAML).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContextRow {
    pub name: String,
    pub current: bool,
    /// The console's origin, when the context is one of a console's.
    pub console: String,
    /// The console's cluster, or the kubeconfig cluster entry's name for other contexts.
    pub cluster: String,
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

pub fn context_rows(file: &config::Kubeconfig) -> Vec<ContextRow> {
    file.contexts
        .iter()
        .map(|c| {
            let server = file
                .clusters
                .iter()
                .find(|k| k.name == c.context.cluster)
                .map(|k| k.cluster.server.clone())
                .unwrap_or_default();
            let (console, cluster) = config::split_server(&server)
                .unwrap_or_else(|| (String::new(), c.context.cluster.clone()));
            ContextRow {
                name: c.name.clone(),
                current: c.name == file.current_context,
                console,
                cluster,
                user: c.context.user.clone(),
                namespace: c.context.namespace.clone(),
            }
        })
        .collect()
}

pub fn contexts_table(rows: &[ContextRow], wide: bool) -> output::Table {
    let mut table = if wide {
        output::Table::new(&["CURRENT", "NAME", "CONSOLE", "CLUSTER", "USER", "NAMESPACE"])
    } else {
        output::Table::new(&["CURRENT", "NAME", "CONSOLE", "CLUSTER"])
    };
    for r in rows {
        let mut row = vec![
            if r.current { "*" } else { " " }.into(),
            r.name.clone().into(),
            r.console.clone().into(),
            r.cluster.clone().into(),
        ];
        if wide {
            row.push(r.user.clone().into());
            row.push(r.namespace.clone().unwrap_or_default().into());
        }
        table.row(row);
    }
    table
}

fn config_command(cli: &Cli, command: &ConfigCommand, format: Format) -> Result<u8> {
    match command {
        ConfigCommand::CurrentContext => {
            no_output_flag(cli, "ac config current-context", "one name")?
        }
        ConfigCommand::UseContext { .. } => {
            no_output_flag(cli, "ac config use-context", "a message")?
        }
        ConfigCommand::GetContexts => {}
    }
    let sel = selection(cli);
    let paths = config::files(&sel)?;
    let file = config::load(&paths)?;
    match command {
        ConfigCommand::CurrentContext => {
            if file.current_context.is_empty() {
                return Err(Error::Config(
                    "no current context; sign in with ac login --server <console>".into(),
                ));
            }
            println!("{}", file.current_context);
        }
        ConfigCommand::GetContexts => {
            let rows = context_rows(&file);
            output::print(format, &rows, |wide| contexts_table(&rows, wide))?;
        }
        ConfigCommand::UseContext { name } => {
            if file.context(name).is_none() {
                return Err(Error::Config(format!(
                    "no context {name:?}; see ac config get-contexts"
                )));
            }
            let [path] = paths.as_slice() else {
                return Err(Error::Config(
                    "KUBECONFIG lists several files; pass --kubeconfig to say which one to change"
                        .into(),
                ));
            };
            // Only the file's own content is written back, not a merge of several; what ac
            // does not model is kept as it was.
            let mut own = config::load(std::slice::from_ref(path))?;
            own.current_context = name.clone();
            config::save(path, &own)?;
            println!("Switched to context {name:?}.");
        }
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_help_and_version_exit_0_among_what_clap_refuses() {
        use clap::error::ErrorKind;
        assert_eq!(parse_exit_code(ErrorKind::DisplayHelp), exit::OK);
        assert_eq!(parse_exit_code(ErrorKind::DisplayVersion), exit::OK);
        for kind in [
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand,
            ErrorKind::MissingSubcommand,
            ErrorKind::UnknownArgument,
            ErrorKind::InvalidValue,
        ] {
            assert_eq!(parse_exit_code(kind), exit::USAGE, "{kind:?}");
        }
    }

    #[test]
    fn the_cluster_is_the_flags_else_the_contexts() {
        let target = config::Target {
            origin: "https://c.example".into(),
            token: None,
            ca_pem: None,
            cluster: Some("east".into()),
            namespace: None,
            source: "test".into(),
        };
        assert_eq!(
            chosen_cluster(Some("west"), &target).as_deref(),
            Some("west")
        );
        assert_eq!(chosen_cluster(None, &target).as_deref(), Some("east"));
        let none = config::Target {
            cluster: None,
            ..target
        };
        assert_eq!(chosen_cluster(None, &none), None);
    }

    #[test]
    fn output_is_refused_where_it_does_not_apply() {
        let cli = Cli::try_parse_from(["ac", "-o", "json", "config", "current-context"])
            .unwrap_or_else(|e| panic!("{e}"));
        let error = run(cli).err().map(|e| (e.exit_code(), e.to_string()));
        assert!(
            error
                .as_ref()
                .is_some_and(|(code, m)| *code == exit::USAGE && m.contains("-o does not apply")),
            "{error:?}"
        );
    }
}
