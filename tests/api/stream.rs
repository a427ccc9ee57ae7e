//! `GET /_sandbox/stream`: what happens, live, as Server-Sent Events.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// An open event stream, read frame by frame.
struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    async fn open(app: &TestApp, query: &str) -> Self {
        let response = app
            .client
            .get(app.url(&format!("/_sandbox/stream{query}")))
            .send()
            .await
            .expect("stream");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (kind and JSON data), skipping keep-alive comments; `None` once the
    /// stream ends.
    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    frame
                        .lines()
                        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                        .map(str::to_string)
                };
                let (Some(kind), Some(data)) = (field("event"), field("data")) else {
                    continue; // a comment (keep-alive)
                };
                return Some((kind, serde_json::from_str(&data).expect("JSON data")));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk())
                .await
                .expect("an event within 10 s")
                .expect("readable")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event of `kind`, skipping others.
    async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let (k, event) = self.next().await.expect("the stream goes on");
            if k == kind {
                return event;
            }
        }
    }
}

#[tokio::test]
async fn requests_prompts_results_callbacks_and_clock_moves_arrive_live() {
    let app = spawn_virtual_app().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let mut stream = Stream::open(&app, "").await;
    let token = app.token().await;
    let token_event = stream.next_of("request").await;
    assert_eq!(token_event["kind"], "request");
    assert_eq!(token_event["client_id"], CLIENT_ID);
    assert_eq!(token_event["at"], "2026-05-01T10:00:00.000+03:00");
    assert_eq!(token_event["data"]["method"], "POST");
    assert_eq!(token_event["data"]["path"], "/oauth/token");
    assert_eq!(token_event["data"]["status"], 200);
    let lost = app
        .client
        .get(app.url("/api/v2/nowhere?page=2&q=%22x%22"))
        .send()
        .await
        .expect("a request");
    assert_eq!(lost.status(), StatusCode::NOT_FOUND);
    let mut lost = stream.next_of("request").await["data"].take();
    assert!(lost["latency_ms"].as_f64().expect("a latency") >= 0.0);
    lost["latency_ms"] = json!(0);
    assert!(lost["journal"].as_u64().expect("the journal's sequence") > 0);
    lost["journal"] = json!(0);
    assert_eq!(
        lost.to_string(),
        json!({
            "method": "GET",
            "path": "/api/v2/nowhere",
            "query": "page=2&q=%22x%22",
            "status": 404,
            "latency_ms": 0,
            "journal": 0,
            "error": "No route for GET /api/v2/nowhere",
            "by": "app",
        })
        .to_string(),
        "every key, in this order"
    );

    let mut request = stk_request(&receiver.url);
    request["subscriber"]["phone_number"] = json!("+254700000009");
    let location = app
        .create("/api/v2/incoming_payments", &token, &request)
        .await;
    let id = location.rsplit('/').next().expect("id");
    assert_eq!(stream.next_of("request").await["data"]["status"], 201);
    app.advance("1s").await;
    let prompt = stream.next_of("prompt").await;
    assert_eq!(
        prompt["data"],
        json!({"id": id, "phone_number": "+254700000009", "status": "waiting"})
    );
    assert_eq!(stream.next_of("clock").await["data"]["by_ms"], 1000);

    let paid = app
        .client
        .post(app.url(&format!("/_sandbox/prompts/{id}/pay")))
        .send()
        .await
        .expect("pay");
    assert_eq!(paid.status(), StatusCode::OK);
    let result = stream.next_of("resource").await;
    assert_eq!(
        result["data"],
        json!({"type": "incoming_payment", "id": id, "status": "Success"})
    );
    let webhook = stream.next_of("webhook").await;
    assert_eq!(webhook["data"]["topic"], "buygoods_transaction_received");
    assert_eq!(webhook["data"]["till_number"], request["till_number"]);
    assert_eq!(webhook["data"]["id"].as_str().map(str::len), Some(36));
    app.advance("0s").await;
    let attempt = stream.next_of("callback").await;
    assert_eq!(attempt["data"]["url"], receiver.url);
    assert_eq!(attempt["data"]["attempt"], 1);
    assert_eq!(attempt["data"]["status"], 200);
    assert_eq!(attempt["data"]["outcome"], "delivered");
    assert_eq!(attempt["data"]["error"], json!(null));
    let keys: Vec<&str> = attempt["data"]
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "delivery",
            "resource",
            "url",
            "attempt",
            "status",
            "error",
            "latency_ms",
            "outcome"
        ]
    );
    assert_eq!(
        attempt["data"]["resource"],
        json!({"type": "incoming_payment", "id": id})
    );
    // The feed's sequence orders everything that happened.
    assert!(attempt["seq"].as_u64().expect("seq") > token_event["seq"].as_u64().expect("seq"));
}

