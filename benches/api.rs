//! `cargo bench`: throughput and latency of the hot endpoints, against a real sandbox on
//! 127.0.0.1:0, over HTTP, with concurrent clients. Bounded in count and time; prints a table.
//! (Under `cargo test --all-targets` it only checks that it builds.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use k2_sandbox::Sandbox;
use k2_sandbox::config::ServeArgs;
use serde_json::json;

const CONCURRENCY: usize = 32;
const REQUESTS: usize = 4_000;
const TIME_LIMIT: Duration = Duration::from_secs(20);

struct Row {
    name: &'static str,
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// What every request needs: one HTTP client, the base URL, a bearer token, a resource to GET.
struct Ctx {
    client: reqwest::Client,
    base: String,
    token: String,
    location: String,
}

/// Runs `request` from `CONCURRENCY` workers until `REQUESTS` are done or `TIME_LIMIT` passes;
/// `request` gets the request's index and answers whether the response was the expected one.
async fn run<F, Fut>(name: &'static str, ctx: &Arc<Ctx>, request: F) -> Row
where
    F: Fn(Arc<Ctx>, usize) -> Fut + Copy + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..CONCURRENCY {
        let ctx = ctx.clone();
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut i = w;
            while i < REQUESTS && started.elapsed() < TIME_LIMIT {
                let t = Instant::now();
                assert!(request(ctx.clone(), i).await, "{name}: a request failed");
                latencies.push(t.elapsed());
                i += CONCURRENCY;
            }
            latencies
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = workers.join_next().await {
        latencies.extend(done.expect("worker"));
    }
    latencies.sort();
    Row {
        name,
        requests: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    }
}

const CREDENTIALS: [(&str, &str); 3] = [
    ("client_id", "sandbox-client-id"),
    ("client_secret", "sandbox-client-secret"),
    ("grant_type", "client_credentials"),
];

fn stk_body() -> serde_json::Value {
    json!({"payment_channel": "M-PESA STK Push", "till_number": "K000000",
        "subscriber": {"phone_number": "+254712345678"}, "amount": {"currency": "KES", "value": 100},
        "_links": {"callback_url": "http://127.0.0.1:9/cb"}})
}

fn send_money_body(i: usize) -> serde_json::Value {
    json!({"destinations": [{"type": "mobile_wallet", "phone_number": format!("2547{:08}", i % 1000),
        "network": "Safaricom", "amount": 1, "description": "bench"}],
        "_links": {"callback_url": "http://127.0.0.1:9/cb"}})
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("bench: skipped (run `cargo bench`)");
        return;
    }
    let args = ServeArgs {
        port: 0,
        callback_delay_ms: 0,
        callback_attempts: 1,
        callback_timeout_ms: 200,
        ..ServeArgs::default()
    };
    let sandbox = Sandbox::build(args).await.expect("sandbox");
    let base = format!("http://{}", sandbox.local_addr());
    tokio::spawn(sandbox.run_until(std::future::pending()));
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");

    let token: serde_json::Value = client
        .post(format!("{base}/oauth/token"))
        .form(&CREDENTIALS)
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = token["access_token"].as_str().expect("token").to_string();
    let location = client
        .post(format!("{base}/api/v2/incoming_payments"))
        .bearer_auth(&token)
        .json(&stk_body())
        .send()
        .await
        .expect("stk")
        .headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    let ctx = Arc::new(Ctx {
        client,
        base,
        token,
        location,
    });

    let rows = [
        run("POST /oauth/token", &ctx, |c, _| async move {
            let r = c.client.post(format!("{}/oauth/token", c.base));
            r.form(&CREDENTIALS)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await,
        run("POST /api/v2/incoming_payments", &ctx, |c, _| async move {
            let r = c
                .client
                .post(format!("{}/api/v2/incoming_payments", c.base));
            r.bearer_auth(&c.token)
                .json(&stk_body())
                .send()
                .await
                .is_ok_and(|r| r.status() == 201)
        })
        .await,
        run(
            "GET /api/v2/incoming_payments/{id}",
            &ctx,
            |c, _| async move {
                let r = c.client.get(&c.location);
                r.bearer_auth(&c.token)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            },
        )
        .await,
        run("POST /api/v2/send_money", &ctx, |c, i| async move {
            let r = c.client.post(format!("{}/api/v2/send_money", c.base));
            r.bearer_auth(&c.token)
                .json(&send_money_body(i))
                .send()
                .await
                .is_ok_and(|r| r.status() == 201)
        })
        .await,
    ];

    println!(
        "\nk2-sandbox over loopback HTTP, {CONCURRENCY} concurrent clients (debug builds are slower: use cargo bench)\n"
    );
    println!("| endpoint | requests | req/s | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {:.0} | {:.2} ms | {:.2} ms |",
            r.name,
            r.requests,
            r.requests as f64 / r.elapsed.as_secs_f64(),
            percentile(&r.latencies, 0.50).as_secs_f64() * 1000.0,
            percentile(&r.latencies, 0.99).as_secs_f64() * 1000.0,
        );
    }
}
