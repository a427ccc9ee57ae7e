//! Test harness: a real sandbox on 127.0.0.1:0 per test, a client with a method per endpoint,
//! and a real callback receiver. Logs stay quiet unless `TEST_LOG` is set.

use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use k2_sandbox::Sandbox;
use k2_sandbox::config::ServeArgs;
use serde_json::{Value, json};
use tokio::sync::Notify;

pub const CLIENT_ID: &str = "sandbox-client-id";
pub const CLIENT_SECRET: &str = "sandbox-client-secret";
pub const API_KEY: &str = "sandbox-api-key";
pub const OTHER_CLIENT_ID: &str = "other-client-id";
pub const OTHER_CLIENT_SECRET: &str = "other-client-secret";

/// The instant and seed every snapshot runs with.
pub const FIXED_CLOCK: &str = "2026-05-01T10:00:00+03:00";
pub const FIXED_SEED: u64 = 42;
pub const FIXED_PUBLIC_URL: &str = "http://k2-sandbox.test";
/// Results fall due this long after the request on virtual-clock sandboxes.
pub const RESULT_DELAY_MS: u64 = 1000;

static TRACING: Once = Once::new();

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The running sandbox's state, for what only the process sees (a housekeeping sweep).
    pub state: k2_sandbox::AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// A sandbox on real time with the documented defaults, except that results are decided at
/// once.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A sandbox on a virtual clock with the default 1 s callback delay: nothing becomes due
/// until the test advances the clock.
pub async fn spawn_virtual_app() -> TestApp {
    spawn_app_with(|args| {
        args.clock = Some(FIXED_CLOCK.parse().expect("fixed clock"));
        args.callback_delay_ms = RESULT_DELAY_MS;
    })
    .await
}

/// A virtual-clock sandbox with `--auto-tenants`: applications appear on their first token
/// request, as parallel CI jobs sharing one sandbox use it.
pub async fn spawn_shared_app() -> TestApp {
    spawn_app_with(|args| {
        args.clock = Some(FIXED_CLOCK.parse().expect("fixed clock"));
        args.callback_delay_ms = RESULT_DELAY_MS;
        args.auto_tenants = true;
    })
    .await
}

/// A sandbox with fixed seed, clock and public URL: byte-for-byte reproducible payloads.
pub async fn spawn_snapshot_app() -> TestApp {
    spawn_app_with(|args| {
        args.seed = Some(FIXED_SEED);
        args.clock = Some(FIXED_CLOCK.parse().expect("fixed clock"));
        args.public_url = Some(FIXED_PUBLIC_URL.parse().expect("url"));
        args.callback_delay_ms = RESULT_DELAY_MS;
    })
    .await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut ServeArgs)) -> TestApp {
    TRACING.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            k2_sandbox::telemetry::init(k2_sandbox::config::LogFormat::Pretty, std::io::stderr);
        }
    });
    let mut args = ServeArgs {
        port: 0,
        callback_delay_ms: 0,
        callback_backoff_ms: 1000,
        callback_timeout_ms: 2000,
        shutdown_grace_ms: 1000,
        ..ServeArgs::default()
    };
    configure(&mut args);
    let sandbox = Sandbox::build(args).await.expect("sandbox builds");
    // A second application, to check that applications never see each other's resources.
    sandbox
        .state()
        .store
        .add_application(k2_sandbox::store::Application {
            client_id: OTHER_CLIENT_ID.into(),
            client_secret: OTHER_CLIENT_SECRET.into(),
            api_key: "other-api-key".into(),
        });
    let base = format!("http://{}", sandbox.local_addr());
    let state = sandbox.state();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(sandbox.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        base,
        client: http_client(),
        state,
        shutdown: Some(tx),
        server: Some(server),
    }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds")
}

/// An access token of the default application from the sandbox at `base`.
pub async fn token_at(base: &str) -> String {
    let token: Value = http_client()
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    token["access_token"].as_str().expect("a token").to_string()
}