#[tokio::test]
async fn the_stream_filters_by_application_and_kind() {
    let app = spawn_virtual_app().await;
    let mut mine = Stream::open(&app, &format!("?client_id={OTHER_CLIENT_ID}&kind=request")).await;
    app.token().await;
    app.token_of(OTHER_CLIENT_ID, OTHER_CLIENT_SECRET).await;
    let event = mine.next().await.expect("an event");
    assert_eq!(event.0, "request");
    assert_eq!(event.1["client_id"], OTHER_CLIENT_ID);

    let wrong = app
        .client
        .get(app.url("/_sandbox/stream?kind=requests"))
        .send()
        .await
        .expect("stream");
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong.json::<Value>().await.expect("json")["error_message"],
        "kind \"requests\" is not one of request, resource, callback, webhook, sms, prompt, clock, scenario (did you mean `request`?)"
    );
}

#[tokio::test]
async fn the_admin_token_gates_the_stream_by_header_cookie_or_query() {
    let app = spawn_app_with(|args| args.admin_token = Some("s3cret".into())).await;
    let without = app
        .client
        .get(app.url("/_sandbox/stream"))
        .send()
        .await
        .expect("stream");
    assert_eq!(without.status(), StatusCode::UNAUTHORIZED);
    for request in [
        app.client
            .get(app.url("/_sandbox/stream"))
            .bearer_auth("s3cret"),
        app.client
            .get(app.url("/_sandbox/stream"))
            .header("cookie", "theme=dark; k2_sandbox_admin_token=s3cret"),
        app.client.get(app.url("/_sandbox/stream?token=s3cret")),
    ] {
        let response = request.send().await.expect("stream");
        assert_eq!(response.status(), StatusCode::OK);
    }
    // The query token is the stream's alone.
    let elsewhere = app
        .client
        .get(app.url("/_sandbox/clock?token=s3cret"))
        .send()
        .await
        .expect("clock");
    assert_eq!(elsewhere.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn shutdown_ends_open_streams_instead_of_waiting_out_the_grace() {
    // A grace far longer than the stream's read guard: a stream left open would time out.
    let app = spawn_app_with(|args| args.shutdown_grace_ms = 60_000).await;
    let mut stream = Stream::open(&app, "").await;
    let stopping = tokio::spawn(app.shutdown());
    assert!(stream.next().await.is_none(), "the stream ends");
    stopping.await.expect("task").expect("clean stop");
}

/// The live feed shows requests as the journal does: a query parameter named like a secret
/// only by its first characters, and no body (so no client secret or issued token).
#[tokio::test]
async fn the_stream_shows_no_secret_of_a_token_request_or_a_query() {
    let app = spawn_app().await;
    let mut stream = Stream::open(&app, "?kind=request").await;
    let token = app.token().await;
    app.client
        .get(app.url("/api/v2/incoming_payments/x?access_token=abcdef123456&page=2"))
        .send()
        .await
        .expect("send");
    let issued = stream.next_of("request").await;
    assert_eq!(issued["data"]["path"], "/oauth/token", "{issued}");
    let queried = stream.next_of("request").await;
    assert_eq!(
        queried["data"]["query"], "access_token=abcd…[redacted]&page=2",
        "{queried}"
    );
    for event in [&issued, &queried] {
        let text = event.to_string();
        for secret in [CLIENT_SECRET, token.as_str(), "abcdef123456"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}
