//! The client commands: drive a running sandbox through its control plane (`--url`) with
//! readable output. Exit code 0 on success, 1 when the sandbox refuses, 2 when it cannot be
//! reached.

use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};

use reqwest::Method;

use crate::config::{
    BalancesArgs, CallbacksArgs, ClientArgs, ClockAction, ClockArgs, Command, EventsArgs, ListArgs,
    PromptsArgs, RequestsArgs, ResetArgs, ScenarioArgs, StkArgs, TriggerArgs, WatchArgs,
};

/// `trigger`'s short names and the event types they stand for.
const SHORT_EVENT_NAMES: [(&str, &str); 9] = [
    ("buygoods", "buygoods_transaction_received"),
    ("buygoods-reversed", "buygoods_transaction_reversed"),
    ("b2b", "b2b_transaction_received"),
    ("b2b-reversed", "b2b_transaction_reversed"),
    ("settlement", "settlement_transfer_completed"),
    ("customer-created", "customer_created"),
    ("card", "card_transaction_received"),
    ("card-voided", "card_transaction_voided"),
    ("card-reversed", "card_transaction_reversed"),
];

/// The event type a `trigger` name stands for: a short name (`-` or `_` alike), or a full
/// event type; `None` for neither.
fn event_type(name: &str) -> Option<&'static str> {
    let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
    let aliases = [
        ("buygoods-received", "buygoods"),
        ("b2b-received", "b2b"),
        ("settlement-transfer", "settlement"),
        ("customer", "customer-created"),
        ("card-received", "card"),
    ];
    let short = aliases
        .iter()
        .find(|(alias, _)| *alias == wanted)
        .map_or(wanted.as_str(), |(_, short)| short);
    SHORT_EVENT_NAMES
        .iter()
        .find(|(s, full)| *s == short || full.replace('_', "-") == short)
        .map(|(_, full)| *full)
}

/// Why `name` is no event: the names `trigger` takes, and the closest one.
fn unknown_event(name: &str) -> String {
    let names = SHORT_EVENT_NAMES.map(|(short, _)| short);
    format!(
        "unknown event {name:?}: use one of {} (or a full event type such as \
         buygoods_transaction_received){}",
        names.join(", "),
        crate::suggest::did_you_mean(name, names.iter().copied())
    )
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

struct Client {
    http: reqwest::Client,
    base: String,
    admin_token: Option<String>,
}

enum Failure {
    /// The sandbox answered, but not with success.
    Refused(String),
    /// The command ran, and what it reports is a failure (a verdict): printed on stdout.
    Failed(String),
    Unreachable(String),
}

impl Client {
    fn new(args: &ClientArgs) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(90))
                .build()?,
            base: args.url.as_str().trim_end_matches('/').to_string(),
            admin_token: args.admin_token.clone(),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Failure> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(mut body) = body {
            // A flag not given is a field not sent (the control plane's documents have no
            // nulls).
            if let Value::Object(fields) = &mut body {
                fields.retain(|_, v| !v.is_null());
            }
            request = request.json(&body);
        }
        self.send(request).await
    }

    /// A GET of `path` with the query parameters that are set.
    async fn get(&self, path: &str, query: &[(&str, Option<String>)]) -> Result<Value, Failure> {
        let request = self
            .http
            .get(format!("{}{path}", self.base))
            .query(&present(query));
        self.send(request).await
    }

    /// Opens the live stream with the query parameters that are set. No overall timeout:
    /// a stream lasts as long as it is read.
    async fn stream(&self, query: &[(&str, Option<String>)]) -> Result<Events, Failure> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| Failure::Unreachable(e.to_string()))?;
        let mut request = http
            .get(format!("{}/_sandbox/stream", self.base))
            .query(&present(query));
        if let Some(token) = &self.admin_token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| Failure::Unreachable(format!("cannot reach {}: {e}", self.base)))?;
        if !response.status().is_success() {
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            return Err(Failure::Refused(format!(
                "{status}: {}",
                cell(&body["error_message"])
            )));
        }
        Ok(Events {
            response,
            buffer: String::new(),
        })
    }

    async fn send(&self, mut request: reqwest::RequestBuilder) -> Result<Value, Failure> {
        if let Some(token) = &self.admin_token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| Failure::Unreachable(format!("cannot reach {}: {e}", self.base)))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            let message = body["error_message"]
                .as_str()
                .map_or_else(|| body["error_message"].to_string(), str::to_string);
            Err(Failure::Refused(format!("{status}: {message}")))
        }
    }
}

