//! The binary's client commands against a running sandbox.

use std::process::Output;

use serde_json::{Value, json};

use crate::helpers::*;

async fn k2(app_url: &str, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(args)
        .env("K2_SANDBOX_URL", app_url)
        .env_remove("K2_SANDBOX_ADMIN_TOKEN")
        .output()
        .await
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn the_cli_drives_a_running_sandbox_end_to_end() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    app.create(
        "/api/v2/webhook_subscriptions",
        &token,
        &json!({"event_type": "buygoods_transaction_received",
        "url": receiver.url, "scope": "company"}),
    )
    .await;

    let health = k2(&app.base, &["healthcheck"]).await;
    assert!(health.status.success());
    assert!(stdout(&health).starts_with("ok (k2-sandbox "));

    let trigger = k2(
        &app.base,
        &[
            "trigger",
            "buygoods",
            "--till",
            "000000",
            "--amount",
            "100",
            "--phone",
            "+254712345678",
        ],
    )
    .await;
    assert!(trigger.status.success(), "{trigger:?}");
    assert!(stdout(&trigger).starts_with("buygoods_transaction_received "));
    let event = receiver.wait_for(1).await[0].json();
    assert_eq!(event["event"]["resource"]["amount"], "100.0");

    let mut request = stk_request("http://127.0.0.1:9/cb");
    request["subscriber"]["phone_number"] = json!("+254700000009");
    let location = app
        .create("/api/v2/incoming_payments", &token, &request)
        .await;
    // Scoped to another application, the number has no prompt waiting.
    let elsewhere = k2(
        &app.base,
        &[
            "stk",
            "cancel",
            "0700000009",
            "--client-id",
            OTHER_CLIENT_ID,
        ],
    )
    .await;
    assert_eq!(elsewhere.status.code(), Some(1), "{elsewhere:?}");
    let stk = k2(&app.base, &["stk", "cancel", "0700000009"]).await;
    assert!(stk.status.success(), "{stk:?}");
    assert!(stdout(&stk).ends_with(": Failed\n"));
    let document = app.get_json(&location, &token).await;
    assert_eq!(
        document["data"]["attributes"]["event"]["errors"],
        json!(["Request cancelled by user"])
    );

    let clock = k2(&app.base, &["clock", "advance", "7d"]).await;
    assert!(clock.status.success());
    assert!(stdout(&clock).starts_with("now 2026-05-08T10:00:00.000+03:00 (virtual + 7d)"));

    let reset = k2(&app.base, &["reset"]).await;
    assert!(reset.status.success());
    let token = app.token().await;
    assert_eq!(
        app.get_with_token(&location, &token).await.status(),
        reqwest::StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn refusals_and_unreachable_sandboxes_have_their_own_exit_codes() {
    let app = spawn_app().await;
    let refused = k2(&app.base, &["stk", "pay", "0799999999"]).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("No pending STK prompt"));

    let unreachable = k2("http://127.0.0.1:9", &["healthcheck"]).await;
    assert_eq!(unreachable.status.code(), Some(2));
}

#[tokio::test]
async fn the_clock_commands_move_the_shared_clock_whatever_application_serve_was_given() {
    let app = spawn_app_with(|args| {
        args.clock = Some(FIXED_CLOCK.parse().expect("fixed clock"));
        args.client_id = "myapp".into();
    })
    .await;
    let advance = k2(&app.base, &["clock", "advance", "7d"]).await;
    assert!(advance.status.success(), "{advance:?}");
    let shown: serde_json::Value = app
        .client
        .get(app.url("/_sandbox/clock?client_id=myapp"))
        .send()
        .await
        .expect("clock")
        .json()
        .await
        .expect("json");
    assert_eq!(shown["now"], "2026-05-08T10:00:00.000+03:00");
    assert_eq!(shown["advanced_ms"], 7 * 86_400_000_i64);

    // An application's own clock, and how far it runs ahead in all.
    let own = k2(
        &app.base,
        &["clock", "advance", "90s", "--client-id", "myapp"],
    )
    .await;
    assert_eq!(
        stdout(&own),
        "now 2026-05-08T10:01:30.000+03:00 on myapp's clock (virtual + 7d 1m 30s), 0 jobs pending\n"
    );
}

#[tokio::test]
async fn client_flags_are_accepted_anywhere_after_the_command_and_listed_in_its_help() {
    let app = spawn_app().await;
    // The env points nowhere: only the flag can reach the sandbox.
    let nowhere = "http://127.0.0.1:9";
    for args in [
        vec!["clock", "show", "--url", &app.base],
        vec!["clock", "--url", &app.base, "show"],
        vec!["clock", "advance", "1s", "--url", &app.base],
        vec!["clock", "advance", "--url", &app.base, "1s"],
        vec!["trigger", "buygoods", "--url", &app.base, "--amount", "5"],
        vec!["reset", "--url", &app.base],
        vec!["healthcheck", "--url", &app.base],
    ] {
        let output = k2(nowhere, &args).await;
        assert!(output.status.success(), "{args:?}: {output:?}");
    }
    // A real-time clock after an advance is not "real time" any more.
    let shown = k2(nowhere, &["clock", "show", "--url", &app.base]).await;
    assert!(
        stdout(&shown).contains("(real time + 2s)"),
        "{}",
        stdout(&shown)
    );

    for command in [
        &["clock", "advance", "--help"][..],
        &["clock", "show", "--help"],
        &["stk", "--help"],
    ] {
        let help = stdout(&k2(nowhere, command).await);
        assert!(help.contains("--url <URL>"), "{command:?}: {help}");
        assert!(
            help.contains("--admin-token <TOKEN>"),
            "{command:?}: {help}"
        );
    }
}

#[tokio::test]
async fn the_auto_tenants_env_twin_takes_the_usual_spellings_of_a_switch() {
    for (value, on) in [
        ("1", true),
        ("yes", true),
        ("ON", true),
        ("true", true),
        ("0", false),
        ("off", false),
        ("", false),
        ("false", false),
    ] {
        let sandbox =
            SandboxProcess::start_with_env(&[], &[("K2_SANDBOX_AUTO_TENANTS", value)]).await;
        let response = http_client()
            .post(format!("{}/oauth/token", sandbox.base))
            .form(&[
                ("client_id", "a-new-app"),
                ("client_secret", "its-secret"),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .expect("token");
        let expected = if on { 200 } else { 401 };
        assert_eq!(
            response.status(),
            expected,
            "K2_SANDBOX_AUTO_TENANTS={value:?}"
        );
    }
    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(["--port", "0"])
        .env("K2_SANDBOX_AUTO_TENANTS", "maybe")
        .output()
        .await
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(
            "\"maybe\" is not a switch value: use 1, true, yes or on; 0, false, no, off or empty"
        ),
        "{refused:?}"
    );
}

/// The sandbox's `k2-sandbox-rt` threads, once their count has held for 100 ms (up to 5 s).
/// A new thread names itself once it runs: until then it has the name of the thread that
/// started it, so a blocking-pool thread a worker just started is briefly a worker too.
async fn workers_of(sandbox: &SandboxProcess) -> usize {
    let started = std::time::Instant::now();
    let (mut last, mut held) = (0, 0);
    loop {
        let now = sandbox.threads_named("k2-sandbox-rt");
        held = if now == last { held + 1 } else { 0 };
        last = now;
        if (held == 4 && now > 0) || started.elapsed() > std::time::Duration::from_secs(5) {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// `--workers` and its env twin set the threads that answer requests: one by default, one per
/// CPU for 0. Whatever the count, a push is answered and its callback arrives, signed.
#[tokio::test]
async fn workers_sets_the_threads_that_answer_and_any_count_calls_back() {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], usize);
    let cases: [Case; 4] = [
        (&[], &[], 1),
        (&["--workers", "3"], &[], 3),
        (&[], &[("K2_SANDBOX_WORKERS", "2")], 2),
        (&["--workers", "0"], &[], cpus),
    ];
    for (args, env, workers) in cases {
        let receiver = CallbackReceiver::start(Behaviour::Accept).await;
        let args = [args, &["--callback-delay-ms", "0"]].concat();
        let sandbox = SandboxProcess::start_with_env(&args, env).await;
        assert_eq!(workers_of(&sandbox).await, workers, "{args:?} {env:?}");
        let created = http_client()
            .post(format!("{}/api/v2/incoming_payments", sandbox.base))
            .bearer_auth(token_at(&sandbox.base).await)
            .json(&stk_request(&receiver.url))
            .send()
            .await
            .expect("create");
        assert_eq!(created.status(), 201, "{args:?} {env:?}");
        let callback = &receiver.wait_for(1).await[0];
        assert!(callback.signature_verifies(API_KEY), "{args:?} {env:?}");
        assert_eq!(workers_of(&sandbox).await, workers, "{args:?} {env:?}");
        assert_eq!(
            callback.json()["data"]["attributes"]["status"],
            "Success",
            "{args:?} {env:?}"
        );
    }
    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(["--port", "0"])
        .env("K2_SANDBOX_WORKERS", "many")
        .output()
        .await
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("invalid value 'many' for '--workers <WORKERS>'"),
        "{refused:?}"
    );
}

/// The README's block of client commands, as a new user copies it, on a fresh sandbox (with
/// the STK push its `stk` line answers, as its comment says).
#[tokio::test]
async fn the_readme_cli_block_works_on_a_fresh_sandbox() {
    let readme = include_str!("../../README.md");
    let block = readme
        .split("```sh\n")
        .find(|b| b.starts_with("k2-sandbox trigger"))
        .and_then(|b| b.split("```").next())
        .expect("the README's CLI block");
    let app = spawn_app_with(|args| args.callback_delay_ms = RESULT_DELAY_MS).await;
    let token = app.token().await;
    let mut request = stk_request("http://127.0.0.1:9/cb");
    request["subscriber"]["phone_number"] = json!("+254700000009");
    app.create("/api/v2/incoming_payments", &token, &request)
        .await;
    let mut ran = 0;
    for line in block.lines() {
        let command = line.split(" #").next().expect("command");
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        let output = k2(&app.base, &args).await;
        assert!(output.status.success(), "{line}: {output:?}");
        ran += 1;
    }
    assert_eq!(ran, 6);
}

#[tokio::test]
async fn trigger_names_its_events_and_prints_the_reference_a_reversal_takes() {
    let app = spawn_app().await;
    let unknown = k2(&app.base, &["trigger", "byugoods"]).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&unknown.stderr),
        "error: unknown event \"byugoods\": use one of buygoods, buygoods-reversed, b2b, \
         b2b-reversed, settlement, customer-created, card, card-voided, card-reversed, m2m (or a \
         full event type such as buygoods_transaction_received) (did you mean `buygoods`?)\n"
    );
    // Every spelling of the name reverses the transaction whose reference `trigger` printed.
    for name in [
        "buygoods-reversed",
        "buygoods_reversed",
        "buygoods_transaction_reversed",
    ] {
        let received = stdout(&k2(&app.base, &["trigger", "buygoods"]).await);
        let reference = received
            .split(", reference ")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .unwrap_or_else(|| panic!("a reference in {received}"));
        let reversed = k2(&app.base, &["trigger", name, "--transaction", reference]).await;
        assert!(reversed.status.success(), "{name}: {reversed:?}");
        assert!(
            stdout(&reversed).starts_with("buygoods_transaction_reversed "),
            "{reversed:?}"
        );
        assert!(
            stdout(&reversed).contains(&format!(", reference {reference}): ")),
            "{reversed:?}"
        );
    }
}

