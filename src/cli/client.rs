//! The HTTP client of the client commands: the control plane's answers, refusals and its
//! live stream.

use std::time::Duration;

use serde_json::Value;

use crate::config::ClientArgs;

pub(super) fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

pub(super) struct Client {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
    pub(super) admin_token: Option<String>,
}

pub(super) enum Failure {
    /// The sandbox answered, but not with success.
    Refused(String),
    /// The command ran, and what it reports is a failure (a verdict): printed on stdout.
    Failed(String),
    Unreachable(String),
}

impl Client {
    pub(super) fn new(args: &ClientArgs) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(90))
                .build()?,
            base: args.url.as_str().trim_end_matches('/').to_string(),
            admin_token: args.admin_token.clone(),
        })
    }

    pub(super) async fn call(
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
    pub(super) async fn get(
        &self,
        path: &str,
        query: &[(&str, Option<String>)],
    ) -> Result<Value, Failure> {
        let request = self
            .http
            .get(format!("{}{path}", self.base))
            .query(&present(query));
        self.send(request).await
    }

    /// Opens the live stream with the query parameters that are set. No overall timeout:
    /// a stream lasts as long as it is read.
    pub(super) async fn stream(&self, query: &[(&str, Option<String>)]) -> Result<Events, Failure> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| Failure::Unreachable(e.to_string()))?;
        let request = http
            .get(format!("{}/_sandbox/stream", self.base))
            .query(&present(query));
        let response = self.respond(request).await?;
        if !response.status().is_success() {
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            return Err(refused(status, body));
        }
        Ok(Events {
            response,
            buffer: String::new(),
        })
    }

    /// Sends `request` with the admin token, if there is one.
    async fn respond(
        &self,
        mut request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        if let Some(token) = &self.admin_token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .map_err(|e| Failure::Unreachable(format!("cannot reach {}: {e}", self.base)))
    }

    pub(super) async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, Failure> {
        let response = self.respond(request).await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            Err(refused(status, body))
        }
    }
}

/// The sandbox's error answer: `{"error_code", "error_message"}`, the message a text or (a
/// reversal's) a list of them.
#[derive(serde::Deserialize)]
struct ErrorAnswer {
    error_message: ErrorMessage,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum ErrorMessage {
    Text(String),
    List(Vec<String>),
}

/// A refusal, as the sandbox worded it.
fn refused(status: reqwest::StatusCode, body: Value) -> Failure {
    let message = match serde_json::from_value::<ErrorAnswer>(body.clone()) {
        Ok(ErrorAnswer {
            error_message: ErrorMessage::Text(text),
        }) => text,
        Ok(ErrorAnswer {
            error_message: ErrorMessage::List(list),
        }) => list.join("; "),
        Err(_) => body.to_string(),
    };
    Failure::Refused(format!("{status}: {message}"))
}

/// The query parameters that are set.
fn present<'a>(query: &'a [(&str, Option<String>)]) -> Vec<(&'a str, &'a String)> {
    query
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v)))
        .collect()
}

/// What each command prints on success, or why it failed.
pub(super) type Outcome = Result<String, Failure>;

/// An open `GET /_sandbox/stream`, read event by event.
pub(super) struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    /// The next event's kind and JSON; `None` when the sandbox ends the stream.
    pub(super) async fn next(&mut self) -> Result<Option<(String, Value)>, Failure> {
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

/// The sandbox's answer pretty-printed (`--json`, as it came), or `render` of it read as the
/// control plane's typed view `T` (`wire::control`).
pub(super) fn shown_as<T: serde::de::DeserializeOwned>(
    json: bool,
    answer: Value,
    render: impl FnOnce(&T) -> String,
) -> Result<String, Failure> {
    if json {
        return Ok(serde_json::to_string_pretty(&answer).unwrap_or_default());
    }
    let typed = read_as(answer)?;
    Ok(render(&typed))
}

/// The sandbox's answer read as the control plane's typed view `T`.
pub(super) fn read_as<T: serde::de::DeserializeOwned>(answer: Value) -> Result<T, Failure> {
    serde_json::from_value(answer).map_err(|e| {
        Failure::Refused(format!(
            "an answer this client cannot read ({e}): is the sandbox the same version?"
        ))
    })
}
