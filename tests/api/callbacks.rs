use serde_json::Value;

use crate::helpers::*;

fn attempts(delivery: &Value) -> Vec<Value> {
    delivery["attempts"].as_array().expect("attempts").clone()
}

#[tokio::test]
async fn a_callback_is_delivered_on_real_time_without_any_clock_control() {
    let app = spawn_app().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let token = app.token().await;
    app.stk_push(&token, &receiver.url).await;

    let received = receiver.wait_for(1).await;

    assert!(received[0].signature_verifies(API_KEY));
    assert!(!received[0].signature_verifies("another-api-key"));
    // The request as a receiver sees it.
    let callback = &received[0];
    assert_eq!(callback.header("content-type"), "application/json");
    assert_eq!(
        callback.header("user-agent"),
        concat!("k2-sandbox/", env!("CARGO_PKG_VERSION"), " (callbacks)")
    );
    assert_eq!(callback.header("accept"), "*/*");
    assert_eq!(
        callback.header("content-length"),
        callback.body.len().to_string()
    );
    assert_eq!(
        callback.header("host"),
        receiver
            .url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
    );
    assert_eq!(callback.json()["data"]["type"], "incoming_payment");
}

#[tokio::test]
async fn a_receiver_that_fails_twice_is_retried_with_backoff_until_it_accepts() {
    let app = spawn_virtual_app().await;
    let receiver = CallbackReceiver::start(Behaviour::FailFirst(2)).await;
    let token = app.token().await;
    app.stk_push(&token, &receiver.url).await;

    app.advance("1s").await; // result decided, attempt 1 fails
    assert_eq!(receiver.received().len(), 1);
    app.advance("999ms").await; // the first retry is due after 1 s
    assert_eq!(receiver.received().len(), 1);
    app.advance("1ms").await; // attempt 2 fails
    assert_eq!(receiver.received().len(), 2);
    app.advance("2s").await; // backoff doubled: attempt 3 succeeds
    let received = receiver.received();
    assert_eq!(received.len(), 3);

    // Every attempt carried the same bytes and signature.
    assert!(
        received
            .iter()
            .all(|r| r.body == received[0].body && r.signature_verifies(API_KEY))
    );
    let deliveries = app.deliveries().await;
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    assert_eq!(delivery["state"], "delivered");
    let statuses: Vec<Value> = attempts(delivery)
        .iter()
        .map(|a| a["status"].clone())
        .collect();
    assert_eq!(statuses, [500, 500, 200]);
    let times: Vec<Value> = attempts(delivery).iter().map(|a| a["at"].clone()).collect();
    assert_eq!(
        times,
        [
            "2026-05-01T10:00:01.000+03:00",
            "2026-05-01T10:00:02.000+03:00",
            "2026-05-01T10:00:04.000+03:00"
        ]
    );
    assert_eq!(delivery["target"], receiver.url);
    assert_eq!(delivery["resource"]["type"], "incoming_payment");
}

#[tokio::test]
async fn a_receiver_that_never_answers_exhausts_the_attempts_visibly() {
    let app = spawn_app_with(|args| {
        args.clock = Some(FIXED_CLOCK.parse().expect("clock"));
        args.callback_attempts = 2;
        args.callback_timeout_ms = 200;
    })
    .await;
    let receiver = CallbackReceiver::start(Behaviour::Hang).await;
    let token = app.token().await;
    app.stk_push(&token, &receiver.url).await;

    app.advance("0s").await;
    app.advance("1s").await;

    assert_eq!(receiver.received().len(), 2);
    let delivery = &app.deliveries().await[0];
    assert_eq!(delivery["state"], "exhausted");
    let attempts = attempts(delivery);
    assert_eq!(attempts.len(), 2);
    for attempt in &attempts {
        assert_eq!(attempt["status"], Value::Null);
        assert_eq!(attempt["error"], "timed out");
        assert!(attempt["latency_ms"].as_u64().expect("latency") >= 200);
    }
    // Nothing more is queued: the delivery ended.
    assert_eq!(app.advance("1h").await["pending_jobs"], 0);
    assert_eq!(receiver.received().len(), 2);
}

