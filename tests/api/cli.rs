//! The binary's client commands against a running sandbox.

use std::process::Output;

use serde_json::json;

use crate::helpers::*;

async fn k2(app_url: &str, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(args)
        .env("K2_SANDBOX_URL", app_url)
        .env_remove("K2_SANDBOX_ADMIN_TOKEN")
        .output()
        .await
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn the_cli_drives_a_running_sandbox_end_to_end() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    app.create(
        "/api/v2/webhook_subscriptions",
        &token,
        &json!({"event_type": "buygoods_transaction_received",
        "url": receiver.url, "scope": "company"}),
    )
    .await;

    let health = k2(&app.base, &["healthcheck"]).await;
    assert!(health.status.success());
    assert!(stdout(&health).starts_with("ok (k2-sandbox "));

    let trigger = k2(
        &app.base,
        &[
            "trigger",
            "buygoods",
            "--till",
            "000000",
            "--amount",
            "100",
            "--phone",
            "+254712345678",
        ],
    )
    .await;
    assert!(trigger.status.success(), "{trigger:?}");
    assert!(stdout(&trigger).starts_with("buygoods_transaction_received "));
    let event = receiver.wait_for(1).await[0].json();
    assert_eq!(event["event"]["resource"]["amount"], "100.0");

    let mut request = stk_request("http://127.0.0.1:9/cb");
    request["subscriber"]["phone_number"] = json!("+254700000009");
    let location = app
        .create("/api/v2/incoming_payments", &token, &request)
        .await;
    // Scoped to another application, the number has no prompt waiting.
    let elsewhere = k2(
        &app.base,
        &[
            "stk",
            "cancel",
            "0700000009",
            "--client-id",
            OTHER_CLIENT_ID,
        ],
    )
    .await;
    assert_eq!(elsewhere.status.code(), Some(1), "{elsewhere:?}");
    let stk = k2(&app.base, &["stk", "cancel", "0700000009"]).await;
    assert!(stk.status.success(), "{stk:?}");
    assert!(stdout(&stk).ends_with(": Failed\n"));
    let document = app.get_json(&location, &token).await;
    assert_eq!(
        document["data"]["attributes"]["event"]["errors"],
        json!(["Request cancelled by user"])
    );

    let clock = k2(&app.base, &["clock", "advance", "7d"]).await;
    assert!(clock.status.success());
    assert!(stdout(&clock).starts_with("now 2026-05-08T10:00:00.000+03:00 (virtual)"));

    let reset = k2(&app.base, &["reset"]).await;
    assert!(reset.status.success());
    let token = app.token().await;
    assert_eq!(
        app.get_with_token(&location, &token).await.status(),
        reqwest::StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn refusals_and_unreachable_sandboxes_have_their_own_exit_codes() {
    let app = spawn_app().await;
    let refused = k2(&app.base, &["stk", "pay", "0799999999"]).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("No pending STK prompt"));

    let unreachable = k2("http://127.0.0.1:9", &["healthcheck"]).await;
    assert_eq!(unreachable.status.code(), Some(2));
}
