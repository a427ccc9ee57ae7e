//! Simulated real-world activity: every webhook event type, in both payload shapes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

impl TestApp {
    pub async fn trigger(&self, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/_sandbox/events"))
            .json(&body)
            .send()
            .await
            .expect("trigger");
        (response.status(), response.json().await.expect("json"))
    }
}

async fn subscribe(app: &TestApp, token: &str, topic: &str, url: &str, daraja: bool) {
    app.create(
        "/api/v2/webhook_subscriptions",
        token,
        &json!({"event_type": topic, "url": url,
        "scope": "company", "enable_daraja_payload": daraja}),
    )
    .await;
}

/// Removes keys the sandbox adds on purpose (the SDKs read them) before a shape comparison.
fn without(mut body: Value, pointer: &str, key: &str) -> Value {
    body.pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .map(|o| o.shift_remove(key));
    body
}

#[tokio::test]
async fn every_event_type_is_delivered_signed_in_the_references_shape() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    app.create("/api/v2/merchant_bank_accounts", &token, &json!({"account_name": "Test Account",
        "bank_branch_ref": "ea2e79f7-35a1-486e-9e18-fe06589a9d7d", "account_number": "1234", "settlement_method": "EFT"})).await;
    // (topic, trigger fields, a resource key the sandbox adds for the SDKs)
    let cases: [(&str, Value, Option<&str>); 9] = [
        ("buygoods_transaction_received", json!({}), None),
        (
            "b2b_transaction_received",
            json!({"sending_till": "890642"}),
            None,
        ),
        (
            "buygoods_transaction_reversed",
            json!({}),
            Some("reversal_time"),
        ),
        ("b2b_transaction_reversed", json!({}), Some("reversal_time")),
        (
            "settlement_transfer_completed",
            json!({"amount": 49452}),
            Some("reference"),
        ),
        (
            "customer_created",
            json!({"first_name": "Jane", "middle_name": "M", "last_name": "Doe"}),
            Some("id"),
        ),
        (
            "card_transaction_received",
            json!({"till_number": "7600314301", "amount": 1000}),
            None,
        ),
        (
            "card_transaction_voided",
            json!({"till_number": "7600314301", "amount": 1000}),
            None,
        ),
        (
            "m2m_transaction_received",
            json!({"amount": 456, "sending_merchant": "Jane Flowers"}),
            None,
        ),
    ];
    for (topic, extra, added) in cases {
        let receiver = CallbackReceiver::start(Behaviour::Accept).await;
        subscribe(&app, &token, topic, &receiver.url, false).await;
        let mut body = extra.clone();
        body["type"] = json!(topic);
        let (status, triggered) = app.trigger(body).await;
        assert_eq!(status, StatusCode::CREATED, "{topic}: {triggered}");
        assert!(
            triggered["deliveries"].as_u64().expect("count") >= 1,
            "{topic}"
        );

        let delivered = receiver.wait_for(1).await;
        let last = delivered.last().expect("delivery");
        assert!(last.signature_verifies(API_KEY), "{topic}");
        let payload = last.json();
        assert_eq!(payload["topic"], topic);
        assert_eq!(payload["id"], triggered["id"]);
        let comparable = match added {
            Some(key) => without(payload.clone(), "/event/resource", key),
            None => payload.clone(),
        };
        assert_same_shape(&comparable, &fixture(topic));

        // The event can be fetched at its _links.self.
        let fetched = app
            .get_json(payload["_links"]["self"].as_str().expect("self"), &token)
            .await;
        assert_eq!(fetched, payload, "{topic}");
    }
}

#[tokio::test]
async fn card_reversals_and_b2b_daraja_payloads_have_the_references_shape() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let card = CallbackReceiver::start(Behaviour::Accept).await;
    let daraja = CallbackReceiver::start(Behaviour::Accept).await;
    subscribe(&app, &token, "card_transaction_reversed", &card.url, false).await;
    subscribe(&app, &token, "b2b_transaction_received", &daraja.url, true).await;

    app.trigger(json!({"type": "card_transaction_reversed", "amount": "1000.0"}))
        .await;
    assert_same_shape(
        &card.wait_for(1).await[0].json(),
        &fixture("card_transaction_reversed"),
    );

    let (_, triggered) = app.trigger(json!({"type": "b2b_transaction_received", "till_number": "000000", "sending_till": "112233"})).await;
    let body = daraja.wait_for(1).await[0].json();
    assert_same_shape(&body, &fixture("b2b_transaction_received_daraja"));
    assert_eq!(body["MSISDN"], "112233");
    assert_eq!(
        body["TransactionType"],
        "Organization To Organization Transfer"
    );
    assert_eq!(
        body["TransID"],
        triggered["payload"]["event"]["resource"]["reference"]
    );
}