fn clock_line(body: &Value) -> String {
    let base = if body["virtual"] == true {
        "virtual"
    } else {
        "real time"
    };
    let advanced = body["advanced_ms"].as_i64().unwrap_or(0);
    let whose = body["client_id"]
        .as_str()
        .map_or_else(String::new, |c| format!(" on {c}'s clock"));
    format!(
        "now {}{whose} ({base}{}), {} jobs pending",
        body["now"].as_str().unwrap_or("?"),
        if advanced > 0 {
            format!(" + {}", span(advanced))
        } else {
            String::new()
        },
        body["pending_jobs"]
    )
}

/// Milliseconds as the largest units that name them, e.g. `7d 2h`, `90s` -> `1m 30s`.
fn span(ms: i64) -> String {
    const UNITS: [(i64, &str); 5] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
        (1, "ms"),
    ];
    let mut left = ms;
    let mut parts = Vec::new();
    for (size, unit) in UNITS {
        if left >= size {
            parts.push(format!("{}{unit}", left / size));
            left %= size;
        }
    }
    parts.join(" ")
}

/// The query parameters that are set.
fn present<'a>(query: &'a [(&str, Option<String>)]) -> Vec<(&'a str, &'a String)> {
    query
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v)))
        .collect()
}

/// What each command prints on success, or why it failed.
type Outcome = Result<String, Failure>;

/// Prints a line of a command that streams its output (`requests --follow`, `watch`); once
/// nobody reads stdout, ends the command quietly (see [`line`]).
macro_rules! print_or_end {
    ($($arg:tt)*) => {
        if !line(format_args!($($arg)*)) {
            return Ok(String::new());
        }
    };
}

async fn execute(command: Command) -> anyhow::Result<Outcome> {
    Ok(match command {
        Command::Serve(_) | Command::Run(_) => unreachable!("not a client command"),
        Command::Verify(v) => verify(&Client::new(&v.client)?, v).await,
        Command::Validate { files } => validate(&files),
        Command::Healthcheck(args) => healthcheck(&Client::new(&args)?).await,
        Command::Trigger(t) => trigger(&Client::new(&t.client)?, t).await,
        Command::Stk(s) => stk(&Client::new(&s.client)?, s).await,
        Command::Clock(c) => clock(&Client::new(&c.client)?, c).await,
        Command::Reset(r) => reset(&Client::new(&r.client)?, r).await,
        Command::Callbacks(c) => callbacks(&Client::new(&c.list.client)?, c).await,
        Command::Requests(r) => requests(&Client::new(&r.list.client)?, r).await,
        Command::Scenario(s) => scenario(&Client::new(&s.list.client)?, s).await,
        Command::Probes(p) => probes(&Client::new(&p.client)?, p).await,
        Command::Balances(b) => balances(&Client::new(&b.list.client)?, b).await,
        Command::Prompts(p) => prompts(&Client::new(&p.list.client)?, p).await,
        Command::Events(e) => events(&Client::new(&e.list.client)?, e).await,
        Command::Watch(w) => watch(&Client::new(&w.list.client)?, w).await,
        Command::Completions { shell } => Ok(completions(shell)),
        Command::Openapi(o) => Ok(openapi(&o)),
    })
}

/// The OpenAPI document, as JSON or YAML.
fn openapi(args: &crate::config::OpenapiArgs) -> String {
    let doc = crate::http::openapi::document(&args.server);
    if args.yaml {
        crate::http::openapi::yaml(&doc).trim_end().to_string()
    } else {
        serde_json::to_string_pretty(&doc).expect("a JSON value serialises")
    }
}

/// A shell completion script for every command and flag.
fn completions(shell: clap_complete::Shell) -> String {
    use clap::CommandFactory as _;
    let mut script = Vec::new();
    clap_complete::generate(
        shell,
        &mut crate::config::Cli::command(),
        "k2-sandbox",
        &mut script,
    );
    String::from_utf8_lossy(&script).trim_end().to_string()
}

