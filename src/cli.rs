//! The client commands: drive a running sandbox through its control plane (`--url`) with
//! readable output. Exit code 0 on success, 1 when the sandbox refuses, 2 when it cannot be
//! reached.

use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};

use reqwest::Method;

use crate::config::{ClientArgs, ClockAction, ClockArgs, Command, ResetArgs, StkArgs, TriggerArgs};

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
        if let Some(token) = &self.admin_token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
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

/// What each command prints on success, or why it failed.
type Outcome = Result<String, Failure>;

async fn execute(command: Command) -> anyhow::Result<Outcome> {
    Ok(match command {
        Command::Serve(_) => unreachable!("serve is not a client command"),
        Command::Validate { files } => validate(&files),
        Command::Healthcheck(args) => healthcheck(&Client::new(&args)?).await,
        Command::Trigger(t) => trigger(&Client::new(&t.client)?, t).await,
        Command::Stk(s) => stk(&Client::new(&s.client)?, s).await,
        Command::Clock(c) => clock(&Client::new(&c.client)?, c).await,
        Command::Reset(r) => reset(&Client::new(&r.client)?, r).await,
    })
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
            Ok(scenarios) => lines.push(format!(
                "{name}: ok ({} scenario{})",
                scenarios.len(),
                if scenarios.len() == 1 { "" } else { "s" }
            )),
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(lines.join("\n"))
    } else {
        for line in &lines {
            println!("{line}");
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

/// Runs a client command, printing its result; the exit code says how it went.
pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    Ok(match execute(command).await? {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(Failure::Refused(message)) => {
            for line in message.lines() {
                eprintln!("error: {line}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Unreachable(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    })
}
