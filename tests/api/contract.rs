//! The OpenAPI document (`src/http/openapi.yaml`, served at `/_sandbox/openapi.json`) held to
//! what the sandbox does. Every route served is documented and every documented one served;
//! the fixtures validate against the schemas they are examples of; so do the README's request
//! examples. Beyond this file, every sandbox the integration tests start checks, when the test
//! drops it, each API exchange its journal holds (the response against the operation's
//! schema for its status, and a request that succeeded against the request schema), and every
//! callback receiver checks each body it received (`helpers::TestApp` and
//! `helpers::CallbackReceiver`).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::{Value, json};

use crate::helpers::*;

/// The document and a validator per schema location, built once.
pub struct Contract {
    doc: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

pub static CONTRACT: LazyLock<Contract> = LazyLock::new(|| Contract {
    doc: k2_sandbox::http::openapi::document("http://127.0.0.1:8080"),
    validators: Mutex::default(),
});

/// `a/b` as a JSON pointer token (`a~1b`).
fn token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

impl Contract {
    fn at(&self, pointer: &str) -> &Value {
        self.doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("the document has #{pointer}"))
    }

    /// Follows a Reference Object (`{"$ref": "#/..."}`) to what it names: its pointer.
    fn follow(&self, pointer: String) -> String {
        match self.at(&pointer).get("$ref").and_then(Value::as_str) {
            Some(target) => self.follow(target.trim_start_matches('#').to_string()),
            None => pointer,
        }
    }

