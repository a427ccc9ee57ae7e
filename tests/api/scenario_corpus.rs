//! Broken and hostile scenario files: each, through `validate` and through
//! `POST /_sandbox/scenarios`, gets one clear problem at once, and nothing of it is applied.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

/// What a corpus file must produce: the start of its problem (after `file:line:col: field: `),
/// or `None` for a file that is fine and loads.
struct Case {
    name: &'static str,
    text: Vec<u8>,
    problem: Option<&'static str>,
}

fn case(name: &'static str, text: impl Into<Vec<u8>>, problem: &'static str) -> Case {
    Case {
        name,
        text: text.into(),
        problem: Some(problem),
    }
}

fn corpus() -> Vec<Case> {
    const SYNTAX: &str = "YAML syntax error: ";
    let bomb = (1..10).fold(
        String::from("name: lol\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"),
        |mut t, i| {
            let prev = format!("*a{}", i - 1);
            t.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
            t
        },
    );
    let deep_block = (0..40).fold(String::from("name: deep\n"), |mut t, i| {
        t.push_str(&format!("{}a:\n", " ".repeat(i)));
        t
    });
    let mut huge = b"name: ".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 1024 * 1024));
    vec![
        case("unclosed bracket", "name: [\n", SYNTAX),
        case("unclosed brace", "name: {x\n", SYNTAX),
        case("unclosed double quote", "name: \"abc\n", SYNTAX),
        case(
            "unclosed single quote",
            "name: 'abc\ntimeline: []\n",
            SYNTAX,
        ),
        case(
            "tab indentation",
            "name: x\nworld:\n\thandsets: []\n",
            SYNTAX,
        ),
        case("bad indentation", "name: x\n  world: 1\n bad: 2\n", SYNTAX),
        // The gate's parser takes this; libyaml, under serde, does not.
        case("lone colons", ":\n:\n", "did not find expected key"),
        case("lone brace", "{\n", SYNTAX),
        case("bad escape", "name: \"a\\qb\"\n", SYNTAX),
        case("undefined alias", "name: x\nrules: *nowhere\n", SYNTAX),
        case("undefined merge", "name: x\nworld:\n  <<: *base\n", SYNTAX),
        case(
            "duplicate keys",
            "name: x\nname: y\n",
            "duplicate field `name`",
        ),
        case("empty file", "", "the file holds no scenario"),
        case(
            "comments only",
            "# nothing\n# here\n",
            "the file holds no scenario",
        ),
        case(
            "an empty document",
            "---\n...\n",
            "the file holds no scenario",
        ),
        case(
            "a lone document marker",
            "---\n",
            "the file holds no scenario",
        ),
        case("a null document", "null\n", "the file holds no scenario"),
        case("an empty mapping", "{}\n", "missing field `name`"),
        case("a bare scalar", "just some text\n", "invalid type"),
        case("a list at the top", "- name: x\n", "invalid type"),
        case(
            "misspelt field",
            "nmae: x\n",
            "unknown field `nmae`, expected one of `name`, `description`, `world`, `rules`, `faults`, `callback_faults`, `probes`, `timeline`, `expect` (did you mean `name`?)",
        ),
        case(
            "misspelt callback fault resource",
            "name: x\ncallback_faults:\n  - resource: incomin_payments\n    drop: true\n",
            "unknown resource \"incomin_payments\": use incoming_payment, send_money, reversal, polling, transaction_sms_notification, payment_link, webhook_event (did you mean `incoming_payments`?)",
        ),
        case(
            "misspelt fault method",
            "name: x\nfaults:\n  - endpoint: POTS /api/v2/poling\n    status: 503\n",
            "POTS is not an HTTP method (did you mean `POST`?)",
        ),
        case(
            "misspelt fault path",
            "name: x\nfaults:\n  - endpoint: POST /api/v2/poling\n    status: 503\n",
            "/api/v2/poling is not a path of the API, so the fault could never apply (did you mean `/api/v2/polling`?)",
        ),
        case(
            "a fault on a method the path does not serve",
            "name: x\nfaults:\n  - endpoint: DELETE /api/v2/send_money\n    status: 503\n",
            "no API route answers DELETE /api/v2/send_money: it is served for other methods",
        ),
        case(
            "misspelt event type",
            "name: x\ntimeline:\n  - at: 1s\n    event: {type: buygoods_transaction_recieved}\n",
            "Event type is invalid: use one of buygoods_transaction_received, buygoods_transaction_reversed, b2b_transaction_received, b2b_transaction_reversed, settlement_transfer_completed, customer_created, card_transaction_received, card_transaction_voided, card_transaction_reversed, m2m_transaction_received (did you mean `buygoods_transaction_received`?)",
        ),
        case(
            "misspelt handset behaviour",
            "name: x\nworld:\n  handsets:\n    - {phone_number: \"+254700000009\", behaviour: cancell}\n",
            "Unknown answer \"cancell\": use one of pay, wrong_pin, cancel, timeout, unreachable, insufficient_funds (did you mean `cancel`?)",
        ),
        case("wrong type", "name: x\ntimeline: 5\n", "invalid type"),
        case(
            "NUL byte",
            b"name: a\0b\n".to_vec(),
            "control character U+0000",
        ),
        case(
            "bell character",
            b"name: a\x07b\n".to_vec(),
            "control character U+0007",
        ),
        case(
            "invalid UTF-8",
            b"name: \xff\xfe\n".to_vec(),
            "not UTF-8 text",
        ),
        case(
            "overlong UTF-8",
            b"name: \xc0\xaf\n".to_vec(),
            "not UTF-8 text",
        ),
        case(
            "UTF-16",
            b"\xff\xfen\0a\0m\0e\0:\0 \0x\0\n\0".to_vec(),
            "not UTF-8 text",
        ),
        case("1 MiB of one scalar", huge, "larger than 1048576 bytes"),
        case(
            "a megabyte of brackets",
            "[".repeat(1024 * 1000),
            "nested deeper than 32 levels",
        ),
        case(
            "deep block nesting",
            deep_block,
            "nested deeper than 32 levels",
        ),
        case("alias bomb", bomb, "aliases expand to more than"),
        case(
            "too many documents",
            "name: x\n---\n".repeat(101),
            "more than 100 documents",
        ),
        case(
            "a good document, then a broken one",
            "name: good\nfaults:\n  - endpoint: /oauth/token\n    status: 503\n---\nname: [\n",
            SYNTAX,
        ),
        case(
            "a good document, then a mistyped one",
            "name: good\nfaults:\n  - endpoint: /oauth/token\n    status: 503\n---\nname: x\nfaults: 7\n",
            "invalid type",
        ),
        case(
            "unknown directive version",
            "%YAML 9.9\n---\nname: x\n",
            "found incompatible YAML document",
        ),
        Case {
            name: "byte order mark",
            text: b"\xef\xbb\xbfname: bom\n".to_vec(),
            problem: None,
        },
        Case {
            name: "CRLF line ends",
            text: b"name: crlf\r\ntimeline: []\r\n".to_vec(),
            problem: None,
        },
    ]
}