/// Each control-plane command: a table for a person, the sandbox's JSON with `--json`.
#[tokio::test]
async fn the_cli_covers_the_control_plane_with_tables_and_json() {
    let app = spawn_app_with(|args| {
        args.clock = Some(FIXED_CLOCK.parse().expect("fixed clock"));
        args.callback_delay_ms = RESULT_DELAY_MS;
        args.callback_attempts = 1;
    })
    .await;
    let token = app.token().await;
    // A callback to nowhere (exhausted), a prompt waiting, a webhook event.
    app.stk_push(&token, "http://127.0.0.1:9/cb").await;
    app.advance("1s").await;
    let mut waiting = stk_request("http://127.0.0.1:9/cb");
    waiting["subscriber"]["phone_number"] = json!("+254700000009");
    let prompt = app
        .create("/api/v2/incoming_payments", &token, &waiting)
        .await;
    assert!(
        k2(&app.base, &["trigger", "buygoods", "--till", "000000"])
            .await
            .status
            .success()
    );

    let callbacks = stdout(&k2(&app.base, &["callbacks"]).await);
    let lines: Vec<&str> = callbacks.lines().collect();
    assert!(lines[0].starts_with("ID "), "{callbacks}");
    assert!(lines[0].ends_with("CREATED                        RESOURCE          STATE      ATTEMPTS  LAST               URL"), "{callbacks}");
    assert!(lines[1].contains("  2026-05-01T10:00:01.000+03:00  incoming_payment  exhausted  1         connection failed  http://127.0.0.1:9/cb"), "{callbacks}");
    let listed: Value = serde_json::from_str(&stdout(
        &k2(
            &app.base,
            &["callbacks", "list", "--status", "exhausted", "--json"],
        )
        .await,
    ))
    .expect("JSON");
    assert_eq!(
        listed,
        app.control("/_sandbox/callbacks?status=exhausted&limit=50")
            .await
    );
    let id = listed["deliveries"][0]["id"].as_str().expect("id");

    let shown = stdout(&k2(&app.base, &["callbacks", "show", id]).await);
    assert!(shown.starts_with(&format!("delivery   {id}\n")), "{shown}");
    assert!(shown.contains("\nstate      exhausted\n"), "{shown}");
    assert!(
        shown.contains("\nattempt 1  2026-05-01T10:00:01.000+03:00  connection failed  "),
        "{shown}"
    );
    assert!(
        shown
            .trim_end()
            .ends_with(listed["deliveries"][0]["body"].as_str().expect("body"))
    );

    let replayed = k2(&app.base, &["callbacks", "replay", "--exhausted"]).await;
    assert_eq!(
        stdout(&replayed),
        "replayed 1 exhausted deliveries\n",
        "{replayed:?}"
    );
    let one = k2(&app.base, &["callbacks", "replay", id, "--json"]).await;
    let one: Value = serde_json::from_str(&stdout(&one)).expect("JSON");
    assert_eq!(one["replay_of"], id);

    let requests = stdout(
        &k2(
            &app.base,
            &["requests", "--path", "/api/v2/incoming_payments"],
        )
        .await,
    );
    assert!(requests.starts_with("AT                             METHOD  PATH                       STATUS  LATENCY  CLIENT\n"), "{requests}");
    assert_eq!(requests.lines().count(), 3, "{requests}");
    assert!(
        requests.contains("  POST    /api/v2/incoming_payments  201     "),
        "{requests}"
    );

    let prompts = stdout(&k2(&app.base, &["prompts"]).await);
    let prompt_id = prompt.rsplit('/').next().expect("id");
    assert!(
        prompts
            .lines()
            .nth(1)
            .expect("a prompt")
            .starts_with(&format!(
                "{prompt_id}  +254700000009  KES 20000.0  K000000  "
            )),
        "{prompts}"
    );

    let balances = stdout(&k2(&app.base, &["balances"]).await);
    assert!(
        balances.starts_with(&format!("application {CLIENT_ID}\nACCOUNT")),
        "{balances}"
    );
    assert!(
        balances.contains("\ncompany       1000000.0\n"),
        "{balances}"
    );
    let set = stdout(
        &k2(
            &app.base,
            &["balances", "set", "250.50", "--till", "000000"],
        )
        .await,
    );
    assert!(set.contains("\ntill 000000   250.5"), "{set}");

    let events = stdout(&k2(&app.base, &["events", "--topic", "buygoods"]).await);
    // The paid STK push's and the triggered one.
    assert_eq!(events.lines().count(), 3, "{events}");
    for till in ["000000   ", "K000000  "] {
        assert!(
            events.contains(&format!(
                "  buygoods_transaction_received  {till}sandbox-client-id"
            )),
            "{events}"
        );
    }

    // Scenarios: loaded from files (named by their path), listed, probes judged, unloaded.
    let receiver = CallbackReceiver::start(Behaviour::VerifySignatures).await;
    let dir = std::env::temp_dir().join(format!("k2-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("probes.yaml");
    std::fs::write(
        &file,
        format!(
            "name: probes\nprobes:\n  - url: {}\n    kinds: [valid, wrong_key]\n",
            receiver.url
        ),
    )
    .expect("write");
    let file = file.display().to_string();
    let loaded = k2(&app.base, &["scenario", "load", &file]).await;
    assert_eq!(
        stdout(&loaded),
        format!(
            "{file}: loaded probes (0 rules, 0 faults, 0 callback faults, 0 timeline moments)\n"
        )
    );
    app.advance("0s").await;
    receiver.wait_for(2).await;
    let probes = stdout(&k2(&app.base, &["probes"]).await);
    assert!(
        probes.starts_with("SCENARIO  PROBE      EXPECT  OUTCOME   VERDICT  URL\n"),
        "{probes}"
    );
    assert!(
        probes.contains("probes    wrong_key  reject  rejected  PASS"),
        "{probes}"
    );
    assert!(
        probes.contains("probes    valid      accept  accepted  PASS"),
        "{probes}"
    );
    let list = stdout(&k2(&app.base, &["scenario", "list"]).await);
    assert!(
        list.lines()
            .nth(1)
            .expect("a row")
            .starts_with(&format!("probes  {file}  ")),
        "{list}"
    );
    assert!(list.contains("2 passed, 0 failed, 0 waiting"), "{list}");
    let broken = dir.join("broken.yaml");
    std::fs::write(
        &broken,
        "name: x\nfaults:\n  - endpoint: POTS /api/v2/polling\n    status: 503\n",
    )
    .expect("write");
    let refused = k2(
        &app.base,
        &["scenario", "load", &broken.display().to_string()],
    )
    .await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(&format!(
            "{}:3:15: faults[0].endpoint: POTS is not an HTTP method",
            broken.display()
        )),
        "{refused:?}"
    );
    let unloaded = k2(&app.base, &["scenario", "unload", "probes"]).await;
    assert_eq!(
        stdout(&unloaded),
        "unloaded probes: 0 rules, 0 faults, 0 callback faults, 0 pending moments\n"
    );
    assert_eq!(
        k2(&app.base, &["scenario", "unload", "probes"])
            .await
            .status
            .code(),
        Some(1)
    );
    let exported = stdout(&k2(&app.base, &["scenario", "export", "--name", "snapshot"]).await);
    assert!(
        exported.starts_with("# Exported by k2-sandbox "),
        "{exported}"
    );
    assert!(exported.contains("\nname: snapshot\n"), "{exported}");
    assert!(!exported.contains("client_secret"), "{exported}");
    let with_secrets = stdout(&k2(&app.base, &["scenario", "export", "--with-secrets"]).await);
    assert!(
        with_secrets.contains("client_secret: sandbox-client-secret\n"),
        "{with_secrets}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn requests_follow_prints_each_new_request_as_it_is_answered() {
    use tokio::io::AsyncBufReadExt as _;
    let app = spawn_app().await;
    let mut follow = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(["requests", "--follow", "--url", &app.base])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("runs");
    let mut lines = tokio::io::BufReader::new(follow.stdout.take().expect("stdout")).lines();
    // A header first, in the columns every line keeps.
    let header = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
        .await
        .expect("a line")
        .expect("readable")
        .expect("a line");
    assert_eq!(
        header,
        format!(
            "{:<29}  {:<6}  {:<44}  {:<6}  {:<8}  CLIENT",
            "AT", "METHOD", "PATH", "STATUS", "LATENCY"
        )
    );
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line());
    app.token().await;
    let line = first
        .await
        .expect("a line")
        .expect("readable")
        .expect("a line");
    assert_eq!(line.find("POST"), header.find("METHOD"), "{line}");
    assert_eq!(line.find("/oauth/token"), header.find("PATH"), "{line}");
    assert_eq!(line.find("200"), header.find("STATUS"), "{line}");
    let unknown = app
        .client
        .get(app.url("/api/v2/nowhere"))
        .send()
        .await
        .expect("send");
    assert_eq!(unknown.status(), 404);
    let line = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
        .await
        .expect("a line")
        .expect("readable")
        .expect("a line");
    assert_eq!(line.find("/api/v2/nowhere"), header.find("PATH"), "{line}");
    assert_eq!(line.find("404"), header.find("STATUS"), "{line}");
}

#[tokio::test]
async fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let output = k2("http://127.0.0.1:9", &["completions", shell]).await;
        assert!(output.status.success(), "{shell}");
        let script = stdout(&output);
        for command in ["callbacks", "requests", "scenario", "trigger", "clock"] {
            assert!(script.contains(command), "{shell}: {command}");
        }
    }
}

