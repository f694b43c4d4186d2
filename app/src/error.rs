//! The error type that crosses the wire between server functions and pages.
//! Variants carry what the page needs to say, in the user's language, what went wrong and what to do.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
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
            ConsoleError::Invalid { .. } => 422,
            ConsoleError::Internal { .. } | ConsoleError::Request { .. } => 500,
        }
    }

    /// Sets the response status to [`Self::http_status`] when a server function is answering
    /// a request of its own (`/api/…`), and returns the error, for `return Err(e.respond())`.
    /// A page that calls the same function while rendering keeps its 200: it shows the error
    /// in place.
    #[cfg(feature = "ssr")]
    pub fn respond(self) -> Self {
        use leptos::prelude::use_context;
        let own_request = use_context::<http::request::Parts>()
            .is_some_and(|parts| parts.uri.path().starts_with("/api/"));
        if own_request
            && let Some(options) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = http::StatusCode::from_u16(self.http_status())
        {
            options.set_status(status);
        }
        self
    }
}

impl FromServerFnError for ConsoleError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
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

    #[test]
    fn transport_failures_become_request_errors() {
        let error =
            ConsoleError::from_server_fn_error(ServerFnErrorErr::Request("timed out".into()));
        assert!(
            matches!(error, ConsoleError::Request { ref message } if message.contains("timed out"))
        );
    }
}
