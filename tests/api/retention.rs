//! Retention keeps memory bounded: each application keeps its newest finished items up to
//! `--retention`, never evicts pending work, says "evicted" for what it dropped; tokens and
//! idle auto-tenants are dropped too; control-plane lists come a page at a time.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const STK: &str = "/api/v2/incoming_payments";

async fn retaining(n: usize) -> TestApp {
    spawn_app_with(|args| {
        args.retention = n;
        args.clock = Some(FIXED_CLOCK.parse().expect("clock"));
        args.callback_delay_ms = RESULT_DELAY_MS;
    })
    .await
}

#[tokio::test]
async fn the_oldest_finished_resources_are_evicted_and_say_so() {
    let app = retaining(3).await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let mut locations = Vec::new();
    for i in 0..5 {
        locations.push(app.create(STK, &token, &stk_request(&receiver.url)).await);
        // Each one finishes, its callback delivered, before the next arrives.
        app.advance("2s").await;
        receiver.wait_for(i + 1).await;
    }
    for kept in &locations[2..] {
        let response = app.get_with_token(kept, &token).await;
        assert_eq!(response.status(), StatusCode::OK, "{kept}");
    }
    for evicted in &locations[..2] {
        let response = app.get_with_token(evicted, &token).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body: Value = response.json().await.expect("json");
        assert_eq!(
            body,
            json!({"error_code": 404, "error_message": "Incoming payment was evicted by retention: \
                the sandbox keeps the newest 3 of each application (--retention)"})
        );
    }
    // An id that never existed is still just not found.
    let unknown = format!(
        "{}/api/v2/incoming_payments/{}",
        app.base,
        uuid::Uuid::new_v4()
    );
    let body: Value = app
        .get_with_token(&unknown, &token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["error_message"], "Incoming payment not found");
    // The delivery log and the ledger are held to the same cap.
    assert!(app.deliveries().await.len() <= 3);
    let ledger = app.control("/_sandbox/ledger?limit=1000").await;
    assert_eq!(ledger["entries"].as_array().expect("entries").len(), 3);
}

