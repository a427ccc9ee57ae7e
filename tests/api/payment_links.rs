use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const LINKS: &str = "/api/v2/payment_links";

fn link_request(callback: &str) -> Value {
    json!({"till_number": "112233", "currency": "KES", "amount": 350, "payment_reference": "daud",
           "note": "Notes", "metadata": {"something": "test", "something_else": "Test data"}, "_links": {"callback_url": callback}})
}

async fn cancel(app: &TestApp, location: &str, token: &str) -> reqwest::Response {
    // Clients send an empty body with a JSON content type.
    app.client
        .post(format!("{location}/cancel"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .send()
        .await
        .expect("cancel")
}

#[tokio::test]
async fn a_link_is_active_for_seven_days_and_can_be_cancelled_once() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let location = app
        .create(LINKS, &token, &link_request(&receiver.url))
        .await;

    let active = app.get_json(&location, &token).await;
    let attributes = &active["data"]["attributes"];
    assert_eq!(attributes["payment_link"]["status"], "Active");
    assert_eq!(
        attributes["payment_link"]["expires_at"],
        "2026-05-08T10:00:00.000+03:00"
    );
    assert_eq!(attributes["amount"], 350);
    assert!(
        attributes["payment_link"]["link"]
            .as_str()
            .expect("link")
            .starts_with(&app.url("/links/"))
    );

    let response = cancel(&app, &location, &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.expect("json"),
        json!({"message": "Payment link cancelled."})
    );
    let callback = receiver.wait_for(1).await.remove(0);
    assert!(callback.signature_verifies(API_KEY));
    assert_eq!(
        callback.json()["data"]["attributes"]["payment_link"]["status"],
        "Cancelled"
    );

    let again = cancel(&app, &location, &token).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        again.json::<Value>().await.expect("json")["error_message"],
        "Only active payment links can be cancelled."
    );

    let unknown = cancel(
        &app,
        &app.url("/api/v2/payment_links/2eab4ca0-1724-4c90-a734-0fb5ffc4391c"),
        &token,
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.json::<Value>().await.expect("json"),
        json!({"error_code": 404, "error_message": "Payment link not found"})
    );
}

#[tokio::test]
async fn an_unpaid_link_expires_after_seven_days() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let location = app
        .create(LINKS, &token, &link_request(&receiver.url))
        .await;

    app.advance("6d").await;
    assert!(receiver.received().is_empty());
    app.advance("1d").await;
    let callback = receiver.wait_for(1).await.remove(0);
    assert_eq!(
        callback.json()["data"]["attributes"]["payment_link"]["status"],
        "Expired"
    );
    let token = app.token().await; // the first one expired days ago
    assert_eq!(
        app.get_json(&location, &token).await["data"]["attributes"]["payment_link"]["status"],
        "Expired"
    );
}

#[tokio::test]
async fn a_customer_pays_a_link_on_its_page() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let location = app
        .create(LINKS, &token, &link_request(&receiver.url))
        .await;
    let link = app.get_json(&location, &token).await["data"]["attributes"]["payment_link"]["link"]
        .as_str()
        .expect("link")
        .to_string();

    let page = app.client.get(&link).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("html").contains("KES 350.0"));

    let paid = app
        .client
        .post(&link)
        .form(&[("phone_number", "0712345678")])
        .send()
        .await
        .expect("pay");
    assert_eq!(paid.status(), StatusCode::OK);

    let callback = receiver.wait_for(1).await.remove(0);
    assert!(callback.signature_verifies(API_KEY));
    let body = callback.json();
    let view = &body["data"]["attributes"]["payment_link"];
    assert_eq!(view["status"], "Paid");
    assert_eq!(view["sender_phone_number"], "+254712345678");
    assert!(view["transaction_reference"].as_str().is_some());
    assert_same_shape(&body, &fixture("payment_link_paid"));
    assert_eq!(app.balances().await["tills"]["112233"], "1000350.0");

    let twice = app
        .client
        .post(&link)
        .form(&[("phone_number", "0712345678")])
        .send()
        .await
        .expect("pay");
    assert_eq!(twice.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn invalid_links_get_400s() {
    let app = spawn_app().await;
    let token = app.token().await;
    let mut no_till = link_request("http://127.0.0.1:9/cb");
    no_till["till_number"] = Value::Null;
    let mut no_amount = link_request("http://127.0.0.1:9/cb");
    no_amount["amount"] = Value::Null;
    for (body, message) in [
        (no_till, "Till number can't be blank"),
        (no_amount, "Amount can't be blank"),
    ] {
        let (status, error) = app.rejected(LINKS, &token, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error["error_message"], message);
    }
}

#[tokio::test]
async fn the_control_plane_can_pay_a_link_as_a_customer() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let location = app
        .create(LINKS, &token, &link_request("http://127.0.0.1:9/cb"))
        .await;
    let id = location.rsplit('/').next().expect("id");
    let pay = |phone: &str| {
        app.client
            .post(app.url(&format!("/_sandbox/payment_links/{id}/pay")))
            .json(&json!({"phone_number": phone}))
            .send()
    };
    let paid = pay("+254712345678").await.expect("pay");
    assert_eq!(paid.status(), StatusCode::OK);
    let view = &app.get_json(&location, &token).await["data"]["attributes"]["payment_link"];
    assert_eq!(view["status"], "Paid");
    assert_eq!(view["sender_phone_number"], "+254712345678");
    assert_eq!(
        pay("+254712345678").await.expect("pay").status(),
        StatusCode::BAD_REQUEST
    );
}
