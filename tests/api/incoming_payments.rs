use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn an_stk_push_is_created_with_an_absolute_location() {
    let app = spawn_app().await;
    let token = app.token().await;

    let response = app
        .create_incoming_payment(&token, &stk_request("http://127.0.0.1:9/cb"))
        .await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let location = location(&response);
    let prefix = app.url("/api/v2/incoming_payments/");
    let id = location
        .strip_prefix(&prefix)
        .expect("absolute Location under the collection");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

#[tokio::test]
async fn the_payment_is_pending_until_due_then_succeeds_and_calls_back_signed() {
    let app = spawn_virtual_app().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let token = app.token().await;
    let location = app.stk_push(&token, &receiver.url).await;

    let pending = app.get_json(&location, &token).await;
    assert_eq!(pending["data"]["attributes"]["status"], "Pending");
    assert_eq!(
        pending["data"]["attributes"]["event"]["resource"],
        Value::Null
    );
    assert!(receiver.received().is_empty());

    app.advance("1s").await;

    let success = app.get_json(&location, &token).await;
    let attributes = &success["data"]["attributes"];
    assert_eq!(attributes["status"], "Success");
    let resource = &attributes["event"]["resource"];
    assert_eq!(resource["status"], "Received");
    assert_eq!(resource["amount"], "20000.0");
    assert_eq!(resource["sender_phone_number"], "+254999999999");
    assert_eq!(resource["sender_first_name"], "Joe");
    assert_eq!(resource["sender_last_name"], "Buyer");
    assert_eq!(resource["till_number"], "K000000");
    assert_eq!(resource["system"], "Lipa Na M-PESA");
    let reference = resource["reference"].as_str().expect("reference");
    assert!(
        reference.len() == 10
            && reference
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );

    let callbacks = receiver.wait_for(1).await;
    assert_eq!(callbacks.len(), 1);
    let callback = &callbacks[0];
    assert!(callback.signature_verifies(API_KEY));
    assert_eq!(callback.header("content-type"), "application/json");
    assert!(callback.header("user-agent").starts_with("k2-sandbox/"));
    // The callback is the GET document, byte for byte as serde would print it compactly.
    assert_eq!(callback.json(), success);
    assert_eq!(
        callback.body,
        serde_json::to_vec(&success).expect("compact")
    );
}

#[tokio::test]
async fn the_callback_body_survives_a_javascript_style_round_trip() {
    // The Node SDK verifies HMAC(JSON.stringify(JSON.parse(body))): a compact, order-preserving
    // re-serialisation must give back the same bytes, even with integer-like metadata keys.
    let app = spawn_app().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let token = app.token().await;
    let mut request = stk_request(&receiver.url);
    request["metadata"] =
        serde_json::from_str(r#"{"b":"x","2":"y","1":5.0,"a":"ü"}"#).expect("json");
    let response = app.create_incoming_payment(&token, &request).await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let callback = receiver.wait_for(1).await.remove(0);
    let body = std::str::from_utf8(&callback.body).expect("utf-8");
    assert!(
        body.contains(r#""metadata":{"1":5,"2":"y","b":"x","a":"ü"}"#),
        "{body}"
    );
    let reserialised = serde_json::to_string(&callback.json()).expect("serialise");
    assert_eq!(reserialised, body);
}

#[tokio::test]
async fn pending_success_and_callback_documents_match_their_snapshots() {
    let app = spawn_snapshot_app().await;
    let token = app.token().await;
    // Snapshots must not depend on a receiver's port, so the callback URL is fixed (and
    // closed); the delivery itself is checked by the tests above.
    let location = app.stk_push(&token, "http://127.0.0.1:9/k2/callback").await;

    let pending = app
        .get_json(&location.replace(FIXED_PUBLIC_URL, &app.base), &token)
        .await;
    insta::assert_json_snapshot!("incoming_payment_pending", pending);

    app.advance("1s").await;
    let success = app
        .get_json(&location.replace(FIXED_PUBLIC_URL, &app.base), &token)
        .await;
    insta::assert_json_snapshot!("incoming_payment_success", success);

    let deliveries = app.deliveries().await;
    assert_eq!(deliveries.len(), 1);
    let body = deliveries[0]["body"].as_str().expect("body");
    insta::assert_snapshot!("incoming_payment_callback_body", body);
    assert_eq!(
        deliveries[0]["signature"],
        hmac_hex(API_KEY, body.as_bytes())
    );
}

#[tokio::test]
async fn the_same_seed_and_clock_give_the_same_ids_references_and_signatures() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let app = spawn_snapshot_app().await;
        let token = app.token().await;
        let location = app.stk_push(&token, "http://127.0.0.1:1/cb").await;
        app.advance("1s").await;
        let deliveries = app.deliveries().await;
        runs.push((
            token,
            location,
            deliveries[0]["body"].clone(),
            deliveries[0]["signature"].clone(),
        ));
    }
    assert_eq!(runs[0], runs[1]);
}

#[tokio::test]
async fn the_python_sdk_payload_with_nulls_and_string_amount_is_accepted() {
    let app = spawn_app().await;
    let token = app.token().await;
    let body = json!({
        "payment_channel": "MPESA",
        "till_number": "K000000",
        "subscriber": {
            "first_name": "python_first_name", "middle_name": null, "last_name": "python_last_name",
            "phone_number": "+254911222536", "email": null
        },
        "amount": {"currency": "KES", "value": "10"},
        "metadata": "",
        "_links": {"callback_url": "https://webhook.site/52fd1913-778e-4ee1-bdc4-74517abb758d"}
    });
    let response = app
        .client
        .post(app.url("/api/v2/incoming_payments"))
        .bearer_auth(&token)
        .header("accept", "application/vnd.kopokopo.v4.hal+json")
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::CREATED);
    let document = app.get_json(&location(&response), &token).await;
    assert_eq!(document["data"]["attributes"]["metadata"], Value::Null);
}

