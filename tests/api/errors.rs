use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn error_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json"),
        "errors are JSON"
    );
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn unknown_routes_are_404_json() {
    let app = spawn_app().await;
    let (status, body) = error_of(
        app.client
            .get(app.url("/api/v2/nothing"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"error_code": 404, "error_message": "No route for GET /api/v2/nothing"})
    );
}

#[tokio::test]
async fn a_query_or_path_that_does_not_parse_is_400_json() {
    let app = spawn_app().await;
    let token = app.token().await;
    let (status, body) = error_of(
        app.client
            .get(app.url("/_sandbox/requests?limit=-1"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error_code": 400,
            "error_message": "Failed to deserialize query string: limit: invalid digit found in string"})
    );

    let (status, body) = error_of(
        app.client
            .get(app.url("/api/v2/incoming_payments/%FF"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_code"], 400);
    assert!(
        body["error_message"]
            .as_str()
            .is_some_and(|m| m.contains("UTF-8")),
        "{body}"
    );
}

#[tokio::test]
async fn a_wrong_method_is_405_json() {
    let app = spawn_app().await;
    let (status, body) = error_of(
        app.client
            .delete(app.url("/api/v2/incoming_payments"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        body,
        json!({"error_code": 405, "error_message": "Method not allowed"})
    );
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let token = app.token().await;
    let response = app
        .client
        .post(app.url("/api/v2/incoming_payments"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(r#"{"payment_channel": "#)
        .send()
        .await
        .expect("send");
    let (status, body) = error_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = body["error_message"].as_str().expect("message");
    assert!(
        message.starts_with("Invalid JSON in request body: EOF while parsing"),
        "{message}"
    );
}

#[tokio::test]
async fn an_empty_or_non_object_body_is_400() {
    let app = spawn_app().await;
    let token = app.token().await;
    for body in ["", "[]", "42"] {
        let response = app
            .client
            .post(app.url("/api/v2/incoming_payments"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("send");
        let (status, json) = error_of(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
        let message = if body.is_empty() {
            "Request body can't be blank: send a JSON object"
        } else {
            "Request body must be a JSON object"
        };
        assert_eq!(
            json,
            json!({"error_code": 400, "error_message": message}),
            "{body:?}"
        );
    }
}

#[tokio::test]
async fn a_non_json_content_type_is_415() {
    let app = spawn_app().await;
    let token = app.token().await;
    let response = app
        .client
        .post(app.url("/api/v2/incoming_payments"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("send");
    let (status, body) = error_of(response).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        body,
        json!({"error_code": 415, "error_message": "Unsupported content type text/plain: send application/json"})
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app_with(|args| args.max_body_bytes = 1024).await;
    let token = app.token().await;
    let mut request = stk_request("http://127.0.0.1:9/cb");
    request["metadata"] = json!({"notes": "x".repeat(2048)});
    let (status, body) = error_of(app.create_incoming_payment(&token, &request).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body,
        json!({"error_code": 413, "error_message": "Request body is too large: the limit is 1024 bytes"})
    );

    // The OAuth endpoints keep the status, in OAuth's error shape.
    let big = "x".repeat(2048);
    let response = app
        .request_token_with(&[("client_id", CLIENT_ID), ("client_secret", big.as_str())])
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn an_oauth_body_of_an_unknown_type_is_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .header("content-type", "text/xml")
        .body("<creds/>")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn every_response_carries_the_version_header() {
    let app = spawn_app().await;
    for path in ["/_sandbox/health", "/nowhere"] {
        let response = app.client.get(app.url(path)).send().await.expect("send");
        assert_eq!(
            response.headers()["x-k2-sandbox-version"],
            env!("CARGO_PKG_VERSION")
        );
    }
}

/// Every leaf of a valid request, replaced by values a confused client might send.
fn variants(body: &Value) -> Vec<Value> {
    let weird = [
        json!(null),
        json!(""),
        json!(-1),
        json!(1e308),
        json!("1e400"),
        json!("99999999999999999999999999999999"),
        json!("NaN"),
        json!(true),
        json!([]),
        json!({}),
        json!("\u{0}"),
        json!("😀"),
        json!("x".repeat(10_000)),
    ];
    fn leaves(value: &Value, path: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    out.push(format!("{path}/{k}"));
                    leaves(v, format!("{path}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    out.push(format!("{path}/{i}"));
                    leaves(v, format!("{path}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut paths = Vec::new();
    leaves(body, String::new(), &mut paths);
    let mut out = Vec::new();
    for path in &paths {
        for w in &weird {
            let mut v = body.clone();
            *v.pointer_mut(path).expect("a path of the body") = w.clone();
            out.push(v);
        }
    }
    out
}

#[tokio::test]
async fn no_value_a_client_sends_is_a_server_error() {
    let app = spawn_app().await;
    let token = app.token().await;
    let bodies = [
        (
            "/api/v2/incoming_payments",
            stk_request("http://127.0.0.1:9/cb"),
        ),
        (
            "/api/v2/send_money",
            json!({"destinations": [{"type": "mobile_wallet", "phone_number": "254712345678",
                "network": "Safaricom", "amount": 10, "description": "x"}],
                "metadata": {"a": 1}, "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        ),
        (
            "/api/v2/payment_links",
            json!({"till_number": "K000000", "currency": "KES", "amount": 100,
                "payment_reference": "r", "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        ),
    ];
    for (path, body) in bodies {
        for variant in variants(&body) {
            let response = app.post_json(path, &token, &variant).await;
            let status = response.status();
            assert!(
                status.is_success() || status.is_client_error(),
                "{path} {variant}: {status}"
            );
            if status.is_client_error() {
                let (_, error) = error_of(response).await;
                assert_eq!(error["error_code"], status.as_u16(), "{path} {variant}");
            }
        }
    }
}

/// The route lists (the API's, which scenario files are checked against, and the control
/// plane's, which `GET /_sandbox/` shows) are the router's: each listed route is served
/// (whatever it answers, it is not the router's 404 or 405).
#[tokio::test]
async fn every_listed_route_is_served() {
    let app = spawn_app().await;
    let control = k2_sandbox::routes::CONTROL.iter().map(|(m, p, _)| (*m, *p));
    let listed: Vec<(&str, &str)> = k2_sandbox::routes::API
        .iter()
        .copied()
        .chain(control)
        .collect();
    for (method, pattern) in listed {
        let path = pattern
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{target}", "0700000009")
            .replace("{answer}", "pay")
            .replace("{phone}", "0700000009")
            .replace("{name}", "qa");
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = app
            .client
            .request(method.clone(), app.url(&path))
            .send()
            .await
            .expect("send");
        let status = response.status();
        if path == "/_sandbox/stream" {
            // A stream never ends: it answered.
            assert_eq!(status, StatusCode::OK);
            continue;
        }
        let body = response.text().await.expect("body");
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(!body.contains("No route for"), "{method} {path}: {body}");
    }
}

#[tokio::test]
async fn the_control_plane_answers_an_index_of_its_routes() {
    let app = spawn_app().await;
    for path in ["/_sandbox/", "/_sandbox"] {
        let index = app.control(path).await;
        let routes = index["routes"].as_array().expect("routes");
        assert_eq!(routes.len(), k2_sandbox::routes::CONTROL.len());
        assert!(
            routes.contains(&json!({"method": "GET", "path": "/_sandbox/callbacks",
            "what": "the delivery log: every attempt, exact body and signature"}))
        );
        assert_eq!(index["version"], env!("CARGO_PKG_VERSION"));
    }
}
