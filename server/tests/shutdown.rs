//! The real binary: it serves, reports ready, and on SIGTERM stops taking traffic and exits cleanly.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// Status code of a plain HTTP/1.1 GET, or None when nothing answers.
fn status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

fn start(addr: SocketAddr) -> Server {
    let site = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("shutdown-site");
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["--addr", &addr.to_string(), "--shutdown-grace-seconds", "5"])
        .env("LEPTOS_OUTPUT_NAME", "nextgen-console")
        .env("LEPTOS_SITE_ROOT", site)
        .env("LEPTOS_HASH_FILES", "false")
        .env_remove("CONSOLE_KUBECONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the server binary: {e}"));
    Server(child)
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let mut server = start(addr);

    let deadline = Instant::now() + Duration::from_secs(30);
    while status(addr, "/readyz") != Some(200) {
        assert!(
            Instant::now() < deadline,
            "the server never became ready on {addr}"
        );
        sleep(Duration::from_millis(100));
    }
    assert_eq!(status(addr, "/healthz"), Some(200));

    let pid = server.0.id().to_string();
    let signalled = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(
        signalled.is_ok_and(|s| s.success()),
        "kill -TERM {pid} failed"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Ok(Some(exit)) = server.0.try_wait() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit within 10 s of SIGTERM"
        );
        sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "the server exited with {exit}");
    assert_eq!(
        status(addr, "/healthz"),
        None,
        "nothing should listen after shutdown"
    );
}

#[test]
fn an_unreadable_kubeconfig_stops_startup_with_a_clear_error() {
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .args([
            "--addr",
            &addr.to_string(),
            "--kubeconfig",
            "/nonexistent/kubeconfig",
        ])
        .env("LEPTOS_OUTPUT_NAME", "nextgen-console")
        .env("LEPTOS_HASH_FILES", "false")
        .output()
        .unwrap_or_else(|e| panic!("cannot start the server binary: {e}"));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/nonexistent/kubeconfig") && stderr.contains("--kubeconfig"),
        "{stderr}"
    );
}