#[tokio::test]
async fn received_transactions_enter_the_ledger_and_can_be_reversed_through_the_api() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let (_, first) = app.trigger(json!({"type": "buygoods_transaction_received", "till_number": "555555", "amount": 250})).await;
    app.trigger(json!({"type": "b2b_transaction_received", "till_number": "555555", "amount": 50}))
        .await;
    assert_eq!(app.balances().await["tills"]["555555"], "1000300.0");

    let polling = app
        .create(
            "/api/v2/polling",
            &token,
            &json!({"scope": "till", "scope_reference": "555555",
        "from_time": "2026-05-01T09:00:00+03:00", "to_time": "2026-05-01T11:00:00+03:00",
        "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    app.advance("1s").await;
    let types: Vec<Value> =
        app.get_json(&polling, &token).await["data"]["attributes"]["transactions"]
            .as_array()
            .expect("list")
            .iter()
            .map(|t| t["type"].clone())
            .collect();
    assert_eq!(
        types,
        ["Buygoods Transaction", "External Till to Till Transaction"]
    );

    let reference = first["payload"]["event"]["resource"]["reference"]
        .as_str()
        .expect("ref");
    let reversal = app
        .create(
            "/api/v2/reversals",
            &token,
            &json!({"transaction_reference": reference,
        "reason": "Wrong till", "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    app.advance("1s").await;
    assert_eq!(
        app.get_json(&reversal, &token).await["data"]["attributes"]["reversal_bulk_payment"]["status"],
        "Transferred"
    );
}

#[tokio::test]
async fn invalid_triggers_are_400_and_unknown_applications_404() {
    let app = spawn_app().await;
    let (status, error) = app.trigger(json!({"type": "earthquake"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["error_message"]
            .as_str()
            .expect("message")
            .starts_with("Event type is invalid")
    );
    let (status, _) = app
        .trigger(json!({"type": "customer_created", "client_id": "nobody"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, error) = app
        .trigger(json!({"type": "buygoods_transaction_reversed", "transaction": "NOPE"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error_message"],
        "No received buygoods transaction NOPE in this application: trigger buygoods first and \
         pass the reference it prints (or its id), or leave out the transaction to reverse a new one"
    );
}

#[tokio::test]
async fn a_fresh_sandbox_settles_to_a_default_merchant_account_and_reverses_by_reference() {
    let app = spawn_app().await;
    let token = app.token().await;
    let (status, settled) = app
        .trigger(json!({"type": "settlement_transfer_completed", "amount": 1000}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{settled}");
    let destination = &settled["payload"]["event"]["resource"]["destination"];
    assert_eq!(destination["type"], "Bank Account");
    assert_eq!(destination["resource"]["settlement_method"], "EFT");
    // The default account is a real one: readable, and the next settlement goes there too.
    let reference = destination["resource"]["reference"].as_str().expect("id");
    let account = app
        .get_json(
            &app.url(&format!("/api/v2/merchant_bank_accounts/{reference}")),
            &token,
        )
        .await;
    assert_eq!(
        account["data"]["attributes"]["account_name"],
        "Sandbox Merchant"
    );
    let (_, again) = app
        .trigger(json!({"type": "settlement_transfer_completed"}))
        .await;
    assert_eq!(
        again["payload"]["event"]["resource"]["destination"]["resource"]["reference"],
        reference
    );

    let (_, received) = app
        .trigger(json!({"type": "buygoods_transaction_received", "amount": 50}))
        .await;
    let mpesa = received["payload"]["event"]["resource"]["reference"]
        .as_str()
        .expect("reference");
    let (status, reversed) = app
        .trigger(json!({"type": "buygoods_transaction_reversed", "transaction": mpesa}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reversed}");
    assert_eq!(reversed["resource_id"], received["resource_id"]);
}

#[tokio::test]
async fn another_merchants_payment_credits_the_company_account_and_reaches_company_subscribers() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let before = app.balances().await["company"].clone();
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    subscribe(
        &app,
        &token,
        "m2m_transaction_received",
        &receiver.url,
        false,
    )
    .await;
    // A till-scoped subscription to it never hears of it: the money reached no till.
    let till_receiver = CallbackReceiver::start(Behaviour::Accept).await;
    app.create(
        "/api/v2/webhook_subscriptions",
        &token,
        &json!({"event_type": "m2m_transaction_received", "url": till_receiver.url,
            "scope": "till", "scope_reference": "000000"}),
    )
    .await;
    let (status, triggered) = app
        .trigger(json!({"type": "m2m_transaction_received", "amount": "456",
            "sending_merchant": "Flowers & Co <Nairobi>"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{triggered}");
    assert_eq!(triggered["deliveries"], 1, "{triggered}");
    let delivered = receiver.wait_for(1).await;
    assert!(delivered[0].signature_verifies(API_KEY));
    let payload = delivered[0].json();
    let resource = &payload["event"]["resource"];
    assert_eq!(payload["event"]["type"], "Merchant to Merchant Transaction");
    assert_eq!(resource["amount"], "456.0");
    assert_eq!(resource["status"], "Received");
    assert_eq!(resource["currency"], "KES");
    assert_eq!(resource["sending_merchant"], "Flowers & Co <Nairobi>");
    assert_eq!(resource["id"], triggered["resource_id"]);
    assert!(
        payload["_links"]["resource"]
            .as_str()
            .expect("resource link")
            .ends_with(&format!(
                "/payment_batches/{}",
                triggered["resource_id"].as_str().expect("id")
            )),
        "{payload}"
    );
    let before: f64 = before.as_str().expect("balance").parse().expect("number");
    let after: f64 = app.balances().await["company"]
        .as_str()
        .expect("balance")
        .parse()
        .expect("number");
    assert_eq!(after - before, 456.0);
    assert!(till_receiver.received().is_empty());
}
