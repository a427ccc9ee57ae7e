use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const SEND_MONEY: &str = "/api/v2/send_money";

fn wallet(phone: &str, amount: Value) -> Value {
    json!({"type": "mobile_wallet", "nickname": "Jane Doe", "phone_number": phone, "network": "Safaricom",
           "amount": amount, "description": "Reason for payment", "favourite": true})
}

fn send_money(destinations: Value, callback: &str) -> Value {
    json!({
        "destinations": destinations,
        "source_identifier": null,
        "currency": "KES",
        "metadata": {"customerId": "8675309", "notes": "Salary payment for September 2025"},
        "_links": {"callback_url": callback}
    })
}

#[tokio::test]
async fn paying_external_wallets_processes_a_batch_per_destination_and_debits_the_balance() {
    let app = spawn_app_with(|a| {
        a.clock = Some(FIXED_CLOCK.parse().expect("clock"));
        a.callback_delay_ms = RESULT_DELAY_MS;
        a.initial_balance = "5000".parse().expect("decimal");
    })
    .await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let token = app.token().await;
    let body = send_money(
        json!([
            wallet("254900000000", json!(1000)),
            wallet("254900111111", json!("1000"))
        ]),
        &receiver.url,
    );
    let location = app.create(SEND_MONEY, &token, &body).await;

    let pending = app.get_json(&location, &token).await;
    assert_eq!(pending["data"]["attributes"]["status"], "Pending");
    assert_eq!(app.balances().await["company"], "3000.0");

    app.advance("1s").await;
    let processed = app.get_json(&location, &token).await;
    let attributes = &processed["data"]["attributes"];
    assert_eq!(attributes["status"], "Processed");
    // Same content; the keys come back in the order the reference's example shows them.
    assert_eq!(attributes["destinations"], body["destinations"]);
    let keys: Vec<&String> = attributes["destinations"][0]
        .as_object()
        .expect("object")
        .keys()
        .collect();
    assert_eq!(
        keys,
        [
            "type",
            "amount",
            "network",
            "nickname",
            "favourite",
            "description",
            "phone_number"
        ]
    );
    let batches = attributes["transfer_batches"].as_array().expect("batches");
    assert_eq!(batches.len(), 2);
    let d = &batches[0]["disbursements"][0];
    assert_eq!(d["status"], "Transferred");
    assert_eq!(d["amount"], "1000.0");
    assert_eq!(d["destination_type"], "mobile_wallet");
    assert_eq!(d["phone_number"], "254900000000");
    assert!(
        d["transaction_reference"]
            .as_str()
            .is_some_and(|r| r.len() == 10)
    );

    let callback = receiver.wait_for(1).await.remove(0);
    assert!(callback.signature_verifies(API_KEY));
    assert_eq!(callback.json(), processed);
    assert_same_shape(&callback.json(), &fixture("send_money_result"));

    // The same phone again reuses the recipient created the first time.
    let again = app
        .create(
            SEND_MONEY,
            &token,
            &send_money(json!([wallet("+254900000000", json!(10))]), &receiver.url),
        )
        .await;
    app.advance("1s").await;
    let second = app.get_json(&again, &token).await;
    assert_eq!(
        second["data"]["attributes"]["transfer_batches"][0]["disbursements"][0]["destination_reference"],
        d["destination_reference"]
    );
}

#[tokio::test]
async fn a_payment_the_balance_cannot_cover_fails_with_the_references_error() {
    let app = spawn_app_with(|a| {
        a.clock = Some(FIXED_CLOCK.parse().expect("clock"));
        a.initial_balance = "500".parse().expect("decimal");
    })
    .await;
    let token = app.token().await;
    let location = app
        .create(
            SEND_MONEY,
            &token,
            &send_money(
                json!([wallet("254900000000", json!(1000))]),
                "http://127.0.0.1:9/cb",
            ),
        )
        .await;
    app.advance("0s").await;
    let failed = app.get_json(&location, &token).await;
    assert_eq!(failed["data"]["attributes"]["status"], "Failed");
    assert_eq!(
        failed["data"]["attributes"]["errors"],
        json!(["The balance is insufficient for the transaction"])
    );
    assert_eq!(failed["data"]["attributes"]["transfer_batches"], json!([]));
    assert_eq!(app.balances().await["company"], "500.0");
}

#[tokio::test]
async fn transfers_to_own_accounts_need_a_known_reference() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let wallet_location = app
        .create(
            "/api/v2/merchant_wallets",
            &token,
            &json!({"first_name": "A", "last_name": "B",
            "phone_number": "254999999999", "network": "Safaricom"}),
        )
        .await;
    let reference = wallet_location.rsplit('/').next().expect("id").to_string();

    let body = send_money(
        json!([{"type": "merchant_wallet", "reference": reference, "amount": 100, "description": null}]),
        "http://127.0.0.1:9/cb",
    );
    let location = app.create(SEND_MONEY, &token, &body).await;
    app.advance("1s").await;
    let processed = app.get_json(&location, &token).await;
    let attributes = &processed["data"]["attributes"];
    assert_eq!(attributes["status"], "Processed");
    assert_eq!(attributes["destinations"], Value::Null);
    let d = &attributes["transfer_batches"][0]["disbursements"][0];
    assert_eq!(d["destination_type"], "merchant_wallet");
    assert_eq!(d["destination_reference"], reference);

    let unknown = send_money(
        json!([{"type": "merchant_wallet", "reference": "e479b8de-d05d-46f1-89ea-27948293f5df", "amount": 100}]),
        "http://127.0.0.1:9/cb",
    );
    let (status, error) = app.rejected(SEND_MONEY, &token, &unknown).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error,
        json!({"error_code": 400, "error_message": "Destination reference is invalid"})
    );
}

