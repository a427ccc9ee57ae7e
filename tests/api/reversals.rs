use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn reversal(reference: &str, callback: &str) -> Value {
    json!({"transaction_reference": reference, "reason": "Testing Reversals",
           "metadata": {"name": "Test"}, "_links": {"callback_url": callback}})
}

#[tokio::test]
async fn a_received_payment_is_reversed_after_being_scheduled() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let results = CallbackReceiver::start(Behaviour::Accept).await;
    let hooks = CallbackReceiver::start(Behaviour::Accept).await;
    app.create(
        "/api/v2/webhook_subscriptions",
        &token,
        &json!({"event_type": "buygoods_transaction_reversed",
        "url": hooks.url, "scope": "till", "scope_reference": "K000000"}),
    )
    .await;
    let payment = paid_stk_push(&app, &token, "+254712345678", 400).await;
    let tx_id = payment["data"]["attributes"]["event"]["resource"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let balance_before = app.balances().await["tills"]["K000000"].clone();

    // The reference's misprinted path works too.
    let location = app
        .create(
            "/api/api/v2/reversals",
            &token,
            &reversal(&tx_id, &results.url),
        )
        .await;
    assert!(location.starts_with(&app.url("/api/v2/reversals/")));
    let scheduled = app.get_json(&location, &token).await;
    assert_same_shape(&scheduled, &fixture("reversal_scheduled"));
    assert_eq!(scheduled["data"]["attributes"]["status"], "Scheduled");

    // A second reversal of the same transaction is refused, in the array form.
    let (status, error) = app
        .rejected("/api/v2/reversals", &token, &reversal(&tx_id, &results.url))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error,
        json!({"error_code": 400, "error_message": ["You cannot reverse a transaction in Pending Reversal"]})
    );

    app.advance("1s").await;
    let processed = app.get_json(&location, &token).await;
    let attributes = &processed["data"]["attributes"];
    assert_eq!(attributes["status"], "Processed");
    assert_eq!(attributes["reversal_bulk_payment"]["status"], "Transferred");
    assert_eq!(attributes["reversal_bulk_payment"]["amount"], "400.0");
    assert_eq!(attributes["errors"], Value::Null);
    let callback = results.wait_for(1).await.remove(0);
    assert!(callback.signature_verifies(API_KEY));
    assert_eq!(callback.json(), processed);
    assert_same_shape(&callback.json(), &fixture("reversal_processed"));

    let before: rust_decimal::Decimal = balance_before
        .as_str()
        .expect("balance")
        .parse()
        .expect("decimal");
    let after: rust_decimal::Decimal = app.balances().await["tills"]["K000000"]
        .as_str()
        .expect("balance")
        .parse()
        .expect("decimal");
    assert_eq!(before - after, rust_decimal::Decimal::from(400));

    let mut event = hooks.wait_for(1).await.remove(0).json();
    assert_eq!(event["topic"], "buygoods_transaction_reversed");
    assert_eq!(event["event"]["resource"]["status"], "Reversed");
    // reversal_time is ours (the SDKs read it); otherwise the reference's shape.
    assert!(
        event["event"]["resource"]
            .as_object_mut()
            .expect("object")
            .remove("reversal_time")
            .is_some()
    );
    assert_same_shape(&event, &fixture("buygoods_transaction_reversed"));

    let (_, error) = app
        .rejected("/api/v2/reversals", &token, &reversal(&tx_id, &results.url))
        .await;
    assert_eq!(
        error["error_message"],
        json!(["You cannot reverse a transaction in Reversed"])
    );
}

#[tokio::test]
async fn a_reversal_the_till_cannot_cover_is_cancelled() {
    let app = spawn_app_with(|a| {
        a.clock = Some(FIXED_CLOCK.parse().expect("clock"));
        a.callback_delay_ms = RESULT_DELAY_MS;
        a.initial_balance = "0".parse().expect("decimal");
    })
    .await;
    let token = app.token().await;
    let payment = paid_stk_push(&app, &token, "+254712345678", 1300).await;
    let reference = payment["data"]["attributes"]["event"]["resource"]["reference"]
        .as_str()
        .expect("ref")
        .to_string();
    // Spend the till's money first.
    app.create("/api/v2/send_money", &token, &json!({"source_identifier": "K000000",
        "destinations": [{"type": "till", "till_number": "000000", "amount": 1000, "description": "x"}],
        "_links": {"callback_url": "http://127.0.0.1:9/cb"}})).await;

    // By M-PESA reference this time.
    let location = app
        .create(
            "/api/v2/reversals",
            &token,
            &reversal(&reference, "http://127.0.0.1:9/cb"),
        )
        .await;
    app.advance("1s").await;
    let cancelled = app.get_json(&location, &token).await;
    let attributes = &cancelled["data"]["attributes"];
    assert_eq!(attributes["reversal_bulk_payment"]["status"], "Cancelled");
    assert_eq!(
        attributes["reversal_bulk_payment"]["transaction_reference"],
        Value::Null
    );
    assert_eq!(
        attributes["errors"],
        json!(["The balance is insufficient for the transaction"])
    );
    assert_same_shape(&cancelled, &fixture("reversal_cancelled"));

    // The transaction is received again, so it can be reversed once money is back.
    let (status, _) = app
        .rejected(
            "/api/v2/reversals",
            &token,
            &reversal("NOSUCHREF1", "http://127.0.0.1:9/cb"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let again = app
        .post_json(
            "/api/v2/reversals",
            &token,
            &reversal(&reference, "http://127.0.0.1:9/cb"),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn transactions_older_than_30_days_cannot_be_reversed() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let payment = paid_stk_push(&app, &token, "+254712345678", 100).await;
    let tx_id = payment["data"]["attributes"]["event"]["resource"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    app.advance("31d").await;
    let token = app.token().await;
    let (status, error) = app
        .rejected(
            "/api/v2/reversals",
            &token,
            &reversal(&tx_id, "http://127.0.0.1:9/cb"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["error_message"]
            .as_str()
            .expect("message")
            .contains("last 30 days")
    );
}