impl Drop for TestApp {
    /// Every API exchange of the test held to the OpenAPI document (`contract.rs`).
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let problems = crate::contract::journal_problems(&self.state);
        assert!(
            problems.is_empty(),
            "answers off the OpenAPI document:\n{}",
            problems.join("\n")
        );
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops the sandbox the way a signal does and returns how `run_until` ended.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.server
            .take()
            .expect("server running")
            .await
            .expect("server task")
    }

    pub async fn request_token_with(&self, params: &[(&str, &str)]) -> reqwest::Response {
        self.oauth_form("/oauth/token", params).await
    }

    /// A form POST to an OAuth endpoint.
    pub async fn oauth_form(&self, path: &str, params: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(params)
            .send()
            .await
            .expect("OAuth request")
    }

    /// A fresh access token of the default application.
    pub async fn token(&self) -> String {
        self.token_of(CLIENT_ID, CLIENT_SECRET).await
    }

    /// A fresh access token of the application with these credentials.
    pub async fn token_of(&self, client_id: &str, client_secret: &str) -> String {
        let response = self
            .request_token_with(&[
                ("client_id", client_id),
                ("client_secret", client_secret),
                ("grant_type", "client_credentials"),
            ])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("token json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn get_with_token(&self, url: &str, token: &str) -> reqwest::Response {
        self.client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
    }

    pub async fn create_incoming_payment(&self, token: &str, body: &Value) -> reqwest::Response {
        self.post_json("/api/v2/incoming_payments", token, body)
            .await
    }

    /// Creates an STK push and returns its `Location`.
    pub async fn stk_push(&self, token: &str, callback_url: &str) -> String {
        let response = self
            .create_incoming_payment(token, &stk_request(callback_url))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        location(&response)
    }

    pub async fn get_json(&self, url: &str, token: &str) -> Value {
        let response = self.get_with_token(url, token).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {url}");
        response.json().await.expect("json")
    }

    /// The delivery log, oldest first (the control plane lists newest first).
    pub async fn deliveries(&self) -> Vec<Value> {
        let body: Value = self
            .client
            .get(self.url("/_sandbox/callbacks?limit=1000"))
            .send()
            .await
            .expect("delivery log")
            .json()
            .await
            .expect("json");
        let mut all = body["deliveries"].as_array().expect("deliveries").clone();
        all.reverse();
        all
    }

    /// The state of every delivery (`pending`, `delivered`, ...), oldest first.
    pub async fn delivery_states(&self) -> Vec<Value> {
        self.deliveries()
            .await
            .iter()
            .map(|d| d["state"].clone())
            .collect()
    }

    /// Advances the clock and waits, through the control plane, for what fell due.
    pub async fn advance(&self, by: &str) -> Value {
        let response = self
            .post_control("/_sandbox/clock/advance", &json!({ "by": by }))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json")
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .expect("Location header")
        .to_str()
        .expect("ascii")
        .to_string()
}

/// The reference's STK push request, calling back to `callback_url`.
pub fn stk_request(callback_url: &str) -> Value {
    json!({
        "payment_channel": "M-PESA STK Push",
        "till_number": "K000000",
        "subscriber": {
            "first_name": "Joe",
            "last_name": "Buyer",
            "phone_number": "+254999999999",
            "email": "jbuyer@mail.net"
        },
        "amount": { "currency": "KES", "value": 20000 },
        "metadata": {
            "customer_id": "123456789",
            "reference": "123456",
            "notes": "Payment for invoice 12345"
        },
        "_links": { "callback_url": callback_url }
    })
}

pub fn hmac_hex(key: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

// --- the callback receiver -------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Answer 200 to everything.
    Accept,
    /// Answer 500 to the first n requests, then 200.
    FailFirst(usize),
    /// Never answer.
    Hang,
    /// Answer 200 only to a fresh event whose signature is the HMAC of the raw body with
    /// `API_KEY`; 401 otherwise. "Fresh": created less than 5 minutes before FIXED_CLOCK.
    VerifySignatures,
}

#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("callback body is JSON")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("{name} header"))
            .to_str()
            .expect("ascii header")
    }

    /// Whether the signature header is the HMAC of the exact body with `api_key`.
    pub fn signature_verifies(&self, api_key: &str) -> bool {
        self.header("x-kopokopo-signature") == hmac_hex(api_key, &self.body)
    }
}

/// A real HTTP server that records every callback it receives.
pub struct CallbackReceiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
}

