//! Verdicts a QA lead can trust: every check fails when nothing was tested, probes that reach
//! nothing fail, the customer's checkout is not the app's traffic, one vocabulary across a
//! scenario (with the older spellings named), and `validate` reports every problem at once.

use serde_json::{Value, json};

use crate::helpers::*;

/// The verdicts of the only loaded scenario with expectations.
async fn verdicts(app: &TestApp) -> Vec<Value> {
    let report = app.control("/_sandbox/verify").await;
    report["scenarios"][0]["expectations"]
        .as_array()
        .expect("expectations")
        .clone()
}

/// A local port nothing listens on: bound, then let go.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test]
async fn a_probe_nothing_answers_is_not_delivered_and_fails_passed_all() {
    let app = spawn_virtual_app().await;
    let url = format!("http://127.0.0.1:{}/hooks", closed_port());
    let yaml = format!(
        "name: nobody home\nprobes:\n  - url: {url}\n    kinds: [valid, wrong_key]\n\
         expect:\n  - probes: {{passed: all}}\n  - probes: {{passed: 1}}\n"
    );
    assert_eq!(app.load_scenario(yaml).await.status(), 201);
    app.advance("1s").await;
    let verdicts = wait_for_verdicts(&app, |v| {
        v[0]["actual"]
            .as_str()
            .is_some_and(|a| a.contains("0 not tried yet"))
    })
    .await;
    assert_eq!(verdicts[0]["passed"], false, "{verdicts:#?}");
    assert_eq!(verdicts[1]["passed"], false, "{verdicts:#?}");
    let actual = verdicts[0]["actual"].as_str().expect("actual");
    assert!(
        actual.starts_with(
            "0 of 2 passed, 0 answered wrongly, 2 not delivered, 0 not tried yet: valid (not \
             delivered to "
        ),
        "{actual}"
    );
    assert!(
        actual.contains(&format!(
            "wrong_key (not delivered to {url}: connection failed)"
        )),
        "{actual}"
    );
    assert!(
        actual.ends_with("is the app listening at that URL?"),
        "{actual}"
    );
    assert_eq!(verdicts[0]["ids"].as_array().expect("ids").len(), 2);
    // The delivery log says so too.
    let probes: Vec<Value> = app
        .deliveries()
        .await
        .into_iter()
        .filter_map(|d| d.get("probe").filter(|p| !p.is_null()).cloned())
        .collect();
    assert_eq!(probes.len(), 2);
    for probe in probes {
        assert_eq!(probe["outcome"], "not_delivered", "{probe}");
        assert_eq!(probe["passed"], false, "{probe}");
    }
}

