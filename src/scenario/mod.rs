//! YAML scenarios: a world to start from, API faults and a timeline, written down once and
//! replayed byte for byte (with `--seed` and a virtual clock).
//!
//! Loading is all or nothing: a file is parsed and checked completely before anything is
//! applied, and a problem names the file, line, column and field. Loading never panics.

mod locate;
mod model;
mod probes;

use std::fmt;

pub use self::model::Scenario;
use self::model::{Moment, ScopeSpec, SettlementMethodSpec, TransactionKindSpec};
use crate::domain::Envelope;
use crate::domain::Scope;
use crate::domain::activity::{Activity, default_phone};
use crate::domain::ledger::{Account, Payer, Transaction, TransactionKind, TransactionStatus};
use crate::domain::money::Currency;
use crate::domain::recipients::{
    BankAccount, MerchantAccount, MerchantAccountKind, SettlementMethod, Wallet,
};
use crate::domain::webhooks::WebhookSubscription;
use crate::scheduler::Job;
use crate::script::Action;
use crate::service::AppState;
use crate::store::Application;

/// A problem in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Where in the document, e.g. `world.handsets[0].phone_number`.
    pub field: String,
    pub message: String,
}

impl Problem {
    /// A problem of the whole file, with no position.
    fn of_file(file: &str, field: &str, message: String) -> Self {
        Self {
            file: file.to_string(),
            line: None,
            column: None,
            field: field.into(),
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}: {}", self.field, self.message)
    }
}

/// Every problem found in a scenario file (or several), one per line when shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl Problems {
    /// All problems on one line, for a JSON error message.
    pub fn one_line(&self) -> String {
        let all: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        all.join("; ")
    }
}

/// Where a scenario came from: its file and where each of its fields is written.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub file: String,
    spans: locate::Spans,
}

impl Origin {
    /// A problem at `field`, with its line and column when the field (or its parent) is
    /// written in the file.
    fn problem(&self, field: String, message: String) -> Problem {
        let at = self.spans.find(&field);
        Problem {
            file: self.file.clone(),
            line: at.map(|a| a.0),
            column: at.map(|a| a.1),
            field,
            message,
        }
    }
}

/// Reads scenario text from bytes (a file or a request body): UTF-8 without control
/// characters, at most [`MAX_FILE_BYTES`]; then [`parse`]. Every refusal names its position.
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<Scenario>, Problems> {
    let at = |offset: usize, message: String| {
        let before = &bytes[..offset];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        Problems(vec![Problem {
            file: file.to_string(),
            line: Some(line),
            column: Some(column),
            field: "(document)".into(),
            message,
        }])
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Problems(vec![Problem::of_file(
            file,
            "(file)",
            format!("larger than {MAX_FILE_BYTES} bytes, the most a scenario file may hold"),
        )]));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        at(
            e.valid_up_to(),
            "not UTF-8 text: a scenario is YAML saved as UTF-8".into(),
        )
    })?;
    // YAML allows no C0 control character but tab, line feed and carriage return.
    if let Some((offset, c)) = text
        .char_indices()
        .find(|(_, c)| c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(at(
            offset,
            format!(
                "control character U+{:04X} is not allowed in YAML",
                u32::from(c)
            ),
        ));
    }
    parse(file, text)
}

