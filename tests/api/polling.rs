use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const POLLING: &str = "/api/v2/polling";

fn polling(scope: &str, reference: &str, from: &str, to: &str, callback: &str) -> Value {
    json!({"scope": scope, "scope_reference": reference, "from_time": from, "to_time": to,
           "_links": {"callback_url": callback}})
}

#[tokio::test]
async fn polling_lists_the_transactions_received_in_the_window_and_scope() {
    let app = spawn_virtual_app().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let token = app.token().await;
    // Two payments into K000000 at 10:00:01 and 10:00:02, one into 555555 at 10:00:03.
    let first = paid_stk_push(&app, &token, "+254799999999", 500).await;
    paid_stk_push(&app, &token, "+254799999998", 600).await;
    let mut other_till = stk_request("http://127.0.0.1:9/cb");
    other_till["till_number"] = json!("555555");
    app.create("/api/v2/incoming_payments", &token, &other_till)
        .await;
    app.advance("1s").await;

    let company = app
        .create(
            POLLING,
            &token,
            &polling(
                "company",
                "",
                "2026-05-01T10:00:00+03:00",
                "2026-05-01T11:00:00+03:00",
                &receiver.url,
            ),
        )
        .await;
    let till = app
        .create(
            POLLING,
            &token,
            &polling(
                "till",
                "K000000",
                "2026-05-01T10:00:00+03:00",
                "2026-05-01T10:00:01+03:00",
                &receiver.url,
            ),
        )
        .await;
    assert_eq!(
        app.get_json(&company, &token).await["data"]["attributes"]["status"],
        "Pending"
    );
    app.advance("1s").await;

    let result = app.get_json(&company, &token).await;
    let attributes = &result["data"]["attributes"];
    assert_eq!(attributes["status"], "Success");
    assert_eq!(attributes["scope"], "Company");
    assert_eq!(attributes["scope_reference"], Value::Null);
    assert_eq!(attributes["from_time"], "2026-05-01T10:00:00+03:00");
    let transactions = attributes["transactions"].as_array().expect("transactions");
    assert_eq!(transactions.len(), 3);
    let tx = &transactions[0];
    assert_eq!(tx["type"], "Buygoods Transaction");
    assert_eq!(
        tx["resource"]["id"],
        first["data"]["attributes"]["event"]["resource"]["id"]
    );
    assert_eq!(tx["resource"]["amount"], "500.0");
    assert_eq!(tx["resource"]["sender_phone_number"], "+254799999999");

    let narrow = app.get_json(&till, &token).await;
    assert_eq!(narrow["data"]["attributes"]["scope"], "Till");
    assert_eq!(narrow["data"]["attributes"]["scope_reference"], "K000000");
    assert_eq!(
        narrow["data"]["attributes"]["transactions"]
            .as_array()
            .expect("list")
            .len(),
        1
    );

    let callbacks = receiver.wait_for(2).await;
    assert!(callbacks.iter().all(|c| c.signature_verifies(API_KEY)));
    let mut reference = fixture("polling_result");
    // Compare with the example's first (Buygoods) transaction only.
    reference["data"]["attributes"]["transactions"]
        .as_array_mut()
        .expect("list")
        .truncate(1);
    let body = callbacks
        .iter()
        .map(Received::json)
        .find(|b| b["data"]["id"] == result["data"]["id"])
        .expect("company result");
    // `metadata` is ours: the Python SDK reads it on every result.
    let mut comparable = body.clone();
    comparable["data"]["attributes"]
        .as_object_mut()
        .expect("object")
        .shift_remove("metadata");
    assert_same_shape(&comparable, &reference);
    assert_eq!(body, result);
}

#[tokio::test]
async fn invalid_polling_requests_get_400s() {
    let app = spawn_app().await;
    let token = app.token().await;
    let cb = "http://127.0.0.1:9/cb";
    let cases = [
        (
            polling(
                "galaxy",
                "",
                "2021-04-12T08:50:22+03:00",
                "2021-04-19T08:50:22+03:00",
                cb,
            ),
            "Scope is invalid",
        ),
        (
            polling(
                "till",
                "",
                "2021-04-12T08:50:22+03:00",
                "2021-04-19T08:50:22+03:00",
                cb,
            ),
            "Invalid scope reference",
        ),
        (
            polling("company", "", "yesterday", "2021-04-19T08:50:22+03:00", cb),
            "From time is invalid",
        ),
        (
            polling("company", "", "2021-04-12T08:50:22+03:00", "", cb),
            "To time can't be blank",
        ),
        (
            polling(
                "company",
                "",
                "2021-04-19T08:50:22+03:00",
                "2021-04-12T08:50:22+03:00",
                cb,
            ),
            "To time must not be before from time",
        ),
        (
            polling(
                "company",
                "",
                "2021-04-12T08:50:22+03:00",
                "2021-04-19T08:50:22+03:00",
                "",
            ),
            "Callback url can't be blank",
        ),
    ];
    for (body, message) in cases {
        let (status, error) = app.rejected(POLLING, &token, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            error["error_message"]
                .as_str()
                .expect("message")
                .starts_with(message),
            "{error}"
        );
    }
}