/// Guards against a hang; the answer itself comes in milliseconds.
const HANG: Duration = Duration::from_secs(20);

#[tokio::test]
async fn validate_reports_each_broken_file_as_one_clear_problem() {
    let dir = std::env::temp_dir().join(format!("k2-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    for (i, case) in corpus().into_iter().enumerate() {
        let path = dir.join(format!("{i}.yaml"));
        std::fs::write(&path, &case.text).expect("write");
        let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
            .arg("validate")
            .arg(&path)
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(HANG, run)
            .await
            .unwrap_or_else(|_| panic!("{}: validate hung", case.name))
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        match case.problem {
            None => assert_eq!(output.status.code(), Some(0), "{}: {stderr}", case.name),
            Some(problem) => {
                assert_eq!(output.status.code(), Some(1), "{}: {stderr}", case.name);
                let lines: Vec<&str> = stderr.lines().collect();
                assert_eq!(lines.len(), 1, "{}: one problem: {stderr}", case.name);
                let prefix = format!("error: {}", path.display());
                assert!(lines[0].starts_with(&prefix), "{}: {stderr}", case.name);
                assert!(
                    lines[0].contains(&format!(": {problem}")),
                    "{}: {problem:?} in {stderr}",
                    case.name
                );
            }
        }
    }
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn the_scenarios_route_answers_each_broken_file_with_a_json_400_and_applies_nothing() {
    let app = spawn_app().await;
    for case in corpus() {
        let response = tokio::time::timeout(HANG, app.load_scenario(case.text.clone()))
            .await
            .unwrap_or_else(|_| panic!("{}: the route hung", case.name));
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON answer");
        match case.problem {
            None => assert_eq!(status, 201, "{}: {body}", case.name),
            // Over the body limit, the route refuses before parsing.
            Some(_) if case.text.len() > 1024 * 1024 => {
                assert_eq!(status, 413, "{}: {body}", case.name);
                assert_eq!(body["error_code"], 413);
            }
            Some(problem) => {
                assert_eq!(status, 400, "{}: {body}", case.name);
                assert_eq!(body["error_code"], 400, "{}", case.name);
                let message = body["error_message"].as_str().expect("a message");
                assert!(
                    message.starts_with("(request body)"),
                    "{}: {message}",
                    case.name
                );
                assert!(
                    message.contains(&format!(": {problem}")),
                    "{}: {problem:?} in {message}",
                    case.name
                );
                assert!(
                    !message.contains(';'),
                    "{}: one problem: {message}",
                    case.name
                );
            }
        }
    }
    // The good documents before broken ones were not applied: tokens are not faulted.
    let token = app.request_token_with(&[
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("grant_type", "client_credentials"),
    ]);
    assert_eq!(token.await.status(), 200);
}

#[tokio::test]
async fn a_multipart_upload_loads_its_file_part() {
    let app = spawn_app().await;
    let form = reqwest::multipart::Form::new()
        .text("note", "ignored")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"name: uploaded\ntimeline: []\n".to_vec())
                .file_name("qa.yaml"),
        );
    let response = app
        .client
        .post(app.url("/_sandbox/scenarios"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 201);
    let loaded: Value = response.json().await.expect("json");
    assert_eq!(loaded["scenarios"], serde_json::json!(["uploaded"]));

    let broken = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"name: [\n".to_vec()).file_name("qa.yaml"),
    );
    let response = app
        .client
        .post(app.url("/_sandbox/scenarios"))
        .multipart(broken)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert!(
        body["error_message"]
            .as_str()
            .expect("message")
            .starts_with("(request body):2:1: (document): YAML syntax error: "),
        "{body}"
    );
}

#[tokio::test]
async fn the_corpus_does_not_grow_a_running_sandbox() {
    let sandbox = SandboxProcess::start(&[]).await;
    let client = http_client();
    let post_all = || async {
        for case in corpus() {
            let response = client
                .post(format!("{}/_sandbox/scenarios", sandbox.base))
                .body(case.text)
                .send();
            tokio::time::timeout(HANG, response)
                .await
                .expect("no hang")
                .expect("an answer");
        }
    };
    // The first round settles allocator pools; later rounds must not add to them.
    post_all().await;
    let before = sandbox.rss_kib();
    for _ in 0..5 {
        post_all().await;
    }
    let after = sandbox.rss_kib();
    assert!(
        after < before + 32 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}

#[tokio::test]
async fn a_broken_scenario_refuses_the_start_up() {
    let dir = std::env::temp_dir().join(format!("k2-corpus-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("broken.yaml");
    std::fs::write(&path, "name: [\n").expect("write");
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_k2-sandbox"))
        .args(["--port", "0", "--scenario"])
        .arg(&path)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(HANG, run)
        .await
        .expect("the start is refused, not hung")
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:2:1: (document): YAML syntax error: ",
            path.display()
        )),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "never listened");
    std::fs::remove_dir_all(dir).ok();
}