/// Parses every document of a scenario file and checks what the types cannot. Reports every
/// problem it finds: the first one of each document the types reject, and every one the checks
/// find in the documents that parse.
pub fn parse(file: &str, text: &str) -> Result<Vec<Scenario>, Problems> {
    // The gate: a syntax error or a spent budget is the one problem of the file, and
    // serde_yaml_ng never sees such text.
    let spans = locate::documents(text).map_err(|e| {
        Problems(vec![Problem {
            file: file.to_string(),
            line: Some(e.line),
            column: Some(e.column),
            field: "(document)".into(),
            message: e.message,
        }])
    })?;
    let documents = spans.len();
    let mut spans = spans.into_iter();
    let mut scenarios = Vec::new();
    let mut problems = Vec::new();
    // At most as many documents as the gate counted: should libyaml ever disagree with it,
    // its iterator (which repeats a syntax error forever) still ends.
    for document in serde_yaml_ng::Deserializer::from_str(text).take(documents) {
        let origin = Origin {
            file: file.to_string(),
            spans: spans.next().unwrap_or_default(),
        };
        match serde_path_to_error::deserialize::<_, Scenario>(document) {
            Ok(mut scenario) => {
                problems.extend(
                    check(&scenario)
                        .into_iter()
                        .map(|(field, message)| origin.problem(field, message)),
                );
                scenario.origin = origin;
                scenarios.push(scenario);
            }
            Err(e) => {
                let field = e.path().to_string();
                let inner = e.into_inner();
                let location = inner.location();
                let problem = Problem {
                    file: file.to_string(),
                    line: location.as_ref().map(|l| l.line()),
                    column: location.as_ref().map(|l| l.column()),
                    // "." is the document itself; "?" a syntax error libyaml found where the
                    // gate did not.
                    field: if field == "." || field == "?" {
                        "(document)".into()
                    } else {
                        field
                    },
                    message: strip_location(&inner.to_string()),
                };
                // After a syntax error libyaml repeats it for every document that follows.
                if problems.last() == Some(&problem) {
                    break;
                }
                problems.push(problem);
            }
        }
    }
    if scenarios.is_empty() && problems.is_empty() {
        problems.push(Problem::of_file(
            file,
            "(document)",
            "the file holds no scenario".into(),
        ));
    }
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - MAX_PROBLEMS;
        problems.truncate(MAX_PROBLEMS);
        problems.push(Problem::of_file(
            file,
            "(file)",
            format!("{more} more problems not shown"),
        ));
    }
    if problems.is_empty() {
        Ok(scenarios)
    } else {
        Err(Problems(problems))
    }
}

/// The largest scenario file read, whether from disk or a request body.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// The most problems one file reports; a file of thousands of broken documents says how many
/// more there are instead.
const MAX_PROBLEMS: usize = 50;

/// serde_yaml_ng prefixes the path ("world.handsets[0]: ") and appends " at line L column C";
/// the problem shows both separately. serde quotes the offending value, which may be a
/// megabyte long: the message is cut to [`MAX_MESSAGE_CHARS`].
fn strip_location(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    let message = match message.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => rest,
        _ => message,
    };
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}...", &message[..cut]),
        None => message.to_string(),
    }
}

/// The longest problem message shown.
const MAX_MESSAGE_CHARS: usize = 300;

/// Checks across fields: (field, message) of every problem.
fn check(s: &Scenario) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut problem = |field: String, message: String| problems.push((field, message));
    for (i, r) in s.world.external_recipients.iter().enumerate() {
        match crate::domain::recipients::recipient_type(Some(&r.kind)) {
            Err(e) => problem(format!("world.external_recipients[{i}].type"), e.0),
            Ok(kind) => {
                if let Err(e) = r.fields.external_recipient(kind) {
                    problem(format!("world.external_recipients[{i}]"), e.0);
                }
            }
        }
    }
    for (i, sub) in s.world.webhook_subscriptions.iter().enumerate() {
        if matches!(sub.scope, ScopeSpec::Till)
            && sub.scope_reference.as_deref().is_none_or(str::is_empty)
        {
            problem(
                format!("world.webhook_subscriptions[{i}].scope_reference"),
                "a till scope needs the till number".into(),
            );
        }
    }
    for (i, fault) in s.faults.iter().enumerate() {
        let field = |name: &str| format!("faults[{i}].{name}");
        if let Some(status) = fault.status {
            if ![429, 500, 502, 503, 504].contains(&status) {
                problem(
                    field("status"),
                    format!("{status} is not a fault status: use 429, 500, 502, 503 or 504"),
                );
            }
        }
        if fault.status.is_none() && fault.latency.is_none() && !fault.drop {
            problem(
                field("status"),
                "a fault needs a status, a latency or drop: true".into(),
            );
        }
        if fault.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            problem(
                field("probability"),
                "a probability is between 0.0 and 1.0".into(),
            );
        }
        if crate::script::faults::endpoint(&fault.endpoint).is_none() {
            problem(
                field("endpoint"),
                format!("{:?} is not `METHOD /path` or `/path`", fault.endpoint),
            );
        }
    }
    for (i, moment) in s.timeline.iter().enumerate() {
        let actions = [
            moment.event.is_some(),
            moment.answer.is_some(),
            moment.pay_link.is_some(),
            moment.jump.is_some(),
        ];
        if actions.iter().filter(|a| **a).count() != 1 {
            problem(
                format!("timeline[{i}]"),
                "a moment has exactly one of `event`, `answer`, `pay_link` or `jump`".into(),
            );
        }
    }
    problems
}

