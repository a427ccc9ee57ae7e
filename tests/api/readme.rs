//! The README's walk-through, run as a new user runs it: its shell blocks, in order, against a
//! fresh sandbox with the defaults the README states, with a real receiver for the callbacks.

use crate::helpers::*;

/// The `sh` blocks of the README between two headings.
fn blocks(from: &str, to: &str) -> Vec<String> {
    let readme = include_str!("../../README.md");
    let start = readme.find(from).expect("the first heading");
    let end = start + readme[start..].find(to).expect("the second heading");
    readme[start..end]
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().expect("a closed block").to_string())
        .collect()
}

#[tokio::test]
async fn the_walk_through_runs_as_written_and_its_signature_check_passes() {
    let app = spawn_app_with(|args| args.callback_delay_ms = 1000).await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let blocks = blocks("## Walk-through", "## From an SDK");
    // The receiver (a long-running server for another terminal) and the variables that say
    // where things are: the test sets those to its own sandbox and receiver.
    let (setup, runnable): (Vec<&String>, Vec<&String>) = blocks
        .iter()
        .partition(|b| b.starts_with("python3 -c '") || b.starts_with("BASE="));
    assert_eq!(setup.len(), 2, "the receiver and the variables: {setup:?}");
    assert!(
        setup[1].contains("BASE=http://127.0.0.1:8080"),
        "{}",
        setup[1]
    );
    let script = runnable
        .iter()
        .map(|b| b.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let dir = std::env::temp_dir().join(format!("k2-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let output = tokio::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("BASE", &app.base)
        .env("CALLBACK", &receiver.url)
        .current_dir(&dir)
        .output()
        .await
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "\"status\":\"Pending\"",
        "\"status\":\"Success\"",
        "201 send money",
        "201 payment link",
        "201 webhook event",
        "\"advanced_ms\":604800000",
        "signature verified",
    ] {
        assert!(stdout.contains(expected), "{expected}: {stdout}");
    }
    // The push's callback reached the receiver, signed.
    assert!(receiver.wait_for(1).await[0].signature_verifies(API_KEY));
    std::fs::remove_dir_all(&dir).ok();
}
