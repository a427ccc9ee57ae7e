//! Text fields have documented maximum lengths, metadata is small, and callback URLs are
//! plain http(s) URLs: anything else is a 400 naming the field, never a stored megabyte.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn refused(app: &TestApp, path: &str, token: &str, body: &Value) -> String {
    let (status, error) = app.rejected(path, token, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["error_code"], 400);
    error["error_message"]
        .as_str()
        .expect("a message")
        .to_string()
}

#[tokio::test]
async fn text_fields_longer_than_their_limit_are_refused_by_name() {
    let app = spawn_app().await;
    let token = app.token().await;
    let stk = "/api/v2/incoming_payments";

    let mut body = stk_request("http://127.0.0.1:9/cb");
    body["subscriber"]["first_name"] = json!("J".repeat(256));
    assert_eq!(
        refused(&app, stk, &token, &body).await,
        "subscriber.first_name is too long: at most 255 characters"
    );

    let mut body = stk_request("http://127.0.0.1:9/cb");
    body["till_number"] = json!("1".repeat(100 * 1024));
    assert_eq!(
        refused(&app, stk, &token, &body).await,
        "till_number is too long: at most 255 characters"
    );

    let mut body = stk_request("http://127.0.0.1:9/cb");
    body["metadata"]["notes"] = json!("n".repeat(500 * 1024));
    assert_eq!(
        refused(&app, stk, &token, &body).await,
        "metadata.notes is too long: at most 1000 characters"
    );

    let mut body = stk_request("http://127.0.0.1:9/cb");
    body["metadata"] = json!({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6});
    assert_eq!(
        refused(&app, stk, &token, &body).await,
        "Metadata can't have more than 5 key-value pairs"
    );

    let mut body = stk_request("http://127.0.0.1:9/cb");
    body["metadata"] = json!({"nested": {"a": 1}});
    assert_eq!(
        refused(&app, stk, &token, &body).await,
        "Metadata value of nested must be a string, number, boolean or null"
    );

    let send = json!({
        "destinations": [{"type": "mobile_wallet", "nickname": "N".repeat(300),
            "phone_number": "254900000000", "network": "Safaricom", "amount": 10}],
        "currency": "KES",
        "_links": {"callback_url": "http://127.0.0.1:9/cb"}
    });
    assert_eq!(
        refused(&app, "/api/v2/send_money", &token, &send).await,
        "destinations[0].nickname is too long: at most 255 characters"
    );

    // At the limit is fine: characters, not bytes.
    let mut body = stk_request("http://127.0.0.1:9/cb");
    body["subscriber"]["first_name"] = json!("é".repeat(255));
    app.create(stk, &token, &body).await;
}

#[tokio::test]
async fn callback_urls_with_line_breaks_or_credentials_are_refused() {
    let app = spawn_app().await;
    let token = app.token().await;
    for (url, message) in [
        (
            "http://127.0.0.1:9/cb\r\nX-Injected: yes",
            "Callback url is invalid: it contains a control character (CR, LF or tab)",
        ),
        (
            "http://user:secret@127.0.0.1:9/cb",
            "Callback url is invalid: it must not carry a user name or password",
        ),
    ] {
        let body = stk_request(url);
        assert_eq!(
            refused(&app, "/api/v2/incoming_payments", &token, &body).await,
            message,
            "{url:?}"
        );
    }
    let hook = json!({"event_type": "buygoods_transaction_received", "scope": "company",
        "url": "https://admin:pw@hooks.example.com/k2"});
    assert_eq!(
        refused(&app, "/api/v2/webhook_subscriptions", &token, &hook).await,
        "Url is invalid: it must not carry a user name or password"
    );
}

#[tokio::test]
async fn oauth_parameters_are_bounded_too() {
    let app = spawn_shared_app().await;
    let long_id = "c".repeat(100 * 1024);
    let response = app
        .request_token_with(&[
            ("client_id", long_id.as_str()),
            ("client_secret", "s"),
            ("grant_type", "client_credentials"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(
        body["error_description"],
        "client_id is too long: at most 255 characters"
    );
}
