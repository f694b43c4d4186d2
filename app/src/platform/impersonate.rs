//! Clients that act as the signed-in user: every request carries `Impersonate-User` and
//! `Impersonate-Group` and goes out over the console's own connection to the cluster, so the
//! cluster's API server authorises it with RBAC and names the real user in its audit log.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use http::{HeaderName, HeaderValue, Request, Response};
use kube::{Client, client::Body};

use crate::ConsoleError;
use console_api::identity::Identity;

const IMPERSONATE_USER: HeaderName = HeaderName::from_static("impersonate-user");
const IMPERSONATE_GROUP: HeaderName = HeaderName::from_static("impersonate-group");

/// The impersonation headers for `identity`; a name a header cannot carry is refused.
pub fn impersonation_headers(
    identity: &Identity,
) -> Result<Vec<(HeaderName, HeaderValue)>, ConsoleError> {
    let invalid = |what: &str, value: &str| ConsoleError::Internal {
        message: format!("the identity's {what} {value:?} cannot be sent as a header"),
    };
    let mut headers = Vec::with_capacity(1 + identity.groups.len());
    headers.push((
        IMPERSONATE_USER,
        HeaderValue::from_str(&identity.username)
            .map_err(|_| invalid("user name", &identity.username))?,
    ));
    for group in &identity.groups {
        headers.push((
            IMPERSONATE_GROUP,
            HeaderValue::from_str(group).map_err(|_| invalid("group", group))?,
        ));
    }
    Ok(headers)
}

/// A tower service that adds the impersonation headers and sends through the console's client
/// for the cluster (sharing its connection pool and TLS sessions).
#[derive(Clone)]
struct Impersonating {
    base: Client,
    headers: Arc<Vec<(HeaderName, HeaderValue)>>,
}

impl tower::Service<Request<Body>> for Impersonating {
    type Response = Response<Body>;
    type Error = kube::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, kube::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let map = request.headers_mut();
        // Whatever the caller set is replaced: only the session decides who this is.
        map.remove(IMPERSONATE_USER);
        map.remove(IMPERSONATE_GROUP);
        for (name, value) in self.headers.iter() {
            map.append(name.clone(), value.clone());
        }
        let base = self.base.clone();
        Box::pin(async move { base.send(request).await })
    }
}

/// A client for `base`'s cluster that acts as `identity`.
pub fn client_as(base: &Client, identity: &Identity) -> Result<Client, ConsoleError> {
    let headers = Arc::new(impersonation_headers(identity)?);
    Ok(Client::new(
        Impersonating {
            base: base.clone(),
            headers,
        },
        base.default_namespace().to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_user_header_and_one_header_per_group() {
        let identity = Identity {
            username: "alice@example.com".into(),
            groups: vec!["team-a".into(), "developers".into()],
            display_name: "alice".into(),
            local: false,
        };
        let headers = impersonation_headers(&identity).unwrap_or_default();
        let pairs: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("impersonate-user".into(), "alice@example.com".into()),
                ("impersonate-group".into(), "team-a".into()),
                ("impersonate-group".into(), "developers".into()),
            ]
        );
    }

    #[test]
    fn a_name_with_a_newline_is_refused() {
        let identity = Identity {
            username: "mallory\r\nImpersonate-Group: system:masters".into(),
            groups: vec![],
            display_name: "m".into(),
            local: false,
        };
        assert!(impersonation_headers(&identity).is_err());
    }
}
