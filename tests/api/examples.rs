//! The repository's examples work as written: the docker-compose receiver prints each
//! callback as it arrives.

use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncBufReadExt as _;

use crate::helpers::*;

#[tokio::test]
async fn the_compose_example_receiver_prints_each_callback_as_it_arrives() {
    let compose: Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docker-compose.yml"))
            .expect("docker-compose.yml"),
    )
    .expect("YAML");
    let command = compose["services"]["app"]["command"]
        .as_str()
        .expect("the app's command");
    // Run here as in its container, with this machine's python3 on a free port instead of
    // 3000, and without an inherited PYTHONUNBUFFERED that would hide a missing `-u`.
    let (flags, code) = command
        .trim()
        .strip_prefix("python")
        .and_then(|rest| rest.split_once("-c "))
        .expect("python [flags] -c \"...\"");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("addr")
        .port();
    let code = code
        .trim_matches('"')
        .replace("('0.0.0.0',3000)", &format!("('127.0.0.1',{port})"));
    assert!(code.contains(&format!("',{port})")), "{code}");
    let mut receiver = tokio::process::Command::new("python3")
        .args(flags.split_whitespace())
        .args(["-c", &code])
        .env_remove("PYTHONUNBUFFERED")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 runs");
    let mut lines = tokio::io::BufReader::new(receiver.stdout.take().expect("stdout")).lines();

    let app = spawn_app().await;
    let token = app.token().await;
    let callback_url = format!("http://127.0.0.1:{port}/k2/callbacks");
    // The receiver may take a moment to listen; the sandbox retries after a second.
    app.stk_push(&token, &callback_url).await;
    let line = tokio::time::timeout(Duration::from_secs(15), lines.next_line())
        .await
        .expect("a line while the receiver still runs (not held in a buffer)")
        .expect("stdout readable")
        .expect("a line");
    let deliveries = app.deliveries().await;
    let signature = deliveries[0]["signature"].as_str().expect("signature");
    assert!(line.starts_with(signature), "{line}");
    assert!(line.contains("incoming_payment"), "{line}");
}
