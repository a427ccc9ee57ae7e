//! Our documents against the reference's JSON examples (`fixtures/`), key by key.

use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn oauth_responses_have_the_references_shape() {
    let app = spawn_app().await;
    let response = app
        .request_token_with(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("grant_type", "client_credentials"),
        ])
        .await;
    let token_response: Value = response.json().await.expect("json");
    assert_same_shape(&token_response, &fixture("token"));
    let token = token_response["access_token"].as_str().expect("token");

    let introspection: Value = app
        .client
        .post(app.url("/oauth/introspect"))
        .json(&json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token": token}))
        .send()
        .await
        .expect("introspect")
        .json()
        .await
        .expect("json");
    assert_same_shape(&introspection, &fixture("token_introspection"));

    let info: Value = app
        .client
        .get(app.url("/oauth/token/info"))
        .bearer_auth(token)
        .send()
        .await
        .expect("info")
        .json()
        .await
        .expect("json");
    assert_same_shape(&info, &fixture("token_info"));
}

#[tokio::test]
async fn incoming_payment_documents_and_callback_have_the_references_shape() {
    let app = spawn_virtual_app().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let token = app.token().await;
    let location = app.stk_push(&token, &receiver.url).await;

    assert_same_shape(
        &app.get_json(&location, &token).await,
        &fixture("incoming_payment_pending"),
    );

    app.advance("1s").await;
    assert_same_shape(
        &app.get_json(&location, &token).await,
        &fixture("incoming_payment_success"),
    );
    let callback = receiver.wait_for(1).await.remove(0);
    assert_same_shape(&callback.json(), &fixture("incoming_payment_success"));
}

/// The bytes Rails writes: `<`, `>`, `&`, U+2028 and U+2029 escaped inside strings, in the
/// callback (signed over exactly those bytes), the GET and a webhook event alike
/// (docs/fidelity.md). A Rails receiver that re-serialises the parsed body gets them back.
#[tokio::test]
async fn documents_escape_what_rails_escapes_and_are_signed_as_sent() {
    let app = spawn_app().await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let mut request = stk_request(&receiver.url);
    request["metadata"] = json!({"note": "Fish & chips <b>\u{2028}\u{2029}", "city": "Nairobi €"});
    let location = location(&app.create_incoming_payment(&token, &request).await);
    let callback = receiver.wait_for(1).await.remove(0);
    let text = std::str::from_utf8(&callback.body).expect("UTF-8");
    assert!(
        text.contains(r#""note":"Fish \u0026 chips \u003cb\u003e\u2028\u2029","city":"Nairobi €""#),
        "{text}"
    );
    assert!(callback.signature_verifies(API_KEY));
    assert_eq!(
        callback.json()["data"]["attributes"]["metadata"],
        request["metadata"]
    );
    let got = app
        .get_with_token(&location, &token)
        .await
        .bytes()
        .await
        .expect("body");
    assert_eq!(
        got, callback.body,
        "the GET shows the bytes the callback sent"
    );
}