/// A JSON value as a table cell: strings bare, null as `-`.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The sandbox's answer pretty-printed (`--json`), or `render` of it.
fn shown(json: bool, answer: Value, render: impl FnOnce(&Value) -> String) -> String {
    if json {
        serde_json::to_string_pretty(&answer).unwrap_or_default()
    } else {
        render(&answer)
    }
}

fn delivery_rows(deliveries: &Value) -> Vec<Vec<String>> {
    deliveries
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|d| {
            let attempts = d["attempts"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let last = attempts.last().map_or_else(
                || "-".to_string(),
                |a| match (&a["status"], &a["error"]) {
                    (Value::Number(n), _) => n.to_string(),
                    (_, Value::String(e)) => e.clone(),
                    _ => "-".into(),
                },
            );
            vec![
                cell(&d["id"]),
                cell(&d["created_at"]),
                cell(&d["resource"]["type"]),
                cell(&d["state"]),
                attempts.len().to_string(),
                last,
                cell(&d["target"]),
            ]
        })
        .collect()
}

async fn callbacks(client: &Client, c: CallbacksArgs) -> Outcome {
    use crate::config::CallbacksAction;
    let json = c.list.json;
    match c.action.unwrap_or(CallbacksAction::List) {
        CallbacksAction::List => {
            let answer = client
                .get(
                    "/_sandbox/callbacks",
                    &[
                        ("status", c.status),
                        ("client_id", c.list.client_id),
                        ("since", c.since),
                        ("limit", Some(c.limit.to_string())),
                    ],
                )
                .await?;
            Ok(shown(json, answer, |a| {
                crate::report::table(
                    &[
                        "ID", "CREATED", "RESOURCE", "STATE", "ATTEMPTS", "LAST", "URL",
                    ],
                    &delivery_rows(&a["deliveries"]),
                )
            }))
        }
        CallbacksAction::Show { id } => {
            // The log is paged newest first; one delivery is found by its id among them.
            let wanted = id.trim().to_ascii_lowercase();
            let mut cursor = None;
            loop {
                let page = client
                    .get(
                        "/_sandbox/callbacks",
                        &[("limit", Some("1000".into())), ("cursor", cursor)],
                    )
                    .await?;
                let found = page["deliveries"]
                    .as_array()
                    .and_then(|all| all.iter().find(|d| d["id"] == wanted.as_str()))
                    .cloned();
                if let Some(delivery) = found {
                    return Ok(shown(json, delivery, show_delivery));
                }
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_string()),
                    None => return Err(Failure::Refused(format!("no delivery {id}"))),
                }
            }
        }
        CallbacksAction::Replay { id, exhausted } => {
            if exhausted {
                let scope = c
                    .list
                    .client_id
                    .map_or_else(String::new, |c| format!("&client_id={}", encode(&c)));
                let path = format!("/_sandbox/callbacks/replay?status=exhausted{scope}");
                let answer = client.call(Method::POST, &path, None).await?;
                return Ok(shown(json, answer, |a| {
                    format!("replayed {} exhausted deliveries", a["replayed"])
                }));
            }
            let id = id.unwrap_or_default();
            let path = format!("/_sandbox/callbacks/{}/replay", encode(id.trim()));
            let answer = client.call(Method::POST, &path, None).await?;
            Ok(shown(json, answer, |a| {
                format!("replaying {} as {}", cell(&a["replay_of"]), cell(&a["id"]))
            }))
        }
    }
}

/// One delivery for a person: what, where, state, signature, every attempt, the exact body.
fn show_delivery(d: &Value) -> String {
    let mut out = vec![
        format!("delivery   {}", cell(&d["id"])),
        format!(
            "resource   {} {}",
            cell(&d["resource"]["type"]),
            cell(&d["resource"]["id"])
        ),
        format!("url        {}", cell(&d["target"])),
        format!("state      {}", cell(&d["state"])),
        format!("created    {}", cell(&d["created_at"])),
        format!("signature  {}", cell(&d["signature"])),
    ];
    if let Some(probe) = d.get("probe") {
        out.push(format!(
            "probe      {} (expect {}, outcome {}, passed {})",
            cell(&probe["kind"]),
            cell(&probe["expect"]),
            cell(&probe["outcome"]),
            cell(&probe["passed"])
        ));
    }
    for a in d["attempts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        out.push(format!(
            "attempt {}  {}  {}  {} ms",
            cell(&a["attempt"]),
            cell(&a["at"]),
            if a["status"].is_null() {
                cell(&a["error"])
            } else {
                cell(&a["status"])
            },
            cell(&a["latency_ms"])
        ));
    }
    out.push(String::new());
    out.push(cell(&d["body"]));
    out.join("\n")
}

