//! The shipped scenarios do what their headers say; loading is all or nothing.

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn shipped(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

async fn with_scenario(name: &str) -> TestApp {
    let path = shipped(name);
    spawn_app_with(move |a| {
        a.clock = Some(FIXED_CLOCK.parse().expect("clock"));
        a.callback_delay_ms = RESULT_DELAY_MS;
        a.scenario = vec![path];
    })
    .await
}

#[test]
fn every_shipped_scenario_parses() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).expect("readable");
            k2_sandbox::scenario::parse(&path.display().to_string(), &text)
                .unwrap_or_else(|p| panic!("{p}"));
            count += 1;
        }
    }
    assert!(count >= 5, "{count} scenarios");
}

#[tokio::test]
async fn default_gives_blind_transfers_a_settlement_account() {
    let app = with_scenario("default.yaml").await;
    let token = app.token().await;
    let location = app
        .create(
            "/api/v2/send_money",
            &token,
            &json!({"_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    app.advance("1s").await;
    let d = &app.get_json(&location, &token).await["data"]["attributes"]["transfer_batches"][0]["disbursements"]
        [0];
    assert_eq!(d["destination_type"], "merchant_bank_account");
    assert_eq!(d["account_name"], "Sandbox Merchant Ltd");
    assert_eq!(d["amount"], "1000000.0");

    // The till's name shows on payment links.
    let link = app
        .create(
            "/api/v2/payment_links",
            &token,
            &json!({"till_number": "K000000", "currency": "KES",
        "amount": 10, "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    assert_eq!(
        app.get_json(&link, &token).await["data"]["attributes"]["till_name"],
        "Sandbox Shop"
    );
}

#[tokio::test]
async fn insufficient_balance_fails_payouts_and_limits_reversals() {
    let app = with_scenario("insufficient-balance.yaml").await;
    let token = app.token().await;
    let payout = |source: Value, amount: u32| {
        json!({"source_identifier": source, "destinations": [{"type": "till", "till_number": "000000",
               "amount": amount, "description": "x"}], "_links": {"callback_url": "http://127.0.0.1:9/cb"}})
    };
    let company = app
        .create("/api/v2/send_money", &token, &payout(Value::Null, 1))
        .await;
    let too_much = app
        .create("/api/v2/send_money", &token, &payout(json!("K000000"), 101))
        .await;
    app.advance("1s").await;
    for location in [company, too_much] {
        let attributes = &app.get_json(&location, &token).await["data"]["attributes"];
        assert_eq!(attributes["status"], "Failed");
        assert_eq!(
            attributes["errors"],
            json!(["The balance is insufficient for the transaction"])
        );
    }

    let reversal = json!({"transaction_reference": "INSUF00001", "reason": "x", "_links": {"callback_url": "http://127.0.0.1:9/cb"}});
    let location = app.create("/api/v2/reversals", &token, &reversal).await;
    app.advance("1s").await;
    let processed = app.get_json(&location, &token).await;
    assert_eq!(
        processed["data"]["attributes"]["reversal_bulk_payment"]["status"],
        "Transferred"
    );
    let (status, _) = app.rejected("/api/v2/reversals", &token, &reversal).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn stk_failures_numbers_fail_as_documented() {
    let app = with_scenario("stk-failures.yaml").await;
    let token = app.token().await;
    let mut request = stk_request("http://127.0.0.1:9/cb");
    request["subscriber"]["phone_number"] = json!("0711000001");
    let location = app
        .create("/api/v2/incoming_payments", &token, &request)
        .await;
    app.advance("1s").await;
    let errors = &app.get_json(&location, &token).await["data"]["attributes"]["event"]["errors"];
    assert_eq!(errors, &json!(["Request cancelled by user"]));
}

#[tokio::test]
async fn flaky_api_fails_then_recovers() {
    let app = with_scenario("flaky-api.yaml").await;
    let token = app.token().await;
    for _ in 0..2 {
        let response = app
            .create_incoming_payment(&token, &stk_request("http://127.0.0.1:9/cb"))
            .await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "1");
        assert_eq!(
            response.json::<Value>().await.expect("json"),
            json!({"error_code": 503, "error_message": "Service Unavailable"})
        );
    }
    let third = app
        .create_incoming_payment(&token, &stk_request("http://127.0.0.1:9/cb"))
        .await;
    assert_eq!(third.status(), StatusCode::CREATED);

    let body = json!({"_links": {"callback_url": "http://127.0.0.1:9/cb"}});
    let limited = app.post_json("/api/v2/send_money", &token, &body).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "2");
    assert_eq!(
        app.post_json("/api/v2/send_money", &token, &body)
            .await
            .status(),
        StatusCode::CREATED
    );

    let link = app
        .create(
            "/api/v2/payment_links",
            &token,
            &json!({"till_number": "1", "currency": "KES", "amount": 1,
        "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    // The connection is cut: sending or reading the body fails.
    let first = async {
        app.client
            .get(&link)
            .bearer_auth(&token)
            .send()
            .await?
            .text()
            .await
    }
    .await;
    assert!(
        first.is_err(),
        "the first GET of a payment link is dropped: {first:?}"
    );
    assert_eq!(
        app.get_with_token(&link, &token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn busy_till_has_history_and_a_timeline() {
    let app = with_scenario("busy-till.yaml").await;
    let token = app.token().await;
    let poll = json!({"scope": "till", "scope_reference": "000000", "from_time": "2026-04-30T00:00:00+03:00",
        "to_time": "2026-05-02T00:00:00+03:00", "_links": {"callback_url": "http://127.0.0.1:9/cb"}});
    let before = app.create("/api/v2/polling", &token, &poll).await;
    app.advance("1s").await;
    assert_eq!(
        app.get_json(&before, &token).await["data"]["attributes"]["transactions"]
            .as_array()
            .expect("list")
            .len(),
        4
    );

    app.advance("40s").await;
    let after = app.create("/api/v2/polling", &token, &poll).await;
    app.advance("1s").await;
    let transactions =
        app.get_json(&after, &token).await["data"]["attributes"]["transactions"].clone();
    let amounts: Vec<&str> = transactions
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["resource"]["amount"].as_str().expect("amount"))
        .collect();
    assert_eq!(
        amounts,
        [
            "1200.0", "80.0", "5000.0", "450.0", "250.0", "10000.0", "75.0"
        ]
    );
}

#[tokio::test]
async fn scenarios_load_at_runtime_all_or_nothing() {
    let app = spawn_app().await;
    let post = |body: &'static str| {
        app.client
            .post(app.url("/_sandbox/scenarios"))
            .header("content-type", "application/yaml")
            .body(body)
            .send()
    };
    let good = post("name: tiny\nworld:\n  balances:\n    - balance: 42\n")
        .await
        .expect("load");
    assert_eq!(good.status(), StatusCode::CREATED);
    assert_eq!(
        good.json::<Value>().await.expect("json")["scenarios"],
        json!(["tiny"])
    );
    assert_eq!(app.balances().await["company"], "42.0");

    // The first document is fine, the second names an unknown application: nothing applies.
    let bad = post("name: one\nworld:\n  balances:\n    - balance: 7\n---\nname: two\nworld:\n  balances:\n    - client_id: ghost\n      balance: 1\n")
        .await
        .expect("load");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let message = bad.json::<Value>().await.expect("json")["error_message"]
        .as_str()
        .expect("message")
        .to_string();
    assert_eq!(
        message,
        "(request body):9:18: world.balances[0].client_id: \
         no application \"ghost\": declare it under world.applications"
    );
    assert_eq!(app.balances().await["company"], "42.0");

    // Pathological YAML is refused at once, with a bounded message.
    let deep = app
        .load_scenario(format!("name: x\nworld: {}", "[".repeat(1_000_000)))
        .await;
    assert_eq!(deep.status(), StatusCode::BAD_REQUEST);
    assert!(
        deep.json::<Value>().await.expect("json")["error_message"]
            .as_str()
            .is_some_and(|m| m.ends_with("(document): nested deeper than 32 levels")),
    );
    let many = app.load_scenario("---\nx: 1\n".repeat(100)).await;
    assert_eq!(many.status(), StatusCode::BAD_REQUEST);
    let message = many.json::<Value>().await.expect("json")["error_message"]
        .as_str()
        .expect("message")
        .to_string();
    // Every problem of each document: the unknown field, and the name it lacks.
    assert_eq!(message.matches("unknown field `x`").count(), 25);
    assert_eq!(message.matches("missing field `name`").count(), 25);
    assert!(message.ends_with("(request body): (file): 150 more problems not shown"));
    let too_many = app.load_scenario("---\nx: 1\n".repeat(10_000)).await;
    assert_eq!(too_many.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        too_many.json::<Value>().await.expect("json")["error_message"],
        "(request body):201:1: (document): more than 100 documents in one file"
    );

    let malformed =
        post("name: x\nworld:\n  handsets:\n    - phone_number: nope\n      behaviour: pay\n")
            .await
            .expect("load");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let message = malformed.json::<Value>().await.expect("json")["error_message"]
        .as_str()
        .expect("message")
        .to_string();
    assert_eq!(
        message,
        "(request body):4:21: world.handsets[0].phone_number: Phone number is invalid: use a \
         Kenyan number as +254712345678, 254712345678 or 0712345678"
    );
}

#[tokio::test]
async fn validate_names_file_line_and_field() {
    let dir = std::env::temp_dir().join(format!("k2-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "name: bad\nworld:\n  balancez: []\n").expect("write");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .arg("validate")
        .arg(shipped("default.yaml"))
        .arg(&bad)
        .output()
        .await
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:3:3: world.balancez: unknown field `balancez`",
            bad.display()
        )),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("default.yaml: ok (1 scenario)"));
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn validate_reports_every_problem_it_finds_with_its_line() {
    let dir = std::env::temp_dir().join(format!("k2-validate-all-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("several.yaml");
    std::fs::write(
        &bad,
        "\
name: first
faults:
  - endpoint: POST /api/v2/send_money
    status: 404
  - endpoint: nowhere
    status: 500
    probability: 1.5
timeline:
  - at: 1s
---
name: second
world:
  webhook_subscriptions:
    - event_type: buygoods_transaction_received
      url: https://example.com/hook
      scope: till
",
    )
    .expect("write");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .arg("validate")
        .arg(&bad)
        .output()
        .await
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let file = bad.display();
    let expected = [
        format!(
            "error: {file}:4:13: faults[0].status: 404 is not a fault status: use 429, 500, 502, 503 or 504"
        ),
        format!("error: {file}:7:18: faults[1].probability: a probability is between 0.0 and 1.0"),
        format!(
            "error: {file}:5:15: faults[1].endpoint: \"nowhere\" is not `METHOD /path` or `/path`"
        ),
        format!(
            "error: {file}:9:5: timeline[0]: a moment has exactly one of `event`, `answer`, `pay_link` or `jump`"
        ),
        format!(
            "error: {file}:14:7: world.webhook_subscriptions[0].scope_reference: a till scope needs the till number"
        ),
    ];
    let stderr = String::from_utf8_lossy(&output.stderr);
    let reported: Vec<&str> = stderr.lines().collect();
    assert_eq!(reported, expected, "{stderr}");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_bad_scenario_file_stops_the_start_with_its_location() {
    let dir = std::env::temp_dir().join(format!("k2-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "name: bad\ntimeline:\n  - at: soon\n    answer: {phone_number: '0712345678', answer: pay}\n").expect("write");
    let args = k2_sandbox::config::ServeArgs {
        port: 0,
        scenario: vec![bad.clone()],
        ..Default::default()
    };
    let error = match k2_sandbox::Sandbox::build(args).await {
        Ok(_) => panic!("a bad scenario must stop the start"),
        Err(e) => e.to_string(),
    };
    assert!(
        error.contains("bad.yaml:3:9: timeline[0].at: invalid duration"),
        "{error}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn retries_fail_a_set_number_of_times_then_succeed() {
    let app = with_scenario("retries.yaml").await;
    let token = app.token().await;
    let mut request = stk_request("http://127.0.0.1:9/cb");
    request["subscriber"]["phone_number"] = json!("+254733000001");
    request["amount"]["value"] = json!(100);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let location = app
            .create("/api/v2/incoming_payments", &token, &request)
            .await;
        app.advance("1s").await;
        statuses
            .push(app.get_json(&location, &token).await["data"]["attributes"]["status"].clone());
    }
    assert_eq!(statuses, ["Failed", "Failed", "Success"]);

    let send = json!({"destinations": [{"type": "mobile_wallet", "phone_number": "254733000002", "network": "Safaricom",
        "amount": 10, "description": "x"}], "_links": {"callback_url": "http://127.0.0.1:9/cb"}});
    let first = app.create("/api/v2/send_money", &token, &send).await;
    let second = app.create("/api/v2/send_money", &token, &send).await;
    app.advance("1s").await;
    let first = app.get_json(&first, &token).await;
    assert_eq!(
        first["data"]["attributes"]["errors"],
        json!(["The recipient's mobile wallet is unavailable"])
    );
    assert_eq!(
        app.get_json(&second, &token).await["data"]["attributes"]["status"],
        "Processed"
    );

    // Big pushes are decided after 30 s.
    request["subscriber"]["phone_number"] = json!("+254712345678");
    request["amount"]["value"] = json!(5000);
    let slow = app
        .create("/api/v2/incoming_payments", &token, &request)
        .await;
    app.advance("29s").await;
    assert_eq!(
        app.get_json(&slow, &token).await["data"]["attributes"]["status"],
        "Pending"
    );
    app.advance("1s").await;
    assert_eq!(
        app.get_json(&slow, &token).await["data"]["attributes"]["status"],
        "Success"
    );
}

#[tokio::test]
async fn reversal_errors_cancel_stall_and_refuse() {
    let app = with_scenario("reversal-errors.yaml").await;
    let token = app.token().await;
    let reverse = |reference: &str, metadata: Value| {
        json!({"transaction_reference": reference, "reason": "x", "metadata": metadata,
               "_links": {"callback_url": "http://127.0.0.1:9/cb"}})
    };
    let big = app
        .create(
            "/api/v2/reversals",
            &token,
            &reverse("REVERR0003", Value::Null),
        )
        .await;
    let stuck = app
        .create(
            "/api/v2/reversals",
            &token,
            &reverse("REVERR0002", json!({"case": "stuck"})),
        )
        .await;
    let fine = app
        .create(
            "/api/v2/reversals",
            &token,
            &reverse("REVERR0001", Value::Null),
        )
        .await;
    let (status, error) = app
        .rejected(
            "/api/v2/reversals",
            &token,
            &reverse("REVERR0001", Value::Null),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error_message"],
        json!(["You cannot reverse a transaction in Pending Reversal"])
    );
    let (status, _) = app
        .rejected(
            "/api/v2/reversals",
            &token,
            &reverse("REVERR0099", Value::Null),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    app.advance("1h").await;
    let token = app.token().await;
    let big = app.get_json(&big, &token).await;
    assert_eq!(
        big["data"]["attributes"]["reversal_bulk_payment"]["status"],
        "Cancelled"
    );
    assert_eq!(
        big["data"]["attributes"]["errors"],
        json!(["Reversals above KES 10,000 need approval"])
    );
    assert_eq!(
        app.get_json(&stuck, &token).await["data"]["attributes"]["status"],
        "Scheduled"
    );
    assert_eq!(
        app.get_json(&fine, &token).await["data"]["attributes"]["reversal_bulk_payment"]["status"],
        "Transferred"
    );
}

#[tokio::test]
async fn async_chaos_loses_duplicates_contradicts_and_delays_callbacks() {
    let app = with_scenario("async-chaos.yaml").await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let hooks = CallbackReceiver::start(Behaviour::Accept).await;
    app.create(
        "/api/v2/webhook_subscriptions",
        &token,
        &json!({"event_type": "buygoods_transaction_received",
        "url": hooks.url, "scope": "company"}),
    )
    .await;

    // Lost: the STK result never arrives; GET shows it.
    let stk = app.stk_push(&token, &receiver.url).await;
    app.advance("1s").await;
    assert_eq!(
        app.get_json(&stk, &token).await["data"]["attributes"]["status"],
        "Success"
    );
    let log = app.deliveries().await;
    let dropped: Vec<&Value> = log.iter().filter(|d| d["state"] == "dropped").collect();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0]["resource"]["type"], "incoming_payment");
    // Late: the webhook comes 10 s after.
    assert!(hooks.received().is_empty());
    app.advance("10s").await;
    assert_eq!(hooks.wait_for(1).await.len(), 1);
    assert!(receiver.received().is_empty());

    // Duplicated: send money results arrive twice, identical.
    app.create(
        "/api/v2/send_money",
        &token,
        &json!({"destinations": [{"type": "till", "till_number": "1", "amount": 1}],
        "_links": {"callback_url": receiver.url}}),
    )
    .await;
    app.advance("1s").await;
    let copies = receiver.wait_for(2).await;
    assert_eq!(copies[0].body, copies[1].body);
    assert!(copies.iter().all(|c| c.signature_verifies(API_KEY)));

    // Contradicted: a validly signed copy says the reversal failed.
    let tx = app.get_json(&stk, &token).await["data"]["attributes"]["event"]["resource"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let reversal = app
        .create(
            "/api/v2/reversals",
            &token,
            &json!({"transaction_reference": tx, "reason": "x",
        "_links": {"callback_url": receiver.url}}),
        )
        .await;
    app.advance("1s").await;
    let all = receiver.wait_for(4).await;
    let statuses: Vec<Value> = all[2..]
        .iter()
        .map(|c| c.json()["data"]["attributes"]["status"].clone())
        .collect();
    assert_eq!(statuses, ["Processed", "Failed"]);
    assert!(all[2..].iter().all(|c| c.signature_verifies(API_KEY)));
    assert_eq!(
        app.get_json(&reversal, &token).await["data"]["attributes"]["status"],
        "Processed"
    );

    // Early: the polling result arrives while GET still shows Pending.
    let polling = app
        .create(
            "/api/v2/polling",
            &token,
            &json!({"scope": "company", "scope_reference": "",
        "from_time": "2026-05-01T00:00:00+03:00", "to_time": "2026-05-02T00:00:00+03:00",
        "_links": {"callback_url": receiver.url}}),
        )
        .await;
    app.advance("1s").await;
    let arrived = receiver.wait_for(5).await.remove(4).json();
    assert_eq!(arrived["data"]["attributes"]["status"], "Success");
    assert_eq!(
        app.get_json(&polling, &token).await["data"]["attributes"]["status"],
        "Pending"
    );
    app.advance("5s").await;
    assert_eq!(app.get_json(&polling, &token).await, arrived);
}

#[tokio::test]
async fn slow_callbacks_arrive_after_the_resource_shows_its_result() {
    let app = with_scenario("slow-callbacks.yaml").await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let stk = app.stk_push(&token, &receiver.url).await;
    app.advance("1s").await;
    assert_eq!(
        app.get_json(&stk, &token).await["data"]["attributes"]["status"],
        "Success"
    );
    app.advance("29s").await;
    assert!(receiver.received().is_empty());
    app.advance("1s").await;
    assert_eq!(receiver.wait_for(1).await.len(), 1);
}

#[tokio::test]
async fn payment_links_are_paid_cancelled_and_expired() {
    let app = with_scenario("payment-link-lifecycle.yaml").await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let link = json!({"till_number": "112233", "currency": "KES", "amount": 350, "payment_reference": "INV-1",
        "_links": {"callback_url": receiver.url}});
    let expires = app.create("/api/v2/payment_links", &token, &link).await;
    let cancelled = app.create("/api/v2/payment_links", &token, &link).await;
    let paid = app.create("/api/v2/payment_links", &token, &link).await;
    let cancel = app
        .client
        .post(format!("{cancelled}/cancel"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("cancel");
    assert_eq!(cancel.status(), StatusCode::OK);

    app.advance("2m").await;
    let status = |view: &Value| view["data"]["attributes"]["payment_link"]["status"].clone();
    assert_eq!(status(&app.get_json(&paid, &token).await), "Paid");
    assert_eq!(status(&app.get_json(&expires, &token).await), "Active");

    app.advance("7d").await;
    let token = app.token().await;
    assert_eq!(status(&app.get_json(&expires, &token).await), "Expired");
    assert_eq!(status(&app.get_json(&cancelled, &token).await), "Cancelled");
    let callbacks: Vec<Value> = receiver
        .wait_for(3)
        .await
        .iter()
        .map(|c| status(&c.json()))
        .collect();
    assert_eq!(callbacks, ["Cancelled", "Paid", "Expired"]);
}

#[tokio::test]
async fn a_timeline_jump_moves_the_clock_and_runs_what_falls_due() {
    let app = with_scenario("payment-link-lifecycle.yaml").await;
    let token = app.token().await;
    let link = json!({"till_number": "112233", "currency": "KES", "amount": 350, "payment_reference": "INV-1",
        "_links": {"callback_url": "http://127.0.0.1:9/cb"}});
    let paid = app.create("/api/v2/payment_links", &token, &link).await;
    let loaded = app
        .load_scenario("name: a-week-later\ntimeline:\n  - at: 5m\n    jump: 7d\n")
        .await;
    assert_eq!(loaded.status(), StatusCode::CREATED);
    app.advance("2m").await;
    let expires = app.create("/api/v2/payment_links", &token, &link).await;

    // At 5m the clock jumps a week: the link made at 2m expires; the paid one stays paid.
    let clock = app.advance("3m").await;
    assert_eq!(clock["now"], "2026-05-08T10:05:00.000+03:00");
    let token = app.token().await;
    let status = |view: &Value| view["data"]["attributes"]["payment_link"]["status"].clone();
    assert_eq!(status(&app.get_json(&paid, &token).await), "Paid");
    assert_eq!(status(&app.get_json(&expires, &token).await), "Expired");
}

#[tokio::test]
async fn faults_scoped_to_an_application_leave_the_others_alone() {
    let app = spawn_shared_app().await;
    let alice = app.token_of("ci-job-alice", "a").await;
    let bob = app.token_of("ci-job-bob", "b").await;
    let yaml = "name: per-job\n\
        faults:\n  - {endpoint: POST /api/v2/incoming_payments, status: 503, client_id: ci-job-alice, times: 1}\n\
        callback_faults:\n  - {resource: incoming_payment, drop: true, client_id: ci-job-bob}\n";
    let loaded = app.load_scenario(yaml).await;
    assert_eq!(loaded.status(), StatusCode::CREATED);

    let alice_hook = CallbackReceiver::start(Behaviour::Accept).await;
    let bob_hook = CallbackReceiver::start(Behaviour::Accept).await;
    // Bob asks first: Alice's fault is not his.
    let bobs = app.stk_push(&bob, &bob_hook.url).await;
    let refused = app
        .create_incoming_payment(&alice, &stk_request(&alice_hook.url))
        .await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let alices = app.stk_push(&alice, &alice_hook.url).await;
    app.advance("1s").await;

    // Alice's callback arrives; Bob's is lost, though his payment succeeded.
    assert_eq!(alice_hook.wait_for(1).await.len(), 1);
    assert!(bob_hook.received().is_empty());
    for (location, token) in [(&alices, &alice), (&bobs, &bob)] {
        assert_eq!(
            app.get_json(location, token).await["data"]["attributes"]["status"],
            "Success"
        );
    }
    let states = app.delivery_states().await;
    assert!(states.contains(&json!("dropped")), "{states:?}");
}

#[tokio::test]
async fn receiver_probes_tell_a_careful_app_from_a_careless_one() {
    let app = spawn_virtual_app().await;
    // A careful receiver: HMAC over the raw bytes, fresh events only.
    let careful = CallbackReceiver::start(Behaviour::VerifySignatures).await;
    let careless = CallbackReceiver::start(Behaviour::Accept).await;
    for url in [&careful.url, &careless.url] {
        let text = std::fs::read_to_string(shipped("receiver-probes.yaml"))
            .expect("shipped")
            .replace("http://127.0.0.1:3000/k2/webhooks", url);
        let loaded = app.load_scenario(text).await;
        assert_eq!(loaded.status(), StatusCode::CREATED);
    }
    app.advance("1s").await;

    let log = app.deliveries().await;
    let verdicts = |url: &str| -> Vec<(String, String, bool)> {
        log.iter()
            .filter(|d| d["target"] == url)
            .map(|d| {
                let p = &d["probe"];
                (
                    p["kind"].as_str().expect("kind").to_string(),
                    p["outcome"].as_str().expect("outcome").to_string(),
                    p["passed"].as_bool().expect("passed"),
                )
            })
            .collect()
    };
    let careful_verdicts = verdicts(&careful.url);
    assert_eq!(careful_verdicts.len(), 6);
    assert!(
        careful_verdicts.iter().all(|(_, _, passed)| *passed),
        "{careful_verdicts:?}"
    );
    let careless_failed: Vec<String> = verdicts(&careless.url)
        .into_iter()
        .filter(|v| !v.2)
        .map(|v| v.0)
        .collect();
    assert_eq!(
        careless_failed,
        [
            "missing_signature",
            "short_signature",
            "wrong_key",
            "stale_replay"
        ]
    );
}

#[tokio::test]
async fn the_same_seed_and_scenario_replay_byte_for_byte() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let app = spawn_app_with(|a| {
            a.seed = Some(FIXED_SEED);
            a.clock = Some(FIXED_CLOCK.parse().expect("clock"));
            a.public_url = Some(FIXED_PUBLIC_URL.parse().expect("url"));
            a.scenario = vec![shipped("busy-till.yaml"), shipped("async-chaos.yaml")];
        })
        .await;
        let token = app.token().await;
        app.create(
            "/api/v2/webhook_subscriptions",
            &token,
            &json!({"event_type": "buygoods_transaction_received",
            "url": "http://127.0.0.1:9/hooks", "scope": "company"}),
        )
        .await;
        app.stk_push(&token, "http://127.0.0.1:9/cb").await;
        app.advance("1m").await;
        let deliveries: Vec<(Value, Value)> = app
            .deliveries()
            .await
            .into_iter()
            .map(|d| (d["body"].clone(), d["signature"].clone()))
            .collect();
        runs.push(deliveries);
    }
    assert!(runs[0].len() >= 4, "{}", runs[0].len());
    assert_eq!(runs[0], runs[1]);
}

#[tokio::test]
async fn a_misspelt_callback_fault_resource_is_a_problem_with_its_line() {
    let app = spawn_app().await;
    let response = app
        .load_scenario(
            "name: typo\ncallback_faults:\n  - resource: incomin_payment\n    drop: true\n",
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let message = response.json::<Value>().await.expect("json")["error_message"]
        .as_str()
        .expect("message")
        .to_string();
    assert!(
        message.starts_with(
            "(request body):3:15: callback_faults[0].resource: unknown resource \
             \"incomin_payment\": use incoming_payment, send_money"
        ) && message.ends_with("(did you mean `incoming_payment`?)"),
        "{message}"
    );
}

#[tokio::test]
async fn scenarios_are_listed_replaced_by_name_and_unloaded() {
    let app = spawn_virtual_app().await;
    let receiver = CallbackReceiver::start(Behaviour::VerifySignatures).await;
    let first = format!(
        "name: qa\ndescription: the QA world\nworld:\n  tills:\n    - {{till_number: \"112233\", name: Shop}}\n\
         faults:\n  - endpoint: POST /api/v2/incoming_payments\n    status: 503\n\
         timeline:\n  - at: 1h\n    event: {{type: buygoods_transaction_received}}\n\
         probes:\n  - url: {}\n    kinds: [valid, wrong_key]\n",
        receiver.url
    );
    assert_eq!(app.load_scenario(first).await.status(), StatusCode::CREATED);
    app.advance("0s").await;
    receiver.wait_for(2).await;
    let listed = app.control("/_sandbox/scenarios").await;
    let qa = &listed["scenarios"][0];
    assert_eq!(listed["scenarios"].as_array().expect("list").len(), 1);
    assert_eq!(
        qa,
        &json!({
            "name": "qa", "description": "the QA world", "source": "(request body)",
            "loaded_at": "2026-05-01T10:00:00.000+03:00", "added": {"tills": 1},
            "rules": 0, "faults": 1, "callback_faults": 0, "probes": 2, "timeline": 1,
            "timeline_pending": 1, "expectations": [],
            "probe_verdicts": {"passed": 2, "failed": 0, "waiting": 0}
        })
    );
    let token = app.token().await;
    let faulted = app
        .create_incoming_payment(&token, &stk_request("http://127.0.0.1:9/cb"))
        .await;
    assert_eq!(faulted.status(), StatusCode::SERVICE_UNAVAILABLE);

    // The same name again replaces it: the old fault and moment go.
    let second = "name: qa\ncallback_faults:\n  - resource: send_money\n    drop: true\n";
    assert_eq!(
        app.load_scenario(second).await.status(),
        StatusCode::CREATED
    );
    let listed = app.control("/_sandbox/scenarios").await;
    assert_eq!(listed["scenarios"].as_array().expect("list").len(), 1);
    assert_eq!(listed["scenarios"][0]["faults"], 0);
    assert_eq!(listed["scenarios"][0]["callback_faults"], 1);
    assert_eq!(listed["scenarios"][0]["timeline_pending"], 0);
    let served = app
        .create_incoming_payment(&token, &stk_request("http://127.0.0.1:9/cb"))
        .await;
    assert_eq!(served.status(), StatusCode::CREATED);

    let unloaded = app
        .client
        .delete(app.url("/_sandbox/scenarios/qa"))
        .send()
        .await
        .expect("unload");
    assert_eq!(unloaded.status(), StatusCode::OK);
    assert_eq!(
        unloaded.json::<Value>().await.expect("json"),
        json!({"name": "qa", "rules": 0, "faults": 0, "callback_faults": 1, "timeline": 0})
    );
    assert_eq!(
        app.control("/_sandbox/scenarios").await,
        json!({"scenarios": []})
    );
    let again = app
        .client
        .delete(app.url("/_sandbox/scenarios/qa"))
        .send()
        .await
        .expect("unload");
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        again.json::<Value>().await.expect("json"),
        json!({"error_code": 404, "error_message": "No scenario \"qa\" is loaded"})
    );
}

#[tokio::test]
async fn a_fault_can_fail_only_the_nth_request() {
    let app = spawn_app().await;
    let yaml = "name: third\nfaults:\n  - endpoint: POST /api/v2/incoming_payments\n    \
                status: 503\n    after: 2\n    times: 1\n";
    assert_eq!(app.load_scenario(yaml).await.status(), StatusCode::CREATED);
    let token = app.token().await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = app
            .create_incoming_payment(&token, &stk_request("http://127.0.0.1:9/cb"))
            .await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 503, 201, 201]);
}

#[tokio::test]
async fn the_exported_world_loads_back_into_the_same_world() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let setup = "name: setup\nworld:\n  applications:\n    - {client_id: ci-job-1, client_secret: s, api_key: k}\n  \
                 tills:\n    - {till_number: \"112233\", name: Corner Shop}\n  \
                 handsets:\n    - {phone_number: \"+254711000001\", behaviour: cancel, client_id: ci-job-1}\n  \
                 transactions:\n    - {type: b2b, till_number: \"112233\", amount: 300, ago: 2h, sending_till: \"445566\"}\n";
    assert_eq!(app.load_scenario(setup).await.status(), StatusCode::CREATED);
    for (path, body) in [
        (
            "/api/v2/merchant_wallets",
            json!({"first_name": "Jane", "last_name": "Doe",
            "phone_number": "+254712345678", "network": "Safaricom", "nickname": "Wallet"}),
        ),
        (
            "/api/v2/merchant_bank_accounts",
            json!({"account_name": "Jane Doe", "bank_branch_ref": "633aa26c-7b7c-4091-ae28-96c0687cf886",
            "account_number": "123", "settlement_method": "RTS"}),
        ),
        (
            "/api/v2/external_recipients",
            json!({"type": "paybill", "external_recipient": {"paybill_name": "KPLC",
            "paybill_number": "888880", "paybill_account_number": "ACC-1", "nickname": "Power"}}),
        ),
        (
            "/api/v2/external_recipients",
            json!({"type": "till", "external_recipient": {"till_name": "Shop", "till_number": "654321"}}),
        ),
        (
            "/api/v2/webhook_subscriptions",
            json!({"event_type": "buygoods_transaction_received",
            "url": "https://example.com/hooks", "scope": "till", "scope_reference": "112233"}),
        ),
    ] {
        app.create(path, &token, &body).await;
    }
    let (status, _) = app
        .trigger(
            json!({"type": "buygoods_transaction_received", "till_number": "112233", "amount": 45}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let set = app
        .client
        .put(app.url("/_sandbox/balances"))
        .json(&json!({"balance": 777}))
        .send()
        .await
        .expect("set");
    assert_eq!(set.status(), StatusCode::OK);

    let export = || app.export("");
    let balances = || app.control("/_sandbox/balances");
    let (before, balances_before) = (export().await, balances().await);
    for needle in [
        "client_id: ci-job-1",
        "name: Corner Shop",
        "paybill_account_number: ACC-1",
        "settlement_method: RTS",
        "scope_reference: '112233'",
        "behaviour: cancel",
        "type: b2b",
        "ago: 2h",
        "amount: '45.0'",
    ] {
        assert!(before.contains(needle), "{needle} in\n{before}");
    }

    let reset = app.post_control("/_sandbox/reset", &json!({})).await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert_eq!(
        app.load_scenario(before.clone()).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(export().await, before);
    assert_eq!(balances().await, balances_before);
    // Credentials are left out unless asked for; the file then loads only where its
    // applications exist (a reset keeps them, a fresh sandbox has not got ci-job-1).
    for secret in ["client_secret", "api_key", "sandbox-client-secret"] {
        assert!(!before.contains(secret), "{secret} in\n{before}");
    }
    let fresh = spawn_virtual_app().await;
    let refused = fresh.load_scenario(before.clone()).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let message = refused.json::<Value>().await.expect("json")["error_message"]
        .as_str()
        .expect("message")
        .to_string();
    assert!(
        message.contains(".client_secret: application \"ci-job-1\" is not in this sandbox")
            && message.contains("secrets=include")
            && !message.contains("sandbox-client-id"),
        "{message}"
    );
    let with_secrets = app.export("?secrets=include").await;
    assert!(
        with_secrets.contains("client_id: ci-job-1\n    client_secret: s\n    api_key: k\n"),
        "{with_secrets}"
    );
    assert_eq!(
        fresh.load_scenario(with_secrets).await.status(),
        StatusCode::CREATED
    );
    let half = fresh
        .load_scenario(
            "name: half\nworld:\n  applications:\n    - {client_id: a, client_secret: s}\n",
        )
        .await;
    assert_eq!(half.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        half.json::<Value>().await.expect("json")["error_message"],
        "(request body):4:8: world.applications[0].api_key: give both client_secret and \
         api_key, or neither to keep the application this sandbox has"
    );
    let bogus = app
        .client
        .get(app.url("/_sandbox/scenarios/export?secrets=yes-please"))
        .send()
        .await
        .expect("export");
    assert_eq!(bogus.status(), StatusCode::BAD_REQUEST);

    let unknown = app
        .client
        .get(app.url("/_sandbox/scenarios/export?client_id=nobody"))
        .send()
        .await
        .expect("export");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

/// A scenario is unloaded by its name in a URL path: the name is bounded, printable and has no
/// `/`, and every name the list shows unloads.
#[tokio::test]
async fn scenario_names_are_short_printable_and_unload_by_what_the_list_shows() {
    let app = spawn_app().await;
    let long = "x".repeat(201);
    for (name, problem) in [
        ("'../up'", "a scenario's name has no `/`"),
        ("\"a\\nb\"", "a scenario's name is printable"),
        (
            long.as_str(),
            "a scenario's name is at most 200 characters: this one has 201",
        ),
        ("'  '", "a scenario's name can't be blank"),
    ] {
        let response = app.load_scenario(format!("name: {name}\n")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name}");
        let error: Value = response.json().await.expect("json");
        let message = error["error_message"].as_str().expect("message");
        assert!(
            message.contains("name: ") && message.contains(problem),
            "{name}: {message}"
        );
    }
    // Names with spaces, dots, non-ASCII letters and 200 characters load and unload.
    for name in ["Fish & chips · jäger", "v1.2 flaky api", &"y".repeat(200)] {
        let response = app.load_scenario(format!("name: '{name}'\n")).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{name}");
        let listed = app.control("/_sandbox/scenarios").await;
        let shown = listed["scenarios"][0]["name"]
            .as_str()
            .expect("name")
            .to_string();
        assert_eq!(shown, name);
        // As a client builds the URL: the name one path segment, percent-encoded.
        let mut url = url::Url::parse(&app.url("/_sandbox/scenarios")).expect("URL");
        url.path_segments_mut().expect("a base").push(&shown);
        let unload = app.client.delete(url).send().await.expect("unload");
        assert_eq!(unload.status(), StatusCode::OK, "{name}");
    }
    assert_eq!(
        app.control("/_sandbox/scenarios").await["scenarios"],
        json!([])
    );
}