    /// Validates `instance` against the schema at `pointer`.
    pub fn validate(&self, pointer: &str, instance: &Value) -> Result<(), String> {
        let cached = self
            .validators
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(pointer)
            .cloned();
        let validator = cached.unwrap_or_else(|| {
            // The whole document as the root, so that every `$ref` in it resolves; the
            // pointer as a URI fragment (`{id}` percent-encoded).
            let mut root = self.doc.clone();
            let fragment = pointer
                .replace('%', "%25")
                .replace('{', "%7B")
                .replace('}', "%7D")
                .replace(' ', "%20");
            root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
            root["$ref"] = json!(format!("#{fragment}"));
            let validator = Arc::new(
                jsonschema::validator_for(&root)
                    .unwrap_or_else(|e| panic!("the schema at #{pointer} compiles: {e}")),
            );
            self.validators
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(pointer.to_string(), validator.clone());
            validator
        });
        let problems: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("#{pointer}: {}", problems.join("; ")))
        }
    }

    /// The documented path a concrete one is served under: a literal segment beats a
    /// `{parameter}`.
    pub fn path_of(&self, path: &str) -> Option<&str> {
        let segments: Vec<&str> = path.split('/').collect();
        self.doc["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .filter_map(|template| {
                let parts: Vec<&str> = template.split('/').collect();
                let fits = parts.len() == segments.len()
                    && parts.iter().zip(&segments).all(|(p, s)| {
                        if p.starts_with('{') {
                            !s.is_empty()
                        } else {
                            p == s
                        }
                    });
                fits.then(|| {
                    let variables = parts.iter().filter(|p| p.starts_with('{')).count();
                    (variables, template.as_str())
                })
            })
            .min()
            .map(|(_, template)| template)
    }

    /// The pointer of the operation serving `method path`, if documented.
    fn operation(&self, method: &str, path: &str) -> Option<String> {
        let template = self.path_of(path)?;
        let pointer = format!("/paths/{}/{}", token(template), method.to_ascii_lowercase());
        self.doc.pointer(&pointer).map(|_| pointer)
    }

    /// Checks an answer: the operation's response for `status` (or its `default`); a JSON
    /// body against its schema, no body where it documents none. An unknown route or method
    /// answers the reference's error.
    pub fn check_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &[u8],
    ) -> Result<(), String> {
        let what = format!("{method} {path} answered {status}");
        let Some(operation) = self.operation(method, path) else {
            return self.check_json("/components/schemas/Error", body, &what);
        };
        let responses = format!("{operation}/responses");
        let response = [status.to_string(), "default".to_string()]
            .into_iter()
            .map(|key| format!("{responses}/{key}"))
            .find(|p| self.doc.pointer(p).is_some())
            .ok_or_else(|| format!("{what}: status {status} is not documented"))?;
        let response = self.follow(response);
        match self.at(&response).get("content") {
            None if body.is_empty() => Ok(()),
            None => Err(format!("{what}: a body where the document shows none")),
            Some(content) if content.get("application/json").is_some() => self.check_json(
                &format!("{response}/content/application~1json/schema"),
                body,
                &what,
            ),
            Some(_) => Ok(()), // HTML pages, YAML, the event stream
        }
    }

    fn check_json(&self, schema: &str, body: &[u8], what: &str) -> Result<(), String> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| format!("{what}: the body is not JSON ({e})"))?;
        self.validate(schema, &value)
            .map_err(|e| format!("{what}: {e}\n  body: {value}"))
    }

    /// Checks the body of a request the sandbox accepted against the operation's request
    /// schema: a JSON body as it is, a form's fields as an object of strings.
    pub fn check_request(&self, method: &str, path: &str, body: &[u8]) -> Result<(), String> {
        let Some(operation) = self.operation(method, path) else {
            return Ok(());
        };
        if self
            .doc
            .pointer(&format!("{operation}/requestBody"))
            .is_none()
        {
            return Ok(());
        }
        let request = self.follow(format!("{operation}/requestBody"));
        let what = format!("{method} {path} (accepted)");
        if body.is_empty() {
            return if self.at(&request)["required"] == true {
                Err(format!("{what}: accepted without its required body"))
            } else {
                Ok(())
            };
        }
        let content = &self.at(&request)["content"];
        if let Ok(value) = serde_json::from_slice::<Value>(body)
            && content.get("application/json").is_some()
        {
            return self
                .validate(
                    &format!("{request}/content/application~1json/schema"),
                    &value,
                )
                .map_err(|e| format!("{what}: {e}\n  body: {value}"));
        }
        if content.get("application/x-www-form-urlencoded").is_some() {
            let fields: serde_json::Map<String, Value> = url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            return self
                .validate(
                    &format!("{request}/content/application~1x-www-form-urlencoded/schema"),
                    &Value::Object(fields),
                )
                .map_err(|e| format!("{what}: {e}"));
        }
        Ok(())
    }

    /// The schema a callback or webhook body is an example of: a webhook's by its `topic`, a
    /// result's by its `data.type`, a Daraja payload's by `TransactionType`.
    pub fn callback_schema(&self, body: &Value) -> Option<String> {
        if let Some(topic) = body["topic"].as_str() {
            let item = self.doc["webhooks"][topic]["$ref"].as_str()?;
            let item = item.trim_start_matches('#');
            return Some(format!(
                "{item}/post/requestBody/content/application~1json/schema"
            ));
        }
        if body.get("TransactionType").is_some() {
            return Some("/components/schemas/DarajaTransaction".into());
        }
        let item = match body["data"]["type"].as_str()? {
            "incoming_payment" => "IncomingPayment",
            "send_money" => "SendMoney",
            "payment" => "Payment",
            "settlement_transfer" => "SettlementTransfer",
            "polling" => "Polling",
            "transaction_sms_notification" => "SmsNotification",
            "reversal" => "Reversal",
            "payment_link" => "PaymentLink",
            _ => return None,
        };
        Some(format!(
            "/components/pathItems/{item}Callback/post/requestBody/content/application~1json/schema"
        ))
    }

    /// Checks a body the sandbox POSTed to a callback or webhook URL.
    pub fn check_callback(&self, body: &[u8]) -> Result<(), String> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| format!("a callback body is not JSON: {e}"))?;
        let schema = self
            .callback_schema(&value)
            .ok_or_else(|| format!("no documented callback has this shape: {value}"))?;
        self.validate(&schema, &value)
            .map_err(|e| format!("callback: {e}\n  body: {value}"))
    }
}

/// Checks every API exchange `state`'s journal holds; the problems, one per exchange.
pub fn journal_problems(state: &k2_sandbox::AppState) -> Vec<String> {
    let mut problems = Vec::new();
    state.store.journal.scan(0, |e| {
        let (method, path) = (e.method.as_str(), e.target.path());
        // The journal keeps 64 KiB of a body: a longer one cannot be read back whole.
        let whole = |b: &[u8]| b.len() < 64 * 1024;
        // A cut connection answered nothing to check.
        if !e.dropped
            && whole(&e.response_body)
            && let Err(p) = CONTRACT.check_response(method, path, e.status, &e.response_body)
        {
            problems.push(p);
        }
        if (200..300).contains(&e.status)
            && whole(&e.request_body)
            && let Err(p) = CONTRACT.check_request(method, path, &e.request_body)
        {
            problems.push(p);
        }
    });
    problems
}

