//! What the customers' side of the world does, from the command line: `handsets` (how phones
//! answer STK prompts), `pay-link` (a customer pays a link on its page), `sms` (the messages
//! their phones received) and `ledger` (where the money went).

use reqwest::Method;
use serde_json::json;

use super::client::{Client, Outcome, encode, read_as, shown_as};
use crate::config::{HandsetsAction, HandsetsArgs, PageArgs, PayLinkArgs, SmsArgs};
use crate::wire::control::{HandsetView, Handsets, LedgerPage, LinkPaid, SmsOutbox};

pub(super) async fn handsets(client: &Client, h: HandsetsArgs) -> Outcome {
    if let Some(HandsetsAction::Set { phone, behaviour }) = h.action {
        let body = json!({"behaviour": behaviour, "client_id": h.list.client_id});
        let path = format!("/_sandbox/handsets/{}", encode(&phone));
        let answer = client.call(Method::PUT, &path, Some(body)).await?;
        return shown_as(h.list.json, answer, |set: &HandsetView| {
            let whose = set.client_id.as_deref().map_or_else(
                || "every application".to_string(),
                |c| format!("application {c}"),
            );
            format!(
                "{} now answers with {} ({whose})",
                set.phone_number, set.behaviour
            )
        });
    }
    let answer = client.get("/_sandbox/handsets", &[]).await?;
    shown_as(h.list.json, answer, |all: &Handsets| {
        let rows: Vec<Vec<String>> = all
            .settings
            .iter()
            .filter(|s| {
                h.list.client_id.is_none()
                    || s.client_id.is_none()
                    || s.client_id == h.list.client_id
            })
            .map(|s| row(&s.phone_number, &s.behaviour, s.client_id.as_deref(), "set"))
            .chain(
                all.magic_numbers
                    .iter()
                    .map(|m| row(&m.phone_number, &m.behaviour, None, "magic number")),
            )
            .collect();
        format!(
            "{}\nany other number: {}",
            crate::report::table(&["PHONE", "ANSWERS", "APPLICATION", "SOURCE"], &rows),
            all.default
        )
    })
}

fn row(phone: &str, behaviour: &str, client_id: Option<&str>, source: &str) -> Vec<String> {
    vec![
        phone.to_string(),
        behaviour.to_string(),
        client_id.unwrap_or("all").to_string(),
        source.to_string(),
    ]
}

pub(super) async fn pay_link(client: &Client, p: PayLinkArgs) -> Outcome {
    let path = format!("/_sandbox/payment_links/{}/pay", encode(&p.link));
    let answer = client
        .call(Method::POST, &path, Some(json!({"phone_number": p.phone})))
        .await?;
    let paid: LinkPaid = read_as(answer)?;
    Ok(format!(
        "payment link {} {} by {}",
        paid.id,
        paid.status.to_lowercase(),
        p.phone
    ))
}

pub(super) async fn ledger(client: &Client, l: PageArgs) -> Outcome {
    let answer = client
        .get(
            "/_sandbox/ledger",
            &[
                ("client_id", l.list.client_id),
                ("limit", Some(l.limit.to_string())),
            ],
        )
        .await?;
    shown_as(l.list.json, answer, |page: &LedgerPage| {
        let rows: Vec<Vec<String>> = page
            .entries
            .iter()
            .map(|e| {
                vec![
                    e.at.clone(),
                    e.account.replace(':', " "),
                    e.amount.clone(),
                    e.balance_after.clone(),
                    e.memo.clone(),
                ]
            })
            .collect();
        format!(
            "application {}\n{}",
            page.client_id,
            crate::report::table(
                &["AT", "ACCOUNT", "AMOUNT (KES)", "BALANCE AFTER", "MEMO"],
                &rows
            )
        )
    })
}

pub(super) async fn sms(client: &Client, s: SmsArgs) -> Outcome {
    let answer = client
        .get(
            "/_sandbox/sms",
            &[
                ("phone", s.phone),
                ("client_id", s.page.list.client_id),
                ("limit", Some(s.page.limit.to_string())),
            ],
        )
        .await?;
    shown_as(s.page.list.json, answer, |outbox: &SmsOutbox| {
        let rows: Vec<Vec<String>> = outbox
            .messages
            .iter()
            .map(|m| {
                vec![
                    m.sent_at.clone(),
                    m.phone_number.clone(),
                    m.message.clone(),
                    m.client_id.clone(),
                ]
            })
            .collect();
        crate::report::table(&["SENT", "PHONE", "MESSAGE", "CLIENT"], &rows)
    })
}