/// An unreachable receiver (port 9, closed on test machines) gets every attempt the policy
/// allows, each recorded as a connection failure at its backoff, numbered in order, whether
/// the attempt connected or failed without connecting because the last connection had just
/// failed.
#[tokio::test]
async fn a_receiver_that_is_down_fails_every_attempt_in_order_until_they_run_out() {
    let app = spawn_app_with(|args| {
        args.clock = Some(FIXED_CLOCK.parse().expect("clock"));
        args.callback_attempts = 4;
    })
    .await;
    let token = app.token().await;
    // Two pushes, so that attempts fall due together.
    for _ in 0..2 {
        app.stk_push(&token, "http://127.0.0.1:9/cb").await;
    }
    // Each step lands on the next attempts' due time: now, then 1, 2 and 4 s after each.
    for step in ["0s", "1s", "2s", "4s"] {
        app.advance(step).await;
    }
    let deliveries = app.deliveries().await;
    assert_eq!(deliveries.len(), 2);
    for delivery in &deliveries {
        assert_eq!(delivery["state"], "exhausted");
        let attempts = attempts(delivery);
        let numbers: Vec<Value> = attempts.iter().map(|a| a["attempt"].clone()).collect();
        assert_eq!(numbers, [1, 2, 3, 4]);
        let times: Vec<Value> = attempts.iter().map(|a| a["at"].clone()).collect();
        assert_eq!(
            times,
            [
                "2026-05-01T10:00:00.000+03:00",
                "2026-05-01T10:00:01.000+03:00",
                "2026-05-01T10:00:03.000+03:00",
                "2026-05-01T10:00:07.000+03:00"
            ]
        );
        for attempt in &attempts {
            assert_eq!(attempt["status"], Value::Null);
            assert_eq!(attempt["error"], "connection failed");
        }
    }
    assert_eq!(app.advance("1h").await["pending_jobs"], 0);
}