#[tokio::test]
async fn watch_prints_what_happens_a_line_each() {
    use tokio::io::AsyncBufReadExt as _;
    let app = spawn_app().await;
    let mut watch = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(["watch", "--kind", "webhook,clock", "--url", &app.base])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("runs");
    let mut lines = tokio::io::BufReader::new(watch.stdout.take().expect("stdout")).lines();
    // The stream is open once the process listens; keep firing until the first line shows.
    let firing = async {
        loop {
            let _ = k2(&app.base, &["trigger", "buygoods", "--till", "000000"]).await;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    let line = tokio::select! {
        line = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line()) => {
            line.expect("a line").expect("readable").expect("a line")
        }
        () = firing => unreachable!(),
    };
    assert!(
        line.contains("  webhook   sandbox-client-id   buygoods_transaction_received "),
        "{line}"
    );
    assert!(line.ends_with(" till 000000"), "{line}");
    drop(watch);

    let unknown = k2(&app.base, &["watch", "--kind", "requests"]).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("(did you mean `request`?)"));
}

/// The customers' side from the command line: handsets listed and set (a prompt to that phone
/// then fails as set), a link paid, the ledger and the SMS outbox as tables and as JSON.
#[tokio::test]
async fn handsets_pay_link_ledger_and_sms_commands_drive_the_sandbox() {
    let app = spawn_app().await;
    let token = app.token().await;
    let listed = stdout(&k2(&app.base, &["handsets"]).await);
    assert!(listed.starts_with("PHONE"), "{listed}");
    assert!(
        listed.contains("+254700000005  insufficient_funds  all"),
        "{listed}"
    );
    assert!(listed.ends_with("any other number: pay\n"), "{listed}");

    let set = stdout(&k2(&app.base, &["handsets", "set", "0712000001", "cancel"]).await);
    assert_eq!(
        set,
        "+254712000001 now answers with cancel (every application)\n"
    );
    let refused = k2(&app.base, &["handsets", "set", "0712000001", "cancle"]).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("did you mean `cancel`"),
        "{refused:?}"
    );
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let mut push = stk_request(&receiver.url);
    push["subscriber"]["phone_number"] = json!("+254712000001");
    app.create_incoming_payment(&token, &push).await;
    let result = receiver.wait_for(1).await.remove(0).json();
    assert_eq!(result["data"]["attributes"]["status"], "Failed");
    assert_eq!(
        result["data"]["attributes"]["event"]["errors"],
        json!(["Request cancelled by user"])
    );

    let link = app
        .create(
            "/api/v2/payment_links",
            &token,
            &json!({"till_number": "000000", "currency": "KES", "amount": 350,
                "payment_reference": "order-7", "note": "Shoes",
                "_links": {"callback_url": receiver.url}}),
        )
        .await;
    let id = link.rsplit('/').next().expect("id");
    let paid = stdout(&k2(&app.base, &["pay-link", id, "--phone", "0712345678"]).await);
    assert_eq!(paid, format!("payment link {id} paid by 0712345678\n"));
    let again = k2(&app.base, &["pay-link", id]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("Only active payment links can be paid")
    );

    let ledger = stdout(&k2(&app.base, &["ledger"]).await);
    assert!(
        ledger.starts_with(&format!("application {CLIENT_ID}\nAT")),
        "{ledger}"
    );
    assert!(ledger.contains("till 000000  350.0"), "{ledger}");
    let json: Value = serde_json::from_str(&stdout(
        &k2(&app.base, &["ledger", "--json", "--limit", "1"]).await,
    ))
    .expect("JSON");
    assert_eq!(json["entries"].as_array().expect("entries").len(), 1);
    assert_eq!(json["entries"][0]["account"], "till:000000");

    // An SMS to the payer of a Buygoods payment the sandbox received.
    let (_, triggered) = app
        .trigger(json!({"type": "buygoods_transaction_received", "phone_number": "+254712345678"}))
        .await;
    app.create(
        "/api/v1/transaction_sms_notifications",
        &token,
        &json!({"webhook_event_reference": triggered["id"], "message": "Thanks for shopping",
            "_links": {"callback_url": receiver.url}}),
    )
    .await;
    // The STK push's result, the link's and the SMS notification's.
    receiver.wait_for(3).await;
    let sms = stdout(&k2(&app.base, &["sms", "--phone", "+254712345678"]).await);
    assert!(sms.starts_with("SENT"), "{sms}");
    assert!(
        sms.contains("+254712345678  Thanks for shopping  sandbox-client-id"),
        "{sms}"
    );
}

