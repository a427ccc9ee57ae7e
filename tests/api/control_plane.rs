use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn health_reports_ok_and_the_version() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/_sandbox/health"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.expect("json"),
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
}

#[tokio::test]
async fn reset_forgets_resources_and_deliveries_but_keeps_tokens() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let location = app.stk_push(&token, "http://127.0.0.1:9/cb").await;
    app.advance("1s").await;
    assert_eq!(app.deliveries().await.len(), 1);

    let response = app
        .client
        .post(app.url("/_sandbox/reset"))
        .send()
        .await
        .expect("reset");
    assert_eq!(response.status(), StatusCode::OK);

    assert!(app.deliveries().await.is_empty());
    assert_eq!(
        app.get_with_token(&location, &token).await.status(),
        StatusCode::NOT_FOUND
    );
    // Retries of the forgotten delivery no longer run.
    assert_eq!(app.advance("1h").await["pending_jobs"], 0);
    assert!(app.deliveries().await.is_empty());
}

#[tokio::test]
async fn the_clock_can_be_read_and_advanced() {
    let app = spawn_virtual_app().await;
    let clock: Value = app
        .client
        .get(app.url("/_sandbox/clock"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        clock,
        json!({"now": "2026-05-01T10:00:00.000+03:00", "virtual": true, "pending_jobs": 0})
    );

    let advanced = app.advance("1d 2h").await;
    assert_eq!(advanced["now"], "2026-05-02T12:00:00.000+03:00");

    let bad = app
        .client
        .post(app.url("/_sandbox/clock/advance"))
        .json(&json!({"by": "soon"}))
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.json::<Value>().await.expect("json")["error_code"], 400);
}

#[tokio::test]
async fn shutdown_returns_cleanly_after_delivering_what_is_due() {
    let app = spawn_app_with(|args| args.callback_delay_ms = 50).await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let token = app.token().await;
    app.stk_push(&token, &receiver.url).await;

    // Stop at once: the result falls due during the grace period and is still delivered.
    app.shutdown().await.expect("clean shutdown");
    assert_eq!(receiver.received().len(), 1);
}
