use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn push(app: &TestApp, token: &str, phone: &str, callback: &str) -> String {
    let mut request = stk_request(callback);
    request["subscriber"]["phone_number"] = json!(phone);
    app.create("/api/v2/incoming_payments", token, &request)
        .await
}

async fn answer(app: &TestApp, target: &str, answer: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/_sandbox/prompts/{target}/{answer}")))
        .send()
        .await
        .expect("answer")
}

#[tokio::test]
async fn magic_numbers_fail_with_the_subscribers_result_text() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let cases = [
        ("+254700000001", "Request cancelled by user"),
        ("+254700000002", "The initiator information is invalid."),
        ("+254700000003", "Transaction has expired"),
        ("+254700000004", "DS timeout user cannot be reached"),
        (
            "+254700000005",
            "The balance is insufficient for the transaction",
        ),
    ];
    let mut locations = Vec::new();
    for (phone, _) in cases {
        locations.push(push(&app, &token, phone, &receiver.url).await);
    }
    app.advance("1s").await;
    for (location, (phone, error)) in locations.iter().zip(cases) {
        let document = app.get_json(location, &token).await;
        let attributes = &document["data"]["attributes"];
        assert_eq!(attributes["status"], "Failed", "{phone}");
        assert_eq!(attributes["event"]["resource"], Value::Null, "{phone}");
        assert_eq!(attributes["event"]["errors"], json!([error]), "{phone}");
        assert_same_shape(&document, &fixture("incoming_payment_failed"));
    }
    let callbacks = receiver.wait_for(5).await;
    assert!(
        callbacks.iter().all(|c| c.signature_verifies(API_KEY)
            && c.json()["data"]["attributes"]["status"] == "Failed")
    );
    // A failed push moves no money.
    assert!(app.balances().await["tills"].get("K000000").is_none());
}

#[tokio::test]
async fn a_manual_phone_waits_for_an_answer_from_the_control_plane() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let location = push(&app, &token, "0700000009", "http://127.0.0.1:9/cb").await;
    app.advance("5s").await;
    assert_eq!(
        app.get_json(&location, &token).await["data"]["attributes"]["status"],
        "Pending"
    );

    let prompts: Value = app
        .client
        .get(app.url("/_sandbox/prompts?phone=0700000009"))
        .send()
        .await
        .expect("prompts")
        .json()
        .await
        .expect("json");
    let prompt = &prompts["prompts"][0];
    assert_eq!(prompt["phone_number"], "+254700000009");
    assert_eq!(prompt["amount"], "20000.0");
    assert_eq!(prompt["behaviour"], "manual");
    assert_eq!(location.rsplit('/').next(), prompt["id"].as_str());

    // Answer by phone number: the phone's latest prompt.
    let response = answer(&app, "+254700000009", "pay").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.expect("json")["status"],
        "Success"
    );
    assert_eq!(
        app.get_json(&location, &token).await["data"]["attributes"]["status"],
        "Success"
    );

    let again = answer(&app, location.rsplit('/').next().expect("id"), "cancel").await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_unanswered_prompt_expires_after_the_stk_timeout() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let location = push(&app, &token, "+254700000009", "http://127.0.0.1:9/cb").await;
    app.advance("59s").await;
    assert_eq!(
        app.get_json(&location, &token).await["data"]["attributes"]["status"],
        "Pending"
    );
    app.advance("1s").await;
    let document = app.get_json(&location, &token).await;
    assert_eq!(document["data"]["attributes"]["status"], "Failed");
    assert_eq!(
        document["data"]["attributes"]["event"]["errors"],
        json!(["Transaction has expired"])
    );
}

#[tokio::test]
async fn any_number_can_be_told_how_to_answer() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let set = app
        .client
        .put(app.url("/_sandbox/handsets/0712345678"))
        .json(&json!({"behaviour": "wrong-pin"}))
        .send()
        .await
        .expect("set");
    assert_eq!(set.status(), StatusCode::OK);
    let location = push(&app, &token, "+254712345678", "http://127.0.0.1:9/cb").await;
    app.advance("1s").await;
    let document = app.get_json(&location, &token).await;
    assert_eq!(
        document["data"]["attributes"]["event"]["errors"],
        json!(["The initiator information is invalid."])
    );

    let listed = app.control("/_sandbox/handsets").await;
    assert_eq!(
        listed["settings"],
        json!([{"phone_number": "+254712345678", "behaviour": "wrong_pin", "client_id": null}])
    );

    let bad = app
        .client
        .put(app.url("/_sandbox/handsets/0712345678"))
        .json(&json!({"behaviour": "dance"}))
        .send()
        .await
        .expect("set");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let unknown = answer(&app, "0799999999", "pay").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn applications_sharing_a_sandbox_set_and_answer_their_own_phones() {
    let app = spawn_shared_app().await;
    let alice = app.token_of("ci-job-alice", "a").await;
    let bob = app.token_of("ci-job-bob", "b").await;

    // Alice's customer cancels; Bob's, on the same number, waits for a manual answer.
    for (client_id, behaviour) in [("ci-job-alice", "cancel"), ("ci-job-bob", "manual")] {
        let set = app
            .client
            .put(app.url("/_sandbox/handsets/0712345678"))
            .json(&json!({"behaviour": behaviour, "client_id": client_id}))
            .send()
            .await
            .expect("set");
        assert_eq!(set.status(), StatusCode::OK);
    }
    let bobs_first = push(&app, &bob, "+254712345678", "http://127.0.0.1:9/cb").await;
    let alices = push(&app, &alice, "+254712345678", "http://127.0.0.1:9/cb").await;
    let bobs_second = push(&app, &bob, "+254712345678", "http://127.0.0.1:9/cb").await;
    app.advance("1s").await;
    let status = |d: &Value| d["data"]["attributes"]["status"].clone();
    assert_eq!(status(&app.get_json(&alices, &alice).await), "Failed");
    assert_eq!(status(&app.get_json(&bobs_first, &bob).await), "Pending");

    // Answering by phone for Bob finds Bob's latest prompt, whoever pushed last.
    let third = push(&app, &alice, "+254712345678", "http://127.0.0.1:9/cb").await;
    let answered: Value = app
        .client
        .post(app.url("/_sandbox/prompts/0712345678/pay?client_id=ci-job-bob"))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    assert_eq!(answered["status"], "Success");
    assert_eq!(
        bobs_second.rsplit('/').next(),
        answered["id"].as_str(),
        "{answered}"
    );
    assert_eq!(status(&app.get_json(&bobs_first, &bob).await), "Pending");
    assert_eq!(status(&app.get_json(&third, &alice).await), "Pending");

    // A reset of Bob's world forgets his setting, not Alice's.
    let reset = app
        .client
        .post(app.url("/_sandbox/reset?client_id=ci-job-bob"))
        .send()
        .await
        .expect("reset");
    assert_eq!(reset.status(), StatusCode::OK);
    let listed = app.control("/_sandbox/handsets").await;
    assert_eq!(
        listed["settings"],
        json!([{"phone_number": "+254712345678", "behaviour": "cancel", "client_id": "ci-job-alice"}])
    );

    let ghost = app
        .client
        .put(app.url("/_sandbox/handsets/0712345678"))
        .json(&json!({"behaviour": "pay", "client_id": "nobody"}))
        .send()
        .await
        .expect("set");
    assert_eq!(ghost.status(), StatusCode::NOT_FOUND);
}