/// `(METHOD, path)` with every `{parameter}` written `{}`.
fn normalised(method: &str, path: &str) -> (String, String) {
    let path = path
        .split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/");
    (method.to_ascii_uppercase(), path)
}

#[test]
fn every_route_served_is_documented_and_every_documented_route_is_served() {
    // `routes` lists what the routers serve (tests in `control_plane.rs` and `routes.rs`
    // prove the two agree).
    let served: BTreeSet<_> = k2_sandbox::routes::API
        .iter()
        .map(|(m, p)| normalised(m, p))
        .chain(
            k2_sandbox::routes::CONTROL
                .iter()
                .map(|(m, p, _)| normalised(m, p)),
        )
        .collect();
    let methods = ["get", "put", "post", "delete", "patch", "head", "options"];
    let documented: BTreeSet<_> = CONTRACT.doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            methods
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| normalised(m, path))
        })
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not documented: {undocumented:?}\ndocumented but not served: {unserved:?}"
    );
}

#[test]
fn every_operation_names_its_parameters_and_a_unique_id() {
    let mut ids = BTreeSet::new();
    for (path, item) in CONTRACT.doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let id = operation["operationId"].as_str().unwrap_or_default();
            assert!(
                ids.insert(id.to_string()),
                "{method} {path}: operationId {id:?} twice or missing"
            );
            let declared: BTreeSet<String> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| match p["$ref"].as_str() {
                    Some(r) => CONTRACT.at(r.trim_start_matches('#')),
                    None => p,
                })
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().expect("name").to_string())
                .collect();
            let in_path: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_string)
                .collect();
            assert_eq!(declared, in_path, "{method} {path}: path parameters");
        }
    }
}

/// A fixture as the sandbox serves it: the reference's example with the one difference the
/// sandbox makes on purpose (docs/fidelity.md): a reversal's `data.type` is `reversal`, as
/// the live API's answers in the Ruby and Node SDKs' tests say, not the example's `reversals`.
fn as_served(name: &str) -> Value {
    let mut body = fixture(name);
    if name.starts_with("reversal_") {
        assert_eq!(
            body["data"]["type"], "reversals",
            "{name}: the reference's spelling"
        );
        body["data"]["type"] = "reversal".into();
    }
    body
}