impl CallbackReceiver {
    pub async fn start(behaviour: Behaviour) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("receiver binds");
        let url = format!(
            "http://{}/k2/callback",
            listener.local_addr().expect("addr")
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let (rec, arr) = (received.clone(), arrived.clone());
        let handler = move |headers: HeaderMap, body: Bytes| {
            let (rec, arr) = (rec.clone(), arr.clone());
            async move {
                let n = {
                    let mut all = rec.lock().expect("lock");
                    all.push(Received { headers, body });
                    all.len()
                };
                arr.notify_waiters();
                match behaviour {
                    Behaviour::VerifySignatures => {
                        let last = rec.lock().expect("lock").last().cloned().expect("recorded");
                        let signed = last
                            .headers
                            .get("x-kopokopo-signature")
                            .and_then(|v| v.to_str().ok())
                            .is_some_and(|s| s == hmac_hex(API_KEY, &last.body));
                        let fresh = serde_json::from_slice::<Value>(&last.body)
                            .ok()
                            .and_then(|v| v["created_at"].as_str().map(str::to_string))
                            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                            .is_some_and(|t| {
                                let now = chrono::DateTime::parse_from_rfc3339(FIXED_CLOCK)
                                    .expect("clock");
                                (now - t).num_minutes().abs() < 5
                            });
                        if signed && fresh {
                            StatusCode::OK
                        } else {
                            StatusCode::UNAUTHORIZED
                        }
                    }
                    Behaviour::Accept => StatusCode::OK,
                    Behaviour::FailFirst(k) if n <= k => StatusCode::INTERNAL_SERVER_ERROR,
                    Behaviour::FailFirst(_) => StatusCode::OK,
                    Behaviour::Hang => std::future::pending().await,
                }
            }
        };
        let app = axum::Router::new().route("/k2/callback", axum::routing::post(handler));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            received,
            arrived,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits until at least `n` callbacks arrived, failing after a generous timeout.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let wait = async {
            loop {
                let arrived = self.arrived.notified();
                tokio::pin!(arrived);
                arrived.as_mut().enable();
                let all = self.received();
                if all.len() >= n {
                    return all;
                }
                arrived.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| panic!("expected {n} callbacks, got {}", self.received().len()))
    }
}

impl Drop for CallbackReceiver {
    /// Every body received held to the OpenAPI document's callbacks and webhooks.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let problems: Vec<String> = self
            .received()
            .iter()
            .filter_map(|r| crate::contract::CONTRACT.check_callback(&r.body).err())
            .collect();
        assert!(
            problems.is_empty(),
            "callbacks off the OpenAPI document:\n{}",
            problems.join("\n")
        );
    }
}

// --- fidelity to the reference ----------------------------------------------------------------

/// A JSON example from the reference, kept under `fixtures/`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Asserts `ours` has the reference example's shape: the same keys in the same order at every
/// level, and the same JSON type wherever the example's value is not null.
pub fn assert_same_shape(ours: &Value, reference: &Value) {
    fn walk(ours: &Value, reference: &Value, path: &str) {
        match (ours, reference) {
            (Value::Object(a), Value::Object(b)) => {
                let ka: Vec<&String> = a.keys().collect();
                let kb: Vec<&String> = b.keys().collect();
                assert_eq!(ka, kb, "keys at {path}");
                for (k, v) in b {
                    walk(&a[k], v, &format!("{path}.{k}"));
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                if let (Some(x), Some(y)) = (a.first(), b.first()) {
                    walk(x, y, &format!("{path}[0]"));
                }
            }
            (_, Value::Null) | (Value::Null, _) => {}
            (a, b) => assert_eq!(
                std::mem::discriminant(a),
                std::mem::discriminant(b),
                "type at {path}: ours {a}, reference {b}"
            ),
        }
    }
    walk(ours, reference, "$");
}

impl TestApp {
    /// POSTs `body` to `path`, expects 201, returns the `Location`.
    pub async fn create(&self, path: &str, token: &str, body: &Value) -> String {
        let response = self.post_json(path, token, body).await;
        let status = response.status();
        let text = response
            .headers()
            .get("location")
            .map(|l| l.to_str().expect("ascii").to_string());
        if status != StatusCode::CREATED {
            let body = response.text().await.unwrap_or_default();
            panic!("POST {path}: expected 201, got {status}: {body}");
        }
        text.expect("Location header")
    }

    /// POSTs `body` to `path` and returns the status and JSON error body.
    pub async fn rejected(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        let response = self.post_json(path, token, body).await;
        let status = response.status();
        (status, response.json().await.expect("JSON error"))
    }

    /// The balances the control plane reports for the default application.
    pub async fn balances(&self) -> Value {
        self.control("/_sandbox/balances").await
    }

    /// A control-plane POST with a JSON body.
    pub async fn post_control(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("control plane")
    }

    /// Loads a YAML scenario through `POST /_sandbox/scenarios`.
    pub async fn load_scenario(&self, yaml: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(self.url("/_sandbox/scenarios"))
            .body(yaml)
            .send()
            .await
            .expect("load scenario")
    }

    /// The checkout URL (`link`) of the payment link at `location`, from its document.
    pub async fn link_url(&self, location: &str, token: &str) -> String {
        self.get_json(location, token).await["data"]["attributes"]["payment_link"]["link"]
            .as_str()
            .expect("link")
            .to_string()
    }

    /// `GET /_sandbox/scenarios/export{query}`: the world as scenario YAML.
    pub async fn export(&self, query: &str) -> String {
        let response = self
            .client
            .get(self.url(&format!("/_sandbox/scenarios/export{query}")))
            .send()
            .await
            .expect("export");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "application/yaml; charset=utf-8"
        );
        response.text().await.expect("text")
    }

    /// A control-plane GET's JSON.
    pub async fn control(&self, path: &str) -> Value {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("control plane")
            .json()
            .await
            .expect("json")
    }
}

