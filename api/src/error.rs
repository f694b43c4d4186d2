//! The error type that crosses the wire between server functions and pages.
//! Variants carry what the page needs to say, in the user's language, what went wrong and what to do.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ConsoleError {
    /// The named cluster is not among the registered clusters.
    #[error("cluster {name:?} is not registered")]
    ClusterNotFound { name: String },
    /// The cluster is registered but its API server did not answer.
    #[error("cluster {name:?} is unreachable: {reason}")]
    ClusterUnreachable { name: String, reason: String },
    /// No signed-in user: the session is missing, expired or was signed out.
    #[error("not signed in or the session has expired")]
    Unauthenticated,
    /// The cluster's API server refused the action for the signed-in user (RBAC).
    #[error("forbidden: {message}")]
    Forbidden { message: String },
    /// The named object does not exist (or the user may not know it does); `message` names it.
    #[error("not found: {message}")]
    NotFound { message: String },
    /// The object changed since it was read, or already exists; read it again and retry.
    #[error("conflict: {message}")]
    Conflict { message: String },
    /// The user's input cannot be acted on; `message` names the problem and what to do.
    #[error("invalid input: {message}")]
    Invalid { message: String },
    /// A state-changing request that did not come from the console's own pages.
    #[error("cross-site request refused")]
    CrossSite,
    /// A server-side failure whose cause is in the server log; `message` is safe to show.
    #[error("internal error: {message}")]
    Internal { message: String },
    /// The request never reached the server function, or its answer could not be read.
    #[error("request failed: {message}")]
    Request { message: String },
}

/// The innermost cause of an error chain: what a person can act on ("Connection refused"), not
/// the wrappers around it.
pub fn innermost(error: &dyn std::error::Error) -> String {
    let mut source = error;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

impl ConsoleError {
    /// The HTTP status a server function answers with when it fails this way.
    pub fn http_status(&self) -> u16 {
        match self {
            ConsoleError::ClusterNotFound { .. } => 404,
            ConsoleError::ClusterUnreachable { .. } => 502,
            ConsoleError::Unauthenticated => 401,
            ConsoleError::Forbidden { .. } | ConsoleError::CrossSite => 403,
            ConsoleError::NotFound { .. } => 404,
            ConsoleError::Conflict { .. } => 409,
            ConsoleError::Invalid { .. } => 422,
            ConsoleError::Internal { .. } | ConsoleError::Request { .. } => 500,
        }
    }
}

#[cfg(feature = "kube")]
impl ConsoleError {
    /// A kube-rs error from `cluster` as a person should read it: missing, changed meanwhile,
    /// refused by RBAC, rejected as invalid, the cluster not answering, or something else the
    /// server log explains. Each keeps its own variant, so a missing object answers 404, not 500.
    pub fn from_kube(cluster: &str, error: kube::Error) -> Self {
        match error {
            kube::Error::Api(status) => match status.code {
                403 => ConsoleError::Forbidden {
                    message: status.message,
                },
                404 => ConsoleError::NotFound {
                    message: status.message,
                },
                409 => ConsoleError::Conflict {
                    message: status.message,
                },
                400 | 422 => ConsoleError::Invalid {
                    message: status.message,
                },
                401 => ConsoleError::Internal {
                    message: format!(
                        "cluster {cluster:?} does not accept the console's credential ({})",
                        status.message
                    ),
                },
                code => ConsoleError::Internal {
                    message: format!("cluster {cluster:?} answered {code}: {}", status.message),
                },
            },
            other => ConsoleError::ClusterUnreachable {
                name: cluster.into(),
                reason: innermost(&other),
            },
        }
    }
}

/// Server functions (pages and `/api/…`) fail with a `ConsoleError`; a transport failure becomes
/// [`ConsoleError::Request`].
#[cfg(feature = "server-fn")]
impl server_fn::error::FromServerFnError for ConsoleError {
    type Encoder = server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        ConsoleError::Request {
            message: value.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_error_round_trips_as_json() {
        let error = ConsoleError::ClusterUnreachable {
            name: "east".into(),
            reason: "connection refused".into(),
        };
        let wire = serde_json::to_string(&error).unwrap_or_default();
        let back: Result<ConsoleError, _> = serde_json::from_str(&wire);
        assert_eq!(back.ok(), Some(error));
    }

    #[cfg(feature = "kube")]
    #[test]
    fn api_answers_keep_their_meaning() {
        let status = |code: u16| {
            kube::Error::Api(Box::new(
                kube::core::Status::failure("applications \"web\" not found", "NotFound")
                    .with_code(code),
            ))
        };
        assert_eq!(
            ConsoleError::from_kube("east", status(404)).http_status(),
            404
        );
        assert_eq!(
            ConsoleError::from_kube("east", status(409)).http_status(),
            409
        );
        assert_eq!(
            ConsoleError::from_kube("east", status(403)).http_status(),
            403
        );
        assert_eq!(
            ConsoleError::from_kube("east", status(422)).http_status(),
            422
        );
        assert_eq!(
            ConsoleError::from_kube("east", status(500)).http_status(),
            500
        );
        assert!(matches!(
            ConsoleError::from_kube("east", status(404)),
            ConsoleError::NotFound { ref message } if message.contains("web")
        ));
    }

    #[cfg(feature = "server-fn")]
    #[test]
    fn transport_failures_become_request_errors() {
        use server_fn::error::{FromServerFnError, ServerFnErrorErr};
        let error =
            ConsoleError::from_server_fn_error(ServerFnErrorErr::Request("timed out".into()));
        assert!(
            matches!(error, ConsoleError::Request { ref message } if message.contains("timed out"))
        );
    }
}