fn request_rows(requests: &[Value]) -> Vec<Vec<String>> {
    requests
        .iter()
        .map(|r| {
            let path = match r["query"].as_str() {
                Some(q) => format!("{}?{q}", cell(&r["path"])),
                None => cell(&r["path"]),
            };
            // The app's requests name its application; the others, who sent them.
            let by = match r["by"].as_str() {
                Some(by @ ("customer" | "control")) => format!("({by})"),
                _ => cell(&r["client_id"]),
            };
            vec![
                cell(&r["at"]),
                cell(&r["method"]),
                path,
                cell(&r["status"]),
                format!("{} ms", cell(&r["latency_ms"])),
                by,
            ]
        })
        .collect()
}

const REQUEST_HEADER: [&str; 6] = ["AT", "METHOD", "PATH", "STATUS", "LATENCY", "CLIENT"];

async fn requests(client: &Client, r: RequestsArgs) -> Outcome {
    let query = |since: Option<String>, limit: usize| {
        vec![
            ("path", r.path.clone()),
            ("status", r.status.map(|s| s.to_string())),
            ("method", r.method.clone()),
            ("client_id", r.list.client_id.clone()),
            ("by", Some(r.by.clone())),
            ("since", since),
            ("limit", Some(limit.to_string())),
        ]
    };
    // Following: subscribed to the live stream before the history is read, so that no
    // request answered in between is lost (one answered after the subscription and before
    // the read is in both, and shown once, from the history).
    let events = if r.follow {
        Some(
            client
                .stream(&[
                    ("kind", Some("request".into())),
                    ("client_id", r.list.client_id.clone()),
                ])
                .await?,
        )
    } else {
        None
    };
    let answer = client
        .get("/_sandbox/requests", &query(r.since.clone(), r.limit))
        .await?;
    let Some(mut events) = events else {
        return Ok(shown(r.list.json, answer, |a| {
            let rows = request_rows(
                a["requests"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
            );
            crate::report::table(&REQUEST_HEADER, &rows)
        }));
    };
    // The history, then every request answered after it, as it is answered.
    let history = answer["requests"].as_array().cloned().unwrap_or_default();
    let shown_up_to = history.iter().filter_map(|e| e["sequence"].as_u64()).max();
    for entry in history.iter().rev() {
        if r.list.json {
            print_or_end!("{entry}");
        } else {
            print_or_end!(
                "{}",
                request_rows(std::slice::from_ref(entry))[0].join("  ")
            );
        }
    }
    while let Some((kind, event)) = events.next().await? {
        let data = &event["data"];
        let wanted = kind == "request"
            && data["journal"]
                .as_u64()
                .zip(shown_up_to)
                .is_none_or(|(journal, shown)| journal > shown)
            && r.path
                .as_deref()
                .is_none_or(|p| cell(&data["path"]).starts_with(p))
            && r.status.is_none_or(|s| data["status"] == s)
            && sent_by(&r.by, &data["by"])
            && r.method
                .as_deref()
                .is_none_or(|m| cell(&data["method"]).eq_ignore_ascii_case(m));
        if !wanted {
            continue;
        }
        if r.list.json {
            print_or_end!("{event}");
        } else {
            let row = json!({
                "at": event["at"], "method": data["method"], "path": data["path"],
                "query": data["query"], "status": data["status"],
                "latency_ms": format!("{:.1}", data["latency_ms"].as_f64().unwrap_or(0.0)),
                "client_id": event["client_id"], "by": data["by"],
            });
            print_or_end!("{}", request_rows(&[row])[0].join("  "));
        }
    }
    Ok("the sandbox ended the stream".into())
}

/// Whether a live request event's sender (`by`) is among `by` (`all`, or a comma-separated
/// list; the server checked the names when the history was read).
fn sent_by(by: &str, sender: &Value) -> bool {
    let sender = sender.as_str().unwrap_or("app");
    by.split(',')
        .map(str::trim)
        .any(|b| b.eq_ignore_ascii_case("all") || b.eq_ignore_ascii_case(sender))
}

/// `watch`: everything that happens, a line each, until interrupted.
async fn watch(client: &Client, w: WatchArgs) -> Outcome {
    let mut events = client
        .stream(&[("kind", w.kind), ("client_id", w.list.client_id)])
        .await?;
    while let Some((kind, event)) = events.next().await? {
        if w.list.json {
            print_or_end!("{event}");
            continue;
        }
        let d = &event["data"];
        let what = match kind.as_str() {
            "request" => format!(
                "{} {} {} ({:.1} ms){}",
                cell(&d["method"]),
                cell(&d["path"]),
                cell(&d["status"]),
                d["latency_ms"].as_f64().unwrap_or(0.0),
                d["error"]
                    .as_str()
                    .map_or_else(String::new, |e| format!(": {e}"))
            ),
            "resource" => format!(
                "{} {} {}",
                cell(&d["type"]),
                cell(&d["id"]),
                cell(&d["status"])
            ),
            "callback" => format!(
                "attempt {} to {}: {} ({})",
                cell(&d["attempt"]),
                cell(&d["url"]),
                if d["status"].is_null() {
                    cell(&d["error"])
                } else {
                    cell(&d["status"])
                },
                cell(&d["outcome"])
            ),
            "webhook" => format!(
                "{} {} till {}",
                cell(&d["topic"]),
                cell(&d["id"]),
                cell(&d["till_number"])
            ),
            "sms" => format!("to {}: {}", cell(&d["phone_number"]), cell(&d["message"])),
            "prompt" => format!(
                "{} {} (incoming payment {})",
                cell(&d["phone_number"]),
                cell(&d["status"]),
                cell(&d["id"])
            ),
            "clock" => format!("advanced {} ms", cell(&d["by_ms"])),
            "scenario" => format!("{} {}", cell(&d["name"]), cell(&d["action"])),
            "missed" => format!(
                "missed {} events: reading too slowly",
                cell(&event["missed"])
            ),
            _ => event.to_string(),
        };
        print_or_end!(
            "{}  {:<8}  {:<18}  {what}",
            cell(&event["at"]),
            kind,
            cell(&event["client_id"])
        );
    }
    Ok("the sandbox ended the stream".into())
}

/// An open `GET /_sandbox/stream`, read event by event.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    /// The next event's kind and JSON; `None` when the sandbox ends the stream.
    async fn next(&mut self) -> Result<Option<(String, Value)>, Failure> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    frame
                        .lines()
                        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(": ")))
                        .map(str::to_string)
                };
                if let (Some(kind), Some(data)) = (field("event"), field("data")) {
                    let event = serde_json::from_str(&data).unwrap_or(Value::Null);
                    return Ok(Some((kind, event)));
                }
                continue; // a keep-alive comment
            }
            let chunk = self
                .response
                .chunk()
                .await
                .map_err(|e| Failure::Unreachable(format!("the stream broke: {e}")))?;
            match chunk {
                Some(bytes) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                None => return Ok(None),
            }
        }
    }
}