/// Each fixture (the reference's JSON examples) against the schema it is an example of.
#[test]
fn the_reference_fixtures_validate_against_their_schemas() {
    let schemas = [
        ("token", "/components/schemas/Token"),
        (
            "token_introspection",
            "/components/schemas/TokenIntrospection",
        ),
        ("token_info", "/components/schemas/TokenInfo"),
        (
            "incoming_payment_pending",
            "/components/schemas/IncomingPayment",
        ),
        ("pay_recipient", "/components/schemas/Recipient"),
        ("reversal_scheduled", "/components/schemas/Reversal"),
    ];
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut checked = BTreeSet::new();
    for (name, schema) in schemas {
        CONTRACT
            .validate(schema, &as_served(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        checked.insert(name.to_string());
    }
    // The rest are callback and webhook bodies: each against the schema its shape names.
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let file = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf-8");
        let Some(name) = file.strip_suffix(".json").map(str::to_string) else {
            continue;
        };
        if checked.contains(&name) {
            continue;
        }
        let body = as_served(&name);
        let schema = CONTRACT
            .callback_schema(&body)
            .unwrap_or_else(|| panic!("{name}: names no documented callback or webhook"));
        CONTRACT
            .validate(&schema, &body)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        checked.insert(name);
    }
    assert!(checked.len() >= 25, "{checked:?}");
}

/// A request example of the README: `curl ... URL -d '...'`.
#[derive(Debug)]
struct Example {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// The curl commands of the README and the docs it links to that send a body (JSON, or form
/// fields with `-d k=v`), with the walk-through's `$BASE` and `$CALLBACK` as it sets them.
fn readme_examples() -> Vec<Example> {
    let readme = [
        "README.md",
        "docs/endpoints.md",
        "docs/configuration.md",
        "docs/ci.md",
    ]
    .iter()
    .map(|f| std::fs::read_to_string(format!("{}/{f}", env!("CARGO_MANIFEST_DIR"))).expect(f))
    .collect::<Vec<_>>()
    .join("\n")
    .replace("\"$BASE", "\"http://127.0.0.1:8080")
    .replace("'\"$CALLBACK\"'", "http://127.0.0.1:9000/callback");
    // A command continues over lines ending in `\`, and a quoted body over any line.
    let text = readme.replace("\\\n", " ");
    let starts: Vec<usize> = text.match_indices("curl ").map(|(i, _)| i).collect();
    let mut examples = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let next = starts.get(n + 1).copied().unwrap_or(text.len());
        // To the end of its line, outside single quotes.
        let mut quoted = false;
        let end = text[start..next]
            .char_indices()
            .find(|&(_, c)| {
                quoted ^= c == '\'';
                c == '\n' && !quoted
            })
            .map_or(next, |(i, _)| start + i);
        let command = &text[start..end];
        let Some(url) = command
            .split_whitespace()
            .find(|w| w.trim_matches('"').starts_with("http://127.0.0.1:8080/"))
        else {
            continue;
        };
        let path = url
            .trim_matches('"')
            .trim_start_matches("http://127.0.0.1:8080")
            .split('?')
            .next()
            .expect("a path")
            .to_string();
        let mut body = Vec::new();
        let mut rest = command;
        let mut fields = Vec::new();
        while let Some(at) = rest.find(" -d ") {
            rest = &rest[at + 4..];
            if let Some(quoted) = rest.strip_prefix('\'') {
                let end = quoted.find('\'').expect("a closing quote");
                body = quoted.as_bytes()[..end].to_vec();
                rest = &quoted[end..];
            } else {
                let field = rest.split_whitespace().next().expect("a field");
                fields.push(field.to_string());
            }
        }
        if !fields.is_empty() {
            body = fields.join("&").into_bytes();
        }
        if body.is_empty() {
            continue;
        }
        examples.push(Example {
            method: "POST".into(),
            path,
            body,
        });
    }
    // The endpoint tables' example bodies: `| POST | `/path` | `{...}` ... |`.
    for row in readme.lines().filter(|l| l.starts_with("| POST |")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let (Some(paths), Some(example)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        // The request, not the answer after `→`.
        let request = example.split('→').next().unwrap_or_default();
        let Some(body) = request
            .split('`')
            .skip(1)
            .step_by(2)
            .find(|piece| serde_json::from_str::<Value>(piece).is_ok_and(|v| v.is_object()))
        else {
            continue;
        };
        for path in paths.split('`').skip(1).step_by(2) {
            examples.push(Example {
                method: "POST".into(),
                path: path.to_string(),
                body: body.as_bytes().to_vec(),
            });
        }
    }
    examples
}

#[test]
fn the_readme_request_examples_validate_against_their_request_schemas() {
    let examples = readme_examples();
    let paths: BTreeSet<&str> = examples.iter().map(|e| e.path.as_str()).collect();
    for needed in [
        "/oauth/token",
        "/api/v2/incoming_payments",
        "/api/v2/send_money",
        "/api/v2/payment_links",
        "/_sandbox/clock/advance",
        "/_sandbox/events",
    ] {
        assert!(
            paths.contains(needed),
            "the README shows {needed}: {examples:?}"
        );
    }
    for e in &examples {
        CONTRACT
            .check_request(&e.method, &e.path, &e.body)
            .unwrap_or_else(|p| panic!("README: {p}"));
    }
}

/// A request schema refuses what the sandbox refuses: the check is not a formality.
#[test]
fn a_request_or_response_off_the_document_is_caught() {
    let without_till = br#"{"payment_channel": "M-PESA STK Push", "subscriber": {"phone_number": "+254712345678"},
        "amount": {"currency": "KES", "value": 10}, "_links": {"callback_url": "http://x.test/cb"}}"#;
    assert!(
        CONTRACT
            .check_request("POST", "/api/v2/incoming_payments", without_till)
            .is_err()
    );
    let mut pending = fixture("incoming_payment_pending");
    pending["data"]["attributes"]["surprise"] = json!(1);
    let body = serde_json::to_vec(&pending).expect("JSON");
    let problem = CONTRACT
        .check_response("GET", "/api/v2/incoming_payments/abc", 200, &body)
        .expect_err("an extra key");
    assert!(problem.contains("surprise"), "{problem}");
    assert!(
        CONTRACT
            .check_response("POST", "/api/v2/incoming_payments", 201, b"{}")
            .is_err(),
        "a create answers with no body"
    );
    assert!(
        CONTRACT
            .check_response("GET", "/api/v2/incoming_payments/abc", 418, b"{}")
            .is_err(),
        "an error not in the reference's shape"
    );
}

#[tokio::test]
async fn the_document_is_served_as_json_and_yaml_without_the_admin_token() {
    let app = spawn_app_with(|args| args.admin_token = Some("secret".into())).await;
    let json: Value = app
        .client
        .get(app.url("/_sandbox/openapi.json"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(json["openapi"], "3.1.0");
    assert_eq!(json["servers"][0]["url"], app.base.as_str());
    let response = app
        .client
        .get(app.url("/_sandbox/openapi.yaml"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/yaml");
    let yaml: Value = serde_yaml_ng::from_str(&response.text().await.expect("text")).expect("YAML");
    assert_eq!(yaml, json);
    // The rest of the control plane still needs the token.
    let refused = app
        .client
        .get(app.url("/_sandbox/clock"))
        .send()
        .await
        .expect("GET");
    assert_eq!(refused.status(), 401);
}

/// `docs/openapi.json` is what `k2-sandbox openapi` prints, for reading on the web.
#[test]
fn docs_openapi_json_is_the_document() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
    let expected = serde_json::to_string_pretty(&CONTRACT.doc).expect("JSON") + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &expected).expect("write docs/openapi.json");
    }
    let written = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        written == expected,
        "docs/openapi.json is stale: `cargo run -q -- openapi > docs/openapi.json` (or rerun \
         this test with UPDATE_OPENAPI=1)"
    );
}

/// Sends `method path` with a JSON `body` (or none) and checks the answer against the
/// document; the answer's JSON.
async fn exchange(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> Value {
    let mut request = app
        .client
        .request(method.parse().expect("a method"), app.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("control plane");
    let status = response.status().as_u16();
    let answer = response.bytes().await.expect("body");
    let route = path.split('?').next().expect("a path");
    CONTRACT
        .check_response(method, route, status, &answer)
        .unwrap_or_else(|p| panic!("{p}"));
    serde_json::from_slice(&answer).unwrap_or(Value::Null)
}

/// The control plane is not journaled: its routes are checked here, in a world with
/// something in it, the way the dashboard and the CLI use them.
#[tokio::test]
async fn the_control_plane_answers_as_documented() {
    let app = spawn_virtual_app().await;
    let receiver = CallbackReceiver::start(Behaviour::FailFirst(100)).await;
    let token = app.token().await;
    // A phone that waits for an answer, answered through the control plane.
    let mut request = stk_request(&receiver.url);
    request["subscriber"]["phone_number"] = json!("+254700000009");
    let location = app
        .create("/api/v2/incoming_payments", &token, &request)
        .await;
    let id = location.rsplit('/').next().expect("id").to_string();
    exchange(&app, "GET", "/_sandbox/prompts", None).await;
    exchange(&app, "POST", &format!("/_sandbox/prompts/{id}/pay"), None).await;
    exchange(
        &app,
        "POST",
        "/_sandbox/clock/advance",
        Some(json!({"by": "1h"})),
    )
    .await;
    let log = exchange(&app, "GET", "/_sandbox/callbacks", None).await;
    let delivery = log["deliveries"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a delivery: {log}"));
    exchange(
        &app,
        "POST",
        &format!("/_sandbox/callbacks/{delivery}/replay"),
        None,
    )
    .await;
    exchange(
        &app,
        "POST",
        "/_sandbox/callbacks/replay?status=exhausted",
        None,
    )
    .await;
    exchange(
        &app,
        "POST",
        "/_sandbox/events",
        Some(json!({"type": "buygoods_transaction_received", "till_number": "K000000"})),
    )
    .await;
    exchange(
        &app,
        "PUT",
        "/_sandbox/balances",
        Some(json!({"balance": "500", "till_number": "K000000"})),
    )
    .await;
    exchange(
        &app,
        "PUT",
        "/_sandbox/handsets/0712345678",
        Some(json!({"behaviour": "cancel"})),
    )
    .await;
    let token = app.token().await; // the first expired an hour ago
    let link = app
        .create(
            "/api/v2/payment_links",
            &token,
            &json!({"till_number": "K000000", "currency": "KES", "amount": 350,
                "_links": {"callback_url": receiver.url}}),
        )
        .await;
    let link = link.rsplit('/').next().expect("id");
    exchange(
        &app,
        "POST",
        &format!("/_sandbox/payment_links/{link}/pay"),
        Some(json!({"phone_number": "0712345679"})),
    )
    .await;
    let yaml = "name: contract\nfaults:\n  - endpoint: POST /api/v2/polling\n    status: 503\n";
    let loaded = app.load_scenario(yaml).await;
    let status = loaded.status().as_u16();
    let body = loaded.bytes().await.expect("body");
    CONTRACT
        .check_response("POST", "/_sandbox/scenarios", status, &body)
        .unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    for path in [
        "/_sandbox/",
        "/_sandbox/health",
        "/_sandbox/applications",
        "/_sandbox/clock",
        "/_sandbox/handsets",
        "/_sandbox/callbacks",
        "/_sandbox/requests",
        "/_sandbox/balances",
        "/_sandbox/ledger",
        "/_sandbox/sms",
        "/_sandbox/scenarios",
        "/_sandbox/scenarios/export",
        "/_sandbox/verify",
    ] {
        exchange(&app, "GET", path, None).await;
    }
    exchange(&app, "DELETE", "/_sandbox/scenarios/contract", None).await;
    exchange(
        &app,
        "POST",
        "/_sandbox/clock/set",
        Some(json!({"to": "2026-06-01T00:00:00+03:00"})),
    )
    .await;
    exchange(&app, "POST", "/_sandbox/reset", None).await;
    drop(receiver); // its bodies are checked when it goes
}

/// Every request body of the document, with the pointer to it: each operation's (followed
/// through a `$ref` to the shared one).
fn request_bodies() -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for (path, item) in CONTRACT.doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            if op.get("requestBody").is_none() {
                continue;
            }
            let pointer = format!("/paths/{}/{method}/requestBody", token(path));
            found.push((
                method.to_uppercase(),
                path.clone(),
                CONTRACT.follow(pointer),
            ));
        }
    }
    found
}

/// Postman and Insomnia fill an imported request with its example: every request body has
/// one for each media type (`fixtures/requests/`), and its own schema accepts it.
#[test]
fn every_request_body_has_an_example_its_schema_accepts() {
    let bodies = request_bodies();
    assert!(bodies.len() >= 30, "{bodies:?}");
    for (method, path, pointer) in bodies {
        let content = CONTRACT.at(&format!("{pointer}/content"));
        for (media, entry) in content.as_object().expect("content") {
            let example = entry
                .get("example")
                .unwrap_or_else(|| panic!("{method} {path} {media}: no example"));
            if media == "application/yaml" {
                assert!(example.as_str().is_some_and(|y| y.contains("name:")));
                continue;
            }
            let schema = format!("{pointer}/content/{}/schema", token(media));
            CONTRACT
                .validate(&schema, example)
                .unwrap_or_else(|e| panic!("{method} {path} {media}: {e}"));
        }
    }
}

/// The examples are real requests: sent as they are to a fresh sandbox, each is accepted
/// (those that name another resource first get one to name).
#[tokio::test]
async fn the_request_examples_are_accepted_as_they_stand() {
    let app = spawn_app().await;
    let token = app.token().await;
    let example = |pointer: &str| -> Value {
        CONTRACT
            .at(&format!("{pointer}/content/application~1json/example"))
            .clone()
    };
    let mut accepted = 0;
    for (method, path, pointer) in request_bodies() {
        let simple = method == "POST"
            && path.starts_with("/api/")
            && !path.contains("{id}")
            && ![
                "/api/v1/payments",
                "/api/v1/settlement_transfers",
                "/api/v1/transaction_sms_notifications",
                "/api/v2/reversals",
                "/api/api/v2/reversals",
            ]
            .contains(&path.as_str());
        if !simple {
            continue;
        }
        let response = app.post_json(&path, &token, &example(&pointer)).await;
        assert_eq!(
            response.status(),
            201,
            "{method} {path}: {:?}",
            response.text().await
        );
        accepted += 1;
    }
    assert!(accepted >= 14, "{accepted}");
    let (status, body) = app
        .rejected(
            "/oauth/token",
            "",
            &example(&CONTRACT.follow("/paths/~1oauth~1token/post/requestBody".into())),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
