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
    assert!(stdout(&clock).starts_with("now 2026-05-08T10:00:00.000+03:00 (virtual + 7d)"));

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

#[tokio::test]
async fn the_clock_commands_move_the_shared_clock_whatever_application_serve_was_given() {
    let app = spawn_app_with(|args| {
        args.clock = Some(FIXED_CLOCK.parse().expect("fixed clock"));
        args.client_id = "myapp".into();
    })
    .await;
    let advance = k2(&app.base, &["clock", "advance", "7d"]).await;
    assert!(advance.status.success(), "{advance:?}");
    let shown: serde_json::Value = app
        .client
        .get(app.url("/_sandbox/clock?client_id=myapp"))
        .send()
        .await
        .expect("clock")
        .json()
        .await
        .expect("json");
    assert_eq!(shown["now"], "2026-05-08T10:00:00.000+03:00");
    assert_eq!(shown["advanced_ms"], 7 * 86_400_000_i64);

    // An application's own clock, and how far it runs ahead in all.
    let own = k2(
        &app.base,
        &["clock", "advance", "90s", "--client-id", "myapp"],
    )
    .await;
    assert_eq!(
        stdout(&own),
        "now 2026-05-08T10:01:30.000+03:00 on myapp's clock (virtual + 7d 1m 30s), 0 jobs pending\n"
    );
}

#[tokio::test]
async fn client_flags_are_accepted_anywhere_after_the_command_and_listed_in_its_help() {
    let app = spawn_app().await;
    // The env points nowhere: only the flag can reach the sandbox.
    let nowhere = "http://127.0.0.1:9";
    for args in [
        vec!["clock", "show", "--url", &app.base],
        vec!["clock", "--url", &app.base, "show"],
        vec!["clock", "advance", "1s", "--url", &app.base],
        vec!["clock", "advance", "--url", &app.base, "1s"],
        vec!["trigger", "buygoods", "--url", &app.base, "--amount", "5"],
        vec!["reset", "--url", &app.base],
        vec!["healthcheck", "--url", &app.base],
    ] {
        let output = k2(nowhere, &args).await;
        assert!(output.status.success(), "{args:?}: {output:?}");
    }
    // A real-time clock after an advance is not "real time" any more.
    let shown = k2(nowhere, &["clock", "show", "--url", &app.base]).await;
    assert!(
        stdout(&shown).contains("(real time + 2s)"),
        "{}",
        stdout(&shown)
    );

    for command in [
        &["clock", "advance", "--help"][..],
        &["clock", "show", "--help"],
        &["stk", "--help"],
    ] {
        let help = stdout(&k2(nowhere, command).await);
        assert!(help.contains("--url <URL>"), "{command:?}: {help}");
        assert!(
            help.contains("--admin-token <TOKEN>"),
            "{command:?}: {help}"
        );
    }
}

#[tokio::test]
async fn the_auto_tenants_env_twin_takes_the_usual_spellings_of_a_switch() {
    for (value, on) in [
        ("1", true),
        ("yes", true),
        ("ON", true),
        ("true", true),
        ("0", false),
        ("off", false),
        ("", false),
        ("false", false),
    ] {
        let sandbox =
            SandboxProcess::start_with_env(&[], &[("K2_SANDBOX_AUTO_TENANTS", value)]).await;
        let response = http_client()
            .post(format!("{}/oauth/token", sandbox.base))
            .form(&[
                ("client_id", "a-new-app"),
                ("client_secret", "its-secret"),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .expect("token");
        let expected = if on { 200 } else { 401 };
        assert_eq!(
            response.status(),
            expected,
            "K2_SANDBOX_AUTO_TENANTS={value:?}"
        );
    }
    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(["--port", "0"])
        .env("K2_SANDBOX_AUTO_TENANTS", "maybe")
        .output()
        .await
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(
            "\"maybe\" is not a switch value: use 1, true, yes or on; 0, false, no, off or empty"
        ),
        "{refused:?}"
    );
}

/// The README's block of client commands, as a new user copies it, on a fresh sandbox (with
/// the STK push its `stk` line answers, as its comment says).
#[tokio::test]
async fn the_readme_cli_block_works_on_a_fresh_sandbox() {
    let readme = include_str!("../../README.md");
    let block = readme
        .split("```sh\n")
        .find(|b| b.starts_with("k2-sandbox trigger"))
        .and_then(|b| b.split("```").next())
        .expect("the README's CLI block");
    let app = spawn_app_with(|args| args.callback_delay_ms = RESULT_DELAY_MS).await;
    let token = app.token().await;
    let mut request = stk_request("http://127.0.0.1:9/cb");
    request["subscriber"]["phone_number"] = json!("+254700000009");
    app.create("/api/v2/incoming_payments", &token, &request)
        .await;
    let mut ran = 0;
    for line in block.lines() {
        let command = line.split(" #").next().expect("command");
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        let output = k2(&app.base, &args).await;
        assert!(output.status.success(), "{line}: {output:?}");
        ran += 1;
    }
    assert_eq!(ran, 6);
}

#[tokio::test]
async fn trigger_names_its_events_and_prints_the_reference_a_reversal_takes() {
    let app = spawn_app().await;
    let unknown = k2(&app.base, &["trigger", "byugoods"]).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&unknown.stderr),
        "error: unknown event \"byugoods\": use one of buygoods, buygoods-reversed, b2b, \
         b2b-reversed, settlement, customer-created, card, card-voided, card-reversed (or a full \
         event type such as buygoods_transaction_received) (did you mean `buygoods`?)\n"
    );
    // Every spelling of the name reverses the transaction whose reference `trigger` printed.
    for name in [
        "buygoods-reversed",
        "buygoods_reversed",
        "buygoods_transaction_reversed",
    ] {
        let received = stdout(&k2(&app.base, &["trigger", "buygoods"]).await);
        let reference = received
            .split(", reference ")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .unwrap_or_else(|| panic!("a reference in {received}"));
        let reversed = k2(&app.base, &["trigger", name, "--transaction", reference]).await;
        assert!(reversed.status.success(), "{name}: {reversed:?}");
        assert!(
            stdout(&reversed).starts_with("buygoods_transaction_reversed "),
            "{reversed:?}"
        );
        assert!(
            stdout(&reversed).contains(&format!(", reference {reference}): ")),
            "{reversed:?}"
        );
    }
}