/// Verify until `ready` holds of its verdicts (probes are sent by the worker, off the
/// request path).
async fn wait_for_verdicts(app: &TestApp, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..200 {
        let v = verdicts(app).await;
        if ready(&v) {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    verdicts(app).await
}

#[tokio::test]
async fn a_probe_that_reaches_an_app_is_judged_by_its_answer() {
    let app = spawn_virtual_app().await;
    let receiver = CallbackReceiver::start(Behaviour::VerifySignatures).await;
    let yaml = format!(
        "name: checked\nprobes:\n  - url: {}\n    kinds: [valid, wrong_key]\n\
         expect:\n  - probes: {{passed: all}}\n",
        receiver.url
    );
    assert_eq!(app.load_scenario(yaml).await.status(), 201);
    app.advance("1s").await;
    receiver.wait_for(2).await;
    let v = wait_for_verdicts(&app, |v| v[0]["passed"] == true).await;
    assert_eq!(v[0]["passed"], true, "{v:#?}");
    assert_eq!(
        v[0]["actual"],
        "2 of 2 passed, 0 answered wrongly, 0 not delivered, 0 not tried yet"
    );
}

#[tokio::test]
async fn all_over_nothing_fails_and_a_count_of_zero_says_none() {
    let app = spawn_virtual_app().await;
    let yaml = "name: idle\nexpect:\n\
        \x20 - callbacks: {acknowledged: all}\n\
        \x20 - callbacks: {count: 0}\n\
        \x20 - probes: {passed: all}\n\
        \x20 - resources: {type: incoming_payment, count: 0}\n";
    assert_eq!(app.load_scenario(yaml).await.status(), 201);
    let v = verdicts(&app).await;
    let summary: Vec<(&str, bool)> = v
        .iter()
        .map(|v| {
            (
                v["expected"].as_str().expect("expected"),
                v["passed"].as_bool().expect("passed"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "at least one callback sent, every one acknowledged with a 2xx",
                false
            ),
            ("callbacks sent: exactly 0", true),
            (
                "every probe delivered and answered as a correct receiver does",
                false
            ),
            ("incoming_payment: exactly 0", true),
        ]
    );
    assert_eq!(
        v[0]["actual"],
        "nothing was sent: no result callback or webhook went out since the scenario loaded \
         (to expect none, write `count: 0`)"
    );
    assert!(
        v[2]["actual"]
            .as_str()
            .expect("actual")
            .starts_with("nothing was sent")
    );

    // One callback sent and acknowledged: `all` passes, `count: 0` fails and names it.
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    app.stk_push(&token, &receiver.url).await;
    app.advance("1s").await;
    receiver.wait_for(1).await;
    let v = wait_for_verdicts(&app, |v| v[0]["passed"] == true).await;
    assert_eq!(v[0]["passed"], true, "{v:#?}");
    assert_eq!(v[1]["passed"], false);
    assert_eq!(v[1]["ids"].as_array().expect("ids").len(), 1);
    assert_eq!(v[3]["passed"], false);
    let counted = v[3]["ids"][0].as_str().expect("the push counted");
    assert_eq!(v[3]["actual"], format!("1: {counted}"));
}

#[tokio::test]
async fn the_customers_checkout_is_not_the_apps_traffic() {
    let app = spawn_virtual_app().await;
    let yaml = "name: shop\nexpect:\n\
        \x20 - name: the app sent no invalid request\n    requests: {status: 4xx, count: 0}\n\
        \x20 - requests: {by: customer, status: 4xx, count: 2}\n\
        \x20 - requests: {by: all, count: 5}\n";
    assert_eq!(app.load_scenario(yaml).await.status(), 201);
    let token = app.token().await;
    let link = app
        .create(
            "/api/v2/payment_links",
            &token,
            &json!({"till_number": "112233", "currency": "KES", "amount": 350,
                    "payment_reference": "r", "note": "n",
                    "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    let page = app.link_url(&link, &token).await;
    // A customer opens the page, types a bad number, and opens a link that does not exist.
    let client = http_client();
    assert_eq!(client.get(&page).send().await.expect("page").status(), 200);
    let bad = client
        .post(&page)
        .form(&[("phone_number", "12")])
        .send()
        .await
        .expect("pay");
    assert_eq!(bad.status(), 400);
    let unknown = client
        .get(app.url("/links/2eab4ca0-1724-4c90-a734-0fb5ffc4391c"))
        .send()
        .await
        .expect("unknown");
    assert_eq!(unknown.status(), 404);

    let v = verdicts(&app).await;
    assert_eq!(v[0]["passed"], true, "{v:#?}");
    assert_eq!(v[1]["passed"], true, "{v:#?}");
    // The token, the link and its GET, the page and its two refusals (not the scenario's
    // own load).
    assert_eq!(v[2]["passed"], false, "{v:#?}");
    assert!(
        v[2]["actual"]
            .as_str()
            .expect("actual")
            .starts_with("6: #1 POST /oauth/token -> 200, "),
        "{v:#?}"
    );

    // The journal shows the app's own requests unless asked for the others.
    let senders = |body: &Value| -> Vec<String> {
        body["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .map(|r| {
                let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                format!("{} {} {}", text("by"), text("method"), text("path"))
            })
            .collect()
    };
    let own = senders(&app.control("/_sandbox/requests").await);
    assert_eq!(own.len(), 3, "{own:?}");
    assert!(own.iter().all(|r| r.starts_with("app ")), "{own:?}");
    let customer = app.control("/_sandbox/requests?by=customer").await;
    assert_eq!(senders(&customer).len(), 3);
    assert_eq!(customer["requests"][0]["client_id"], Value::Null);
    let control = app.control("/_sandbox/requests?by=control").await;
    assert_eq!(senders(&control), ["control POST /_sandbox/scenarios"]);
    let all = app.control("/_sandbox/requests?by=app,customer").await;
    assert_eq!(senders(&all).len(), 6);
    let refused = app
        .client
        .get(app.url("/_sandbox/requests?by=customers"))
        .send()
        .await
        .expect("refused");
    assert_eq!(refused.status(), 400);
    assert_eq!(
        refused.json::<Value>().await.expect("json")["error_message"],
        "by \"customers\" is not one of app, customer, control, all (did you mean `customer`?)"
    );
}

/// `validate`'s stdout, stderr and exit code for one file holding `yaml`.
async fn validate(name: &str, yaml: &str) -> (String, String, Option<i32>) {
    let dir = std::env::temp_dir().join(format!("k2-verdicts-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("s.yaml");
    std::fs::write(&file, yaml).expect("write");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .arg("validate")
        .arg(&file)
        .output()
        .await
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    let strip = |b: &[u8]| String::from_utf8_lossy(b).replace(&file.display().to_string(), "F");
    (strip(&out.stdout), strip(&out.stderr), out.status.code())
}

#[tokio::test]
async fn validate_reports_every_problem_of_a_file_in_one_run() {
    let (_, stderr, code) = validate(
        "five",
        "name: five typos\n\
         world:\n\
         \x20 balancez:\n\
         \x20   - balance: 10\n\
         \x20 handsets:\n\
         \x20   - { phone_number: \"07x\", behaviour: cancel }\n\
         \x20   - { phone_number: \"0711000001\", behaviour: cancl }\n\
         rules:\n\
         \x20 - endpoint: stk-push\n\
         \x20   outcome: failed\n\
         faults:\n\
         \x20 - endpoint: /api/v2/polling\n\
         \x20   latency: 3 parsecs\n\
         expect:\n\
         \x20 - requests: {endpoint: POST /api/v2/incoming_payments, count: many}\n\
         probes:\n\
         \x20 - url: localhost:5000/hooks\n",
    )
    .await;
    assert_eq!(code, Some(1));
    let fields: Vec<&str> = stderr
        .lines()
        .map(|l| l.split(": ").nth(2).expect("a field"))
        .collect();
    assert_eq!(
        fields,
        [
            "world.balancez",
            "world.handsets[0].phone_number",
            "world.handsets[1].behaviour",
            "rules[0].outcome",
            "faults[0].latency",
            "expect[0].requests.count",
            "probes[0].url",
        ],
        "{stderr}"
    );
    for line in [
        "error: F:3:3: world.balancez: unknown field `balancez`",
        "error: F:6:23: world.handsets[0].phone_number: Phone number is invalid",
        "error: F:7:48: world.handsets[1].behaviour: Unknown answer \"cancl\"",
        "error: F:10:14: rules[0].outcome: unknown variant `failed`",
        "error: F:13:14: faults[0].latency: invalid duration \"3 parsecs\"",
        "error: F:15:65: expect[0].requests.count: invalid type: string \"many\", expected u64",
        "error: F:17:10: probes[0].url: \"localhost:5000/hooks\" is not an absolute http(s) URL: \
         write it with its scheme, e.g. http://localhost:5000/hooks",
    ] {
        assert!(
            stderr.lines().any(|l| l.starts_with(line)),
            "{line} in\n{stderr}"
        );
    }

    // A list item set aside keeps the others' indices as written; a required field that
    // was refused is not also reported missing.
    let (_, stderr, _) = validate(
        "indices",
        "name: x\nrules:\n  - endpoint: nope\n    outcome: success\n  - endpoint: send_money\n    outcome: maybe\n",
    )
    .await;
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].starts_with("error: F:3:15: rules[0].endpoint: unknown resource \"nope\""));
    assert!(lines[1].starts_with("error: F:6:14: rules[1].outcome: unknown variant `maybe`"));
}

#[tokio::test]
async fn an_unquoted_brace_gets_the_hint_to_quote_it() {
    let (_, stderr, code) = validate(
        "brace",
        "name: b\nexpect:\n  - requests: {endpoint: GET /api/v2/incoming_payments/{id}, count: 1}\n",
    )
    .await;
    assert_eq!(code, Some(1));
    assert!(
        stderr.trim_end().ends_with(
            "a value holding `{` or `}` must be quoted: write \
             \"GET /api/v2/incoming_payments/{id}\" (or use `*` for a path segment)"
        ),
        "{stderr}"
    );
    let (_, stderr, code) = validate(
        "quoted",
        "name: b\nexpect:\n  - requests: {endpoint: \"GET /api/v2/incoming_payments/{id}\", count: 1}\n",
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test]
async fn older_spellings_work_and_validate_names_the_canonical_word() {
    let yaml = "name: aliases\n\
        rules:\n  - endpoint: stk_push\n    outcome: failure\n\
        callback_faults:\n  - resource: reversals\n    drop: true\n\
        faults:\n  - endpoint: POST /api/v2/polling\n    status: 503\n    retry_after: 2\n\
        expect:\n  - resources: {type: pollings, count: 0}\n";
    let (stdout, stderr, code) = validate("aliases", yaml).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "note: F:3:15: rules[0].endpoint: `stk_push` is an alias: the canonical name is \
             `incoming_payment`",
            "note: F:6:15: callback_faults[0].resource: `reversals` is an alias: the canonical \
             name is `reversal`",
            "note: F:11:18: faults[0].retry_after: a bare number is read as seconds: write it \
             with its unit, `2s`",
            "note: F:13:23: expect[0].resources.type: `pollings` is an alias: the canonical \
             name is `polling`",
            "F: ok (1 scenario)",
        ]
    );

    // Loaded through the control plane, the notes come back with the answer.
    let app = spawn_virtual_app().await;
    let loaded: Value = app.load_scenario(yaml).await.json().await.expect("json");
    assert_eq!(
        loaded["notes"].as_array().expect("notes").len(),
        4,
        "{loaded}"
    );
    assert!(
        loaded["notes"][0].as_str().expect("a note").ends_with(
            "rules[0].endpoint: `stk_push` is an alias: the canonical name is `incoming_payment`"
        ),
        "{loaded}"
    );
    let reset = app.post_control("/_sandbox/reset", &json!({})).await;
    assert_eq!(reset.status(), 200);

    // Canonical words load and act: a duration for Retry-After, the rule on STK pushes.
    let canonical = "name: canonical\n\
        rules:\n  - endpoint: incoming_payment\n    outcome: failure\n\
        faults:\n  - endpoint: POST /api/v2/polling\n    status: 503\n    retry_after: 2500ms\n";
    assert_eq!(app.load_scenario(canonical).await.status(), 201);
    let token = app.token().await;
    let polled = app.post_json("/api/v2/polling", &token, &json!({})).await;
    assert_eq!(polled.status(), 503);
    assert_eq!(polled.headers()["retry-after"], "3");
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let push = app.stk_push(&token, &receiver.url).await;
    app.advance("1s").await;
    receiver.wait_for(1).await;
    let shown = app.get_json(&push, &token).await;
    assert_eq!(shown["data"]["attributes"]["status"], "Failed");

    // Rules decide only the three results a request waits for.
    let (_, stderr, code) = validate(
        "rule-kind",
        "name: x\nrules:\n  - endpoint: payment_link\n    outcome: failure\n",
    )
    .await;
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(
            "rules[0].endpoint: rules decide the results of `incoming_payment` (STK push), \
             `send_money` and `reversal` requests, not `payment_link`"
        ),
        "{stderr}"
    );
}

/// `k2-sandbox run <args>` in `dir`: its exit code and stdout.
async fn run_in(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .env_remove("K2_SANDBOX_PORT")
        .env_remove("RUST_LOG")
        .env_remove("COLUMNS")
        .output()
        .await
        .expect("the binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn run_exit_codes_tell_a_failing_app_from_a_misconfigured_pipeline() {
    let dir = std::env::temp_dir().join(format!("k2-exit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("quiet.yaml"),
        "name: quiet\nexpect:\n  - requests: {count: 0}\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("busy.yaml"),
        "name: busy\nexpect:\n  - requests: {count: 1}\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("broken.yaml"),
        "name: broken\nexpect:\n  - requests: {count: 1\n",
    )
    .expect("write");
    std::fs::write(dir.join("not-executable.sh"), "#!/bin/sh\nexit 0\n").expect("write");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy_port = busy.local_addr().expect("addr").port().to_string();
    let cases: Vec<(&str, Vec<&str>, i32)> = vec![
        (
            "all passed",
            vec!["--scenario", "quiet.yaml", "--", "true"],
            0,
        ),
        (
            "an expectation failed",
            vec!["--scenario", "busy.yaml", "--", "true"],
            1,
        ),
        (
            "a broken scenario",
            vec!["--scenario", "broken.yaml", "--", "true"],
            2,
        ),
        (
            "a missing scenario",
            vec!["--scenario", "nowhere.yaml", "--", "true"],
            2,
        ),
        ("a bad flag", vec!["--no-such-flag", "--", "true"], 2),
        (
            "the port is taken",
            vec!["--port", &busy_port, "--", "true"],
            2,
        ),
        ("a command not found", vec!["--", "k2-no-such-command"], 127),
        (
            "a command not runnable",
            vec!["--", "./not-executable.sh"],
            126,
        ),
        ("the command failed", vec!["--", "sh", "-c", "exit 3"], 3),
        (
            "a signal ended it",
            vec!["--", "sh", "-c", "kill -TERM $$"],
            143,
        ),
    ];
    for (what, args, code) in cases {
        let (got, stdout, stderr) = run_in(&dir, &args).await;
        assert_eq!(got, Some(code), "{what}:\n{stdout}\n{stderr}");
    }
    let (_, stdout, _) = run_in(&dir, &["--", "k2-no-such-command"]).await;
    assert!(
        stdout.contains("FAIL (command) › k2-no-such-command\n  not found: "),
        "{stdout}"
    );
    drop(busy);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_verdict_table_in_a_ci_log_wraps_and_cuts_nothing() {
    let dir = std::env::temp_dir().join(format!("k2-table-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("quiet.yaml"),
        "name: quiet\nexpect:\n  - name: the app sends nothing\n    requests: {count: 0}\n",
    )
    .expect("write");
    // Eight token requests, then a long command line.
    let script = "import os, urllib.request, urllib.parse\n\
        form = urllib.parse.urlencode({'client_id': os.environ['K2_CLIENT_ID'], \
        'client_secret': os.environ['K2_CLIENT_SECRET'], 'grant_type': 'client_credentials'}).encode()\n\
        for _ in range(8): urllib.request.urlopen(os.environ['K2_BASE_URL'] + '/oauth/token', form)\n";
    std::fs::write(dir.join("tokens.py"), script).expect("write");
    let long = format!("python3 tokens.py && {} true", "echo step && ".repeat(60));
    let (code, stdout, stderr) =
        run_in(&dir, &["--scenario", "quiet.yaml", "--", "sh", "-c", &long]).await;
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("verdict"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(table.len() > 3, "{stdout}");
    for line in &table {
        assert!(line.chars().count() <= 100, "{line:?} in\n{stdout}");
        assert!(!line.ends_with("..."), "{line:?}");
    }
    // The command is one readable line; every request the check counted is in the table.
    assert!(
        table[1].starts_with("PASS     (command)  sh -c 'python3 tokens.py &&"),
        "{stdout}"
    );
    assert!(table[1].contains('…'), "{stdout}");
    let found = table[2..]
        .iter()
        .map(|l| l.get(65..).unwrap_or_default().trim())
        .collect::<Vec<_>>()
        .join(" ");
    for n in 0..8 {
        assert!(
            found.contains(&format!("#{n} POST /oauth/token -> 200")),
            "#{n} in {found}"
        );
    }
    // The failure lists the journal sequences it counted.
    assert!(
        stdout.contains("  ids:      0, 1, 2, 3, 4, 5, 6, 7"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `GET /_sandbox/scenarios/export` with credentials (it loads into a fresh sandbox), without
/// its first lines (the export's own time).
async fn exported(app: &TestApp) -> String {
    let text = app.export("?name=world&secrets=include").await;
    text.lines()
        .filter(|l| !l.starts_with("description:") && !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_world_built_by_every_kind_of_activity_exports_validates_and_loads_back() {
    let app = spawn_virtual_app().await;
    let setup = "name: setup\nworld:\n  applications:\n    - {client_id: qa-app, client_secret: s, api_key: k}\n  \
                 tills:\n    - {till_number: K000000, name: Corner Shop}\n";
    assert_eq!(app.load_scenario(setup).await.status(), 201);
    let token = app.token().await;
    // Payments into the till: an STK push, a Buygoods payment, a paid payment link.
    let paid = paid_stk_push(&app, &token, "+254712345678", 5000).await;
    assert_eq!(paid["data"]["attributes"]["status"], "Success");
    let trigger = app
        .post_control(
            "/_sandbox/events",
            &json!({"type": "buygoods_transaction_received", "till_number": "K000000",
                    "amount": 2000}),
        )
        .await;
    assert_eq!(trigger.status(), 201);
    let link = app
        .create(
            "/api/v2/payment_links",
            &token,
            &json!({"till_number": "K000000", "currency": "KES", "amount": 350,
                    "payment_reference": "r", "note": "n",
                    "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    let link_id = link.rsplit('/').next().expect("id");
    let pay = app
        .post_control(
            &format!("/_sandbox/payment_links/{link_id}/pay"),
            &json!({"phone_number": "0712345678"}),
        )
        .await;
    assert!(pay.status().is_success(), "{}", pay.status());
    // Money out: a transfer to a merchant wallet, a payment to an external wallet, a reversal.
    let wallet = app
        .create(
            "/api/v2/merchant_wallets",
            &token,
            &json!({"first_name": "Jane", "last_name": "Doe", "phone_number": "+254712345678",
                    "network": "Safaricom", "nickname": "Own"}),
        )
        .await;
    let wallet_id = app.get_json(&wallet, &token).await["data"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    app.create(
        "/api/v2/send_money",
        &token,
        &json!({"destinations": [{"type": "merchant_wallet", "reference": wallet_id,
                 "amount": 300, "description": "sweep"}],
                "currency": "KES", "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
    )
    .await;
    app.create(
        "/api/v2/send_money",
        &token,
        &json!({"destinations": [{"type": "mobile_wallet", "phone_number": "+254799000001",
                 "network": "Safaricom", "amount": 120, "description": "refund"}],
                "currency": "KES", "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
    )
    .await;
    let tx = paid["data"]["attributes"]["event"]["resource"]["id"]
        .as_str()
        .expect("the transaction")
        .to_string();
    app.create(
        "/api/v2/reversals",
        &token,
        &json!({"transaction_reference": tx, "reason": "wrong till",
                "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
    )
    .await;
    // Recipients, a subscription, a handset, a balance set by hand below what the till took.
    app.create(
        "/api/v2/external_recipients",
        &token,
        &json!({"type": "paybill", "external_recipient": {"paybill_name": "KPLC",
                "paybill_number": "888880", "paybill_account_number": "ACC-1"}}),
    )
    .await;
    app.create(
        "/api/v2/webhook_subscriptions",
        &token,
        &json!({"event_type": "buygoods_transaction_received",
                "url": "https://example.com/hooks", "scope": "till", "scope_reference": "K000000"}),
    )
    .await;
    let handset = app
        .client
        .put(app.url("/_sandbox/handsets/0711000001"))
        .json(&json!({"behaviour": "cancel"}))
        .send()
        .await
        .expect("handset");
    assert!(handset.status().is_success());
    let set = app
        .client
        .put(app.url("/_sandbox/balances"))
        .json(&json!({"till_number": "K000000", "balance": 1000}))
        .send()
        .await
        .expect("set");
    assert_eq!(set.status(), 200);
    let qa_set = app
        .client
        .put(app.url("/_sandbox/balances"))
        .json(&json!({"client_id": "qa-app", "balance": 42}))
        .send()
        .await
        .expect("set");
    assert_eq!(qa_set.status(), 200);
    app.advance("3d").await;

    let world = exported(&app).await;
    assert!(world.contains("credit: false"), "{world}");
    let dir = std::env::temp_dir().join(format!("k2-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("world.yaml"), &world).expect("write");
    let validated = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .arg("validate")
        .arg(dir.join("world.yaml"))
        .output()
        .await
        .expect("runs");
    assert_eq!(
        validated.status.code(),
        Some(0),
        "{}\n{world}",
        String::from_utf8_lossy(&validated.stderr)
    );

    let fresh = spawn_virtual_app().await;
    let loaded = fresh.load_scenario(world.clone()).await;
    assert_eq!(
        loaded.status(),
        201,
        "{}",
        loaded.text().await.unwrap_or_default()
    );
    for client_id in [CLIENT_ID, "qa-app"] {
        let path = format!("/_sandbox/balances?client_id={client_id}");
        assert_eq!(
            fresh.control(&path).await,
            app.control(&path).await,
            "{client_id}'s balances"
        );
    }
    assert_eq!(exported(&fresh).await, world);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_scenario_in_the_reference_loads_in_the_canonical_vocabulary() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scenarios.md"))
        .expect("docs/scenarios.md");
    let blocks: Vec<&str> = doc
        .split("```yaml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().expect("a closed block"))
        .collect();
    assert!(blocks.len() >= 7, "{} blocks", blocks.len());
    for block in blocks {
        let text = if block.contains("\nname:") || block.starts_with("name:") {
            block.to_string()
        } else {
            format!("name: fragment\n{block}")
        };
        let scenarios = k2_sandbox::scenario::parse("docs/scenarios.md", &text)
            .unwrap_or_else(|p| panic!("{p}\nin\n{text}"));
        for s in &scenarios {
            assert!(s.notes.is_empty(), "{:?}\nin\n{text}", s.notes);
        }
    }
}

#[tokio::test]
async fn balance_sms_and_prompt_checks_fail_when_they_should_and_name_what_they_counted() {
    let app = spawn_virtual_app().await;
    let yaml = "name: shop\nworld:\n  handsets:\n    - {phone_number: \"0711000009\", behaviour: manual}\n\
        expect:\n\
        \x20 - balance: {till: K000000, equals: 1}\n\
        \x20 - balance: {till: K000000, at_least: 1}\n\
        \x20 - sms: {to: \"+254712345678\", count: 1}\n\
        \x20 - sms: {to: \"+254700000001\"}\n\
        \x20 - prompts: {unanswered: 0}\n\
        \x20 - prompts: {unanswered: 1}\n";
    assert_eq!(app.load_scenario(yaml).await.status(), 201);
    let token = app.token().await;
    let hooks = CallbackReceiver::start(Behaviour::Accept).await;
    app.create(
        "/api/v2/webhook_subscriptions",
        &token,
        &json!({"event_type": "buygoods_transaction_received", "url": hooks.url,
                "scope": "company"}),
    )
    .await;
    paid_stk_push(&app, &token, "+254712345678", 100).await;
    let event = hooks.wait_for(1).await[0].json()["id"]
        .as_str()
        .expect("event id")
        .to_string();
    let sms = app
        .create(
            "/api/v1/transaction_sms_notifications",
            &token,
            &json!({"webhook_event_reference": event, "message": "Thank you",
                    "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
        )
        .await;
    app.advance("1s").await;
    let mut manual = stk_request("http://127.0.0.1:9/cb");
    manual["subscriber"]["phone_number"] = json!("+254711000009");
    let prompt = app
        .create("/api/v2/incoming_payments", &token, &manual)
        .await;
    app.advance("1s").await;

    let v = verdicts(&app).await;
    let passed: Vec<bool> = v.iter().map(|v| v["passed"] == true).collect();
    assert_eq!(passed, [false, true, true, false, false, true], "{v:#?}");
    // The balance names the till's latest ledger entries; the SMS check its message; the
    // prompts check the push still waiting.
    assert!(!v[0]["ids"].as_array().expect("ids").is_empty(), "{v:#?}");
    let ledger = app.control("/_sandbox/ledger?limit=100").await;
    let sequences: Vec<String> = ledger["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["sequence"].to_string())
        .collect();
    for id in v[0]["ids"].as_array().expect("ids") {
        assert!(
            sequences.contains(&id.as_str().expect("text").to_string()),
            "{id} in {ledger:#}"
        );
    }
    let sms_id = sms.rsplit('/').next().expect("id");
    assert_eq!(v[2]["ids"], json!([sms_id]));
    assert_eq!(v[3]["actual"], "0 sent");
    let prompt_id = prompt.rsplit('/').next().expect("id");
    assert_eq!(v[4]["ids"], json!([prompt_id]), "{v:#?}");
    assert_eq!(v[4]["actual"], "1 unanswered");
}

#[tokio::test]
async fn the_requests_command_shows_the_apps_requests_unless_asked_for_the_others() {
    let app = spawn_app().await;
    let reset = app.post_control("/_sandbox/reset", &json!({})).await;
    assert_eq!(reset.status(), 200);
    app.token().await;
    let unknown = app
        .client
        .get(app.url("/links/2eab4ca0-1724-4c90-a734-0fb5ffc4391c/status"))
        .send()
        .await
        .expect("poll");
    assert_eq!(unknown.status(), 404);
    let requests = |by: &'static str| {
        let base = app.base.clone();
        async move {
            let mut args = vec!["requests".to_string()];
            if !by.is_empty() {
                args.extend(["--by".to_string(), by.to_string()]);
            }
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
                .args(&args)
                .env("K2_SANDBOX_URL", &base)
                .env_remove("K2_SANDBOX_ADMIN_TOKEN")
                .output()
                .await
                .expect("runs");
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    let (code, own, _) = requests("").await;
    assert_eq!(code, Some(0));
    assert!(own.contains("POST    /oauth/token"), "{own}");
    assert!(
        !own.contains("/links/") && !own.contains("/_sandbox/"),
        "{own}"
    );
    let (_, all, _) = requests("all").await;
    assert!(
        all.lines().any(
            |l| l.contains("/links/2eab4ca0-1724-4c90-a734-0fb5ffc4391c/status")
                && l.contains("404")
                && l.ends_with("(customer)")
        ),
        "{all}"
    );
    assert!(
        all.lines()
            .any(|l| l.contains("POST    /_sandbox/reset") && l.ends_with("(control)")),
        "{all}"
    );
    let (code, _, stderr) = requests("customers").await;
    assert_eq!(code, Some(1));
    assert!(stderr.contains("(did you mean `customer`?)"), "{stderr}");
}