#[tokio::test]
async fn pending_work_is_never_evicted() {
    let app = retaining(2).await;
    let token = app.token().await;
    let mut locations = Vec::new();
    for _ in 0..5 {
        locations.push(
            app.create(STK, &token, &stk_request("http://127.0.0.1:9/cb"))
                .await,
        );
    }
    // Nothing has fallen due: all five are pending, and all five are there.
    for location in &locations {
        let document = app.get_json(location, &token).await;
        assert_eq!(document["data"]["attributes"]["status"], "Pending");
    }
    // Once they finish, later creates evict them (after the second chance their reads
    // above earned them).
    app.advance("2s").await;
    for _ in 0..10 {
        app.create(STK, &token, &stk_request("http://127.0.0.1:9/cb"))
            .await;
    }
    let response = app.get_with_token(&locations[0], &token).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn retention_is_per_application() {
    let app = retaining(2).await;
    let token = app.token().await;
    let other = app.token_of(OTHER_CLIENT_ID, OTHER_CLIENT_SECRET).await;
    let theirs = app
        .create(STK, &other, &stk_request("http://127.0.0.1:9/cb"))
        .await;
    for _ in 0..4 {
        app.create(STK, &token, &stk_request("http://127.0.0.1:9/cb"))
            .await;
        app.advance("2s").await;
    }
    assert_eq!(
        app.get_with_token(&theirs, &other).await.status(),
        StatusCode::OK
    );
}

/// A token in use is not the one the cap drops: each time it comes up it is kept if it
/// authenticated a request since the last time, and dropped once it did not.
#[tokio::test]
async fn a_token_in_use_outlives_the_tokens_asked_for_after_it() {
    let app = retaining(1).await; // ten live tokens
    let answer = |token: String| {
        let app = &app;
        async move {
            app.get_with_token(&app.url("/api/v2/incoming_payments/x"), &token)
                .await
                .status()
        }
    };
    let held = app.token().await;
    let unused = app.token().await;
    assert_ne!(answer(held.clone()).await, StatusCode::UNAUTHORIZED);
    // Ten more: when `held`, the oldest, comes up it was used, so it is kept (and its mark
    // taken) and `unused` goes in its place.
    for _ in 0..10 {
        app.token().await;
    }
    assert_eq!(answer(unused).await, StatusCode::UNAUTHORIZED);
    // Used (by that request) when it comes up again ten tokens later: kept again.
    assert_ne!(answer(held.clone()).await, StatusCode::UNAUTHORIZED);
    for _ in 0..10 {
        app.token().await;
    }
    // Not used when its turn comes round once more: dropped.
    for _ in 0..10 {
        app.token().await;
    }
    assert_eq!(answer(held).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn tokens_past_the_cap_and_long_ended_ones_are_dropped() {
    // Ten live tokens per item of retention: the 31st pushes out the first.
    let app = retaining(3).await;
    let first = app.token().await;
    for _ in 0..30 {
        app.token().await;
    }
    let response = app
        .get_with_token(&app.url("/api/v2/incoming_payments/x"), &first)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(challenge.contains("invalid"), "{challenge}");

    // Expired tokens say "expired" for an hour, then are swept away.
    let token = app.token().await;
    app.advance("61m").await;
    let expired = app
        .get_with_token(&app.url("/api/v2/incoming_payments/x"), &token)
        .await;
    assert!(
        expired.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .contains("expired")
    );
    app.advance("61m").await;
    k2_sandbox::housekeep(&app.state);
    let swept = app
        .get_with_token(&app.url("/api/v2/incoming_payments/x"), &token)
        .await;
    let challenge = swept.headers()["www-authenticate"].to_str().expect("ascii");
    assert!(!challenge.contains("expired"), "{challenge}");
}

#[tokio::test]
async fn idle_auto_tenants_are_dropped_and_the_cap_replaces_the_least_used() {
    let app = spawn_app_with(|args| {
        args.auto_tenants = true;
        args.max_tenants = 2;
        args.tenant_ttl = 1;
    })
    .await;
    let a = app.token_of("job-a", "secret-a").await;
    let _b = app.token_of("job-b", "secret-b").await;
    // A third tenant replaces the one unused the longest: job-a.
    let _c = app.token_of("job-c", "secret-c").await;
    let gone = app
        .get_with_token(&app.url("/api/v2/incoming_payments/x"), &a)
        .await;
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);

    // Past the TTL with no use, a tenant goes with everything it had.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let d = app.token_of("job-d", "secret-d").await;
    k2_sandbox::housekeep(&app.state);
    assert!(app.state.store.application("job-b").is_none());
    assert!(app.state.store.application("job-c").is_none());
    assert!(app.state.store.application("job-d").is_some());
    let kept = app
        .get_with_token(&app.url("/api/v2/incoming_payments/x"), &d)
        .await;
    assert_eq!(
        kept.status(),
        StatusCode::NOT_FOUND,
        "job-d is still served"
    );
    // The configured application is never an auto-tenant.
    assert!(app.state.store.application(CLIENT_ID).is_some());
}

#[tokio::test]
async fn control_plane_lists_come_newest_first_a_page_at_a_time() {
    let app = retaining(100).await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    for _ in 0..5 {
        app.create(STK, &token, &stk_request(&receiver.url)).await;
    }
    app.advance("2s").await;
    receiver.wait_for(5).await;

    let first = app.control("/_sandbox/callbacks?limit=2").await;
    let page: Vec<i64> = first["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| d["attempts"].as_array().map_or(0, |a| a.len() as i64))
        .collect();
    assert_eq!(page.len(), 2);
    let cursor = first["next_cursor"].as_str().expect("a cursor").to_string();
    let second = app
        .control(&format!("/_sandbox/callbacks?limit=2&cursor={cursor}"))
        .await;
    let third = app
        .control(&format!(
            "/_sandbox/callbacks?limit=2&cursor={}",
            second["next_cursor"].as_str().expect("a cursor")
        ))
        .await;
    assert_eq!(third["deliveries"].as_array().expect("d").len(), 1);
    assert_eq!(third["next_cursor"], Value::Null);
    let ids = |v: &Value| -> Vec<String> {
        v["deliveries"]
            .as_array()
            .expect("d")
            .iter()
            .map(|d| d["id"].as_str().expect("id").to_string())
            .collect()
    };
    let mut all = ids(&first);
    all.extend(ids(&second));
    all.extend(ids(&third));
    let oldest_first: Vec<String> = app
        .deliveries()
        .await
        .iter()
        .map(|d| d["id"].as_str().expect("id").to_string())
        .rev()
        .collect();
    assert_eq!(
        all, oldest_first,
        "pages cover the log, newest first, once each"
    );

    let delivered = app
        .control("/_sandbox/callbacks?status=delivered&limit=1000")
        .await;
    assert_eq!(delivered["deliveries"].as_array().expect("d").len(), 5);
    let pending = app.control("/_sandbox/callbacks?status=pending").await;
    assert_eq!(pending["deliveries"].as_array().expect("d").len(), 0);
    let requests = app.control("/_sandbox/requests?limit=3").await;
    assert_eq!(requests["requests"].as_array().expect("r").len(), 3);
    assert!(requests["next_cursor"].is_string());

    for bad in [
        "/_sandbox/callbacks?limit=1001",
        "/_sandbox/callbacks?limit=0",
        "/_sandbox/callbacks?cursor=abc",
        "/_sandbox/callbacks?status=lost",
        "/_sandbox/sms?since=yesterday",
    ] {
        let response = app.client.get(app.url(bad)).send().await.expect("send");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error_code"], 400, "{bad}");
    }
}

#[tokio::test]
async fn a_resource_a_client_keeps_reading_is_kept_past_the_cap() {
    let app = retaining(2).await;
    let token = app.token().await;
    let polled = app
        .create(STK, &token, &stk_request("http://127.0.0.1:9/cb"))
        .await;
    app.advance("2s").await;
    for _ in 0..6 {
        // Read between every insert: a second chance each time retention looks at it.
        assert_eq!(
            app.get_with_token(&polled, &token).await.status(),
            StatusCode::OK
        );
        app.create(STK, &token, &stk_request("http://127.0.0.1:9/cb"))
            .await;
        app.advance("2s").await;
    }
    // Left alone, it goes like any other.
    for _ in 0..4 {
        app.create(STK, &token, &stk_request("http://127.0.0.1:9/cb"))
            .await;
        app.advance("2s").await;
    }
    assert_eq!(
        app.get_with_token(&polled, &token).await.status(),
        StatusCode::NOT_FOUND
    );
}
