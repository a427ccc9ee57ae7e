use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const SUBSCRIPTIONS: &str = "/api/v2/webhook_subscriptions";

fn subscription(url: &str, scope: &str, reference: Option<&str>, daraja: bool) -> Value {
    json!({
        "event_type": "buygoods_transaction_received",
        "url": url,
        "scope": scope,
        "scope_reference": reference,
        "enable_daraja_payload": daraja
    })
}

#[tokio::test]
async fn a_subscription_is_created_and_can_be_read_back() {
    let app = spawn_app().await;
    let token = app.token().await;
    let location = app
        .create(
            SUBSCRIPTIONS,
            &token,
            &subscription("https://example.test/hooks", "till", Some("555555"), false),
        )
        .await;
    assert!(location.starts_with(&app.url("/api/v2/webhook_subscriptions/")));

    let document = app.get_json(&location, &token).await;
    let attributes = &document["data"]["attributes"];
    assert_eq!(document["data"]["type"], "webhook_subscription");
    assert_eq!(attributes["event_type"], "buygoods_transaction_received");
    assert_eq!(attributes["url"], "https://example.test/hooks");
    // The PHP SDK 1.4.0 reads the URL as `webhook_uri`.
    assert_eq!(attributes["webhook_uri"], "https://example.test/hooks");
    assert_eq!(attributes["scope"], "till");
    assert_eq!(attributes["scope_reference"], "555555");
    assert_eq!(attributes["enable_daraja_payload"], false);
    assert_eq!(attributes["_links"]["self"], location);
}

#[tokio::test]
async fn invalid_subscriptions_get_400s() {
    let app = spawn_app().await;
    let token = app.token().await;
    let mut bad_event = subscription("https://example.test/h", "company", None, false);
    bad_event["event_type"] = json!("everything");
    let cases = [
        (bad_event, "Event type is invalid"),
        (
            subscription("", "company", None, false),
            "Url can't be blank",
        ),
        (
            subscription("not a url", "company", None, false),
            "Url is invalid",
        ),
        (
            subscription("https://example.test/h", "planet", None, false),
            "Scope is invalid",
        ),
        (
            subscription("https://example.test/h", "till", None, false),
            "Invalid scope reference",
        ),
    ];
    for (body, message) in cases {
        let (status, error) = app.rejected(SUBSCRIPTIONS, &token, &body).await;
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

#[tokio::test]
async fn a_paid_stk_push_fires_buygoods_received_to_matching_subscriptions_in_their_shape() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let company = CallbackReceiver::start(Behaviour::Accept).await;
    let same_till = CallbackReceiver::start(Behaviour::Accept).await;
    let other_till = CallbackReceiver::start(Behaviour::Accept).await;
    let daraja = CallbackReceiver::start(Behaviour::Accept).await;
    for body in [
        subscription(&company.url, "company", None, false),
        subscription(&same_till.url, "till", Some("K000000"), false),
        subscription(&other_till.url, "till", Some("999999"), false),
        subscription(&daraja.url, "company", None, true),
    ] {
        app.create(SUBSCRIPTIONS, &token, &body).await;
    }

    let payment = paid_stk_push(&app, &token, "+254712345678", 100).await;

    let event = company.wait_for(1).await.remove(0);
    assert!(event.signature_verifies(API_KEY));
    let body = event.json();
    assert_same_shape(&body, &fixture("buygoods_transaction_received"));
    assert_eq!(body["topic"], "buygoods_transaction_received");
    let resource = &body["event"]["resource"];
    let transaction = &payment["data"]["attributes"]["event"]["resource"];
    assert_eq!(resource["id"], transaction["id"]);
    assert_eq!(resource["reference"], transaction["reference"]);
    assert_eq!(resource["amount"], "100.0");
    assert_eq!(resource["till_number"], "K000000");
    assert_eq!(resource["sender_phone_number"], "+254712345678");
    assert_eq!(
        resource["hashed_sender_phone"],
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"+254712345678"))
    );
    assert_eq!(
        body["_links"]["self"],
        app.url(&format!(
            "/webhook_events/{}",
            body["id"].as_str().expect("id")
        ))
    );

    assert_eq!(same_till.wait_for(1).await[0].json(), body);
    let daraja_body = daraja.wait_for(1).await.remove(0);
    assert!(daraja_body.signature_verifies(API_KEY));
    assert_same_shape(
        &daraja_body.json(),
        &fixture("buygoods_transaction_received_daraja"),
    );
    assert_eq!(daraja_body.json()["TransID"], transaction["reference"]);
    assert_eq!(daraja_body.json()["TransTime"], "20260501100001");

    app.advance("1h").await;
    assert!(other_till.received().is_empty());
}

#[tokio::test]
async fn a_webhook_events_links_start_at_a_public_url_whose_path_has_api_in_it() {
    const PUBLIC: &str = "https://gateway.example/api/k2-sandbox";
    let app = spawn_app_with(|args| {
        args.clock = Some(FIXED_CLOCK.parse().expect("fixed clock"));
        args.callback_delay_ms = RESULT_DELAY_MS;
        args.public_url = Some(PUBLIC.parse().expect("url"));
    })
    .await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    app.create(
        SUBSCRIPTIONS,
        &token,
        &subscription(&receiver.url, "company", None, false),
    )
    .await;

    // Its Location is on the public URL, which does not resolve here: not followed.
    app.create(
        "/api/v2/incoming_payments",
        &token,
        &stk_request("http://127.0.0.1:9/cb"),
    )
    .await;
    app.advance("1s").await;

    let body = receiver.wait_for(1).await.remove(0).json();
    let id = body["id"].as_str().expect("id");
    assert_eq!(
        body["_links"]["self"],
        format!("{PUBLIC}/webhook_events/{id}"),
        "the base is the public URL, not what precedes its first /api/"
    );
}