async fn scenario(client: &Client, s: ScenarioArgs) -> Outcome {
    use crate::config::ScenarioAction;
    let json = s.list.json;
    match s.action {
        ScenarioAction::Load { files } => {
            let mut lines = Vec::new();
            for path in files {
                let name = path.display().to_string();
                let bytes = crate::scenario::read_file(&path)
                    .map_err(|e| Failure::Refused(format!("{name}: {e}")))?;
                let request = client
                    .http
                    .post(format!("{}/_sandbox/scenarios", client.base))
                    .query(&[("source", &name)])
                    .header(reqwest::header::CONTENT_TYPE, "application/yaml")
                    .body(bytes);
                let answer = client.send(request).await?;
                lines.push(shown(json, answer, |a| {
                    let notes = a["notes"].as_array().map(Vec::as_slice).unwrap_or_default();
                    let mut shown: String = notes
                        .iter()
                        .map(|n| format!("note: {}\n", cell(n)))
                        .collect();
                    shown.push_str(&format!(
                        "{name}: loaded {} ({} rules, {} faults, {} callback faults, {} timeline moments)",
                        a["scenarios"]
                            .as_array()
                            .map(|n| n.iter().map(cell).collect::<Vec<_>>().join(", "))
                            .unwrap_or_default(),
                        a["rules"],
                        a["faults"],
                        a["callback_faults"],
                        a["timeline"]
                    ));
                    shown
                }));
            }
            Ok(lines.join("\n"))
        }
        ScenarioAction::List => {
            let answer = client.get("/_sandbox/scenarios", &[]).await?;
            Ok(shown(json, answer, |a| {
                let rows: Vec<Vec<String>> = a["scenarios"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|s| {
                        let v = &s["probe_verdicts"];
                        vec![
                            cell(&s["name"]),
                            cell(&s["source"]),
                            cell(&s["loaded_at"]),
                            format!("{}/{}/{}", s["rules"], s["faults"], s["callback_faults"]),
                            format!("{} of {}", s["timeline_pending"], s["timeline"]),
                            format!(
                                "{} passed, {} failed, {} waiting",
                                v["passed"], v["failed"], v["waiting"]
                            ),
                        ]
                    })
                    .collect();
                crate::report::table(
                    &[
                        "NAME",
                        "SOURCE",
                        "LOADED",
                        "RULES/FAULTS/CB",
                        "PENDING",
                        "PROBES",
                    ],
                    &rows,
                )
            }))
        }
        ScenarioAction::Export { name } => {
            let mut request = client
                .http
                .get(format!("{}/_sandbox/scenarios/export", client.base))
                .query(&[("name", name.as_str())]);
            if let Some(c) = &s.list.client_id {
                request = request.query(&[("client_id", c)]);
            }
            if let Some(token) = &client.admin_token {
                request = request.bearer_auth(token);
            }
            let response = request
                .send()
                .await
                .map_err(|e| Failure::Unreachable(format!("cannot reach {}: {e}", client.base)))?;
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            if !status.is_success() {
                return Err(Failure::Refused(format!("{status}: {text}")));
            }
            Ok(text.trim_end().to_string())
        }
        ScenarioAction::Unload { name } => {
            let path = format!("/_sandbox/scenarios/{}", encode(&name));
            let answer = client.call(Method::DELETE, &path, None).await?;
            Ok(shown(json, answer, |a| {
                format!(
                    "unloaded {name}: {} rules, {} faults, {} callback faults, {} pending moments",
                    a["rules"], a["faults"], a["callback_faults"], a["timeline"]
                )
            }))
        }
    }
}