/// Sets (or, with `None`, removes) the field at a JSON pointer.
fn with_field(mut body: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    let parent = body.pointer_mut(parent).expect("parent exists");
    let object = parent.as_object_mut().expect("object");
    match value {
        Some(v) => object.insert(key.to_string(), v),
        None => object.remove(key),
    };
    body
}

#[tokio::test]
async fn every_invalid_field_gets_the_references_400() {
    let app = spawn_app().await;
    let token = app.token().await;
    let cases = [
        ("/payment_channel", None, "Payment channel can't be blank"),
        (
            "/till_number",
            Some(json!(" ")),
            "Till number can't be blank",
        ),
        ("/till_number", None, "Till number can't be blank"),
        ("/subscriber", None, "Subscriber can't be blank"),
        (
            "/subscriber/phone_number",
            Some(Value::Null),
            "Phone number can't be blank",
        ),
        (
            "/subscriber/phone_number",
            Some(json!("12345")),
            "Phone number is invalid: use a Kenyan number as +254712345678, 254712345678 or 0712345678",
        ),
        (
            "/subscriber/email",
            Some(json!("not-an-email")),
            "Email is invalid",
        ),
        ("/amount", None, "Amount can't be blank"),
        ("/amount/value", Some(Value::Null), "Amount can't be blank"),
        (
            "/amount/value",
            Some(json!("ten")),
            "Amount is invalid: send a number of KES, as a number or a string, greater than 0 \
             with at most 2 decimal places (100, 99.5 or \"1500.00\")",
        ),
        (
            "/amount/value",
            Some(json!(0)),
            "Amount must be greater than 0",
        ),
        (
            "/amount/value",
            Some(json!("1.005")),
            "Amount must have at most 2 decimal places",
        ),
        (
            "/amount/currency",
            Some(Value::Null),
            "Currency can't be blank",
        ),
        (
            "/amount/currency",
            Some(json!("USD")),
            "Currency is not supported, only KES is accepted",
        ),
        (
            "/metadata",
            Some(json!({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6})),
            "Metadata can't have more than 5 key-value pairs",
        ),
        (
            "/metadata",
            Some(json!({"a": {"b": 1}})),
            "Metadata value of a must be a string, number, boolean or null",
        ),
        ("/_links", None, "Callback url can't be blank"),
        // What the reference and the SDKs' examples send: "M-PESA STK Push", "M-PESA", "MPESA".
        (
            "/payment_channel",
            Some(json!("Bitcoin")),
            "Payment channel is invalid: an STK push goes through M-PESA: send \"M-PESA STK Push\"",
        ),
        (
            "/amount/value",
            Some(json!("10.50")),
            "Amount must be a whole number of shillings: M-PESA moves no cents",
        ),
        (
            "/_links/callback_url",
            Some(json!("not a url")),
            "Callback url is invalid",
        ),
        (
            "/_links/callback_url",
            Some(json!("ftp://example.com/cb")),
            "Callback url is invalid",
        ),
        (
            "/subscriber/first_name",
            Some(json!(5)),
            "Invalid value for subscriber.first_name: invalid type: integer `5`, expected a string",
        ),
    ];
    for (pointer, value, message) in cases {
        let case = format!("{pointer} = {value:?}");
        let body = with_field(stk_request("http://127.0.0.1:9/cb"), pointer, value);
        let response = app.create_incoming_payment(&token, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{case}");
        let error: Value = response.json().await.expect("json");
        assert_eq!(error["error_code"], 400, "{case}");
        // serde's messages end with the position ("at line 1 column 99").
        let text = error["error_message"].as_str().expect("message");
        assert!(
            text == message || text.starts_with(&format!("{message} at line")),
            "{case}: {text}"
        );
    }
    // A callback URL at the top level: the error says where it goes.
    let mut misplaced = with_field(stk_request("http://127.0.0.1:9/cb"), "/_links", None);
    misplaced["callback_url"] = json!("http://127.0.0.1:9/cb");
    let (status, error) = app
        .rejected("/api/v2/incoming_payments", &token, &misplaced)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error_message"],
        "Callback url can't be blank: it goes in _links.callback_url, not at the top level"
    );
    // Every spelling of M-PESA the reference and the SDKs use is accepted.
    for channel in ["M-PESA STK Push", "M-PESA", "MPESA", "mpesa"] {
        let body = with_field(
            stk_request("http://127.0.0.1:9/cb"),
            "/payment_channel",
            Some(json!(channel)),
        );
        let response = app.create_incoming_payment(&token, &body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{channel}");
    }
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404_in_json() {
    let app = spawn_app().await;
    let token = app.token().await;
    for id in ["2d5f0a4e-8b9c-4c8e-9d5e-2f1b3a4c5d6e", "not-a-uuid"] {
        let response = app
            .get_with_token(&app.url(&format!("/api/v2/incoming_payments/{id}")), &token)
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.json::<Value>().await.expect("json"),
            json!({"error_code": 404, "error_message": "Incoming payment not found"})
        );
    }
}

#[tokio::test]
async fn locations_follow_the_host_header_unless_a_public_url_is_set() {
    let app = spawn_app().await;
    let token = app.token().await;
    let response = app
        .client
        .post(app.url("/api/v2/incoming_payments"))
        .bearer_auth(&token)
        .header("host", "k2:8080")
        .json(&stk_request("http://127.0.0.1:9/cb"))
        .send()
        .await
        .expect("send");
    assert!(location(&response).starts_with("http://k2:8080/api/v2/incoming_payments/"));

    let fixed = spawn_snapshot_app().await;
    let token = fixed.token().await;
    let location = fixed.stk_push(&token, "http://127.0.0.1:9/cb").await;
    assert!(location.starts_with("http://k2-sandbox.test/api/v2/incoming_payments/"));
}
