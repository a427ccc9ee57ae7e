//! The running sandbox's world written as a scenario file that loads back into the same
//! world: applications, tills, balances, merchant accounts, external recipients, webhook
//! subscriptions, handsets and the transactions received. What a scenario cannot say (STK
//! pushes, payments, deliveries, the journal) is left out, as are ids: loading makes new ones.

use serde_json::{Map, Value, json};

use crate::domain::Scope;
use crate::domain::ledger::{Account, Sender, TransactionStatus};
use crate::domain::money::format_amount;
use crate::domain::recipients::MerchantAccountKind;
use crate::service::AppState;
use crate::wire::recipients::{merchant_fields, recipient_fields};

/// The world of every application (or of `client_id`'s) as scenario YAML named `name`.
pub fn export(state: &AppState, client_id: Option<&str>, name: &str) -> String {
    let wanted = |owner: &str| client_id.is_none_or(|c| c == owner);
    let (wallets, banks) = accounts(state, &wanted);
    let world: Map<String, Value> = [
        ("applications", applications(state, &wanted)),
        ("tills", tills(state, &wanted)),
        ("balances", balances(state, &wanted)),
        ("merchant_wallets", wallets),
        ("merchant_bank_accounts", banks),
        ("external_recipients", recipients(state, &wanted)),
        ("webhook_subscriptions", subscriptions(state, &wanted)),
        ("handsets", handsets(state, &wanted)),
        ("transactions", transactions(state, &wanted)),
    ]
    .into_iter()
    .filter(|(_, items)| !items.is_empty())
    .map(|(section, items)| (section.to_string(), Value::Array(items)))
    .collect();
    let scenario = json!({
        "name": name,
        "description": format!(
            "The world of {} as exported at {}",
            client_id.map_or_else(|| "every application".to_string(), |c| format!("application {c}")),
            crate::clock::format_millis(state.clock.now())
        ),
        "world": world,
    });
    let yaml = serde_yaml_ng::to_string(&without_nulls(scenario)).unwrap_or_default();
    format!(
        "# Exported by k2-sandbox {}: load it with `k2-sandbox scenario load` or --scenario.\n{yaml}",
        env!("CARGO_PKG_VERSION")
    )
}

/// Whether an owner's part of the world is exported.
type Wanted<'a> = dyn Fn(&str) -> bool + 'a;

fn applications(state: &AppState, wanted: &Wanted<'_>) -> Vec<Value> {
    state
        .store
        .applications()
        .into_iter()
        .filter(|a| wanted(&a.client_id))
        .map(|a| json!({"client_id": a.client_id, "client_secret": a.client_secret, "api_key": a.api_key}))
        .collect()
}

/// Every balance as it stands; the transactions are history only (`credit: false`), so a
/// balance set by hand below what its till received loads back as it is.
fn balances(state: &AppState, wanted: &Wanted<'_>) -> Vec<Value> {
    let mut balances = Vec::new();
    for app in state.store.applications() {
        let owner = app.client_id.to_string();
        if !wanted(&owner) {
            continue;
        }
        for (account, balance) in state.store.ledger.accounts(&owner) {
            let till = match &account {
                Account::Company => Value::Null,
                Account::Till(t) => json!(t),
            };
            balances.push(json!({"client_id": owner, "till_number": till,
                "balance": format_amount(balance)}));
        }
    }
    balances
}

fn tills(state: &AppState, wanted: &Wanted<'_>) -> Vec<Value> {
    let mut tills: Vec<Value> = state
        .store
        .till_names
        .iter()
        .filter(|e| wanted(&e.key().0))
        .map(|e| json!({"client_id": e.key().0, "till_number": e.key().1, "name": e.value()}))
        .collect();
    tills.sort_by_key(|t| (t["client_id"].to_string(), t["till_number"].to_string()));
    tills
}