#[tokio::test]
async fn callback_rewrite_rules_come_from_the_flag_anywhere_or_its_env_twin() {
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let port = receiver
        .url
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .expect("port")
        .to_string();
    // Two rules from the env twin, comma-separated: the second one applies.
    let sandbox = SandboxProcess::start_with_env(
        &[],
        &[(
            "K2_SANDBOX_CALLBACK_REWRITE",
            &format!("other.invalid=127.0.0.1:1,shop.invalid:5000=127.0.0.1:{port}"),
        )],
    )
    .await;
    let token = token_at(&sandbox.base).await;
    http_client()
        .post(format!("{}/api/v2/incoming_payments", sandbox.base))
        .bearer_auth(&token)
        .json(&stk_request("http://shop.invalid:5000/k2/callback"))
        .send()
        .await
        .expect("push");
    assert!(receiver.wait_for(1).await[0].signature_verifies(API_KEY));

    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(["--port", "0", "--callback-rewrite", "localhost:5000"])
        .output()
        .await
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(
            "\"localhost:5000\" is not FROM=TO, e.g. localhost:5000=host.docker.internal:5000"
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn serve_names_where_things_are_and_a_busy_port_says_what_to_do() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").port().to_string();
    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(["--host", "127.0.0.1", "--port", &port])
        .output()
        .await
        .expect("runs");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(&format!(
            "port {port} is in use on 127.0.0.1: stop what holds it, or pick another port with \
             --port (K2_SANDBOX_PORT); --port 0 takes a free one and prints it"
        )),
        "{stderr}"
    );

    // The start-up lines: the address to parse, then the API, the dashboard and the document;
    // the configuration only at debug level.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(["--port", "0", "--host", "0.0.0.0"])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let mut banner = Vec::new();
    for _ in 0..5 {
        banner.push(lines.next_line().await.expect("read").expect("a line"));
    }
    let port = banner[0]
        .strip_prefix("k2-sandbox listening on http://0.0.0.0:")
        .expect("the address line")
        .to_string();
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        banner[1..],
        [
            format!("  API        {base}/api/v2/ (and /api/v1/), tokens at {base}/oauth/token"),
            format!("  dashboard  {base}/_sandbox/ui/"),
            format!("  OpenAPI    {base}/_sandbox/openapi.json"),
            "  client id  sandbox-client-id (RUST_LOG=debug logs the whole configuration)".into(),
        ]
    );
    let pid = child.id().expect("pid").to_string();
    tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill");
    let log = child.wait_with_output().await.expect("output");
    let log = String::from_utf8_lossy(&log.stderr);
    assert!(log.contains("starting k2-sandbox"), "{log}");
    assert!(!log.contains("client_secret="), "{log}");
}

/// Every flag `serve --help` lists, and every env twin, has its row in docs/configuration.md:
/// a flag added without its documentation fails here.
#[tokio::test]
async fn every_serve_flag_and_env_twin_is_documented() {
    let help = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(["serve", "--help"])
        .output()
        .await
        .expect("runs");
    let help = String::from_utf8(help.stdout).expect("UTF-8");
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .expect("docs/configuration.md");
    // The option lines: `-p, --port <PORT>`, `--host <HOST>`.
    let flags: Vec<&str> = help
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split([' ', ',', '=']).find_map(|w| w.strip_prefix("--")))
        .filter(|f| *f != "help")
        .collect();
    let twins: Vec<&str> = help
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("K2_SANDBOX_"))
        .collect();
    assert!(flags.len() > 20 && twins.len() > 20, "{flags:?} {twins:?}");
    for flag in flags {
        assert!(
            docs.contains(&format!("`--{flag}")),
            "--{flag} is not in docs/configuration.md"
        );
    }
    for twin in twins {
        assert!(
            docs.contains(twin),
            "{twin} is not in docs/configuration.md"
        );
    }
}
