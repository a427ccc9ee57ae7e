use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn an_application_cannot_see_another_applications_resources() {
    let app = spawn_app().await;
    let token = app.token().await;
    let other = app.token_of(OTHER_CLIENT_ID, OTHER_CLIENT_SECRET).await;
    let cb = "http://127.0.0.1:9/cb";
    let created = [
        ("/api/v2/incoming_payments", stk_request(cb)),
        (
            "/api/v2/webhook_subscriptions",
            json!({"event_type": "customer_created", "url": cb, "scope": "company"}),
        ),
        (
            "/api/v2/merchant_wallets",
            json!({"first_name": "A", "last_name": "B", "phone_number": "254999999999", "network": "Safaricom"}),
        ),
        (
            "/api/v2/merchant_bank_accounts",
            json!({"account_name": "A", "bank_branch_ref": "x", "account_number": "1", "settlement_method": "EFT"}),
        ),
        (
            "/api/v2/external_recipients",
            json!({"type": "till", "external_recipient": {"till_name": "T", "till_number": "1"}}),
        ),
        (
            "/api/v2/send_money",
            json!({"destinations": [{"type": "till", "till_number": "1", "amount": 1}], "_links": {"callback_url": cb}}),
        ),
        (
            "/api/v2/polling",
            json!({"scope": "company", "from_time": "2026-01-01T00:00:00+03:00", "to_time": "2026-01-02T00:00:00+03:00", "_links": {"callback_url": cb}}),
        ),
        (
            "/api/v1/transaction_sms_notifications",
            json!({"webhook_event_reference": "x", "message": "m", "_links": {"callback_url": cb}}),
        ),
        (
            "/api/v2/payment_links",
            json!({"till_number": "1", "currency": "KES", "amount": 1, "_links": {"callback_url": cb}}),
        ),
    ];
    for (path, body) in created {
        let location = app.create(path, &token, &body).await;
        assert_eq!(
            app.get_with_token(&location, &token).await.status(),
            StatusCode::OK,
            "{path}"
        );
        let theirs = app.get_with_token(&location, &other).await;
        assert_eq!(theirs.status(), StatusCode::NOT_FOUND, "{path}");
        let error: Value = theirs.json().await.expect("json");
        assert_eq!(error["error_code"], 404);
    }
}
