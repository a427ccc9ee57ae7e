//! `cargo bench --bench api`: sustained throughput, latency, CPU and memory of the hot
//! endpoints. Starts the release binary with its default flags (the 1 s callback delay
//! included) twice: with a live callback receiver and with the receiver down (every
//! callback fails and is retried). Against each, 32 clients over loopback HTTP run each route
//! for BENCH_SECS (default 20) or 100k requests, whichever ends first; then it prints req/s,
//! p50/p99/max latency, the server's CPU per request (for creates, until the results and
//! callbacks they caused have run, up to 20 s after the last request: that work is part of
//! a create's cost), and the server's resident memory per 100k resources created. Start-up
//! time to the first answer and idle RSS come first; the dashboard's cost (each hot route on
//! two sandboxes at once, the live stream of one of them read) last;
//! `BENCH_ONLY=dashboard` runs that section alone.
//!
//! These numbers share the machine with the load generator; `../shared/perf/compare.sh`
//! measures against a bare server with the two on separate cores. (Under
//! `cargo test --all-targets` this only checks that it builds.)

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{CREDENTIALS, ms, percentile};
use serde_json::json;

const CLIENTS: usize = 32;
const MAX_REQUESTS: usize = 100_000;

struct Ctx {
    client: reqwest::Client,
    base: String,
    token: String,
    location: String,
    callback: String,
}

struct Row {
    route: &'static str,
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    cpu: Duration,
    /// For creates: how long after the last request the results and callbacks it caused
    /// took to finish (their CPU is counted in `cpu`).
    settled: Option<Duration>,
}

/// The most a run waits for the work its creates caused.
const SETTLE_LIMIT: Duration = Duration::from_secs(20);

