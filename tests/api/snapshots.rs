//! One scripted flow through every endpoint on a fixed seed and clock: each callback and
//! webhook body is pinned, and two runs must sign the same bytes.

use serde_json::{Value, json};

use crate::helpers::*;

const CLOSED: &str = "http://127.0.0.1:9/k2/callback";

/// Runs the flow and returns every delivery (body, signature) in the order they were queued.
async fn run_flow() -> Vec<(String, String)> {
    let app = spawn_snapshot_app().await;
    let token = app.token().await;
    let api = |path: &str| path.to_string();

    app.create(
        &api("/api/v2/webhook_subscriptions"),
        &token,
        &json!({"event_type": "buygoods_transaction_received", "url": CLOSED, "scope": "company"}),
    )
    .await;
    app.create(&api("/api/v2/webhook_subscriptions"), &token, &json!({"event_type": "buygoods_transaction_received", "url": CLOSED, "scope": "till", "scope_reference": "K000000", "enable_daraja_payload": true})).await;
    app.create(
        &api("/api/v2/webhook_subscriptions"),
        &token,
        &json!({"event_type": "buygoods_transaction_reversed", "url": CLOSED, "scope": "company"}),
    )
    .await;

    let stk = app
        .create("/api/v2/incoming_payments", &token, &stk_request(CLOSED))
        .await;
    app.create("/api/v2/send_money", &token, &json!({"destinations": [
        {"type": "mobile_wallet", "nickname": "Test", "phone_number": "254900000000", "network": "Safaricom", "amount": 1000, "description": "Testing", "favourite": true}
    ], "source_identifier": "4321", "currency": "KES", "metadata": {"customerId": "8675309", "notes": "Salary"}, "_links": {"callback_url": CLOSED}})).await;
    app.create("/api/v2/payment_links", &token, &json!({"till_number": "112233", "currency": "KES", "amount": 350, "payment_reference": "daud", "note": "Notes", "_links": {"callback_url": CLOSED}})).await;
    app.advance("1s").await;

    let payment = app
        .get_json(&stk.replace(FIXED_PUBLIC_URL, &app.base), &token)
        .await;
    let tx_id = payment["data"]["attributes"]["event"]["resource"]["id"]
        .as_str()
        .expect("tx")
        .to_string();
    let event_id = {
        let deliveries = app.deliveries().await;
        let event: Value = serde_json::from_str(
            deliveries
                .iter()
                .find(|d| d["body"].as_str().is_some_and(|b| b.contains("\"topic\"")))
                .expect("event")["body"]
                .as_str()
                .expect("body"),
        )
        .expect("json");
        event["id"].as_str().expect("id").to_string()
    };
    app.create("/api/v2/polling", &token, &json!({"scope": "company", "scope_reference": "", "from_time": "2026-05-01T09:00:00+03:00", "to_time": "2026-05-01T11:00:00+03:00", "_links": {"callback_url": CLOSED}})).await;
    app.create("/api/v1/transaction_sms_notifications", &token, &json!({"webhook_event_reference": event_id, "message": "Thanks", "_links": {"callback_url": CLOSED}})).await;
    app.create("/api/v2/reversals", &token, &json!({"transaction_reference": tx_id, "reason": "Testing Reversals", "metadata": {"name": "Test"}, "_links": {"callback_url": CLOSED}})).await;
    app.advance("1s").await;
    app.advance("7d").await; // the payment link expires

    app.deliveries()
        .await
        .into_iter()
        .map(|d| {
            (
                d["body"].as_str().expect("body").to_string(),
                d["signature"].as_str().expect("signature").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_callback_and_webhook_body_matches_its_snapshot() {
    let deliveries = run_flow().await;
    let bodies: Vec<Value> = deliveries
        .iter()
        .map(|(body, _)| serde_json::from_str(body).expect("json"))
        .collect();
    insta::assert_json_snapshot!("every_delivery_of_the_flow", bodies);
}

#[tokio::test]
async fn two_runs_with_the_same_seed_sign_the_same_bytes() {
    let first = run_flow().await;
    let second = run_flow().await;
    assert_eq!(first.len(), 9, "every delivery of the flow");
    assert_eq!(first, second);
}
