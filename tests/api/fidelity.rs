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