/// Waits until the sandbox has no result or callback attempt queued, or `SETTLE_LIMIT`.
async fn settle(ctx: &Ctx) -> Duration {
    let started = Instant::now();
    while started.elapsed() < SETTLE_LIMIT {
        let clock: serde_json::Value = ctx
            .client
            .get(format!("{}/_sandbox/clock", ctx.base))
            .send()
            .await
            .expect("clock")
            .json()
            .await
            .expect("json");
        if clock["pending_jobs"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

/// Runs `request` from `CLIENTS` workers for `secs` or `MAX_REQUESTS`; every answer must be
/// the expected one.
async fn run<F, Fut>(route: &'static str, pid: u32, secs: u64, ctx: &Arc<Ctx>, request: F) -> Row
where
    F: Fn(Arc<Ctx>, usize) -> Fut + Copy + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let cpu_before = common::cpu_time(pid);
    let started = Instant::now();
    let limit = Duration::from_secs(secs);
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..CLIENTS {
        let ctx = ctx.clone();
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut i = w;
            while i < MAX_REQUESTS && started.elapsed() < limit {
                let t = Instant::now();
                assert!(request(ctx.clone(), i).await, "{route}: a request failed");
                latencies.push(t.elapsed());
                i += CLIENTS;
            }
            latencies
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = workers.join_next().await {
        latencies.extend(done.expect("worker"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let settled = if route.starts_with("POST /api") {
        Some(settle(ctx).await)
    } else {
        None
    };
    Row {
        route,
        requests: latencies.len(),
        elapsed,
        latencies,
        cpu: common::cpu_time(pid).saturating_sub(cpu_before),
        settled,
    }
}

/// `ctx` with `location` the URL of a new STK push (retention may have dropped older ones).
async fn with_newest_push(ctx: &Ctx) -> Arc<Ctx> {
    let location = ctx
        .client
        .post(format!("{}/api/v2/incoming_payments", ctx.base))
        .bearer_auth(&ctx.token)
        .json(&stk_body(&ctx.callback))
        .send()
        .await
        .expect("stk")
        .headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    Arc::new(Ctx {
        location,
        client: ctx.client.clone(),
        base: ctx.base.clone(),
        token: ctx.token.clone(),
        callback: ctx.callback.clone(),
    })
}

fn stk_body(callback: &str) -> serde_json::Value {
    json!({"payment_channel": "M-PESA STK Push", "till_number": "K000000",
        "subscriber": {"first_name": "Bench", "phone_number": "+254712345678"},
        "amount": {"currency": "KES", "value": 100},
        "metadata": {"reference": "bench"},
        "_links": {"callback_url": callback}})
}

fn send_money_body(i: usize, callback: &str) -> serde_json::Value {
    json!({"destinations": [{"type": "mobile_wallet", "phone_number": format!("2547{:08}", i % 1000),
        "network": "Safaricom", "amount": 1, "description": "bench"}],
        "_links": {"callback_url": callback}})
}

/// The hot routes' requests, each true when answered as expected.
async fn get_token(c: Arc<Ctx>, _: usize) -> bool {
    let r = c.client.post(format!("{}/oauth/token", c.base));
    r.form(&CREDENTIALS)
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
}

async fn stk_push(c: Arc<Ctx>, _: usize) -> bool {
    let r = c
        .client
        .post(format!("{}/api/v2/incoming_payments", c.base));
    r.bearer_auth(&c.token)
        .json(&stk_body(&c.callback))
        .send()
        .await
        .is_ok_and(|r| r.status() == 201)
}

async fn get_push(c: Arc<Ctx>, _: usize) -> bool {
    let r = c.client.get(&c.location);
    r.bearer_auth(&c.token)
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
}

/// A reader of the live stream (`/_sandbox/stream`, as the dashboard opens it), subscribed
/// when this returns.
async fn dashboard(client: &reqwest::Client, base: &str) -> tokio::task::JoinHandle<usize> {
    let mut body = client
        .get(format!("{base}/_sandbox/stream"))
        .send()
        .await
        .expect("stream");
    tokio::spawn(async move {
        let mut bytes = 0;
        while let Ok(Some(chunk)) = body.chunk().await {
            bytes += chunk.len();
        }
        bytes
    })
}

/// One sandbox, every route, with callbacks to `callback`.
async fn bench(label: &str, callback: String, secs: u64) {
    let server = common::start(&[]).await;
    let pid = server.pid;
    let client = common::client();
    let token = common::token(&client, &server.base).await;
    let mut ctx = Arc::new(Ctx {
        client,
        base: server.base.clone(),
        token,
        location: String::new(),
        callback,
    });

    let mut rows = vec![run("POST /oauth/token", pid, secs, &ctx, get_token).await];
    let rss_before = common::rss_kib(pid);
    let mut created = 0;
    let stk = run("POST /api/v2/incoming_payments", pid, secs, &ctx, stk_push).await;
    created += stk.requests;
    rows.push(stk);
    // The newest push: retention may have dropped the first ones.
    ctx = with_newest_push(&ctx).await;
    rows.push(
        run(
            "GET /api/v2/incoming_payments/{id}",
            pid,
            secs,
            &ctx,
            get_push,
        )
        .await,
    );
    let send = run(
        "POST /api/v2/send_money",
        pid,
        secs,
        &ctx,
        |c, i| async move {
            let r = c.client.post(format!("{}/api/v2/send_money", c.base));
            r.bearer_auth(&c.token)
                .json(&send_money_body(i, &c.callback))
                .send()
                .await
                .is_ok_and(|r| r.status() == 201)
        },
    )
    .await;
    created += send.requests;
    rows.push(send);
    let grown_kib = common::rss_kib(pid).saturating_sub(rss_before);

    println!("\n{label}: {CLIENTS} clients, each route for {secs} s or {MAX_REQUESTS} requests\n");
    println!(
        "| route | requests | req/s | p50 | p99 | max | server CPU per request | results settled after |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.1} ms | {:.0} µs | {} |",
            r.route,
            r.requests,
            r.requests as f64 / r.elapsed.as_secs_f64(),
            ms(percentile(&r.latencies, 0.50)),
            ms(percentile(&r.latencies, 0.99)),
            ms(r.latencies.last().copied().unwrap_or_default()),
            r.cpu.as_secs_f64() * 1e6 / r.requests.max(1) as f64,
            r.settled
                .map_or("-".to_string(), |d| format!("{:.1} s", d.as_secs_f64())),
        );
    }
    println!(
        "\nresident memory: {:.1} MB after {created} resources (STK pushes and payments, with \
         their results, deliveries and journal entries): {:.0} MB per 100k, {:.2} KB each",
        common::rss_kib(pid) as f64 / 1024.0,
        grown_kib as f64 / 1024.0 * 100_000.0 / created.max(1) as f64,
        grown_kib as f64 / created.max(1) as f64,
    );
}

#[tokio::main]
async fn main() {
    if !common::benching("api") {
        return;
    }
    let secs = common::secs_from_env("BENCH_SECS", 20);
    if std::env::var("BENCH_ONLY").as_deref() == Ok("dashboard") {
        let live = common::receiver(Arc::new(AtomicU64::new(0))).await;
        dashboard_cost(live, secs).await;
        return;
    }

    // Start-up: the best of five, and the memory of an idle sandbox.
    let mut startups = Vec::new();
    let mut idle_kib = 0;
    for _ in 0..5 {
        let mut server = common::start(&[]).await;
        startups.push(server.startup);
        tokio::time::sleep(Duration::from_millis(200)).await;
        idle_kib = common::rss_kib(server.pid);
        let _ = server.child.kill().await;
    }
    startups.sort();
    println!(
        "\nstart-up to the first answer: {:.1} ms (best of 5; median {:.1} ms); idle RSS {:.1} MB",
        ms(startups[0]),
        ms(startups[2]),
        idle_kib as f64 / 1024.0
    );

    let delivered = Arc::new(AtomicU64::new(0));
    let live = common::receiver(delivered.clone()).await;
    bench("receiver up", live.clone(), secs).await;
    println!(
        "callbacks received by the live receiver: {}",
        delivered.load(Ordering::Relaxed)
    );
    bench("receiver down", common::dead_receiver(), secs).await;
    dashboard_cost(live, secs).await;
}

/// The dashboard's cost. This machine's speed drifts by more than the cost being measured
/// from one stretch to the next, so the two sides run at the same time: two sandboxes, each
/// with the live receiver, take the same route's load at once (`CLIENTS` clients each) for
/// `ROUNDS` stretches of `secs / ROUNDS`, a dashboard connected to one of them, to each in
/// turn. Whatever slows the machine in a stretch slows both; each stretch gives the ratio of
/// the watched sandbox's CPU per request to the unwatched one's, and the table shows their
/// median and range.
async fn dashboard_cost(callback: String, secs: u64) {
    const ROUNDS: usize = 8;
    let stretch = (secs / ROUNDS as u64).max(1);
    let servers = [common::start(&[]).await, common::start(&[]).await];
    let client = common::client();
    let mut ctxs = Vec::new();
    for server in &servers {
        ctxs.push(Arc::new(Ctx {
            client: client.clone(),
            base: server.base.clone(),
            token: common::token(&client, &server.base).await,
            location: String::new(),
            callback: callback.clone(),
        }));
    }
    println!(
        "\ndashboard cost: two sandboxes under the same load at once (receiver up, {CLIENTS} \
         clients each), a dashboard connected to one of them, to each in turn; {ROUNDS} \
         stretches of {stretch} s per route\n"
    );
    println!(
        "| route | req/s without | req/s with | CPU per request without | with | change in CPU, median (range) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for route in [
        "POST /oauth/token",
        "POST /api/v2/incoming_payments",
        "GET /api/v2/incoming_payments/{id}",
    ] {
        if route.starts_with("GET") {
            for ctx in &mut ctxs {
                *ctx = with_newest_push(ctx).await;
            }
        }
        // [without, with]: requests, elapsed, CPU.
        let mut sides = [(0usize, Duration::ZERO, Duration::ZERO); 2];
        let mut changes = Vec::new();
        for round in 0..ROUNDS {
            let watched = round % 2;
            let reader = dashboard(&client, &servers[watched].base).await;
            let (a, b) = tokio::join!(
                run_route(route, servers[0].pid, stretch, &ctxs[0]),
                run_route(route, servers[1].pid, stretch, &ctxs[1]),
            );
            reader.abort();
            let (with, without) = if watched == 0 { (a, b) } else { (b, a) };
            changes.push(per_request(&with) / per_request(&without) - 1.0);
            for (side, row) in [(0, without), (1, with)] {
                sides[side].0 += row.requests;
                sides[side].1 += row.elapsed;
                sides[side].2 += row.cpu;
            }
        }
        changes.sort_by(f64::total_cmp);
        let rate = |(n, elapsed, _): (usize, Duration, Duration)| n as f64 / elapsed.as_secs_f64();
        let cpu =
            |(n, _, cpu): (usize, Duration, Duration)| cpu.as_secs_f64() * 1e6 / n.max(1) as f64;
        println!(
            "| {route} | {:.0} | {:.0} | {:.1} µs | {:.1} µs | {:+.1}% ({:+.1} to {:+.1}%) |",
            rate(sides[0]),
            rate(sides[1]),
            cpu(sides[0]),
            cpu(sides[1]),
            (changes[ROUNDS / 2 - 1] + changes[ROUNDS / 2]) / 2.0 * 100.0,
            changes[0] * 100.0,
            changes[ROUNDS - 1] * 100.0,
        );
    }
}

/// One of the three hot routes, run as [`run`] runs it.
async fn run_route(route: &'static str, pid: u32, secs: u64, ctx: &Arc<Ctx>) -> Row {
    match route {
        "POST /oauth/token" => run(route, pid, secs, ctx, get_token).await,
        "POST /api/v2/incoming_payments" => run(route, pid, secs, ctx, stk_push).await,
        _ => run(route, pid, secs, ctx, get_push).await,
    }
}

/// A row's server CPU per request, in seconds.
fn per_request(row: &Row) -> f64 {
    row.cpu.as_secs_f64() / row.requests.max(1) as f64
}
