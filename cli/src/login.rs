//! `ac login`: in the browser through the console's `/auth/cli` page, which hands a one-time
//! code back to a loopback listener of this process; `ac` trades the code for a console-issued
//! token with the verifier whose challenge it sent first (PKCE, S256), so the token travels in
//! no URL and a code caught on the way is worth nothing. Or with `--token` for headless use.
//! Either way the token is checked against the console, then saved as one context per cluster
//! in `~/.config/ac/config` (or `--kubeconfig`, keeping whatever else that file holds).

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::client::Console;
use crate::config::{self, Target};
use crate::endpoints;
use crate::error::{Error, Result};
use crate::views::Identity;

pub struct LoginOptions {
    pub server: String,
    pub token: Option<String>,
    pub ca_pem: Option<Vec<u8>>,
    pub no_browser: bool,
    pub timeout: Duration,
    /// Where to save the contexts.
    pub config_path: std::path::PathBuf,
}

/// A random value for the sign-in's `state` and verifier: 32 bytes as 43 base64url characters
/// (a verifier of the length RFC 7636 asks for).
fn random_value() -> Result<String> {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Config(format!("no randomness for the sign-in: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The S256 challenge of `verifier`: base64url (no padding) of its SHA-256.
pub fn challenge_of(verifier: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// The console's page that signs `ac` in and redirects to `redirect` with a one-time code
/// bound to `challenge`.
pub fn sign_in_url(origin: &str, redirect: &str, state: &str, challenge: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("redirect", redirect)
        .append_pair("state", state)
        .append_pair("code_challenge", challenge);
    format!("{origin}{}?{}", endpoints::CLI_SIGN_IN, query.finish())
}

/// What came back to the loopback listener.
#[derive(Debug, PartialEq, Eq)]
pub enum Callback {
    /// The one-time code to trade for the token.
    Code(String),
    /// A console in local mode: no token needed.
    Local,
}

/// What the console answers at `/auth/cli/token`.
#[derive(serde::Deserialize)]
struct IssuedToken {
    token: String,
}

/// Reads the callback's request target (`/callback?code=…&state=…`): the code when the state
/// is ours, `None` for anything else (a favicon request, a stray visitor).
pub fn read_callback(target: &str, state: &str) -> Option<Callback> {
    let url = url::Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    if url.path() != "/callback" {
        return None;
    }
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    if get("state").as_deref() != Some(state) {
        return None;
    }
    match (get("code"), get("local")) {
        (Some(code), _) if !code.is_empty() => Some(Callback::Code(code)),
        (None, Some(local)) if local == "true" => Some(Callback::Local),
        _ => None,
    }
}

const DONE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>ac</title></head><body style=\"font-family:system-ui,sans-serif;margin:4rem auto;max-width:36rem\"><h1>ac is signed in / ac 已登录</h1><p>You can close this tab and return to the terminal.</p><p>您可以关闭此标签页并返回终端。</p></body></html>";

fn answer(stream: &mut TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

/// Waits on `listener` for the console's redirect carrying `state`.
fn wait_for_callback(listener: &TcpListener, state: &str, timeout: Duration) -> Result<Callback> {
    let deadline = Instant::now() + timeout;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::Config(format!("loopback listener: {e}")))?;
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut line = String::new();
                let mut reader = BufReader::new(match stream.try_clone() {
                    Ok(s) => s,
                    Err(_) => continue,
                });
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let target = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                match read_callback(&target, state) {
                    Some(callback) => {
                        answer(&mut stream, "200 OK", DONE_PAGE);
                        return Ok(callback);
                    }
                    None => answer(&mut stream, "404 Not Found", "not found"),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() > deadline {
                    return Err(Error::Failed(format!(
                        "no sign-in arrived within {} s; run ac login again (or use --token)",
                        timeout.as_secs()
                    )));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(Error::Config(format!("loopback listener: {e}"))),
        }
    }
}

/// Opens `url` in the user's browser ($BROWSER, else the platform's opener); false when none.
fn open_browser(url: &str) -> bool {
    let mut candidates: Vec<(String, Vec<String>)> = Vec::new();
    if let Ok(browser) = std::env::var("BROWSER")
        && !browser.is_empty()
    {
        candidates.push((browser, vec![url.to_string()]));
    }
    if cfg!(target_os = "macos") {
        candidates.push(("open".into(), vec![url.to_string()]));
    } else if cfg!(windows) {
        candidates.push((
            "cmd".into(),
            vec!["/C".into(), "start".into(), String::new(), url.to_string()],
        ));
    } else {
        candidates.push(("xdg-open".into(), vec![url.to_string()]));
    }
    candidates.into_iter().any(|(program, args)| {
        std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
    })
}

pub fn login(options: LoginOptions) -> Result<()> {
    let origin = config::normalise_origin(&options.server)?;
    let token = match options.token.clone() {
        Some(token) => Some(token),
        None => {
            let listener = TcpListener::bind("127.0.0.1:0")
                .map_err(|e| Error::Config(format!("cannot listen on loopback: {e}")))?;
            let port = listener
                .local_addr()
                .map_err(|e| Error::Config(format!("loopback listener: {e}")))?
                .port();
            let state = random_value()?;
            let verifier = random_value()?;
            let url = sign_in_url(
                &origin,
                &format!("http://127.0.0.1:{port}/callback"),
                &state,
                &challenge_of(&verifier),
            );
            if options.no_browser || !open_browser(&url) {
                eprintln!("Open this URL in a browser to sign in:\n\n  {url}\n");
            } else {
                eprintln!(
                    "Opened the console in your browser; sign in and allow ac there.\nIf no browser opened, visit:\n\n  {url}\n"
                );
            }
            match wait_for_callback(&listener, &state, options.timeout)? {
                Callback::Code(code) => {
                    let anonymous = Console::new(&Target {
                        origin: origin.clone(),
                        token: None,
                        ca_pem: options.ca_pem.clone(),
                        cluster: None,
                        namespace: None,
                        source: "ac login".into(),
                    })?;
                    let issued: IssuedToken = anonymous.call(
                        endpoints::CLI_TOKEN,
                        &[("code", &code), ("code_verifier", &verifier)],
                    )?;
                    Some(issued.token)
                }
                Callback::Local => None,
            }
        }
    };
    let target = Target {
        origin: origin.clone(),
        token: token.clone(),
        ca_pem: options.ca_pem.clone(),
        cluster: None,
        namespace: None,
        source: "ac login".into(),
    };
    let console = Console::new(&target)?;
    let identity: Option<Identity> = console.call(endpoints::CURRENT_USER, &[])?;
    let identity = identity.ok_or_else(|| Error::SignIn {
        origin: origin.clone(),
        reason: "the console did not accept the token".into(),
    })?;
    let clusters: Vec<console_api::cluster::ClusterRef> =
        console.call(endpoints::LIST_CLUSTERS, &[])?;
    let names: Vec<String> = clusters.into_iter().map(|c| c.name).collect();
    if names.is_empty() {
        return Err(Error::Failed(format!(
            "{origin} has no clusters registered, so there is no context to save"
        )));
    }
    let mut file = config::load(std::slice::from_ref(&options.config_path))?;
    let ca_data = options.ca_pem.as_ref().map(|pem| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(pem)
    });
    file.set_console(
        &origin,
        &identity.username,
        token.as_deref(),
        ca_data.as_deref(),
        &names,
    );
    config::save(&options.config_path, &file)?;
    println!(
        "Signed in to {origin} as {}. Saved {} context(s) to {}: {} (current: {}).",
        identity.username,
        names.len(),
        options.config_path.display(),
        names.join(", "),
        file.current_context
    );
    if std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty()) {
        crate::output::warn(&format!(
            "KUBECONFIG is set and ac reads it before {}; unset it or pass --kubeconfig {} to use this sign-in",
            options.config_path.display(),
            options.config_path.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_is_taken_only_with_our_state() {
        let state = "s".repeat(43);
        assert_eq!(
            read_callback(&format!("/callback?code=c0de&state={state}"), &state),
            Some(Callback::Code("c0de".into()))
        );
        // A token in the URL (an old console) is not taken: tokens travel in no URL.
        assert_eq!(
            read_callback(&format!("/callback?token=ngc_x&state={state}"), &state),
            None
        );
        assert_eq!(
            read_callback(&format!("/callback?local=true&state={state}"), &state),
            Some(Callback::Local)
        );
        assert_eq!(
            read_callback("/callback?code=c0de&state=other", &state),
            None
        );
        assert_eq!(
            read_callback(&format!("/favicon.ico?state={state}"), &state),
            None
        );
        assert_eq!(read_callback("garbage", &state), None);
    }

    #[test]
    fn the_sign_in_url_carries_the_loopback_redirect_and_the_challenge() {
        let url = sign_in_url(
            "https://c.example",
            "http://127.0.0.1:4000/callback",
            "abc",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        );
        assert_eq!(
            url,
            "https://c.example/auth/cli?redirect=http%3A%2F%2F127.0.0.1%3A4000%2Fcallback&state=abc&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let value = random_value().unwrap_or_default();
        assert_eq!(value.len(), 43);
        assert_ne!(value, random_value().unwrap_or_default());
        // RFC 7636, appendix B.
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
