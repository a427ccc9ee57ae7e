//! `callbacks`: the delivery log, one delivery in full, replays.

use reqwest::Method;

use super::client::{Client, Failure, Outcome, encode, read_as, shown_as};
use crate::config::CallbacksArgs;
use crate::wire::control::{DeliveryLog, DeliveryView, Replay, Replays};

fn delivery_rows(deliveries: &[DeliveryView]) -> Vec<Vec<String>> {
    deliveries
        .iter()
        .map(|d| {
            let last = d.attempts.last().map_or_else(
                || "-".to_string(),
                |a| match (a.status, &a.error) {
                    (Some(status), _) => status.to_string(),
                    (None, Some(error)) => error.clone(),
                    (None, None) => "-".into(),
                },
            );
            vec![
                d.id.to_string(),
                d.created_at.clone(),
                d.resource.kind.clone(),
                d.state.name().into(),
                d.attempts.len().to_string(),
                last,
                d.target.clone(),
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
            shown_as(json, answer, |log: &DeliveryLog| {
                crate::report::table(
                    &[
                        "ID", "CREATED", "RESOURCE", "STATE", "ATTEMPTS", "LAST", "URL",
                    ],
                    &delivery_rows(&log.deliveries),
                )
            })
        }
        CallbacksAction::Show { id } => {
            let delivery = find(client, &id).await?;
            Ok(if json {
                serde_json::to_string_pretty(&delivery).unwrap_or_default()
            } else {
                show_delivery(&delivery)
            })
        }
        CallbacksAction::Replay { id, exhausted } => {
            if exhausted {
                let scope = c
                    .list
                    .client_id
                    .map_or_else(String::new, |c| format!("&client_id={}", encode(&c)));
                let path = format!("/_sandbox/callbacks/replay?status=exhausted{scope}");
                let answer = client.call(Method::POST, &path, None).await?;
                return shown_as(json, answer, |a: &Replays| {
                    format!("replayed {} exhausted deliveries", a.replayed)
                });
            }
            let id = id.unwrap_or_default();
            let path = format!("/_sandbox/callbacks/{}/replay", encode(id.trim()));
            let answer = client.call(Method::POST, &path, None).await?;
            shown_as(json, answer, |a: &Replay| {
                format!("replaying {} as {}", a.replay_of, a.id)
            })
        }
    }
}

/// One delivery of the log, by its id: the log is paged newest first, and the delivery is
/// looked for page by page.
async fn find(client: &Client, id: &str) -> Result<DeliveryView, Failure> {
    let wanted = id.trim().to_ascii_lowercase();
    let mut cursor = None;
    loop {
        let page: DeliveryLog = read_as(
            client
                .get(
                    "/_sandbox/callbacks",
                    &[("limit", Some("1000".into())), ("cursor", cursor)],
                )
                .await?,
        )?;
        if let Some(delivery) = page
            .deliveries
            .into_iter()
            .find(|d| d.id.to_string() == wanted)
        {
            return Ok(delivery);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Err(Failure::Refused(format!("no delivery {id}"))),
        }
    }
}

/// One delivery for a person: what, where, state, signature, every attempt, the exact body.
fn show_delivery(d: &DeliveryView) -> String {
    let mut out = vec![
        format!("delivery   {}", d.id),
        format!("resource   {} {}", d.resource.kind, d.resource.id),
        format!("url        {}", d.target),
    ];
    if let Some(asked) = &d.requested_target {
        out.push(format!("asked for  {asked} (--callback-rewrite)"));
    }
    out.extend([
        format!("state      {}", d.state.name()),
        format!("created    {}", d.created_at),
        format!("signature  {}", d.signature),
    ]);
    if let Some(probe) = &d.probe {
        let outcome = probe.outcome.map_or("-", |o| o.name());
        let passed = probe.passed.map_or("-".to_string(), |p| p.to_string());
        out.push(format!(
            "probe      {} (expect {}, outcome {outcome}, passed {passed})",
            probe.kind.name(),
            match probe.expect {
                crate::domain::delivery::Expected::Accept => "accept",
                crate::domain::delivery::Expected::Reject => "reject",
            },
        ));
    }
    for a in &d.attempts {
        let answer = match (a.status, &a.error) {
            (Some(status), _) => status.to_string(),
            (None, Some(error)) => error.clone(),
            (None, None) => "-".into(),
        };
        out.push(format!(
            "attempt {}  {}  {answer}  {} ms",
            a.attempt, a.at, a.latency_ms
        ));
        if let Some(hint) = &a.hint {
            out.push(format!("           {hint}"));
        }
    }
    out.push(String::new());
    out.push(d.body.clone());
    out.join("\n")
}
