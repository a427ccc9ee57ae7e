//! `callbacks`: the delivery log, one delivery in full, replays.

use reqwest::Method;
use serde_json::Value;

use super::client::{Client, Failure, Outcome, encode};
use super::show::{cell, shown};
use crate::config::CallbacksArgs;

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

pub(super) async fn callbacks(client: &Client, c: CallbacksArgs) -> Outcome {
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
        CallbacksAction::Show { id } => Ok(shown(json, find(client, &id).await?, show_delivery)),
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

/// One delivery of the log, by its id: the log is paged newest first, and the delivery is
/// looked for page by page.
async fn find(client: &Client, id: &str) -> Result<Value, Failure> {
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
            return Ok(delivery);
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return Err(Failure::Refused(format!("no delivery {id}"))),
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
