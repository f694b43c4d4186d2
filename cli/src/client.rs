//! Calls the console's server functions as the signed-in user: a form-urlencoded POST with the
//! bearer token, a JSON answer, or the `ConsoleError` JSON with its HTTP status; and opens the
//! console's live streams (Server-Sent Events) with the same token.

use std::time::Duration;

use console_api::ConsoleError;
use serde::de::DeserializeOwned;

use crate::config::Target;
use crate::error::{Error, Result};
use crate::live::Events;

/// How long a long operation (a prune with the registry's garbage collection) may take to
/// answer.
const SLOW: Duration = Duration::from_secs(15 * 60);

pub struct Console {
    pub origin: String,
    token: Option<String>,
    http: reqwest::blocking::Client,
}

impl Console {
    pub fn new(target: &Target) -> Result<Self> {
        let mut builder = reqwest::blocking::Client::builder()
            .user_agent(concat!("ac/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = &target.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                Error::Config(format!(
                    "the console's CA ({}) is not a PEM certificate: {e}",
                    target.source
                ))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| Error::Config(format!("cannot set up HTTPS: {e}")))?;
        Ok(Self {
            origin: target.origin.clone(),
            token: target.token.clone(),
            http,
        })
    }

    /// Calls the server function at `path` with `form` (form-urlencoded, the default input of
    /// server functions) and reads its JSON answer.
    pub fn call<T: DeserializeOwned>(&self, path: &str, form: &[(&str, &str)]) -> Result<T> {
        let request = self.http.post(format!("{}{path}", self.origin)).form(form);
        self.send(path, request)
    }

    /// Calls a server function that takes JSON input (`input = Json`): `body` is the object of
    /// its named arguments.
    pub fn call_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T> {
        let request = self.http.post(format!("{}{path}", self.origin)).json(body);
        self.send(path, request)
    }

    /// [`Self::call_json`] for an operation that may take minutes to answer.
    pub fn call_json_slow<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T> {
        let request = self
            .http
            .post(format!("{}{path}", self.origin))
            .json(body)
            .timeout(SLOW);
        self.send(path, request)
    }

    /// Opens the live stream at `path` (relative to the console, as `WatchQuery::url` builds
    /// it). Each read waits at most the client's timeout; the console sends a keep-alive every
    /// 15 s, so a silent stream is a lost one.
    pub fn stream(
        &self,
        path: &str,
    ) -> Result<Events<std::io::BufReader<reqwest::blocking::Response>>> {
        let mut request = self
            .http
            .get(format!("{}{path}", self.origin))
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().map_err(|e| self.transport(e))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().unwrap_or_default();
            return Err(self.failure(path, status, &body));
        }
        Ok(Events::new(std::io::BufReader::new(response)))
    }

    fn send<T: DeserializeOwned>(
        &self,
        path: &str,
        request: reqwest::blocking::RequestBuilder,
    ) -> Result<T> {
        let mut request = request.header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().map_err(|e| self.transport(e))?;
        let status = response.status();
        let body = response.text().map_err(|e| self.transport(e))?;
        if status.is_success() {
            return serde_json::from_str(&body).map_err(|e| {
                Error::Http(format!(
                    "{}{path} answered something ac does not understand ({e}); is ac as new as the console? Answer: {}",
                    self.origin,
                    snippet(&body)
                ))
            });
        }
        Err(self.failure(path, status, &body))
    }

    fn failure(&self, path: &str, status: reqwest::StatusCode, body: &str) -> Error {
        match serde_json::from_str::<ConsoleError>(body) {
            Ok(ConsoleError::Unauthenticated) => Error::SignIn {
                origin: self.origin.clone(),
                reason: if self.token.is_some() {
                    "the token is expired or revoked (tokens end with the console session that issued them)".into()
                } else {
                    "you are not signed in".into()
                },
            },
            Ok(error) => Error::Console(error),
            Err(_) if status == reqwest::StatusCode::NOT_FOUND => Error::Http(format!(
                "{}{path} does not exist (404): the console is older or newer than ac; update ac to the console's version",
                self.origin
            )),
            Err(_) if status == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                Error::Unreachable(format!(
                    "{}{path} refused for now (429): {}",
                    self.origin,
                    snippet(body)
                ))
            }
            Err(_) if matches!(status.as_u16(), 502..=504) => Error::Unreachable(format!(
                "{}{path} failed with {status} (a proxy in front of the console?): {}",
                self.origin,
                snippet(body)
            )),
            Err(_) if status.is_redirection() => Error::Http(format!(
                "{}{path} redirected instead of answering ({status}): is {} the console's address?",
                self.origin, self.origin
            )),
            Err(_) => Error::Http(format!(
                "{}{path} failed with {status}: {}",
                self.origin,
                snippet(body)
            )),
        }
    }

    fn transport(&self, error: reqwest::Error) -> Error {
        let cause = console_api::innermost(&error);
        let hint = if cause.contains("certificate") || cause.contains("UnknownIssuer") {
            "; if the console uses a private CA, pass --certificate-authority <ca.pem> (the console's kubeconfig carries it)"
        } else if error.is_connect() {
            "; check the address and that the console is running"
        } else if error.is_timeout() {
            "; the console did not answer in time, try again"
        } else {
            ""
        };
        let message = format!("cannot reach the console at {}: {cause}{hint}", self.origin);
        if cause.contains("certificate") || cause.contains("UnknownIssuer") {
            Error::Http(message)
        } else {
            Error::Unreachable(message)
        }
    }
}

/// The start of an answer, on one line, for error messages.
fn snippet(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}