async fn probes(client: &Client, p: ListArgs) -> Outcome {
    let answer = client
        .get(
            "/_sandbox/callbacks",
            &[("client_id", p.client_id), ("limit", Some("1000".into()))],
        )
        .await?;
    let probes: Vec<Value> = answer["deliveries"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|d| d.get("probe").is_some())
        .cloned()
        .collect();
    Ok(shown(p.json, json!({ "probes": probes }), |a| {
        let rows: Vec<Vec<String>> = a["probes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|d| {
                let probe = &d["probe"];
                vec![
                    cell(&probe["scenario"]),
                    cell(&probe["kind"]),
                    cell(&probe["expect"]),
                    cell(&probe["outcome"]),
                    match probe["passed"].as_bool() {
                        Some(true) => "PASS".into(),
                        Some(false) => "FAIL".into(),
                        None => "waiting".into(),
                    },
                    cell(&d["target"]),
                ]
            })
            .collect();
        crate::report::table(
            &["SCENARIO", "PROBE", "EXPECT", "OUTCOME", "VERDICT", "URL"],
            &rows,
        )
    }))
}

async fn balances(client: &Client, b: BalancesArgs) -> Outcome {
    let answer = match b.action {
        Some(crate::config::BalancesAction::Set { amount, till }) => {
            let body =
                json!({"client_id": b.list.client_id, "till_number": till, "balance": amount});
            client
                .call(Method::PUT, "/_sandbox/balances", Some(body))
                .await?
        }
        None => {
            client
                .get("/_sandbox/balances", &[("client_id", b.list.client_id)])
                .await?
        }
    };
    Ok(shown(b.list.json, answer, |a| {
        let mut rows = vec![vec!["company".to_string(), cell(&a["company"])]];
        if let Some(tills) = a["tills"].as_object() {
            rows.extend(
                tills
                    .iter()
                    .map(|(till, balance)| vec![format!("till {till}"), cell(balance)]),
            );
        }
        format!(
            "application {}\n{}",
            cell(&a["client_id"]),
            crate::report::table(&["ACCOUNT", "BALANCE (KES)"], &rows)
        )
    }))
}