#[tokio::test]
async fn a_blind_transfer_sweeps_the_balance_to_the_preferred_account() {
    let app = spawn_app_with(|a| {
        a.clock = Some(FIXED_CLOCK.parse().expect("clock"));
        a.initial_balance = "2500".parse().expect("decimal");
    })
    .await;
    let token = app.token().await;
    let bank = app
        .create("/api/v2/merchant_bank_accounts", &token, &json!({"account_name": "John Doe",
            "bank_branch_ref": "c7f300c0-f1ef-4151-9bbe-005005aa3747", "account_number": "123456789",
            "settlement_method": "EFT"}))
        .await;
    // Blind transfers come with no destinations, null or [] (the SDKs send all three).
    let location = app
        .create(
            SEND_MONEY,
            &token,
            &json!({"currency": "KES", "destinations": [], "source_identifier": null,
            "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    app.advance("0s").await;
    let processed = app.get_json(&location, &token).await;
    let d = &processed["data"]["attributes"]["transfer_batches"][0]["disbursements"][0];
    assert_eq!(d["amount"], "2500.0");
    assert_eq!(d["destination_type"], "merchant_bank_account");
    assert_eq!(
        d["destination_reference"],
        bank.rsplit('/').next().expect("id")
    );
    assert_eq!(
        d["transaction_reference"],
        Value::Null,
        "EFT has no M-PESA reference"
    );
    assert_eq!(app.balances().await["company"], "0.0");

    // Nothing left to sweep.
    let empty = app
        .create(
            SEND_MONEY,
            &token,
            &json!({"_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    app.advance("0s").await;
    assert_eq!(
        app.get_json(&empty, &token).await["data"]["attributes"]["status"],
        "Failed"
    );
}

#[tokio::test]
async fn destinations_must_be_valid_and_of_one_type() {
    let app = spawn_app().await;
    let token = app.token().await;
    let till = json!({"type": "till", "till_number": "000000", "amount": 10, "description": "x"});
    let cases = [
        (
            json!([wallet("254900000000", json!(1)), till.clone()]),
            "All destinations must be of the same type",
        ),
        (
            json!([till.clone(), till]),
            "Only one till destination is allowed per request",
        ),
        (
            json!([{"type": "cheque", "amount": 1}]),
            "Destination type cheque is invalid",
        ),
        (
            json!([wallet("254900000000", json!("lots"))]),
            "Amount is invalid",
        ),
        (json!([wallet("12", json!(1))]), "Phone number is invalid"),
    ];
    for (destinations, message) in cases {
        let (status, error) = app
            .rejected(
                SEND_MONEY,
                &token,
                &send_money(destinations.clone(), "http://127.0.0.1:9/cb"),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{destinations}");
        assert!(
            error["error_message"]
                .as_str()
                .expect("message")
                .starts_with(message),
            "{error}"
        );
    }
    let (status, error) = app
        .rejected(SEND_MONEY, &token, &json!({"destinations": []}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_message"], "Callback url can't be blank");
}

#[tokio::test]
async fn concurrent_payments_never_overdraw_the_balance() {
    let app = spawn_app_with(|a| {
        a.clock = Some(FIXED_CLOCK.parse().expect("clock"));
        a.callback_delay_ms = RESULT_DELAY_MS;
        a.initial_balance = "1000".parse().expect("decimal");
    })
    .await;
    let token = app.token().await;
    let body = send_money(
        json!([wallet("254900000000", json!(100))]),
        "http://127.0.0.1:9/cb",
    );

    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let request = app
            .client
            .post(app.url(SEND_MONEY))
            .bearer_auth(&token)
            .json(&body);
        requests.spawn(async move { request.send().await.expect("send") });
    }
    let mut locations = Vec::new();
    while let Some(response) = requests.join_next().await {
        let response = response.expect("task");
        assert_eq!(response.status(), StatusCode::CREATED);
        locations.push(location(&response));
    }
    app.advance("1s").await;

    let mut processed = 0;
    for location in &locations {
        match app.get_json(location, &token).await["data"]["attributes"]["status"].as_str() {
            Some("Processed") => processed += 1,
            Some("Failed") => {}
            other => panic!("unexpected status {other:?}"),
        }
    }
    assert_eq!(processed, 10);
    assert_eq!(app.balances().await["company"], "0.0");
}