/// What a load did, for the caller.
#[derive(Debug, Default, serde::Serialize)]
pub struct Loaded {
    pub scenarios: Vec<String>,
    pub rules: usize,
    pub faults: usize,
    pub callback_faults: usize,
    pub probes: usize,
    pub timeline: usize,
}

/// Applies parsed scenarios to the world. Checks every application reference first, so a
/// scenario that would fail applies nothing.
pub fn apply(
    state: &AppState,
    scenarios: Vec<Scenario>,
    base_url: &str,
) -> Result<Loaded, Problems> {
    let mut problems = Vec::new();
    for s in &scenarios {
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
        apply_one(state, s, base_url, &mut loaded);
        tracing::info!(scenario = %name, "scenario loaded");
        loaded.scenarios.push(name);
    }
    Ok(loaded)
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

fn apply_one(state: &AppState, s: Scenario, base: &str, loaded: &mut Loaded) {
    let default_owner = state.settings.client_id.clone();
    let owner_of = |c: &Option<String>| c.clone().unwrap_or_else(|| default_owner.clone());
    let w = &s.world;
    for a in &w.applications {
        state.store.add_application(Application {
            client_id: a.client_id.clone(),
            client_secret: a.client_secret.clone(),
            api_key: a.api_key.clone(),
        });
    }
    for t in &w.tills {
        let owner = owner_of(&t.client_id);
        state
            .store
            .till_names
            .insert((owner.clone(), t.till_number.clone()), t.name.clone());
        if let Some(balance) = t.balance {
            let account = Account::Till(t.till_number.clone());
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
    let envelope = |owner: &str, collection: &str| {
        let id = state.ids.uuid();
        Envelope {
            id,
            sequence: state.ids.next_sequence(),
            owner: owner.to_string(),
            created_at_ms: state.clock.now_ms_of(owner),
            self_url: format!("{base}{collection}/{id}"),
        }
    };
    for m in &w.merchant_wallets {
        state.store.merchant_accounts.insert(MerchantAccount {
            meta: envelope(&owner_of(&m.client_id), "/api/v2/merchant_wallets"),
            nickname: m.nickname.clone(),
            kind: MerchantAccountKind::Wallet {
                first_name: m.first_name.clone(),
                last_name: m.last_name.clone(),
                wallet: Wallet {
                    phone_as_sent: m.phone_number.0.to_string(),
                    phone: m.phone_number.0.clone(),
                    network: m.network.clone(),
                },
            },
        });
    }
    for m in &w.merchant_bank_accounts {
        state.store.merchant_accounts.insert(MerchantAccount {
            meta: envelope(&owner_of(&m.client_id), "/api/v2/merchant_bank_accounts"),
            nickname: m.nickname.clone(),
            kind: MerchantAccountKind::Bank(BankAccount {
                account_name: m.account_name.clone(),
                bank_branch_ref: m.bank_branch_ref.clone(),
                account_number: m.account_number.clone(),
                settlement_method: match m.settlement_method {
                    SettlementMethodSpec::Eft => SettlementMethod::Eft,
                    SettlementMethodSpec::Rts => SettlementMethod::Rts,
                },
            }),
        });
    }
    for r in &w.external_recipients {
        // Checked when the scenario was parsed.
        if let Ok(details) = r.fields.external_recipient(&r.kind) {
            state
                .store
                .external_recipients
                .insert(crate::domain::recipients::ExternalRecipient {
                    meta: envelope(&owner_of(&r.client_id), "/api/v2/external_recipients"),
                    nickname: r.fields.nickname(),
                    details,
                    recipient_reference: state.ids.uuid(),
                });
        }
    }
    for sub in &w.webhook_subscriptions {
        state
            .store
            .webhook_subscriptions
            .insert(WebhookSubscription {
                meta: envelope(&owner_of(&sub.client_id), "/api/v2/webhook_subscriptions"),
                event_type: sub.event_type.0,
                url: sub.url.clone(),
                scope: match sub.scope {
                    ScopeSpec::Company => Scope::Company,
                    ScopeSpec::Till => Scope::Till(sub.scope_reference.clone().unwrap_or_default()),
                },
                enable_daraja_payload: sub.enable_daraja_payload,
            });
    }
    for t in &w.transactions {
        let owner = owner_of(&t.client_id);
        let originated =
            state.clock.now_ms_of(&owner) - t.ago.map_or(0, |a| crate::clock::millis(a.0));
        let tx = Transaction {
            id: state.ids.uuid(),
            sequence: state.ids.next_sequence(),
            owner: owner.clone(),
            reference: t
                .reference
                .clone()
                .unwrap_or_else(|| state.ids.mpesa_reference()),
            till_number: t.till_number.clone(),
            amount: t.amount.0,
            currency: Currency::Kes,
            originated_at_ms: originated,
            kind: match t.kind {
                TransactionKindSpec::Buygoods => TransactionKind::Buygoods(Payer {
                    phone_number: t
                        .phone_number
                        .as_ref()
                        .map_or_else(default_phone, |p| p.0.clone()),
                    first_name: t.first_name.clone(),
                    middle_name: None,
                    last_name: t.last_name.clone(),
                }),
                TransactionKindSpec::B2b => TransactionKind::B2b {
                    sending_till: t
                        .sending_till
                        .clone()
                        .unwrap_or_else(|| crate::domain::activity::DEFAULT_SENDING_TILL.into()),
                },
            },
            status: TransactionStatus::Received,
        };
        // Past money: in the till and the ledger, without webhooks (they were sent back then).
        state.store.ledger.credit(
            &owner,
            &Account::Till(tx.till_number.clone()),
            tx.amount.decimal(),
            &format!("scenario {}: transaction {}", s.name, tx.reference),
        );
        state.store.transactions.insert(tx);
    }
    for h in &w.handsets {
        state
            .store
            .handsets
            .set(h.client_id.clone(), h.phone_number.0.clone(), h.behaviour.0);
    }
    for f in &s.faults {
        state.scenarios.faults.add(f);
        loaded.faults += 1;
    }
    for rule in s.rules {
        state.scenarios.rules.add(rule);
        loaded.rules += 1;
    }
    for fault in s.callback_faults {
        state.scenarios.callback_faults.add(fault);
        loaded.callback_faults += 1;
    }
    for spec in &s.probes {
        let owner = owner_of(&spec.client_id);
        if let Some(app) = state.store.application(&owner) {
            loaded.probes += probes::schedule(state, spec, &owner, &app.api_key, base);
        }
    }
    for m in &s.timeline {
        schedule_moment(state, m, &owner_of(&m.client_id), base);
        loaded.timeline += 1;
    }
}

fn schedule_moment(state: &AppState, m: &Moment, owner: &str, base: &str) {
    let action = if let Some(e) = &m.event {
        let mut a = Activity::new(e.topic.0, owner.to_string(), base.to_string());
        a.amount = e.amount.map(|m| m.0);
        if let Some(phone) = &e.phone_number {
            a.phone_number = phone.0.clone();
        }
        a.till_number = e.till_number.clone().unwrap_or(a.till_number);
        a.first_name = e.first_name.clone().or(a.first_name);
        a.middle_name = e.middle_name.clone();
        a.last_name = e.last_name.clone().or(a.last_name);
        a.sending_till = e.sending_till.clone().unwrap_or(a.sending_till);
        a.transaction = e.transaction.clone();
        a.card_number = e.card_number.clone().unwrap_or(a.card_number);
        Action::Event(Box::new(a))
    } else if let Some(a) = &m.answer {
        Action::Answer {
            owner: owner.to_string(),
            phone: a.phone_number.0.clone(),
            answer: a.answer.0,
        }
    } else if let Some(p) = &m.pay_link {
        Action::PayLink {
            owner: owner.to_string(),
            till_number: p.till_number.clone(),
            phone: p.phone_number.0.clone(),
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
    state.scenarios.add_moment(id, action);
    state.scheduler.schedule(Job::Moment(id), owner, m.at.0);
}

/// The bytes of a scenario file, reading no more than one byte past [`MAX_FILE_BYTES`] (so
/// that pointing at a huge file or a device is a clear problem, not an hour of reading).
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
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
