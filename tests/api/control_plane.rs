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
        json!({"now": "2026-05-01T10:00:00.000+03:00", "virtual": true, "client_id": null, "advanced_ms": 0, "pending_jobs": 0})
    );

    let advanced = app.advance("1d 2h").await;
    assert_eq!(advanced["now"], "2026-05-02T12:00:00.000+03:00");

    let bad = app
        .post_control("/_sandbox/clock/advance", &json!({"by": "soon"}))
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.json::<Value>().await.expect("json")["error_code"], 400);

    // Beyond any calendar: refused, and the clock still answers.
    let far = app
        .post_control("/_sandbox/clock/advance", &json!({"by": "100000000000y"}))
        .await;
    assert_eq!(far.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        far.json::<Value>().await.expect("json"),
        json!({"error_code": 400,
            "error_message": "Duration \"100000000000y\" is too long: at most 100 years"})
    );
    assert_eq!(
        app.advance("0s").await["now"],
        "2026-05-02T12:00:00.000+03:00"
    );
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

#[tokio::test]
async fn the_journal_records_api_requests_with_their_bodies() {
    let app = spawn_app().await;
    let token = app.token().await;
    let (status, _) = app
        .rejected(
            "/api/v2/incoming_payments",
            &token,
            &json!({"till_number": "K1"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.stk_push(&token, "http://127.0.0.1:9/cb").await;

    let journal: Value = app
        .client
        .get(app.url("/_sandbox/requests?path=/api/v2/incoming_payments&status=400"))
        .send()
        .await
        .expect("journal")
        .json()
        .await
        .expect("json");
    let requests = journal["requests"].as_array().expect("list");
    assert_eq!(requests.len(), 1);
    let entry = &requests[0];
    assert_eq!(entry["method"], "POST");
    assert_eq!(entry["client_id"], CLIENT_ID);
    assert_eq!(entry["request_body"], r#"{"till_number":"K1"}"#);
    assert_eq!(
        entry["response_body"],
        r#"{"error_code":400,"error_message":"Payment channel can't be blank"}"#
    );

    let all: Value = app
        .client
        .get(app.url("/_sandbox/requests?limit=2"))
        .send()
        .await
        .expect("journal")
        .json()
        .await
        .expect("json");
    let paths: Vec<&str> = all["requests"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["path"].as_str().expect("path"))
        .collect();
    assert_eq!(
        paths,
        ["/api/v2/incoming_payments", "/api/v2/incoming_payments"]
    );
    // The control plane itself is not journaled.
    let cp: Value = app
        .client
        .get(app.url("/_sandbox/requests?path=/_sandbox"))
        .send()
        .await
        .expect("journal")
        .json()
        .await
        .expect("json");
    assert_eq!(cp["requests"], json!([]));
}

#[tokio::test]
async fn the_ledger_lists_every_movement_and_balances_can_be_set() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let set = app
        .client
        .put(app.url("/_sandbox/balances"))
        .json(&json!({"balance": "500"}))
        .send()
        .await
        .expect("set");
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(set.json::<Value>().await.expect("json")["company"], "500.0");
    paid_stk_push(&app, &token, "+254712345678", 100).await;

    let ledger: Value = app
        .client
        .get(app.url("/_sandbox/ledger"))
        .send()
        .await
        .expect("ledger")
        .json()
        .await
        .expect("json");
    let entries = ledger["entries"].as_array().expect("entries");
    // Newest first.
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["account"], "company");
    assert_eq!(entries[1]["memo"], "balance set");
    assert_eq!(entries[0]["account"], "till:K000000");
    assert_eq!(entries[0]["amount"], "100.0");
    assert_eq!(entries[0]["balance_after"], "1000100.0");
    assert_eq!(ledger["next_cursor"], Value::Null);
}

#[tokio::test]
async fn sent_sms_notifications_land_in_the_outbox() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let (_, event) = app_trigger(
        &app,
        json!({"type": "buygoods_transaction_received", "phone_number": "0712345678"}),
    )
    .await;
    app.create(
        "/api/v1/transaction_sms_notifications",
        &token,
        &json!({"webhook_event_reference": event["id"],
        "message": "Thank you for shopping", "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
    )
    .await;
    app.advance("1s").await;
    let outbox: Value = app
        .client
        .get(app.url("/_sandbox/sms?phone=0712345678"))
        .send()
        .await
        .expect("sms")
        .json()
        .await
        .expect("json");
    assert_eq!(outbox["messages"][0]["phone_number"], "+254712345678");
    assert_eq!(outbox["messages"][0]["message"], "Thank you for shopping");
}

async fn app_trigger(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/_sandbox/events"))
        .json(&body)
        .send()
        .await
        .expect("trigger");
    (response.status(), response.json().await.expect("json"))
}

#[tokio::test]
async fn a_delivery_can_be_replayed_byte_for_byte() {
    let app = spawn_virtual_app().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let token = app.token().await;
    app.stk_push(&token, &receiver.url).await;
    app.advance("1s").await;
    let original = app.deliveries().await[0]["id"]
        .as_str()
        .expect("id")
        .to_string();

    let response = app
        .client
        .post(app.url(&format!("/_sandbox/callbacks/{original}/replay")))
        .send()
        .await
        .expect("replay");
    assert_eq!(response.status(), StatusCode::CREATED);
    app.advance("0s").await;
    let received = receiver.wait_for(2).await;
    assert_eq!(received[0].body, received[1].body);
    assert_eq!(
        received[0].header("x-kopokopo-signature"),
        received[1].header("x-kopokopo-signature")
    );
    // A delivered result's body is let go and rendered again from its payment when asked:
    // the log shows, and the replay sent, exactly the bytes first received and signed.
    let log = app.deliveries().await;
    assert_eq!(log.len(), 2);
    for delivery in &log {
        assert_eq!(delivery["state"], "delivered");
        assert_eq!(
            delivery["body"].as_str().map(str::as_bytes),
            Some(&received[0].body[..])
        );
        assert_eq!(delivery["signature"], hmac_hex(API_KEY, &received[0].body));
    }
    let response = app
        .client
        .post(app.url(&format!(
            "/_sandbox/callbacks/{}/replay",
            log[0]["id"].as_str().expect("id")
        )))
        .send()
        .await
        .expect("replay of a replay");
    assert_eq!(response.status(), StatusCode::CREATED);
    app.advance("0s").await;
    assert_eq!(receiver.wait_for(3).await[2].body, received[0].body);

    let missing = app
        .client
        .post(app.url("/_sandbox/callbacks/00000000-0000-0000-0000-000000000000/replay"))
        .send()
        .await
        .expect("replay");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_clock_can_be_set_forward_but_not_back() {
    let app = spawn_virtual_app().await;
    let set = app
        .post_control(
            "/_sandbox/clock/set",
            &json!({"to": "2026-05-02T00:00:00+03:00"}),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(
        set.json::<Value>().await.expect("json")["now"],
        "2026-05-02T00:00:00.000+03:00"
    );
    let back = app
        .post_control(
            "/_sandbox/clock/set",
            &json!({"to": "2026-05-01T00:00:00+03:00"}),
        )
        .await;
    assert_eq!(back.status(), StatusCode::BAD_REQUEST);
    let far = app
        .post_control(
            "/_sandbox/clock/set",
            &json!({"to": "9999-12-31T23:59:59+00:00"}),
        )
        .await;
    assert_eq!(far.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        far.json::<Value>().await.expect("json")["error_message"],
        "The clock moves at most 100 years at a time"
    );
}

#[tokio::test]
async fn auto_tenants_get_isolated_worlds_and_can_be_reset_alone() {
    let app = spawn_app_with(|a| a.auto_tenants = true).await;
    let alice = app.token_of("ci-job-alice", "secret-a").await;
    let bob = app.token_of("ci-job-bob", "secret-b").await;
    // A tenant's secret is fixed by its first request.
    let wrong = app
        .request_token_with(&[
            ("client_id", "ci-job-alice"),
            ("client_secret", "guess"),
            ("grant_type", "client_credentials"),
        ])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let a = app.stk_push(&alice, "http://127.0.0.1:9/cb").await;
    let b = app.stk_push(&bob, "http://127.0.0.1:9/cb").await;
    assert_eq!(
        app.get_with_token(&a, &bob).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_with_token(&b, &alice).await.status(),
        StatusCode::NOT_FOUND
    );

    let reset = app
        .client
        .post(app.url("/_sandbox/reset?client_id=ci-job-alice"))
        .send()
        .await
        .expect("reset");
    assert_eq!(reset.status(), StatusCode::OK);
    assert_eq!(
        app.get_with_token(&a, &alice).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get_with_token(&b, &bob).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_admin_token_guards_the_control_plane_but_not_health() {
    let app = spawn_app_with(|a| a.admin_token = Some("let-me-in".into())).await;
    assert_eq!(
        app.client
            .get(app.url("/_sandbox/health"))
            .send()
            .await
            .expect("health")
            .status(),
        StatusCode::OK
    );
    let denied = app
        .client
        .get(app.url("/_sandbox/callbacks"))
        .send()
        .await
        .expect("denied");
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        denied.json::<Value>().await.expect("json")["error_code"],
        401
    );
    let allowed = app
        .client
        .get(app.url("/_sandbox/callbacks"))
        .bearer_auth("let-me-in")
        .send()
        .await
        .expect("allowed");
    assert_eq!(allowed.status(), StatusCode::OK);
}

#[tokio::test]
async fn each_tenant_can_run_its_own_clock() {
    let app = spawn_shared_app().await;
    let alice = app.token_of("alice", "a").await;
    let bob = app.token_of("bob", "b").await;
    let a = app.stk_push(&alice, "http://127.0.0.1:9/cb").await;
    let b = app.stk_push(&bob, "http://127.0.0.1:9/cb").await;

    let moved: Value = app
        .post_control(
            "/_sandbox/clock/advance",
            &json!({"by": "1s", "client_id": "alice"}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(moved["now"], "2026-05-01T10:00:01.000+03:00");
    assert_eq!(moved["client_id"], "alice");
    assert_eq!(
        app.get_json(&a, &alice).await["data"]["attributes"]["status"],
        "Success"
    );
    assert_eq!(
        app.get_json(&b, &bob).await["data"]["attributes"]["status"],
        "Pending"
    );
    let shared: Value = app
        .client
        .get(app.url("/_sandbox/clock"))
        .send()
        .await
        .expect("clock")
        .json()
        .await
        .expect("json");
    assert_eq!(shared["now"], "2026-05-01T10:00:00.000+03:00");

    // Alice's token expires on her clock only.
    app.post_control(
        "/_sandbox/clock/advance",
        &json!({"by": "1h", "client_id": "alice"}),
    )
    .await;
    assert_eq!(
        app.get_with_token(&a, &alice).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.get_with_token(&b, &bob).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_journal_gives_oauth_requests_their_application_and_its_clock() {
    let app = spawn_shared_app().await;
    app.advance("7d").await;
    // Applications' own clocks run ahead of the shared one.
    let ahead = json!({"by": "1h", "client_id": OTHER_CLIENT_ID});
    let moved = app.post_control("/_sandbox/clock/advance", &ahead).await;
    assert_eq!(moved.status(), StatusCode::OK);
    let token = app.token_of(OTHER_CLIENT_ID, OTHER_CLIENT_SECRET).await;
    let introspect = app
        .oauth_form(
            "/oauth/introspect",
            &[
                ("client_id", OTHER_CLIENT_ID),
                ("client_secret", OTHER_CLIENT_SECRET),
                ("token", token.as_str()),
            ],
        )
        .await;
    assert_eq!(introspect.status(), StatusCode::OK);
    let refused = app
        .request_token_with(&[
            ("client_id", OTHER_CLIENT_ID),
            ("client_secret", "wrong"),
            ("grant_type", "client_credentials"),
        ])
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let journal = app.control("/_sandbox/requests?path=/oauth").await;
    let entries: Vec<(String, Value, String)> = journal["requests"]
        .as_array()
        .expect("list")
        .iter()
        .map(|e| {
            (
                e["path"].as_str().expect("path").to_string(),
                e["client_id"].clone(),
                e["at"].as_str().expect("at").to_string(),
            )
        })
        .collect();
    assert_eq!(entries.len(), 3, "{journal}");
    // Newest first: the refusal names nobody (the credentials did not check out) and is
    // on the shared clock; the others are the application's, on its clock.
    assert_eq!(entries[0].0, "/oauth/token");
    assert_eq!(entries[0].1, Value::Null);
    assert!(
        entries[0].2.starts_with("2026-05-08T10:00:00"),
        "{entries:?}"
    );
    assert_eq!(entries[1].0, "/oauth/introspect");
    assert_eq!(entries[2].0, "/oauth/token");
    for entry in &entries[1..] {
        assert_eq!(entry.1, OTHER_CLIENT_ID);
        assert!(entry.2.starts_with("2026-05-08T11:00:00"), "{entries:?}");
    }
}

#[tokio::test]
async fn every_exhausted_delivery_is_replayed_once_in_bulk() {
    let app = spawn_app_with(|args| {
        args.clock = Some(FIXED_CLOCK.parse().expect("fixed clock"));
        args.callback_delay_ms = RESULT_DELAY_MS;
        args.callback_attempts = 1;
    })
    .await;
    // Down for the first two attempts: both pushes' callbacks are exhausted.
    let receiver = CallbackReceiver::start(Behaviour::FailFirst(2)).await;
    let token = app.token().await;
    app.stk_push(&token, &receiver.url).await;
    app.stk_push(&token, &receiver.url).await;
    app.advance("1s").await;
    assert_eq!(app.delivery_states().await, ["exhausted", "exhausted"]);
    let originals: Vec<Value> = app
        .deliveries()
        .await
        .iter()
        .map(|d| d["id"].clone())
        .collect();

    let replay_all = || async {
        let response = app
            .client
            .post(app.url("/_sandbox/callbacks/replay?status=exhausted"))
            .send()
            .await
            .expect("bulk replay");
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.expect("json")
    };
    let first = replay_all().await;
    assert_eq!(first["replayed"], 2);
    let replayed_of: Vec<Value> = first["replays"]
        .as_array()
        .expect("replays")
        .iter()
        .map(|r| r["replay_of"].clone())
        .collect();
    assert_eq!(replayed_of, originals);
    app.advance("0s").await;
    receiver.wait_for(4).await;
    let log = app.deliveries().await;
    assert_eq!(
        app.delivery_states().await,
        ["exhausted", "exhausted", "delivered", "delivered"]
    );
    assert_eq!(log[0]["replayed_by"], first["replays"][0]["id"]);
    assert_eq!(log[2]["replay_of"], originals[0]);
    assert_eq!(log[2]["body"], log[0]["body"]);
    // Each exhausted delivery is replayed once: a second bulk replay has nothing to do.
    assert_eq!(replay_all().await, json!({"replayed": 0, "replays": []}));

    let wrong = app
        .client
        .post(app.url("/_sandbox/callbacks/replay?status=delivered"))
        .send()
        .await
        .expect("bulk replay");
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
}

/// Secrets are shown redacted wherever requests are: the journal keeps a token request's
/// client secret and the access token it answered with only as their first characters, and a
/// query parameter named like a secret likewise (the live feed and the log read the same).
#[tokio::test]
async fn the_journal_shows_no_secret_of_a_token_request_or_a_query() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.client
        .post(app.url("/oauth/introspect"))
        .json(&json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token": token}))
        .send()
        .await
        .expect("introspect");
    app.client
        .get(app.url("/api/v2/incoming_payments/x?token=abcdef123456&page=2"))
        .send()
        .await
        .expect("send");
    let journal = app.control("/_sandbox/requests?by=all").await;
    let text = journal.to_string();
    assert!(!text.contains(CLIENT_SECRET), "{text}");
    assert!(!text.contains(&token), "{text}");
    assert!(!text.contains("abcdef123456"), "{text}");
    let requests = journal["requests"].as_array().expect("requests");
    let by_path = |p: &str| requests.iter().find(|r| r["path"] == p).expect(p).clone();
    let issued = by_path("/oauth/token");
    assert!(
        issued["request_body"]
            .as_str()
            .expect("body")
            .contains("client_secret=sand…[redacted]"),
        "{issued}"
    );
    let answer: Value =
        serde_json::from_str(issued["response_body"].as_str().expect("body")).expect("JSON");
    assert_eq!(
        answer["access_token"],
        format!("{}…[redacted]", &token[..4])
    );
    assert_eq!(answer["token_type"], "Bearer");
    let introspected: Value = serde_json::from_str(
        by_path("/oauth/introspect")["request_body"]
            .as_str()
            .expect("body"),
    )
    .expect("JSON");
    assert_eq!(introspected["client_secret"], "sand…[redacted]");
    assert_eq!(introspected["client_id"], CLIENT_ID);
    let queried = by_path("/api/v2/incoming_payments/x");
    assert_eq!(queried["query"], "token=abcd…[redacted]&page=2");
}

/// DNS rebinding: a request naming a host this sandbox does not answer is refused with a JSON
/// 403 that names the flag to allow it, before anything runs; every allowed form is served.
#[tokio::test]
async fn only_the_hosts_a_sandbox_answers_are_served() {
    let app = spawn_app_with(|args| args.allowed_host = vec!["ci.example.org".into()]).await;
    let port = app.base.rsplit(':').next().expect("port").to_string();
    let with_host = |path: &str, host: String| {
        app.client.post(app.url(path)).header("host", host).form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("grant_type", "client_credentials"),
        ])
    };
    for host in ["evil.example", "127.0.0.1.nip.io"] {
        let refused = with_host("/oauth/token", format!("{host}:{port}"))
            .send()
            .await
            .expect("send");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{host}");
        let error: Value = refused.json().await.expect("JSON");
        assert_eq!(error["error_code"], 403);
        assert!(
            error["error_message"]
                .as_str()
                .expect("message")
                .contains(&format!(
                    "start it with --allowed-host {host} (K2_SANDBOX_ALLOWED_HOST)"
                )),
            "{error}"
        );
        // Nothing ran: a reset from that page is refused too, and the world is as it was.
        let reset = app
            .client
            .post(app.url("/_sandbox/reset"))
            .header("host", format!("{host}:{port}"))
            .send()
            .await
            .expect("send");
        assert_eq!(reset.status(), StatusCode::FORBIDDEN);
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("app.localhost:{port}"),
        format!("k2-sandbox:{port}"),
        format!("[::1]:{port}"),
        format!("ci.example.org:{port}"),
    ] {
        let served = with_host("/oauth/token", host.clone())
            .send()
            .await
            .expect("send");
        assert_eq!(served.status(), StatusCode::OK, "{host}");
    }
}

/// A page on another origin cannot change the sandbox: a control-plane change or a checkout
/// form post carrying a foreign `Origin` (or `Sec-Fetch-Site: cross-site`) gets a JSON 403 and
/// nothing changes; the sandbox's own origin, and clients that send neither, act as before.
#[tokio::test]
async fn a_page_on_another_origin_cannot_change_the_sandbox() {
    let app = spawn_app().await;
    let own = app.base.clone();
    app.post_control("/_sandbox/balances", &json!({})).await;
    let set_balance = |headers: Vec<(&'static str, String)>| {
        let mut request = app
            .client
            .put(app.url("/_sandbox/balances"))
            .json(&json!({"balance": "5"}));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    for headers in [
        vec![("origin", "http://evil.example".to_string())],
        vec![("origin", "null".to_string())],
        vec![("sec-fetch-site", "cross-site".to_string())],
    ] {
        let refused = set_balance(headers.clone()).await.expect("send");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{headers:?}");
        let error: Value = refused.json().await.expect("JSON");
        assert!(
            error["error_message"]
                .as_str()
                .expect("message")
                .starts_with("A cross-site request is refused"),
            "{error}"
        );
    }
    assert_eq!(
        app.balances().await["company"],
        "1000000.0",
        "nothing changed"
    );
    let reset = app
        .client
        .post(app.url("/_sandbox/reset"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("send");
    assert_eq!(reset.status(), StatusCode::FORBIDDEN);
    let pay = app
        .client
        .post(app.url("/links/00000000-0000-0000-0000-000000000000"))
        .header("origin", "https://evil.example")
        .form(&[("phone_number", "0712345678")])
        .send()
        .await
        .expect("send");
    assert_eq!(pay.status(), StatusCode::FORBIDDEN);
    // The sandbox's own pages, and clients without an Origin, act.
    let same = set_balance(vec![
        ("origin", own.clone()),
        ("sec-fetch-site", "same-origin".into()),
    ])
    .await
    .expect("send");
    assert_eq!(same.status(), StatusCode::OK);
    assert_eq!(app.balances().await["company"], "5.0");
    let plain = set_balance(vec![]).await.expect("send");
    assert_eq!(plain.status(), StatusCode::OK);
    // Reading is never refused for its origin (a browser does not let the page read the answer).
    let read = app
        .client
        .get(app.url("/_sandbox/balances"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .expect("send");
    assert_eq!(read.status(), StatusCode::OK);
    assert!(read.headers().get("access-control-allow-origin").is_none());
}

/// `--cors-origin` names the origins whose pages may call the sandbox from a browser: their
/// preflights are answered before any route or token check, their changes act and their
/// answers are readable (`Location` too). Any other origin gets no CORS header and its
/// changes are still refused; without the flag no CORS header is sent at all.
#[tokio::test]
async fn a_named_cors_origin_may_call_the_sandbox_and_no_other_may() {
    const APP: &str = "http://localhost:3000";
    let app = spawn_app_with(|args| {
        args.cors_origin = vec![APP.into()];
        args.admin_token = Some("admin-secret".into());
    })
    .await;
    let preflight = |path: &str, origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    for path in [
        "/_sandbox/reset",
        "/api/v2/incoming_payments",
        "/oauth/token",
    ] {
        let allowed = preflight(path, APP).await.expect("send");
        assert_eq!(allowed.status(), StatusCode::NO_CONTENT, "{path}");
        let headers = allowed.headers();
        assert_eq!(headers["access-control-allow-origin"], APP);
        assert_eq!(
            headers["access-control-allow-methods"],
            "GET, POST, PUT, PATCH, DELETE"
        );
        assert_eq!(
            headers["access-control-allow-headers"],
            "authorization,content-type"
        );
        assert_eq!(headers["access-control-max-age"], "600");
        let other = preflight(path, "http://evil.example").await.expect("send");
        assert_ne!(other.status(), StatusCode::NO_CONTENT, "{path}");
        assert!(other.headers().get("access-control-allow-origin").is_none());
        assert_eq!(other.headers()["vary"], "Origin");
    }

    // The app's own page changes the control plane (with the admin token) and reads the answer.
    let set = app
        .client
        .put(app.url("/_sandbox/balances"))
        .header("origin", APP)
        .header("sec-fetch-site", "same-site")
        .bearer_auth("admin-secret")
        .json(&json!({"balance": "5"}))
        .send()
        .await
        .expect("send");
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(set.headers()["access-control-allow-origin"], APP);
    assert_eq!(set.headers()["vary"], "Origin");
    let foreign = app
        .client
        .put(app.url("/_sandbox/balances"))
        .header("origin", "http://evil.example")
        .bearer_auth("admin-secret")
        .json(&json!({"balance": "9"}))
        .send()
        .await
        .expect("send");
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let balances = app
        .client
        .get(app.url("/_sandbox/balances"))
        .bearer_auth("admin-secret")
        .send()
        .await
        .expect("send")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(balances["company"], "5.0");

    // An API call from the app: the created resource's Location is exposed to the page.
    let token = app.token().await;
    let created = app
        .client
        .post(app.url("/api/v2/incoming_payments"))
        .header("origin", APP)
        .bearer_auth(&token)
        .json(&stk_request("http://127.0.0.1:9/cb"))
        .send()
        .await
        .expect("send");
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["access-control-allow-origin"], APP);
    assert_eq!(
        created.headers()["access-control-expose-headers"],
        "Location, Retry-After, X-K2-Sandbox-Version"
    );
    assert!(created.headers().contains_key("location"));

    // Without the flag: no CORS at all.
    let plain = spawn_app().await;
    let refused = plain
        .client
        .request(reqwest::Method::OPTIONS, plain.url("/_sandbox/reset"))
        .header("origin", APP)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED);
    for name in ["access-control-allow-origin", "vary"] {
        assert!(refused.headers().get(name).is_none(), "{name}");
    }
}

/// `K2_SANDBOX_CORS_ORIGIN` takes a comma-separated list, written as browsers write
/// `Origin`; `*` and what is not an origin stop the start with the reason.
#[tokio::test]
async fn cors_origins_come_from_the_env_twin_and_a_wildcard_is_refused() {
    let sandbox = SandboxProcess::start_with_env(
        &[],
        &[(
            "K2_SANDBOX_CORS_ORIGIN",
            "http://LOCALHOST:3000/, https://app.example.com:443",
        )],
    )
    .await;
    let client = reqwest::Client::new();
    for origin in ["http://localhost:3000", "https://app.example.com"] {
        let answer = client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/_sandbox/reset", sandbox.base),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .expect("send");
        assert_eq!(answer.status(), StatusCode::NO_CONTENT, "{origin}");
        assert_eq!(answer.headers()["access-control-allow-origin"], origin);
    }
    for (value, reason) in [
        ("*", "`*` would let every web page drive this sandbox"),
        ("localhost:3000", "is not an origin"),
        ("http://localhost:3000/app", "with no path"),
    ] {
        let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
            .args(["--port", "0", "--cors-origin", value])
            .output()
            .await
            .expect("runs");
        assert_eq!(refused.status.code(), Some(2), "{value}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(reason), "{value}: {stderr}");
    }
}