/// An STK push's Location, paid (the clock advanced past the result delay).
pub async fn paid_stk_push(app: &TestApp, token: &str, phone: &str, amount: u64) -> Value {
    let mut request = stk_request("http://127.0.0.1:9/cb");
    request["subscriber"]["phone_number"] = json!(phone);
    request["amount"]["value"] = json!(amount);
    let location = app
        .create("/api/v2/incoming_payments", token, &request)
        .await;
    app.advance("1s").await;
    app.get_json(&location, token).await
}

/// The sandbox binary as a child process, for what only a process shows: signals, exit
/// codes, resident memory.
pub struct SandboxProcess {
    pub child: tokio::process::Child,
    pub base: String,
    pub addr: std::net::SocketAddr,
}

impl SandboxProcess {
    /// Starts `k2-sandbox --port 0 <args>` and waits for its start-up line.
    pub async fn start(args: &[&str]) -> Self {
        Self::start_with_env(args, &[]).await
    }

    /// Like [`start`](Self::start), with `env` set for the process.
    pub async fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let stderr = if std::env::var_os("TEST_LOG").is_some() {
            std::process::Stdio::inherit()
        } else {
            std::process::Stdio::null()
        };
        Self::spawn(args, env, stderr).await
    }

    /// Like [`start`](Self::start), with its log (stderr) kept for [`log`](Self::log).
    pub async fn start_logging(args: &[&str]) -> Self {
        Self::spawn(args, &[], std::process::Stdio::piped()).await
    }

    /// Stops the process with SIGTERM and returns what it logged (started with
    /// [`start_logging`](Self::start_logging)).
    pub async fn log(mut self) -> String {
        use tokio::io::AsyncReadExt as _;
        self.signal("TERM");
        let mut stderr = self
            .child
            .stderr
            .take()
            .expect("started with start_logging");
        let mut log = String::new();
        tokio::time::timeout(Duration::from_secs(10), stderr.read_to_string(&mut log))
            .await
            .expect("the process exits within 10 s")
            .expect("stderr readable");
        log
    }

    async fn spawn(args: &[&str], env: &[(&str, &str)], stderr: std::process::Stdio) -> Self {
        use tokio::io::AsyncBufReadExt as _;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
            .args(["--port", "0"])
            .args(args)
            .envs(env.iter().copied())
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("a start-up line within 10 s")
            .expect("stdout readable")
            .expect("a start-up line");
        let base = line
            .strip_prefix("k2-sandbox listening on ")
            .expect("the start-up line")
            .to_string();
        let addr = base
            .trim_start_matches("http://")
            .parse()
            .expect("an address");
        Self { child, base, addr }
    }

    /// How many of the process's threads have this name.
    pub fn threads_named(&self, name: &str) -> usize {
        let pid = self.child.id().expect("running");
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .expect("proc tasks")
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|comm| comm.trim_end() == name)
            .count()
    }

    /// Resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// Sends a signal by name (`TERM`, `INT`).
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill")
            .args([format!("-{name}"), pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} {pid}");
    }

    /// The exit code, if the process exits within `limit`.
    pub async fn exit_within(&mut self, limit: Duration) -> Option<i32> {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => Some(status.expect("wait").code().unwrap_or(-1)),
            Err(_) => None,
        }
    }
}