/// The merchant's own wallets and bank accounts.
fn accounts(state: &AppState, wanted: &Wanted<'_>) -> (Vec<Value>, Vec<Value>) {
    let mut accounts = state
        .store
        .merchant_accounts
        .filter_any(|m| wanted(&m.meta.owner));
    accounts.sort_by_key(|m| m.meta.sequence);
    let (mut wallets, mut banks) = (Vec::new(), Vec::new());
    for account in &accounts {
        let mut fields = merchant_fields(account);
        fields.insert("client_id".into(), json!(account.meta.owner));
        insert_some(&mut fields, "nickname", account.nickname.as_deref());
        match account.kind {
            MerchantAccountKind::Wallet { .. } => wallets.push(Value::Object(fields)),
            MerchantAccountKind::Bank(_) => banks.push(Value::Object(fields)),
        }
    }
    (wallets, banks)
}

fn recipients(state: &AppState, wanted: &Wanted<'_>) -> Vec<Value> {
    let mut recipients = state
        .store
        .external_recipients
        .filter_any(|r| wanted(&r.meta.owner));
    recipients.sort_by_key(|r| r.meta.sequence);
    recipients
        .iter()
        .map(|r| {
            let mut fields: Map<String, Value> = recipient_fields(&r.details)
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .collect();
            fields.insert("client_id".into(), json!(r.meta.owner));
            fields.insert("type".into(), json!(r.details.type_name()));
            insert_some(&mut fields, "nickname", r.nickname.as_deref());
            Value::Object(fields)
        })
        .collect()
}

fn subscriptions(state: &AppState, wanted: &Wanted<'_>) -> Vec<Value> {
    let mut subscriptions = state
        .store
        .webhook_subscriptions
        .filter_any(|s| wanted(&s.meta.owner));
    subscriptions.sort_by_key(|s| s.meta.sequence);
    subscriptions
        .iter()
        .map(|s| {
            let (scope, reference) = match &s.scope {
                Scope::Company => ("company", Value::Null),
                Scope::Till(t) => ("till", json!(t)),
            };
            json!({"client_id": s.meta.owner, "event_type": s.event_type.as_str(), "url": s.url,
                "scope": scope, "scope_reference": reference,
                "enable_daraja_payload": s.enable_daraja_payload})
        })
        .collect()
}

fn handsets(state: &AppState, wanted: &Wanted<'_>) -> Vec<Value> {
    state
        .store
        .handsets
        .settings()
        .into_iter()
        .filter(|(owner, _, _)| owner.as_deref().is_none_or(wanted))
        .map(|(owner, phone, behaviour)| {
            json!({"client_id": owner, "phone_number": phone.to_string(),
                "behaviour": behaviour.as_str()})
        })
        .collect()
}

/// The transactions received (not reversed), as history: `credit: false`.
fn transactions(state: &AppState, wanted: &Wanted<'_>) -> Vec<Value> {
    let mut transactions = state
        .store
        .transactions
        .filter_any(|t| wanted(t.owner_id()) && t.status == TransactionStatus::Received);
    transactions.sort_by_key(|t| t.sequence);
    transactions
        .iter()
        .map(|t| {
            let ago_ms = (state.clock.now_ms_of(t.owner_id()) - t.originated_at_ms()).max(0);
            let ago = humantime::format_duration(std::time::Duration::from_millis(ago_ms as u64));
            let mut fields = json!({"client_id": t.owner_id(), "till_number": t.till_number(),
                "amount": format_amount(t.amount().decimal()), "ago": ago.to_string(),
                "reference": t.reference(), "credit": false});
            match t.sender() {
                Sender::Buygoods(payer) => {
                    fields["type"] = json!("buygoods");
                    fields["phone_number"] = json!(payer.phone_number.to_string());
                    fields["first_name"] = json!(payer.first_name());
                    fields["last_name"] = json!(payer.last_name());
                }
                Sender::B2b { sending_till } => {
                    fields["type"] = json!("b2b");
                    fields["sending_till"] = json!(sending_till);
                }
            }
            fields
        })
        .collect()
}

fn insert_some(fields: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        fields.insert(key.into(), json!(value));
    }
}

/// The value without its null fields: a scenario leaves out what it does not set.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}
