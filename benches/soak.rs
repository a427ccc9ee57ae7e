//! `cargo bench --bench soak`: memory under an endless create loop. Starts the release-built
//! binary (default flags but the ones given below), points 16 clients at it creating STK
//! pushes and send-money payments whose signed callbacks go to a live local receiver, and
//! every few seconds prints the server's resident memory and what it costs per 100k
//! resources. With retention at work the RSS levels off: memory is bounded, not only small.
//!
//! Bounded in time: SOAK_SECS (default 60). SOAK_ARGS passes extra flags to the sandbox, e.g.
//! `SOAK_ARGS="--retention 20000"`. (Under `cargo test --all-targets` it only checks that it
//! builds.)

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

const CLIENTS: usize = 16;
const REPORT_EVERY: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() {
    if !common::benching("soak") {
        return;
    }
    let secs = common::secs_from_env("SOAK_SECS", 60);
    let extra = std::env::var("SOAK_ARGS").unwrap_or_default();
    let server = common::start(&extra.split_whitespace().collect::<Vec<_>>()).await;
    let (pid, base) = (server.pid, server.base.clone());
    let delivered = Arc::new(AtomicU64::new(0));
    let callback = common::receiver(delivered.clone()).await;
    let client = common::client();
    let token = Arc::new(common::token(&client, &base).await);
    let idle_kib = common::rss_kib(pid);

    let created = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..CLIENTS {
        let (client, base, token, callback, created) = (
            client.clone(),
            base.clone(),
            token.clone(),
            callback.clone(),
            created.clone(),
        );
        workers.spawn(async move {
            let mut i = w;
            while Instant::now() < deadline {
                let (path, body) = if i % 2 == 0 {
                    (
                        "/api/v2/incoming_payments",
                        json!({"payment_channel": "M-PESA STK Push", "till_number": "K000000",
                            "subscriber": {"phone_number": "+254712345678", "first_name": "Soak"},
                            "amount": {"currency": "KES", "value": 100},
                            "metadata": {"customer_id": i.to_string(), "notes": "soak"},
                            "_links": {"callback_url": callback}}),
                    )
                } else {
                    (
                        "/api/v2/send_money",
                        json!({"destinations": [{"type": "mobile_wallet",
                            "phone_number": format!("2547{:08}", i % 1000), "network": "Safaricom",
                            "amount": 1, "description": "soak"}],
                            "_links": {"callback_url": callback}}),
                    )
                };
                let response = client
                    .post(format!("{base}{path}"))
                    .bearer_auth(token.as_str())
                    .json(&body)
                    .send()
                    .await
                    .expect("create");
                assert_eq!(response.status(), 201, "{path}");
                created.fetch_add(1, Ordering::Relaxed);
                i += CLIENTS;
            }
        });
    }

    println!(
        "\nk2-sandbox soak: {CLIENTS} clients creating STK pushes and send-money payments for {secs} s, \
         callbacks to a live receiver; flags: {}\n",
        if extra.is_empty() {
            "(defaults)"
        } else {
            &extra
        }
    );
    println!("| time | resources | callbacks | RSS | RSS per 100k resources |");
    println!("|---:|---:|---:|---:|---:|");
    let started = Instant::now();
    let mut peak = idle_kib;
    loop {
        let done = tokio::time::timeout(REPORT_EVERY, async {
            while workers.join_next().await.is_some() {}
        })
        .await
        .is_ok();
        let n = created.load(Ordering::Relaxed);
        let rss = common::rss_kib(pid);
        peak = peak.max(rss);
        let per_100k = if n > 0 {
            format!(
                "{:.0} MB",
                (rss.saturating_sub(idle_kib)) as f64 / 1024.0 * 100_000.0 / n as f64
            )
        } else {
            "-".into()
        };
        println!(
            "| {:>4.0} s | {n} | {} | {:.1} MB | {per_100k} |",
            started.elapsed().as_secs_f64(),
            delivered.load(Ordering::Relaxed),
            rss as f64 / 1024.0,
        );
        if done {
            break;
        }
    }
    println!(
        "\nidle RSS {:.1} MB, peak {:.1} MB",
        idle_kib as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    let mut child = server.child;
    let _ = child.kill().await;
}