async fn prompts(client: &Client, p: PromptsArgs) -> Outcome {
    let answer = client
        .get(
            "/_sandbox/prompts",
            &[("phone", p.phone), ("client_id", p.list.client_id)],
        )
        .await?;
    Ok(shown(p.list.json, answer, |a| {
        let rows: Vec<Vec<String>> = a["prompts"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|p| {
                vec![
                    cell(&p["id"]),
                    cell(&p["phone_number"]),
                    format!("{} {}", cell(&p["currency"]), cell(&p["amount"])),
                    cell(&p["till_number"]),
                    cell(&p["initiated_at"]),
                    cell(&p["behaviour"]),
                    cell(&p["client_id"]),
                ]
            })
            .collect();
        crate::report::table(
            &[
                "INCOMING PAYMENT",
                "PHONE",
                "AMOUNT",
                "TILL",
                "SENT",
                "HANDSET",
                "CLIENT",
            ],
            &rows,
        )
    }))
}

async fn events(client: &Client, e: EventsArgs) -> Outcome {
    let topic = e.topic.map(|t| event_type(&t).map_or(t, str::to_string));
    let answer = client
        .get(
            "/_sandbox/events",
            &[
                ("topic", topic),
                ("client_id", e.list.client_id),
                ("limit", Some(e.limit.to_string())),
            ],
        )
        .await?;
    Ok(shown(e.list.json, answer, |a| {
        let rows: Vec<Vec<String>> = a["events"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|ev| {
                vec![
                    cell(&ev["id"]),
                    cell(&ev["created_at"]),
                    cell(&ev["topic"]),
                    cell(&ev["till_number"]),
                    cell(&ev["client_id"]),
                ]
            })
            .collect();
        crate::report::table(&["EVENT", "CREATED", "TOPIC", "TILL", "CLIENT"], &rows)
    }))
}

/// Reads and checks scenario files, without a sandbox.
fn validate(files: &[std::path::PathBuf]) -> Outcome {
    let mut problems = Vec::new();
    let mut lines = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let parsed = crate::scenario::read_file(path)
            .map_err(|e| format!("{name}: {e}"))
            .and_then(|bytes| crate::scenario::read(&name, &bytes).map_err(|p| p.to_string()));
        match parsed {
            Ok(scenarios) => {
                for note in scenarios.iter().flat_map(|s| &s.notes) {
                    lines.push(format!("note: {note}"));
                }
                lines.push(format!(
                    "{name}: ok ({} scenario{})",
                    scenarios.len(),
                    if scenarios.len() == 1 { "" } else { "s" }
                ));
            }
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(lines.join("\n"))
    } else {
        for text in &lines {
            line(format_args!("{text}"));
        }
        Err(Failure::Refused(problems.join("\n")))
    }
}

async fn healthcheck(client: &Client) -> Outcome {
    client
        .call(Method::GET, "/_sandbox/health", None)
        .await
        .map(|b| {
            format!(
                "{} (k2-sandbox {})",
                b["status"].as_str().unwrap_or("?"),
                b["version"].as_str().unwrap_or("?")
            )
        })
}

