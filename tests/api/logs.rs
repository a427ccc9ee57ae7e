//! What the binary writes to its log: one access line per request and one line per callback
//! attempt, readable (no debug formatting, no colour codes when not on a terminal), and the
//! same fields as JSON.

use serde_json::{Value, json};

use crate::helpers::*;

/// Requests a token, creates an STK push that calls back to `callback_url`, and sends a
/// request with a wrong token; waits for the callback's first attempt.
async fn some_traffic(base: &str, callback_url: &str) {
    let client = http_client();
    let token = token_at(base).await;
    let created = client
        .post(format!("{base}/api/v2/incoming_payments"))
        .bearer_auth(&token)
        .json(&stk_request(callback_url))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let refused = client
        .get(format!("{base}/api/v2/incoming_payments/abc"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("get");
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn the_log_has_an_access_line_per_request_and_a_line_per_callback_attempt() {
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let sandbox = SandboxProcess::start_logging(&["--callback-delay-ms", "0"]).await;
    some_traffic(&sandbox.base, &receiver.url).await;
    receiver.wait_for(1).await;
    let log = sandbox.log().await;

    assert!(
        !log.contains('\u{1b}'),
        "no colour codes off a terminal:\n{log}"
    );
    assert!(!log.contains("Some("), "no debug formatting:\n{log}");
    let line = |needle: &str| {
        log.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("a line with {needle:?} in:\n{log}"))
            .to_string()
    };
    let token = line("path=/oauth/token");
    assert!(
        token.contains(
            " INFO k2_sandbox::access: request method=POST path=/oauth/token status=200 latency_ms="
        ),
        "{token}"
    );
    assert!(
        token.ends_with(&format!(" client_id={CLIENT_ID}")),
        "{token}"
    );
    let create = line("path=/api/v2/incoming_payments status=201");
    assert!(
        create.contains(&format!("client_id={CLIENT_ID}")),
        "{create}"
    );
    let refused = line("status=401");
    assert!(
        refused.contains("method=GET path=/api/v2/incoming_payments/abc status=401 latency_ms="),
        "{refused}"
    );
    assert!(
        refused.ends_with("error=The access token is invalid"),
        "{refused}"
    );
    let attempt = line("callback attempt");
    assert!(
        attempt.contains(" INFO k2_sandbox::callbacks: callback attempt delivery="),
        "{attempt}"
    );
    assert!(
        attempt.contains(&format!("url={} attempt=1 status=200", receiver.url)),
        "{attempt}"
    );
    assert!(attempt.ends_with("outcome=delivered"), "{attempt}");
}

#[tokio::test]
async fn the_json_log_carries_the_same_fields() {
    let receiver = CallbackReceiver::start(Behaviour::FailFirst(100)).await;
    let sandbox = SandboxProcess::start_logging(&[
        "--callback-delay-ms",
        "0",
        "--shutdown-grace-ms",
        "100",
        "--log-format",
        "json",
    ])
    .await;
    some_traffic(&sandbox.base, &receiver.url).await;
    receiver.wait_for(1).await;
    let log = sandbox.log().await;
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let refused = lines
        .iter()
        .find(|l| l["fields"]["status"] == 401)
        .expect("the 401's line");
    assert_eq!(refused["target"], "k2_sandbox::access");
    assert_eq!(refused["level"], "INFO");
    assert_eq!(refused["fields"]["method"], "GET");
    assert_eq!(refused["fields"]["path"], "/api/v2/incoming_payments/abc");
    assert_eq!(refused["fields"]["error"], "The access token is invalid");
    assert!(refused["fields"]["latency_ms"].is_f64());
    assert!(refused["fields"].get("client_id").is_none());
    let attempt = lines
        .iter()
        .find(|l| l["target"] == "k2_sandbox::callbacks")
        .expect("an attempt's line");
    assert_eq!(attempt["fields"]["message"], "callback attempt");
    assert_eq!(attempt["fields"]["attempt"], 1);
    assert_eq!(attempt["fields"]["status"], 500);
    assert_eq!(attempt["fields"]["outcome"], "will retry");
    assert_eq!(attempt["fields"]["client_id"], json!(CLIENT_ID));
}
