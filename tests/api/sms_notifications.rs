use serde_json::json;

use crate::helpers::*;

const SMS: &str = "/api/v1/transaction_sms_notifications";

#[tokio::test]
async fn an_sms_naming_a_buygoods_received_event_succeeds() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let hooks = CallbackReceiver::start(Behaviour::Accept).await;
    let results = CallbackReceiver::start(Behaviour::Accept).await;
    app.create(
        "/api/v2/webhook_subscriptions",
        &token,
        &json!({"event_type": "buygoods_transaction_received",
        "url": hooks.url, "scope": "company"}),
    )
    .await;
    paid_stk_push(&app, &token, "+254712345678", 100).await;
    let event_id = hooks.wait_for(1).await[0].json()["id"]
        .as_str()
        .expect("event id")
        .to_string();

    let location = app
        .create(
            SMS,
            &token,
            &json!({"webhook_event_reference": event_id, "message": "Thank you",
            "_links": {"callback_url": results.url}}),
        )
        .await;
    assert!(location.starts_with(&app.url("/api/v1/transaction_sms_notifications/")));
    assert_eq!(
        app.get_json(&location, &token).await["data"]["attributes"]["status"],
        "Pending"
    );
    app.advance("1s").await;

    let document = app.get_json(&location, &token).await;
    assert_eq!(document["data"]["attributes"]["status"], "Success");
    assert_eq!(
        document["data"]["attributes"]["webhook_event_reference"],
        event_id.as_str()
    );
    let callback = results.wait_for(1).await.remove(0);
    assert!(callback.signature_verifies(API_KEY));
    // `metadata` is ours: the Python SDK reads it on every result.
    let mut comparable = callback.json();
    comparable["data"]["attributes"]
        .as_object_mut()
        .expect("object")
        .shift_remove("metadata");
    assert_same_shape(&comparable, &fixture("sms_notification_result"));
}

#[tokio::test]
async fn an_sms_with_an_unknown_reference_is_accepted_then_fails() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let location = app
        .create(
            SMS,
            &token,
            &json!({"webhook_event_reference": "e51438e9-c42b-4bf2-a261-faeaf189e3ed",
            "message": "Your message here", "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    app.advance("1s").await;
    let document = app.get_json(&location, &token).await;
    assert_eq!(document["data"]["attributes"]["status"], "Failed");
    assert!(
        document["data"]["attributes"]["errors"][0]
            .as_str()
            .is_some()
    );

    let (status, error) = app
        .rejected(
            SMS,
            &token,
            &json!({"message": "hi", "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error_message"],
        "Webhook event reference can't be blank"
    );
}
