use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn status_and_body(response: reqwest::Response) -> (StatusCode, Value, Option<String>) {
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_string());
    (status, response.json().await.expect("json"), challenge)
}

#[tokio::test]
async fn api_routes_reject_missing_malformed_and_unknown_tokens() {
    let app = spawn_app().await;
    let url = app.url("/api/v2/incoming_payments");
    let body = stk_request("http://127.0.0.1:9/cb");

    let missing = app
        .client
        .post(&url)
        .json(&body)
        .send()
        .await
        .expect("send");
    let malformed = app
        .client
        .post(&url)
        .header("authorization", "Token abc")
        .json(&body)
        .send()
        .await
        .expect("send");
    let unknown = app
        .post_json("/api/v2/incoming_payments", "not-a-token", &body)
        .await;

    for (response, message) in [
        (
            missing,
            "Authorization header is missing: send Authorization: Bearer <access_token>",
        ),
        (
            malformed,
            "Authorization header is malformed: expected Bearer <access_token>",
        ),
        (unknown, "The access token is invalid"),
    ] {
        let (status, body, challenge) = status_and_body(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, json!({"error_code": 401, "error_message": message}));
        assert!(challenge.is_some_and(|c| c.starts_with("Bearer ")));
    }
}

#[tokio::test]
async fn authentication_is_checked_before_the_body() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v2/incoming_payments"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn any_accept_header_is_served_json() {
    let app = spawn_app().await;
    let token = app.token().await;
    let location = app.stk_push(&token, "http://127.0.0.1:9/cb").await;
    for accept in [
        Some("application/vnd.kopokopo.v4.hal+json"),
        Some("application/json"),
        Some("*/*"),
        None,
    ] {
        let mut request = app.client.get(&location).bearer_auth(&token);
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        // The Python SDK sends a JSON content type on body-less GETs too.
        let response = request
            .header("content-type", "application/json")
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::OK, "{accept:?}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("application/json")
        );
    }
}
