//! Scenario expectations (`expect:`): judged by `GET /_sandbox/verify` against what happened
//! since the scenario loaded, by `k2-sandbox verify` against a running sandbox, and at the end
//! of `k2-sandbox run`, which also runs the command, passes signals on and writes JUnit.

use std::process::Output;

use serde_json::{Value, json};

use crate::helpers::*;

/// The issue's example, with a receiver for probes and the STK push's till.
fn checkout(probe_url: &str) -> String {
    format!(
        "name: checkout\n\
         probes:\n  - url: {probe_url}\n\
         expect:\n\
         \x20 - name: the app acknowledges every callback\n\
         \x20   callbacks: {{acknowledged: all}}\n\
         \x20 - name: exactly one STK push\n\
         \x20   requests: {{endpoint: POST /api/v2/incoming_payments, count: 1}}\n\
         \x20 - name: no invalid requests\n\
         \x20   requests: {{status: 4xx, count: 0}}\n\
         \x20 - name: two payments succeeded\n\
         \x20   resources: {{type: incoming_payment, status: Success, count: 2}}\n\
         \x20 - name: the app rejects forged callbacks\n\
         \x20   probes: {{passed: all}}\n\
         \x20 - name: till credited\n\
         \x20   balance: {{till: \"K000000\", equals: 1020000}}\n\
         \x20 - prompts: {{unanswered: 0}}\n"
    )
}

