//! The v1 API the published Node SDK speaks.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn v1_routes_answer_with_v1_locations() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let cb = "http://127.0.0.1:9/cb";
    let cases = [
        ("/api/v1/incoming_payments", stk_request(cb)),
        (
            "/api/v1/webhook_subscriptions",
            json!({"event_type": "buygoods_transaction_received", "url": cb, "scope": "company"}),
        ),
        (
            "/api/v1/polling",
            json!({"scope": "company", "scope_reference": "", "from_time": "2026-05-01T00:00:00+03:00", "to_time": "2026-05-02T00:00:00+03:00", "_links": {"callback_url": cb}}),
        ),
        (
            "/api/v1/merchant_wallets",
            json!({"first_name": "A", "last_name": "B", "phone_number": "+254999999999", "network": "Safaricom"}),
        ),
        (
            "/api/v1/merchant_bank_accounts",
            json!({"account_name": "A", "bank_branch_ref": "x", "account_number": "1", "settlement_method": "EFT"}),
        ),
        (
            "/api/v1/pay_recipients",
            json!({"type": "mobile_wallet", "pay_recipient": {"first_name": "J", "last_name": "D", "email": "j@d.test", "phone_number": "+254999999999", "network": "Safaricom"}}),
        ),
    ];
    for (path, body) in cases {
        let location = app.create(path, &token, &body).await;
        assert!(
            location.starts_with(&app.url(&format!("{path}/"))),
            "{path}: {location}"
        );
        let document = app.get_json(&location, &token).await;
        assert!(document["data"]["id"].is_string(), "{path}");
    }
}

#[tokio::test]
async fn a_v1_payment_pays_a_pay_recipient() {
    let app = spawn_app_with(|a| {
        a.clock = Some(FIXED_CLOCK.parse().expect("clock"));
        a.callback_delay_ms = RESULT_DELAY_MS;
        a.initial_balance = "30000".parse().expect("decimal");
    })
    .await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let recipient = app
        .create(
            "/api/v1/pay_recipients",
            &token,
            &json!({"type": "bank_account", "pay_recipient": {
            "account_name": "John Doe", "bank_branch_ref": "c7f300c0-f1ef-4151-9bbe-005005aa3747",
            "account_number": "123456789", "settlement_method": "RTS"}}),
        )
        .await;
    let reference = recipient.rsplit('/').next().expect("id");
    let location = app
        .create("/api/v1/payments", &token, &json!({"destination_type": "bank_account", "destination_reference": reference,
            "amount": {"currency": "KES", "value": "20000"}, "description": "Salary payment for May 2018",
            "category": "salaries", "tags": ["tag 1", "tag 2"], "metadata": {"customerId": "8675309"},
            "_links": {"callback_url": receiver.url}}))
        .await;
    assert!(location.starts_with(&app.url("/api/v1/payments/")));
    assert_eq!(
        app.get_json(&location, &token).await["data"]["attributes"]["status"],
        "Pending"
    );
    app.advance("1s").await;

    let payment = app.get_json(&location, &token).await;
    let attributes = &payment["data"]["attributes"];
    assert_eq!(payment["data"]["type"], "payment");
    assert_eq!(attributes["status"], "Processed");
    assert_eq!(
        attributes["amount"],
        json!({"currency": "KES", "value": "20000.0"})
    );
    assert_eq!(attributes["destination_reference"], reference);
    assert_eq!(attributes["tags"], json!(["tag 1", "tag 2"]));
    assert_eq!(
        attributes["transfer_batches"][0]["disbursements"][0]["destination_reference"],
        reference
    );
    assert!(attributes["origination_time"].is_string());
    assert_eq!(app.balances().await["company"], "10000.0");
    let callback = receiver.wait_for(1).await.remove(0);
    assert!(callback.signature_verifies(API_KEY));
    assert_eq!(callback.json(), payment);

    let (status, error) = app
        .rejected(
            "/api/v1/payments",
            &token,
            &json!({"destination_type": "mobile_wallet", "destination_reference": reference,
            "amount": {"currency": "KES", "value": 1}, "_links": {"callback_url": receiver.url}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_message"], "Destination reference is invalid");

    // Kopo Kopo's guide calls the record's `recipient_reference` its destination reference
    // (seed 004), and the PHP SDK reads it from there: a payment may name it instead of the id.
    let recipient_reference =
        app.get_json(&recipient, &token).await["data"]["attributes"]["recipient_reference"]
            .as_str()
            .expect("recipient_reference")
            .to_string();
    assert_ne!(recipient_reference, reference);
    let by_reference = app
        .create("/api/v1/payments", &token, &json!({"destination_type": "bank_account",
            "destination_reference": recipient_reference, "amount": {"currency": "KES", "value": "100"},
            "_links": {"callback_url": receiver.url}}))
        .await;
    app.advance("1s").await;
    let paid = app.get_json(&by_reference, &token).await;
    assert_eq!(paid["data"]["attributes"]["status"], "Processed", "{paid}");
    assert_eq!(
        paid["data"]["attributes"]["destination_reference"],
        recipient_reference
    );
}

#[tokio::test]
async fn v1_settlement_transfers_go_to_own_accounts_blind_or_named() {
    let app = spawn_app_with(|a| {
        a.clock = Some(FIXED_CLOCK.parse().expect("clock"));
        a.initial_balance = "1000".parse().expect("decimal");
    })
    .await;
    let token = app.token().await;
    let wallet = app
        .create(
            "/api/v1/merchant_wallets",
            &token,
            &json!({"first_name": "A", "last_name": "B",
        "phone_number": "+254999999999", "network": "Safaricom"}),
        )
        .await;
    let wallet_id = wallet.rsplit('/').next().expect("id");

    let named = app
        .create(
            "/api/v1/settlement_transfers",
            &token,
            &json!({"amount": {"currency": "KES", "value": "250"},
            "destination_type": "merchant_wallet", "destination_reference": wallet_id,
            "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    // The Node SDK's blind transfer: an empty amount, no destination.
    let blind = app
        .create(
            "/api/v1/settlement_transfers",
            &token,
            &json!({"amount": {}, "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    app.advance("0s").await;

    let first = app.get_json(&named, &token).await;
    assert_eq!(first["data"]["type"], "settlement_transfer");
    assert_eq!(first["data"]["attributes"]["status"], "Processed");
    assert_eq!(
        first["data"]["attributes"]["amount"],
        json!({"currency": "KES", "value": "250.0"})
    );
    let second = app.get_json(&blind, &token).await;
    assert_eq!(
        second["data"]["attributes"]["amount"],
        json!({"currency": "KES", "value": null})
    );
    let d = &second["data"]["attributes"]["transfer_batches"][0]["disbursements"][0];
    assert_eq!(d["amount"], "750.0");
    assert_eq!(d["destination_reference"], wallet_id);
    assert_eq!(app.balances().await["company"], "0.0");
}
