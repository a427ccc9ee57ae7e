//! What the benches share: the release binary started as a child process (so its memory and
//! CPU are its own), a live callback receiver, and readings from `/proc`.

#![allow(dead_code)] // each bench uses its own part

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncBufReadExt as _;

/// A running sandbox binary.
pub struct Server {
    pub child: tokio::process::Child,
    pub pid: u32,
    pub base: String,
    /// From spawning the process to its first answer on `/_sandbox/health`.
    pub startup: Duration,
}

/// Starts the built binary on a free port with `args`, quiet, and waits for its first answer.
pub async fn start(args: &[&str]) -> Server {
    let spawned = Instant::now();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(["--port", "0", "--log-format", "json"])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the sandbox starts");
    let pid = child.id().expect("pid");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = lines
        .next_line()
        .await
        .expect("stdout")
        .expect("start-up line");
    let base = line
        .strip_prefix("k2-sandbox listening on ")
        .expect("start-up line")
        .to_string();
    let client = client();
    while !client
        .get(format!("{base}/_sandbox/health"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Server {
        child,
        pid,
        base,
        startup: spawned.elapsed(),
    }
}

/// Whether this run is `cargo bench` (under `cargo test --all-targets` a bench only checks that
/// it builds); says so when it is not.
pub fn benching(name: &str) -> bool {
    let on = std::env::args().any(|a| a == "--bench");
    if !on {
        println!("{name}: skipped (run `cargo bench --bench {name}`)");
    }
    on
}

/// A duration in seconds from the environment variable `var`, else `default`.
pub fn secs_from_env(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

/// A token for the default application.
pub async fn token(client: &reqwest::Client, base: &str) -> String {
    let token: serde_json::Value = client
        .post(format!("{base}/oauth/token"))
        .form(&CREDENTIALS)
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    token["access_token"].as_str().expect("token").to_string()
}

pub const CREDENTIALS: [(&str, &str); 3] = [
    ("client_id", "sandbox-client-id"),
    ("client_secret", "sandbox-client-secret"),
    ("grant_type", "client_credentials"),
];

/// A receiver that accepts every callback, as a healthy app does; counts them.
pub async fn receiver(delivered: Arc<AtomicU64>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/cb", listener.local_addr().expect("addr"));
    let app = axum::Router::new().route(
        "/cb",
        axum::routing::post(move || {
            let delivered = delivered.clone();
            async move {
                delivered.fetch_add(1, Ordering::Relaxed);
                "ok"
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A callback URL nobody listens on: every attempt fails and is retried.
pub fn dead_receiver() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    format!("http://127.0.0.1:{port}/cb")
}

fn status_field(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

pub fn rss_kib(pid: u32) -> u64 {
    status_field(pid, "VmRSS:")
}

/// CPU time (user and system) the process has used.
pub fn cpu_time(pid: u32) -> Duration {
    let ticks: u64 = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // The fields after the command name, which may hold spaces, in parentheses.
            let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            Some(rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    // USER_HZ is 100 on every Linux this runs on.
    Duration::from_millis(ticks * 10)
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
