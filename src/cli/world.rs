//! The world's commands: `balances`, `prompts`, `events`, `trigger`, `stk`, `clock`, `reset`
//! and `healthcheck`.

use reqwest::Method;
use serde_json::json;

use super::client::{Client, Failure, Outcome, encode, read_as, shown_as};
use crate::config::{
    BalancesArgs, ClockAction, ClockArgs, EventsArgs, PromptsArgs, ResetArgs, StkArgs, TriggerArgs,
};
use crate::wire::control::{
    Answered, Balances, ClockView, EventList, Health, PromptList, Triggered,
};

/// `trigger`'s short names and the event types they stand for.
const SHORT_EVENT_NAMES: [(&str, &str); 10] = [
    ("buygoods", "buygoods_transaction_received"),
    ("buygoods-reversed", "buygoods_transaction_reversed"),
    ("b2b", "b2b_transaction_received"),
    ("b2b-reversed", "b2b_transaction_reversed"),
    ("settlement", "settlement_transfer_completed"),
    ("customer-created", "customer_created"),
    ("card", "card_transaction_received"),
    ("card-voided", "card_transaction_voided"),
    ("card-reversed", "card_transaction_reversed"),
    ("m2m", "m2m_transaction_received"),
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

fn clock_line(clock: &ClockView) -> String {
    let base = if clock.is_virtual {
        "virtual"
    } else {
        "real time"
    };
    let whose = clock
        .client_id
        .as_deref()
        .map_or_else(String::new, |c| format!(" on {c}'s clock"));
    format!(
        "now {}{whose} ({base}{}), {} jobs pending",
        clock.now,
        if clock.advanced_ms > 0 {
            format!(" + {}", span(clock.advanced_ms))
        } else {
            String::new()
        },
        clock.pending_jobs
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

pub(super) async fn balances(client: &Client, b: BalancesArgs) -> Outcome {
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
    shown_as(b.list.json, answer, |a: &Balances| {
        let mut rows = vec![vec!["company".to_string(), a.company.clone()]];
        rows.extend(
            a.tills
                .iter()
                .map(|(till, balance)| vec![format!("till {till}"), balance.clone()]),
        );
        format!(
            "application {}\n{}",
            a.client_id,
            crate::report::table(&["ACCOUNT", "BALANCE (KES)"], &rows)
        )
    })
}

pub(super) async fn prompts(client: &Client, p: PromptsArgs) -> Outcome {
    let answer = client
        .get(
            "/_sandbox/prompts",
            &[("phone", p.phone), ("client_id", p.list.client_id)],
        )
        .await?;
    shown_as(p.list.json, answer, |a: &PromptList| {
        let rows: Vec<Vec<String>> = a
            .prompts
            .iter()
            .map(|p| {
                vec![
                    p.id.to_string(),
                    p.phone_number.clone(),
                    format!("{} {}", p.currency, p.amount),
                    p.till_number.clone(),
                    p.initiated_at.clone(),
                    p.behaviour.clone(),
                    p.client_id.clone(),
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
    })
}

pub(super) async fn events(client: &Client, e: EventsArgs) -> Outcome {
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
    shown_as(e.list.json, answer, |a: &EventList| {
        let rows: Vec<Vec<String>> = a
            .events
            .iter()
            .map(|ev| {
                vec![
                    ev.id.to_string(),
                    ev.created_at.clone(),
                    ev.topic.clone(),
                    ev.till_number.clone().unwrap_or_else(|| "-".into()),
                    ev.client_id.clone(),
                ]
            })
            .collect();
        crate::report::table(&["EVENT", "CREATED", "TOPIC", "TILL", "CLIENT"], &rows)
    })
}

pub(super) async fn healthcheck(client: &Client) -> Outcome {
    let health: Health = read_as(client.call(Method::GET, "/_sandbox/health", None).await?)?;
    Ok(format!("{} (k2-sandbox {})", health.status, health.version))
}

pub(super) async fn trigger(client: &Client, t: TriggerArgs) -> Outcome {
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
        "sending_merchant": t.sending_merchant,
    });
    let done: Triggered = read_as(
        client
            .call(Method::POST, "/_sandbox/events", Some(body))
            .await?,
    )?;
    // A transaction's M-PESA reference, for `--transaction` of a reversal.
    let payload: serde_json::Value = serde_json::from_str(done.payload.get()).unwrap_or_default();
    let reference = payload
        .pointer("/event/resource/reference")
        .and_then(serde_json::Value::as_str)
        .map_or_else(String::new, |r| format!(", reference {r}"));
    Ok(format!(
        "{} {} (resource {}{reference}): {} queued",
        done.topic,
        done.id,
        done.resource_id,
        crate::report::count(done.deliveries, "delivery", "deliveries")
    ))
}

pub(super) async fn stk(client: &Client, s: StkArgs) -> Outcome {
    let answer = s.answer.replace('-', "_");
    let scope = s
        .client_id
        .map_or_else(String::new, |c| format!("?client_id={}", encode(&c)));
    let path = format!("/_sandbox/prompts/{}/{answer}{scope}", s.target.trim());
    let answered: Answered = read_as(client.call(Method::POST, &path, None).await?)?;
    Ok(format!(
        "incoming payment {}: {}",
        answered.id, answered.status
    ))
}

pub(super) async fn clock(client: &Client, c: ClockArgs) -> Outcome {
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
    Ok(clock_line(&read_as(result?)?))
}

pub(super) async fn reset(client: &Client, r: ResetArgs) -> Outcome {
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