#[tokio::test]
async fn an_https_target_that_does_not_speak_tls_is_a_connection_failure_and_is_not_sent() {
    let app = spawn_app_with(|args| {
        args.clock = Some(FIXED_CLOCK.parse().expect("clock"));
        args.callback_attempts = 1;
    })
    .await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let token = app.token().await;
    // A plain HTTP listener: the TLS handshake fails before any request is sent.
    app.stk_push(&token, &receiver.url.replace("http://", "https://"))
        .await;
    app.advance("0s").await;

    let delivery = &app.deliveries().await[0];
    assert_eq!(delivery["state"], "exhausted");
    assert_eq!(attempts(delivery)[0]["error"], "connection failed");
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn a_receiver_named_by_host_name_is_reached() {
    let app = spawn_app().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let token = app.token().await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    app.stk_push(&token, &by_name).await;

    let received = receiver.wait_for(1).await;
    assert!(received[0].signature_verifies(API_KEY));
}

#[tokio::test]
async fn at_most_callback_concurrency_attempts_run_at_once_and_the_rest_wait_their_turn_behind_settled_results()
 {
    let app = spawn_app_with(|a| {
        a.callback_concurrency = 2;
        a.callback_delay_ms = 0;
        a.callback_attempts = 1;
        a.callback_timeout_ms = 1500;
    })
    .await;
    let hung = CallbackReceiver::start(Behaviour::Hang).await;
    let healthy = CallbackReceiver::start(Behaviour::Accept).await;
    let token = app.token().await;
    // Two attempts that hang hold both slots until they time out.
    for _ in 0..2 {
        app.stk_push(&token, &hung.url).await;
    }
    hung.wait_for(2).await;
    let mut locations = Vec::new();
    for _ in 0..3 {
        locations.push(app.stk_push(&token, &healthy.url).await);
    }
    // Results are decided while the callbacks wait: a slow receiver delays callbacks only.
    for location in &locations {
        let mut status = Value::Null;
        for _ in 0..100 {
            status = app.get_json(location, &token).await["data"]["attributes"]["status"].clone();
            if status != "Pending" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(status, "Success", "{location}");
    }
    assert!(
        healthy.received().is_empty(),
        "an attempt started while both slots were held"
    );
    // Once the hung attempts time out, every waiting callback is delivered: none is lost.
    let received = healthy.wait_for(3).await;
    assert!(received.iter().all(|r| r.signature_verifies(API_KEY)));
    // The first hung attempt to time out frees a slot the three use in turn; the second may
    // still be waiting out its timeout: wait for it to end too.
    let mut states = app.delivery_states().await;
    for _ in 0..100 {
        if !states.iter().any(|s| s == "pending") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        states = app.delivery_states().await;
    }
    assert_eq!(
        states.iter().filter(|s| *s == "delivered").count(),
        3,
        "{states:?}"
    );
    assert_eq!(
        states.iter().filter(|s| *s == "exhausted").count(),
        2,
        "{states:?}"
    );
}

/// `--callback-rewrite`: a callback asked for at one host is delivered to another (the app on
/// the host of a sandbox in a container), and the log shows both URLs.
#[tokio::test]
async fn a_rewrite_rule_sends_a_callback_elsewhere_and_the_log_shows_both_urls() {
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let port = receiver
        .url
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .expect("port")
        .to_string();
    let app = spawn_app_with(|args| {
        args.callback_rewrite = vec![
            format!("shop.invalid:5000=127.0.0.1:{port}")
                .parse()
                .expect("rule"),
        ];
    })
    .await;
    let token = app.token().await;
    let asked = "http://shop.invalid:5000/k2/callback?order=7";
    app.create_incoming_payment(&token, &stk_request(asked))
        .await;
    let delivered = receiver.wait_for(1).await.remove(0);
    assert!(delivered.signature_verifies(API_KEY));
    // The document still names the URL the app asked for.
    assert_eq!(
        delivered.json()["data"]["attributes"]["_links"]["callback_url"],
        asked
    );
    let log = app.deliveries().await;
    assert_eq!(
        log[0]["target"],
        format!("http://127.0.0.1:{port}/k2/callback?order=7")
    );
    assert_eq!(log[0]["requested_target"], asked);
    assert_eq!(log[0]["state"], "delivered");
}

/// The delivery log's filters as the dashboard's resource detail and Callbacks panel use
/// them: one resource's deliveries by its id, and deliveries whose URL (asked for or used)
/// contains a text.
#[tokio::test]
async fn the_delivery_log_filters_by_resource_and_by_url() {
    let app = spawn_app().await;
    let (shop, other) = (
        CallbackReceiver::start(Behaviour::Accept).await,
        CallbackReceiver::start(Behaviour::Accept).await,
    );
    let token = app.token().await;
    let first = app.stk_push(&token, &format!("{}?shop=1", shop.url)).await;
    app.stk_push(&token, &other.url).await;
    shop.wait_for(1).await;
    other.wait_for(1).await;
    let first_id = first.rsplit('/').next().expect("id").to_string();

    let ids_of = |log: &Value| -> Vec<String> {
        log["deliveries"]
            .as_array()
            .expect("deliveries")
            .iter()
            .map(|d| d["resource"]["id"].as_str().expect("id").to_string())
            .collect()
    };
    let by_resource = app
        .control(&format!("/_sandbox/callbacks?resource={first_id}"))
        .await;
    assert_eq!(ids_of(&by_resource), vec![first_id.clone()]);
    // An id in capitals is the same id; one that is not an id matches nothing.
    let shouted = app
        .control(&format!(
            "/_sandbox/callbacks?resource={}",
            first_id.to_uppercase()
        ))
        .await;
    assert_eq!(ids_of(&shouted), vec![first_id.clone()]);
    let none = app.control("/_sandbox/callbacks?resource=not-an-id").await;
    assert_eq!(ids_of(&none), Vec::<String>::new());

    let by_url = app.control("/_sandbox/callbacks?url=shop%3D1").await;
    assert_eq!(ids_of(&by_url), [first_id]);
    let both = app.control("/_sandbox/callbacks?url=127.0.0.1").await;
    assert_eq!(ids_of(&both).len(), 2);
}
