//! What can go wrong in `ac`, each with what to do about it, and the exit code it ends with.

use console_api::ConsoleError;

/// Exit codes scripts can rely on.
pub mod exit {
    /// Done; nothing left to do.
    pub const OK: u8 = 0;
    /// An error: the console refused, the request failed, the input cannot be acted on.
    pub const ERROR: u8 = 1;
    /// The command line itself is wrong (clap uses 2 as well).
    pub const USAGE: u8 = 2;
    /// A dry run found something to do (`ac delete images` / `ac adm prune images` without
    /// `--confirm`).
    pub const DRY_RUN_FOUND: u8 = 3;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line cannot be acted on.
    #[error("{0}")]
    Usage(String),
    /// No usable credential for the console: missing, expired or revoked.
    #[error(
        "{reason} for {origin}.\nSign in again: ac login --server {origin}\n(or, without a browser: ac login --server {origin} --token <token from the console's kubeconfig>)"
    )]
    SignIn { origin: String, reason: String },
    /// The console answered with its typed error.
    #[error("{}", console_message(.0))]
    Console(ConsoleError),
    /// The console did not answer as a console does.
    #[error("{0}")]
    Http(String),
    /// The console could not be reached, or a proxy in front of it failed: worth retrying.
    #[error("{0}")]
    Unreachable(String),
    /// Configuration files (kubeconfig, ~/.config/ac/config).
    #[error("{0}")]
    Config(String),
    /// A wait or a watch ended badly (refused, blocked or failed upgrade).
    #[error("{0}")]
    Failed(String),
    #[error("{0}")]
    Unimplemented(String),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            _ => exit::ERROR,
        }
    }

    /// Whether trying again later may succeed (a watch reconnects on these): the console or
    /// the global cluster did not answer; not a refusal, a missing object or a bad credential.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Unreachable(_)
                | Error::Console(ConsoleError::ClusterUnreachable { .. })
                | Error::Console(ConsoleError::Request { .. })
        )
    }
}

/// The console's error as a person should read it, with the next step where there is one.
fn console_message(error: &ConsoleError) -> String {
    match error {
        ConsoleError::Forbidden { message } => format!(
            "forbidden: {message}\nYour account may not do this; ask a platform administrator for access."
        ),
        ConsoleError::ClusterNotFound { name } => {
            format!("cluster {name:?} is not registered with the console; see `ac get clusters`")
        }
        ConsoleError::CrossSite => {
            "the console refused the request as cross-site; sign in again with `ac login`".into()
        }
        other => other.to_string(),
    }
}

pub type Result<T> = std::result::Result<T, Error>;
