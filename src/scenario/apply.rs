//! Applying parsed scenarios to the running sandbox, all or nothing: the world (applications,
//! tills, balances, accounts, recipients, subscriptions, past transactions, handsets), then what
//! the script keeps (rules, faults, callback faults), receiver probes and timeline moments.

use std::sync::Arc;

use super::load::{read, read_file};
use super::model::{Moment, Scenario, ScopeSpec, SettlementMethodSpec, TransactionKindSpec};
use super::probes;
use super::problems::{Problem, Problems};
use crate::domain::Scope;
use crate::domain::activity::{Activity, default_phone};
use crate::domain::ledger::{Account, Payer, Transaction, TransactionFacts, TransactionKind};
use crate::domain::money::Currency;
use crate::domain::recipients::{BankAccount, MerchantAccountKind, SettlementMethod, Wallet};
use crate::domain::webhooks::NewSubscription;
use crate::scenarios::{Action, LoadedScenario};
use crate::scheduler::Job;
use crate::service::{AppState, recipients, webhook_subscriptions};
use crate::store::Application;

pub use crate::wire::control::Loaded;

/// Applies parsed scenarios to the world. Checks every application reference first, so a
/// scenario that would fail applies nothing.
pub fn apply(
    state: &AppState,
    scenarios: Vec<Scenario>,
    base_url: &str,
) -> Result<Loaded, Problems> {
    let mut problems = Vec::new();
    for s in &scenarios {
        problems.extend(credentials_problems(state, s));
        let declared: Vec<&str> = s
            .world
            .applications
            .iter()
            .map(|a| a.client_id.as_str())
            .collect();
        for (field, client) in references(s) {
            if !declared.contains(&client) && state.store.application(client).is_none() {
                problems.push(s.origin.problem(
                    field,
                    format!("no application {client:?}: declare it under world.applications"),
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    let mut loaded = Loaded::default();
    for s in scenarios {
        let name = s.name.clone();
        // Loading a name again replaces the scenario: the old one's rules, faults and
        // pending moments go first.
        let replaced = state.scenarios.unload(&name).is_some();
        for note in &s.notes {
            tracing::info!(scenario = %name, "note: {note}");
            loaded.notes.push(note.to_string());
        }
        let entry = apply_one(state, s, base_url, &mut loaded);
        state.scenarios.register(entry);
        tracing::info!(scenario = %name, replaced, "scenario loaded");
        crate::service::publish_view(state, crate::store::feed::FeedKind::Scenario, None, || {
            crate::wire::control::ScenarioEvent {
                name: name.clone(),
                action: if replaced { "replaced" } else { "loaded" }.into(),
            }
        });
        loaded.scenarios.push(name);
    }
    Ok(loaded)
}

/// An application given half its credentials, or none when this sandbox does not have it.
fn credentials_problems(state: &AppState, s: &Scenario) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, a) in s.world.applications.iter().enumerate() {
        let field = |name: &str| format!("world.applications[{i}].{name}");
        match (&a.client_secret, &a.api_key) {
            (Some(_), Some(_)) => {}
            (None, None) if state.store.application(&a.client_id).is_some() => {}
            (None, None) => problems.push(s.origin.problem(
                field("client_secret"),
                format!(
                    "application {:?} is not in this sandbox, so it needs its client_secret and \
                     api_key (an export writes them only when asked: secrets=include, or \
                     `scenario export --with-secrets`)",
                    a.client_id
                ),
            )),
            (secret, _) => {
                let missing = if secret.is_some() {
                    "api_key"
                } else {
                    "client_secret"
                };
                let message = "give both client_secret and api_key, or neither to keep the \
                               application this sandbox has";
                problems.push(s.origin.problem(field(missing), message.to_string()));
            }
        }
    }
    problems
}

/// Every `client_id` a scenario names, with its field.
fn references(s: &Scenario) -> Vec<(String, &str)> {
    /// The `client_id`s of one section's items, each with its field.
    fn named<'a, T>(
        section: &str,
        items: &'a [T],
        client_id: impl Fn(&'a T) -> &'a Option<String>,
    ) -> Vec<(String, &'a str)> {
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                client_id(item)
                    .as_deref()
                    .map(|c| (format!("{section}[{i}].client_id"), c))
            })
            .collect()
    }
    let w = &s.world;
    [
        named("world.balances", &w.balances, |b| &b.client_id),
        named("world.merchant_wallets", &w.merchant_wallets, |m| {
            &m.client_id
        }),
        named("world.tills", &w.tills, |t| &t.client_id),
        named("world.external_recipients", &w.external_recipients, |r| {
            &r.client_id
        }),
        named(
            "world.merchant_bank_accounts",
            &w.merchant_bank_accounts,
            |m| &m.client_id,
        ),
        named(
            "world.webhook_subscriptions",
            &w.webhook_subscriptions,
            |m| &m.client_id,
        ),
        named("world.transactions", &w.transactions, |t| &t.client_id),
        named("timeline", &s.timeline, |m| &m.client_id),
        named("probes", &s.probes, |p| &p.client_id),
        named("world.handsets", &w.handsets, |h| &h.client_id),
        named("faults", &s.faults, |f| &f.client_id),
        named("callback_faults", &s.callback_faults, |f| &f.client_id),
    ]
    .concat()
}

/// Applies one scenario, adding its counts to `loaded`; what the registry keeps of it.
fn apply_one(state: &AppState, mut s: Scenario, base: &str, loaded: &mut Loaded) -> LoadedScenario {
    // Its expectations judge what happens from here (not the world it sets up).
    let since = crate::service::verify::since_now(state);
    let name: Arc<str> = s.name.as_str().into();
    let expect: Arc<[crate::scenarios::expect::ExpectSpec]> = std::mem::take(&mut s.expect).into();
    let mut entry = LoadedScenario {
        name: name.clone(),
        description: s.description.clone(),
        source: s.origin.file.clone(),
        loaded_at: crate::clock::format_millis(state.clock.now()),
        added: added(&s.world),
        rules: s.rules.len(),
        faults: s.faults.len(),
        callback_faults: s.callback_faults.len(),
        probes: 0,
        timeline: s.timeline.len(),
        timeline_pending: 0,
        expectations: expect.iter().map(|e| e.name()).collect(),
        expect,
        since,
    };
    let default_owner = state.settings.client_id.clone();
    let owner_of = |c: &Option<String>| c.clone().unwrap_or_else(|| default_owner.clone());
    apply_money(state, &s, &owner_of);
    apply_accounts(state, &s, base, &owner_of);
    apply_transactions(state, &s, base, &owner_of);
    for h in &s.world.handsets {
        state
            .store
            .handsets
            .set(h.client_id.clone(), h.phone_number.0, h.behaviour.0);
    }
    for spec in &s.probes {
        let owner = owner_of(&spec.client_id);
        if let Some(app) = state.store.application(&owner) {
            entry.probes += probes::schedule(state, &name, spec, &owner, &app.api_key, base);
        }
    }
    for m in &s.timeline {
        schedule_moment(state, &name, m, &owner_of(&m.client_id), base);
    }
    for f in &s.faults {
        state.scenarios.faults.add(&name, f);
    }
    for rule in s.rules {
        state.scenarios.rules.add(&name, rule);
    }
    for fault in s.callback_faults {
        state.scenarios.callback_faults.add(&name, fault);
    }
    loaded.probes += entry.probes;
    loaded.timeline += entry.timeline;
    loaded.faults += entry.faults;
    loaded.rules += entry.rules;
    loaded.callback_faults += entry.callback_faults;
    entry
}

/// How many of each part of a world it sets up (the parts it has).
fn added(w: &super::model::World) -> std::collections::BTreeMap<&'static str, usize> {
    [
        ("applications", w.applications.len()),
        ("tills", w.tills.len()),
        ("balances", w.balances.len()),
        ("merchant_wallets", w.merchant_wallets.len()),
        ("merchant_bank_accounts", w.merchant_bank_accounts.len()),
        ("external_recipients", w.external_recipients.len()),
        ("webhook_subscriptions", w.webhook_subscriptions.len()),
        ("transactions", w.transactions.len()),
        ("handsets", w.handsets.len()),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .collect()
}

/// Applications, till names and balances.
fn apply_money(state: &AppState, s: &Scenario, owner_of: &impl Fn(&Option<String>) -> String) {
    let w = &s.world;
    for a in &w.applications {
        // Without credentials it names an application this sandbox has (checked before).
        if let (Some(secret), Some(key)) = (&a.client_secret, &a.api_key) {
            state.store.add_application(Application {
                client_id: a.client_id.as_str().into(),
                client_secret: secret.clone(),
                api_key: key.clone(),
            });
        }
    }
    for t in &w.tills {
        let owner = owner_of(&t.client_id);
        state
            .store
            .till_names
            .insert((owner.clone(), t.till_number.clone()), t.name.clone());
        if let Some(balance) = t.balance {
            let account = Account::Till(t.till_number.as_str().into());
            state
                .store
                .ledger
                .set(&owner, &account, balance.0.decimal());
        }
    }
    for b in &w.balances {
        let account = Account::from_source(b.till_number.as_deref());
        state
            .store
            .ledger
            .set(&owner_of(&b.client_id), &account, b.balance.0.decimal());
    }
}

/// Merchant wallets and bank accounts, external recipients and webhook subscriptions, through
/// the services the API uses.
fn apply_accounts(
    state: &AppState,
    s: &Scenario,
    base: &str,
    owner_of: &impl Fn(&Option<String>) -> String,
) {
    let w = &s.world;
    for m in &w.merchant_wallets {
        let kind = MerchantAccountKind::Wallet {
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            wallet: Wallet {
                phone_as_sent: m.phone_number.0.to_string(),
                phone: m.phone_number.0,
                network: m.network.clone(),
            },
        };
        let owner = owner_of(&m.client_id);
        recipients::add_merchant_account(state, &owner, base, WALLETS, m.nickname.clone(), kind);
    }
    for m in &w.merchant_bank_accounts {
        let kind = MerchantAccountKind::Bank(BankAccount {
            account_name: m.account_name.clone(),
            bank_branch_ref: m.bank_branch_ref.clone(),
            account_number: m.account_number.clone(),
            settlement_method: match m.settlement_method {
                SettlementMethodSpec::Eft => SettlementMethod::Eft,
                SettlementMethodSpec::Rts => SettlementMethod::Rts,
            },
        });
        let owner = owner_of(&m.client_id);
        recipients::add_merchant_account(state, &owner, base, BANKS, m.nickname.clone(), kind);
    }
    for r in &w.external_recipients {
        // Checked when the scenario was parsed.
        if let Ok(details) = r.fields.saved_recipient(&r.kind) {
            let owner = owner_of(&r.client_id);
            recipients::add_external(state, &owner, base, EXTERNAL, r.fields.nickname(), details);
        }
    }
    for sub in &w.webhook_subscriptions {
        let new = NewSubscription {
            event_type: sub.event_type.0,
            url: sub.url.0.clone(),
            scope: match sub.scope {
                ScopeSpec::Company => Scope::Company,
                ScopeSpec::Till => Scope::Till(sub.scope_reference.clone().unwrap_or_default()),
            },
            enable_daraja_payload: sub.enable_daraja_payload,
        };
        let owner = owner_of(&sub.client_id);
        webhook_subscriptions::subscribe(state, &owner, base, SUBSCRIPTIONS, new);
    }
}

/// Where the world's resources live, as the API's own requests create them.
const WALLETS: &str = "/api/v2/merchant_wallets";
const BANKS: &str = "/api/v2/merchant_bank_accounts";
const EXTERNAL: &str = "/api/v2/external_recipients";
const SUBSCRIPTIONS: &str = "/api/v2/webhook_subscriptions";

/// Past money received: in the till and the ledger, without webhooks (they were sent back
/// then).
fn apply_transactions(
    state: &AppState,
    s: &Scenario,
    base: &str,
    owner_of: &impl Fn(&Option<String>) -> String,
) {
    for t in &s.world.transactions {
        let owner = owner_of(&t.client_id);
        let originated =
            state.clock.now_ms_of(&owner) - t.ago.map_or(0, |a| crate::clock::millis(a.0));
        let kind = match t.kind {
            TransactionKindSpec::Buygoods => TransactionKind::Buygoods(Arc::new(Payer::new(
                t.phone_number.as_ref().map_or_else(default_phone, |p| p.0),
                t.first_name.as_deref(),
                None,
                t.last_name.as_deref(),
            ))),
            TransactionKindSpec::B2b => TransactionKind::B2b {
                sending_till: t
                    .sending_till
                    .clone()
                    .unwrap_or_else(|| crate::domain::activity::DEFAULT_SENDING_TILL.into()),
            },
        };
        let tx = Transaction::new(
            state.ids.next_sequence(),
            TransactionFacts {
                id: state.ids.uuid(),
                owner: state.store.owner(&owner),
                reference: t
                    .reference
                    .clone()
                    .unwrap_or_else(|| state.ids.mpesa_reference()),
                till_number: t.till_number.clone(),
                amount: t.amount.0,
                currency: Currency::Kes,
                originated_at_ms: originated,
                kind,
                base_url: base.into(),
            },
        );
        if t.credit {
            state.store.ledger.credit(
                &owner,
                &Account::Till(tx.till_number().into()),
                tx.amount().decimal(),
                &format!("scenario {}: transaction {}", s.name, tx.reference()),
            );
        }
        state.store.transactions.insert(tx);
    }
}

fn schedule_moment(state: &AppState, scenario: &Arc<str>, m: &Moment, owner: &str, base: &str) {
    let action = if let Some(e) = &m.event {
        let mut a = Activity::new(e.topic.0, owner.to_string(), base.to_string());
        a.amount = e.amount.map(|m| m.0);
        if let Some(phone) = &e.phone_number {
            a.phone_number = phone.0;
        }
        a.till_number = e.till_number.clone().unwrap_or(a.till_number);
        a.first_name = e.first_name.clone().or(a.first_name);
        a.middle_name = e.middle_name.clone();
        a.last_name = e.last_name.clone().or(a.last_name);
        a.sending_till = e.sending_till.clone().unwrap_or(a.sending_till);
        a.transaction = e.transaction.clone();
        a.card_number = e.card_number.clone().unwrap_or(a.card_number);
        a.sending_merchant = e.sending_merchant.clone().unwrap_or(a.sending_merchant);
        Action::Event(Box::new(a))
    } else if let Some(a) = &m.answer {
        Action::Answer {
            owner: owner.to_string(),
            phone: a.phone_number.0,
            answer: a.answer.0,
        }
    } else if let Some(p) = &m.pay_link {
        Action::PayLink {
            owner: owner.to_string(),
            till_number: p.till_number.clone(),
            phone: p.phone_number.0,
        }
    } else if let Some(by) = &m.jump {
        Action::Jump {
            client_id: m.client_id.clone(),
            by: by.0,
        }
    } else {
        return;
    };
    let id = state.ids.uuid();
    state.scenarios.add_moment(scenario, id, action);
    state.scheduler.schedule(Job::Moment(id), owner, m.at.0);
}

/// Reads, parses and applies scenario files at start-up.
pub fn load_files(
    state: &AppState,
    files: &[std::path::PathBuf],
    base_url: &str,
) -> Result<Loaded, Problems> {
    let mut all = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let parsed = match read_file(path) {
            Ok(bytes) => read(&name, &bytes),
            Err(e) => Err(Problems(vec![Problem::of_file(
                &name,
                "(file)",
                e.to_string(),
            )])),
        };
        match parsed {
            Ok(scenarios) => all.extend(scenarios),
            Err(found) => problems.extend(found.0),
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    apply(state, all, base_url)
}