async fn trigger(client: &Client, t: TriggerArgs) -> Outcome {
    let Some(event_type) = event_type(&t.event) else {
        return Err(Failure::Refused(unknown_event(&t.event)));
    };
    let body = json!({
        "type": event_type,
        "client_id": t.client_id,
        "till_number": t.till,
        "amount": t.amount,
        "phone_number": t.phone,
        "first_name": t.first_name,
        "middle_name": t.middle_name,
        "last_name": t.last_name,
        "sending_till": t.sending_till,
        "transaction": t.transaction,
        "card_number": t.card_number,
    });
    client
        .call(Method::POST, "/_sandbox/events", Some(body))
        .await
        .map(|b| {
            // A transaction's M-PESA reference, for `--transaction` of a reversal.
            let reference = b["payload"]["event"]["resource"]["reference"]
                .as_str()
                .map_or_else(String::new, |r| format!(", reference {r}"));
            format!(
                "{} {} (resource {}{reference}): {} deliveries queued",
                b["topic"].as_str().unwrap_or("?"),
                b["id"].as_str().unwrap_or("?"),
                b["resource_id"].as_str().unwrap_or("?"),
                b["deliveries"]
            )
        })
}

async fn stk(client: &Client, s: StkArgs) -> Outcome {
    let answer = s.answer.replace('-', "_");
    let scope = s
        .client_id
        .map_or_else(String::new, |c| format!("?client_id={}", encode(&c)));
    let path = format!("/_sandbox/prompts/{}/{answer}{scope}", s.target.trim());
    client.call(Method::POST, &path, None).await.map(|b| {
        format!(
            "incoming payment {}: {}",
            b["id"].as_str().unwrap_or("?"),
            b["status"].as_str().unwrap_or("?")
        )
    })
}

async fn clock(client: &Client, c: ClockArgs) -> Outcome {
    let tenant = c.client_id;
    let result = match c.action {
        ClockAction::Show => {
            let path = match &tenant {
                Some(id) => format!("/_sandbox/clock?client_id={}", encode(id)),
                None => "/_sandbox/clock".to_string(),
            };
            client.call(Method::GET, &path, None).await
        }
        ClockAction::Advance { by } => {
            let body = json!({ "by": by, "client_id": tenant });
            client
                .call(Method::POST, "/_sandbox/clock/advance", Some(body))
                .await
        }
        ClockAction::Set { to } => {
            let body = json!({ "to": to, "client_id": tenant });
            client
                .call(Method::POST, "/_sandbox/clock/set", Some(body))
                .await
        }
    };
    result.map(|b| clock_line(&b))
}

async fn reset(client: &Client, r: ResetArgs) -> Outcome {
    let path = match &r.client_id {
        Some(id) => format!("/_sandbox/reset?client_id={}", encode(id)),
        None => "/_sandbox/reset".to_string(),
    };
    client
        .call(Method::POST, &path, None)
        .await
        .map(|_| match r.client_id {
            Some(id) => format!("reset application {id}"),
            None => "reset everything".to_string(),
        })
}

/// Writes a line to stdout; false once nobody reads it (`k2-sandbox openapi | head`), which
/// ends a command quietly instead of panicking as `println!` does.
fn line(text: std::fmt::Arguments<'_>) -> bool {
    use std::io::Write as _;
    writeln!(std::io::stdout().lock(), "{text}").is_ok()
}

/// Runs a client command, printing its result; the exit code says how it went.
pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    Ok(match execute(command).await? {
        Ok(text) => {
            line(format_args!("{text}"));
            ExitCode::SUCCESS
        }
        Err(Failure::Refused(message)) => {
            for line in message.lines() {
                eprintln!("error: {line}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Failed(output)) => {
            line(format_args!("{output}"));
            ExitCode::from(1)
        }
        Err(Failure::Unreachable(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    })
}

/// `verify`: the running sandbox's verdicts, as a table (or JSON), and the reports asked for.
async fn verify(client: &Client, v: crate::config::VerifyArgs) -> Outcome {
    let answer = client.get("/_sandbox/verify", &[]).await?;
    let report: crate::service::verify::Report = serde_json::from_value(answer)
        .map_err(|e| Failure::Refused(format!("an answer that is not a verdict report: {e}")))?;
    crate::report::write(&report, None, v.junit.as_deref(), v.report.as_deref())
        .map_err(|e| Failure::Refused(format!("{e:#}")))?;
    let shown = if v.json {
        crate::report::json(&report, None)
    } else {
        crate::report::verdicts(&report, None)
    };
    if report.passed {
        Ok(shown)
    } else {
        Err(Failure::Failed(shown))
    }
}
