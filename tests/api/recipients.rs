use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

pub fn mobile_wallet_recipient() -> Value {
    json!({
        "type": "mobile_wallet",
        "external_recipient": {
            "first_name": "John", "last_name": "Doe", "nickname": "JD",
            "email": "johndoe@nomail.net", "phone_number": "+254999999999", "network": "Safaricom"
        }
    })
}

#[tokio::test]
async fn external_recipients_of_every_type_are_created_and_shown_as_pay_recipients() {
    let app = spawn_app().await;
    let token = app.token().await;
    let cases = [
        (mobile_wallet_recipient(), "Mobile Wallet"),
        (
            json!({"type": "bank_account", "external_recipient": {"account_name": "John Doe",
                   "bank_branch_ref": "c7f300c0-f1ef-4151-9bbe-005005aa3747", "account_number": "123456789",
                   "nick_name": "JD", "settlement_method": "RTS"}}),
            "Bank Account",
        ),
        (
            json!({"type": "till", "external_recipient": {"till_name": "John Doe", "till_number": "000000", "nickname": "JD"}}),
            "Till",
        ),
        (
            json!({"type": "paybill", "external_recipient": {"paybill_name": "KPLC Paybill", "paybill_number": "890087",
                   "paybill_account_number": "test_account", "nickname": "KPLC"}}),
            "Paybill",
        ),
    ];
    for (body, label) in cases {
        let location = app
            .create("/api/v2/external_recipients", &token, &body)
            .await;
        assert!(location.starts_with(&app.url("/api/v2/external_recipients/")));
        let document = app.get_json(&location, &token).await;
        assert_eq!(document["data"]["attributes"]["recipient_type"], label);

        let id = location.rsplit('/').next().expect("id");
        let v1 = app
            .get_json(&app.url(&format!("/api/v1/pay_recipients/{id}")), &token)
            .await;
        assert_eq!(v1["data"]["type"], "pay_recipient");
        if label == "Mobile Wallet" {
            assert_same_shape(&v1, &fixture("pay_recipient"));
            assert_eq!(v1["data"]["attributes"]["phone_number"], "+254999999999");
            assert_eq!(v1["data"]["attributes"]["status"], "Approved");
        }
    }
}

#[tokio::test]
async fn an_external_bank_account_without_a_settlement_method_settles_by_eft() {
    let app = spawn_app().await;
    let token = app.token().await;
    // What the official Python SDK sends: it has no settlement_method field.
    let body = json!({"type": "bank_account", "external_recipient": {"account_name": "John Doe",
        "account_number": "987654321", "bank_branch_ref": "633aa26c-7b7c-4091-ae28-96c0687cf886",
        "nickname": "JD bank"}});
    let location = app
        .create("/api/v2/external_recipients", &token, &body)
        .await;
    let document = app.get_json(&location, &token).await;
    assert_eq!(document["data"]["attributes"]["settlement_method"], "EFT");
    assert_eq!(
        document["data"]["attributes"]["account_number"],
        "987654321"
    );
    // A merchant's own bank account still names one, as the reference requires.
    let (status, error) = app
        .rejected(
            "/api/v2/merchant_bank_accounts",
            &token,
            &body["external_recipient"],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_message"], "Settlement method can't be blank");
}

#[tokio::test]
async fn invalid_recipients_get_400s() {
    let app = spawn_app().await;
    let token = app.token().await;
    let mut no_network = mobile_wallet_recipient();
    no_network["external_recipient"]["network"] = Value::Null;
    let cases = [
        (
            json!({"type": "pigeon", "external_recipient": {}}),
            "Invalid recipient type",
        ),
        (json!({"type": "till"}), "External recipient can't be blank"),
        (no_network, "Network can't be blank"),
        (
            json!({"type": "bank_account", "external_recipient": {"account_name": "J", "bank_branch_ref": "x",
                "account_number": "1", "settlement_method": "CASH"}}),
            "Settlement method must be EFT or RTS",
        ),
        (
            json!({"type": "paybill", "external_recipient": {"paybill_name": "K", "paybill_number": "1"}}),
            "Paybill account number can't be blank",
        ),
    ];
    for (body, message) in cases {
        let (status, error) = app
            .rejected("/api/v2/external_recipients", &token, &body)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error["error_message"], message, "{body}");
    }
}

#[tokio::test]
async fn merchant_wallets_and_bank_accounts_are_created_and_read_back() {
    let app = spawn_app().await;
    let token = app.token().await;
    let wallet = app
        .create(
            "/api/v2/merchant_wallets",
            &token,
            &json!({"first_name": "first_name", "last_name": "last_name",
            "nickname": "nickname", "phone_number": "254999999999", "network": "Safaricom"}),
        )
        .await;
    let bank = app
        .create("/api/v2/merchant_bank_accounts", &token, &json!({"account_name": "John Doe",
            "bank_branch_ref": "c7f300c0-f1ef-4151-9bbe-005005aa3747", "account_number": "123456789",
            "nickname": "JD", "settlement_method": "EFT"}))
        .await;

    let w = app.get_json(&wallet, &token).await;
    assert_eq!(w["data"]["type"], "merchant_wallet");
    assert_eq!(w["data"]["attributes"]["phone_number"], "+254999999999");
    let b = app.get_json(&bank, &token).await;
    assert_eq!(b["data"]["type"], "merchant_bank_account");
    assert_eq!(b["data"]["attributes"]["settlement_method"], "EFT");
    // The PHP SDK 1.4.0 reads `account_reference`: what a transfer names the account by.
    for (document, url) in [(&w, &wallet), (&b, &bank)] {
        assert_eq!(
            document["data"]["attributes"]["account_reference"],
            document["data"]["id"]
        );
        assert!(url.ends_with(document["data"]["id"].as_str().expect("id")));
    }

    // A wallet's id is not a bank account.
    let wrong = app
        .get_with_token(
            &wallet.replace("merchant_wallets", "merchant_bank_accounts"),
            &token,
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);

    let (status, error) = app
        .rejected(
            "/api/v2/merchant_wallets",
            &token,
            &json!({"first_name": "A", "phone_number": "254999999999", "network": "Safaricom"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_message"], "Last name can't be blank");
}