/// `(name, passed, actual)` of each verdict of the only scenario.
fn verdicts(report: &Value) -> Vec<(String, bool, String)> {
    report["scenarios"][0]["expectations"]
        .as_array()
        .expect("expectations")
        .iter()
        .map(|v| {
            (
                v["name"].as_str().expect("name").to_string(),
                v["passed"].as_bool().expect("passed"),
                v["actual"].as_str().expect("actual").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn expectations_judge_what_the_app_did_since_the_scenario_loaded() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    // Before the scenario: not counted.
    app.create_incoming_payment(&token, &json!({})).await;
    let receiver = CallbackReceiver::start(Behaviour::VerifySignatures).await;
    let loaded = app.load_scenario(checkout(&receiver.url)).await;
    assert_eq!(loaded.status(), 201);

    let callbacks = CallbackReceiver::start(Behaviour::Accept).await;
    app.create(
        "/api/v2/incoming_payments",
        &token,
        &stk_request(&callbacks.url),
    )
    .await;
    app.advance("1s").await;
    callbacks.wait_for(1).await;
    receiver.wait_for(6).await;

    let report = app.control("/_sandbox/verify").await;
    assert_eq!(report["passed"], false);
    assert_eq!(report["expectations"], 7);
    assert_eq!(report["failed"], 1);
    assert_eq!(report["scenarios"][0]["scenario"], "checkout");
    let judged = verdicts(&report);
    let expected: Vec<(&str, bool)> = vec![
        ("the app acknowledges every callback", true),
        ("exactly one STK push", true),
        ("no invalid requests", true),
        ("two payments succeeded", false),
        ("the app rejects forged callbacks", true),
        ("till credited", true),
        ("prompts unanswered: 0", true),
    ];
    assert_eq!(
        judged
            .iter()
            .map(|(n, p, _)| (n.as_str(), *p))
            .collect::<Vec<_>>(),
        expected,
        "{report:#}"
    );
    let failed = &report["scenarios"][0]["expectations"][3];
    let paid = failed["ids"][0].as_str().expect("the payment counted");
    assert_eq!(
        failed,
        &json!({
            "name": "two payments succeeded", "check": "resources", "field": "expect[3]",
            "passed": false, "expected": "incoming_payment Success: exactly 2",
            "actual": format!("1: {paid}"), "ids": [paid]
        })
    );
    let shown = app
        .get_json(
            &app.url(&format!("/api/v2/incoming_payments/{paid}")),
            &token,
        )
        .await;
    assert_eq!(shown["data"]["attributes"]["status"], "Success");

    // An invalid request now fails "no invalid requests", naming it by its journal sequence.
    let refused = app.create_incoming_payment(&token, &json!({})).await;
    assert_eq!(refused.status(), 400);
    let report = app.control("/_sandbox/verify").await;
    let invalid = &report["scenarios"][0]["expectations"][2];
    assert_eq!(invalid["passed"], false);
    assert_eq!(invalid["expected"], "requests answered 4xx: exactly 0");
    let sequence = invalid["ids"][0].as_str().expect("an id");
    assert_eq!(
        invalid["actual"],
        format!("1: #{sequence} POST /api/v2/incoming_payments -> 400")
    );
    let journal = app
        .control(&format!(
            "/_sandbox/requests?cursor={}",
            sequence.parse::<u64>().expect("n") + 1
        ))
        .await;
    assert_eq!(journal["requests"][0]["status"], 400);
}

#[tokio::test]
async fn callbacks_not_acknowledged_and_probes_the_app_gets_wrong_fail_with_their_ids() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    // An app that accepts anything: it fails the probes that must be rejected.
    let lax = CallbackReceiver::start(Behaviour::Accept).await;
    let down = "http://127.0.0.1:9/down";
    let yaml = format!(
        "name: lax\nprobes:\n  - url: {}\n    kinds: [valid, wrong_key]\n\
         expect:\n  - callbacks: {{acknowledged: all}}\n  - callbacks: {{exhausted: 0}}\n\
         \x20 - probes: {{passed: all}}\n",
        lax.url
    );
    assert_eq!(app.load_scenario(yaml).await.status(), 201);
    app.create("/api/v2/incoming_payments", &token, &stk_request(down))
        .await;
    app.advance("1s").await;
    lax.wait_for(2).await;
    let report = app.control("/_sandbox/verify").await;
    let v = &report["scenarios"][0]["expectations"];
    assert_eq!(v[0]["name"], "callbacks acknowledged: all");
    assert_eq!(v[0]["passed"], false);
    let delivery = v[0]["ids"][0].as_str().expect("the delivery's id");
    assert!(
        v[0]["actual"].as_str().expect("actual").starts_with(
            "1 sent: 0 acknowledged, 0 exhausted, 1 still being retried; first not acknowledged: "
        ),
        "{}",
        v[0]["actual"]
    );
    assert!(v[0]["actual"].as_str().expect("actual").contains(delivery));
    // Still being retried: none exhausted yet.
    assert_eq!(v[1]["passed"], true);
    assert_eq!(v[2]["passed"], false);
    assert_eq!(
        v[2]["actual"],
        "1 of 2 passed, 1 answered wrongly, 0 not delivered, 0 not tried yet: wrong_key \
         (accepted it)"
    );
    assert_eq!(v[2]["ids"].as_array().expect("ids").len(), 1);
}

#[tokio::test]
async fn expectation_problems_are_reported_with_line_and_field() {
    let dir = std::env::temp_dir().join(format!("k2-expect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("broken.yaml");
    std::fs::write(
        &file,
        "name: broken\nexpect:\n\
         \x20 - requests: {count: 1}\n    prompts: {unanswered: 0}\n\
         \x20 - resources: {type: incoming_payments, status: Succeeded}\n\
         \x20 - requests: {endpoint: POST /api/v2/incomng_payments}\n\
         \x20 - balance: {till: \"000000\"}\n\
         \x20 - callbacks: {within: 1s}\n",
    )
    .expect("write");
    let out = validate(&file).await;
    assert_eq!(out.status.code(), Some(1));
    let problems: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| l.replace(&file.display().to_string(), "F"))
        .collect();
    assert_eq!(
        problems,
        [
            "error: F:3:5: expect[0]: an expectation has exactly one of `requests`, `callbacks`, \
             `probes`, `resources`, `balance`, `sms`, `prompts`",
            "error: F:5:50: expect[1].resources.status: incoming_payment documents show Pending, \
             Success, Failed, not \"Succeeded\" (did you mean `Success`?)",
            "error: F:6:26: expect[2].requests.endpoint: /api/v2/incomng_payments is not a path of \
             the API, so no request could match it (did you mean `/api/v2/incoming_payments`?)",
            "error: F:7:15: expect[3].balance: say what it must be: `equals`, `at_least` or \
             `at_most`",
            "error: F:8:17: expect[4].callbacks: say `acknowledged` (all or a number), `exhausted` \
             (a number), or how many were sent (`count`, `at_least`, `at_most`)",
            "error: F:8:25: expect[4].callbacks.within: `within` bounds how fast callbacks were \
             acknowledged: add `acknowledged`",
        ]
    );

    std::fs::write(&file, "name: typo\nexpect:\n  - requests: {status: 4x}\n").expect("write");
    let out = validate(&file).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "expect[0].requests.status: \"4x\" is not a status: use a code such as 404 or a class such as 4xx"
        ),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

async fn validate(file: &std::path::Path) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .arg("validate")
        .arg(file)
        .output()
        .await
        .expect("the binary runs")
}

/// `k2-sandbox run <args>` in `dir`, with `env`.
async fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .env_remove("K2_SANDBOX_PORT")
        .env_remove("RUST_LOG")
        .output()
        .await
        .expect("the binary runs")
}

/// A test suite in Python: a token and one STK push with the credentials and address `run`
/// gives it, the result's callback to `callback_url`; prints its environment's K2_ names.
fn app_script(callback_url: &str) -> String {
    format!(
        r#"
import json, os, urllib.request, urllib.parse
base = os.environ["K2_BASE_URL"]
form = urllib.parse.urlencode({{"client_id": os.environ["K2_CLIENT_ID"],
    "client_secret": os.environ["K2_CLIENT_SECRET"], "grant_type": "client_credentials"}}).encode()
token = json.load(urllib.request.urlopen(base + "/oauth/token", form))["access_token"]
body = {stk}
body["_links"]["callback_url"] = "{callback_url}"
request = urllib.request.Request(base + "/api/v2/incoming_payments", json.dumps(body).encode(),
    {{"Authorization": "Bearer " + token, "Content-Type": "application/json"}})
print("created", urllib.request.urlopen(request).status)
print("env", sorted(k for k in os.environ if k.startswith("K2_")), os.environ["K2_API_KEY"])
"#,
        stk = stk_request("x")
    )
}

#[tokio::test]
async fn run_starts_a_sandbox_runs_the_command_judges_and_reports() {
    let dir = std::env::temp_dir().join(format!("k2-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let callbacks = CallbackReceiver::start(Behaviour::Accept).await;
    std::fs::write(dir.join("app.py"), app_script(&callbacks.url)).expect("write");
    std::fs::write(
        dir.join("checkout.yaml"),
        "name: checkout\nexpect:\n\
         \x20 - name: the app acknowledges every callback\n    callbacks: {acknowledged: all}\n\
         \x20 - requests: {endpoint: POST /api/v2/incoming_payments, count: 1}\n\
         \x20 - resources: {type: incoming_payments, status: Success, count: 1}\n",
    )
    .expect("write");

    let passing = run(
        &dir,
        &[
            "--scenario",
            "checkout.yaml",
            "--junit",
            "junit.xml",
            "--report",
            "report.json",
            "--callback-delay-ms",
            "50",
            "--",
            "python3",
            "app.py",
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&passing.stdout);
    assert_eq!(passing.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("created 201"), "{stdout}");
    assert!(
        stdout.contains(
            "env ['K2_API_KEY', 'K2_BASE_URL', 'K2_CLIENT_ID', 'K2_CLIENT_SECRET', 'K2_SANDBOX_URL'] sandbox-api-key"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("PASS     checkout   the app acknowledges every callback"),
        "{stdout}"
    );
    assert!(stdout.contains("4 checks, 4 passed, 0 failed"), "{stdout}");
    // The callback arrived before the verdict: `run` let the due work finish.
    assert_eq!(callbacks.received().len(), 1);
    let junit = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml");
    assert!(
        junit.contains(
            r#"<testsuites name="k2-sandbox" tests="4" skipped="0" failures="0" errors="0">"#
        ),
        "{junit}"
    );
    assert!(
        junit.contains(r#"<testcase name="python3 app.py" classname="command""#),
        "{junit}"
    );
    assert!(
        junit.contains(
            r#"<testcase name="the app acknowledges every callback" classname="checkout"/>"#
        ),
        "{junit}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("report"))
            .expect("JSON");
    assert_eq!(report["passed"], true);
    assert_eq!(report["command"]["code"], 0);
    assert!(
        std::fs::read_to_string(dir.join("k2-sandbox.log"))
            .expect("the log file")
            .contains("scenarios loaded")
    );

    // A second push breaks "exactly one": exit 1, a failure in the report that says why.
    std::fs::write(dir.join("twice.sh"), "python3 app.py && python3 app.py").expect("write");
    let failing = run(
        &dir,
        &[
            "--scenario",
            "checkout.yaml",
            "--junit",
            "junit.xml",
            "--",
            "sh",
            "twice.sh",
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&failing.stdout);
    assert_eq!(failing.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL checkout › requests to POST /api/v2/incoming_payments: exactly 1"),
        "{stdout}"
    );
    let junit = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml");
    assert!(
        junit.contains(r#"<failure message="expected requests to POST /api/v2/incoming_payments: exactly 1; found 2: #1 POST /api/v2/incoming_payments -&gt; 201, #3 POST /api/v2/incoming_payments -&gt; 201" type="requests">"#),
        "{junit}"
    );

    // The command's own failure is the exit code.
    let broken = run(&dir, &["--", "sh", "-c", "exit 3"]).await;
    assert_eq!(broken.status.code(), Some(3));
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[tokio::test]
async fn run_passes_sigterm_on_to_the_command_and_exits_with_its_code() {
    let dir = std::env::temp_dir().join(format!("k2-run-signal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args([
            "run",
            "--",
            "sh",
            "-c",
            "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    use tokio::io::AsyncBufReadExt as _;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let ready = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
        .await
        .expect("ready within 10 s")
        .expect("readable");
    assert_eq!(ready.as_deref(), Some("ready"));
    let pid = child.id().expect("running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("exits within 10 s")
        .expect("status");
    assert_eq!(status.code(), Some(7));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn verify_judges_a_running_sandbox_and_writes_junit() {
    let dir = std::env::temp_dir().join(format!("k2-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let scenario = dir.join("quiet.yaml");
    std::fs::write(
        &scenario,
        "name: quiet\nexpect:\n  - name: nothing sent\n    requests: {count: 0}\n  - requests: {at_least: 1}\n",
    )
    .expect("write");
    let sandbox = SandboxProcess::start(&["--scenario", scenario.to_str().expect("utf-8")]).await;
    let junit = dir.join("verdicts.xml");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(["verify", "--junit", junit.to_str().expect("utf-8")])
        .env("K2_SANDBOX_URL", &sandbox.base)
        .output()
        .await
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("PASS     quiet     nothing sent"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "FAIL quiet › requests: at least 1 ({}, expect[1])",
            scenario.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("2 checks, 1 passed, 1 failed\n"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).expect("written");
    assert!(
        xml.contains(r#"<testsuite name="quiet" tests="2" skipped="0" errors="0" failures="1">"#),
        "{xml}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
