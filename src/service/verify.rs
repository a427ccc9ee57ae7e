//! Verifying loaded scenarios' expectations (`script::expect`) against what happened since
//! each was loaded: the request journal, the delivery log, the resources, the ledger, the SMS
//! outbox and the prompts still open. Control plane only: it reads, never changes, the store.

use serde::{Deserialize, Serialize};

use super::AppState;
use super::resource::Resource;
use crate::domain::delivery::{Delivery, DeliveryState};
use crate::domain::kinds::{ResourceKind, with_resource_type};
use crate::domain::webhooks::EventPayload;
use crate::scenarios::LoadedScenario;
use crate::scenarios::expect::{
    AllOr, BalanceCheck, CallbacksCheck, ExpectSpec, ProbesCheck, RequestsCheck, ResourcesCheck,
    Since, SmsCheck, path_matches,
};
use crate::store::journal::Actor;

/// Where the records stand now: a scenario loading now judges what comes after.
pub fn since_now(state: &AppState) -> Since {
    Since {
        journal: state.store.journal.end(),
        resources: state.ids.sequence_now(),
        deliveries: state.dispatcher.sequence_now(),
    }
}

/// The most ids a verdict lists.
const MAX_IDS: usize = 10;

/// One expectation's verdict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    pub name: String,
    /// Its key: `requests`, `callbacks`, ...
    pub check: String,
    /// Where it is written, e.g. `expect[2]`.
    pub field: String,
    pub passed: bool,
    pub expected: String,
    pub actual: String,
    /// What the verdict is about, for a look in the log: journal sequences of requests
    /// (`GET /_sandbox/requests`), delivery ids (`GET /_sandbox/callbacks`); at most ten.
    pub ids: Vec<String>,
}

/// A scenario's verdicts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioVerdicts {
    pub scenario: String,
    pub source: String,
    pub passed: bool,
    pub expectations: Vec<Verdict>,
}

/// Every loaded scenario's verdicts (those with expectations).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub passed: bool,
    pub expectations: usize,
    pub failed: usize,
    pub scenarios: Vec<ScenarioVerdicts>,
}

/// Judges every expectation of every loaded scenario, now.
pub fn verify(state: &AppState) -> Report {
    let scenarios: Vec<ScenarioVerdicts> = state
        .scenarios
        .list()
        .iter()
        .filter(|s| !s.expect.is_empty())
        .map(|s| judge_scenario(state, s))
        .collect();
    let expectations = scenarios.iter().map(|s| s.expectations.len()).sum();
    let failed = scenarios
        .iter()
        .flat_map(|s| &s.expectations)
        .filter(|v| !v.passed)
        .count();
    Report {
        passed: failed == 0,
        expectations,
        failed,
        scenarios,
    }
}

fn judge_scenario(state: &AppState, s: &LoadedScenario) -> ScenarioVerdicts {
    let expectations: Vec<Verdict> = s
        .expect
        .iter()
        .enumerate()
        .map(|(i, e)| judge(state, s, e, format!("expect[{i}]")))
        .collect();
    ScenarioVerdicts {
        scenario: s.name.to_string(),
        source: s.source.clone(),
        passed: expectations.iter().all(|v| v.passed),
        expectations,
    }
}

/// What one check found: passed, expected, actual, ids.
struct Found {
    passed: bool,
    /// When it says more than the check's own description.
    expected: Option<String>,
    actual: String,
    ids: Vec<String>,
}

fn judge(state: &AppState, s: &LoadedScenario, e: &ExpectSpec, field: String) -> Verdict {
    let owner = e.client_id.as_deref();
    let since = &s.since;
    let (check, found) = if let Some(r) = &e.requests {
        ("requests", requests(state, since, owner, r))
    } else if let Some(c) = &e.callbacks {
        ("callbacks", callbacks(state, since, owner, c))
    } else if let Some(p) = &e.probes {
        ("probes", probes(state, s, p))
    } else if let Some(r) = &e.resources {
        ("resources", resources(state, since, owner, r))
    } else if let Some(b) = &e.balance {
        let owner = owner.unwrap_or(&state.settings.client_id);
        ("balance", balance(state, owner, b))
    } else if let Some(m) = &e.sms {
        ("sms", sms(state, since, owner, m))
    } else if let Some(p) = &e.prompts {
        let open = super::prompts::pending_prompts(state, None, owner);
        let found = Found {
            passed: open.len() as u64 == p.unanswered,
            expected: None,
            actual: format!("{} unanswered", open.len()),
            ids: open
                .iter()
                .take(MAX_IDS)
                .map(|p| p.id.to_string())
                .collect(),
        };
        ("prompts", found)
    } else {
        // Loading refuses an expectation without a check.
        let found = Found {
            passed: false,
            expected: None,
            actual: "none".into(),
            ids: Vec::new(),
        };
        ("none", found)
    };
    Verdict {
        name: e.name(),
        check: check.into(),
        field,
        passed: found.passed,
        expected: found.expected.unwrap_or_else(|| e.describe()),
        actual: found.actual,
        ids: found.ids,
    }
}

fn requests(state: &AppState, since: &Since, owner: Option<&str>, r: &RequestsCheck) -> Found {
    let endpoint = r
        .endpoint
        .as_deref()
        .and_then(crate::scenarios::faults::endpoint);
    let mut matched = Vec::new();
    let complete = state.store.journal.scan(since.journal, |entry| {
        // Loading scenarios is how a run is set up, not what it judges.
        let wanted = r.by.0.contains(&entry.by)
            && !(entry.by == Actor::Control && entry.target.path() == "/_sandbox/scenarios")
            && owner.is_none_or(|o| entry.client_id.as_deref() == Some(o))
            && endpoint.as_ref().is_none_or(|(method, path)| {
                method.as_deref().is_none_or(|m| m == entry.method.as_str())
                    && path_matches(path, entry.target.path())
            })
            && r.status.is_none_or(|s| s.matches(entry.status))
            && !r.except.contains(&entry.status);
        if wanted {
            matched.push((
                entry.sequence,
                entry.method.clone(),
                entry.target.clone(),
                entry.status,
            ));
        }
    });
    let count = r.count();
    let n = matched.len() as u64;
    let listed: Vec<String> = matched
        .iter()
        .take(MAX_IDS)
        .map(|(seq, method, target, status)| {
            format!("#{seq} {method} {} -> {status}", target.path())
        })
        .collect();
    let mut actual = format!("{n}");
    if !listed.is_empty() {
        actual.push_str(&format!(": {}", listed.join(", ")));
    }
    if !complete {
        actual.push_str(&format!(
            " (the journal keeps the last {} requests: older ones since the scenario loaded \
             were not seen)",
            crate::store::JOURNAL_CAPACITY
        ));
    }
    Found {
        passed: complete && count.holds(n),
        expected: None,
        actual,
        ids: matched
            .iter()
            .take(MAX_IDS)
            .map(|m| m.0.to_string())
            .collect(),
    }
}

/// Deliveries since the scenario loaded that are the app's callbacks (not probes), of
/// `owner`, to URLs under `url`.
fn deliveries(
    state: &AppState,
    since: &Since,
    owner: Option<&str>,
    url: Option<&str>,
) -> Vec<Delivery> {
    let mut list = state.store.deliveries_where(|d| {
        d.sequence >= since.deliveries
            && d.probe().is_none()
            && owner.is_none_or(|o| *d.owner == *o)
            && url.is_none_or(|u| d.target.starts_with(u))
    });
    list.sort_by_key(|d| d.sequence);
    list
}

/// The callbacks a check counts, sorted by how they ended.
struct Sent<'a> {
    /// Every one sent (not dropped by a callback fault: those the app never saw).
    all: Vec<&'a Delivery>,
    /// Acknowledged with a 2xx (within the check's `within`).
    ok: Vec<&'a Delivery>,
    not_ok: Vec<&'a Delivery>,
    exhausted: Vec<&'a Delivery>,
}

impl<'a> Sent<'a> {
    fn of(list: &'a [Delivery], within: Option<std::time::Duration>) -> Self {
        let all: Vec<&Delivery> = list
            .iter()
            .filter(|d| d.state != DeliveryState::Dropped)
            .collect();
        let within_ms = within.map(|w| w.as_millis());
        let (ok, not_ok) = all.iter().partition(|d| {
            d.state == DeliveryState::Delivered
                && within_ms.is_none_or(|w| {
                    d.attempts
                        .last()
                        .is_some_and(|a| u128::from(a.latency_ms) <= w)
                })
        });
        let exhausted = all
            .iter()
            .copied()
            .filter(|d| d.state == DeliveryState::Exhausted)
            .collect();
        Self {
            all,
            ok,
            not_ok,
            exhausted,
        }
    }

    /// What happened to them, e.g. `2 sent: 1 acknowledged, 0 exhausted, 1 still being
    /// retried; first not acknowledged: …`.
    fn describe(&self, within: &str) -> String {
        let pending = self
            .all
            .iter()
            .filter(|d| d.state == DeliveryState::Pending)
            .count();
        let slow = self
            .not_ok
            .iter()
            .filter(|d| d.state == DeliveryState::Delivered)
            .count();
        let mut actual = format!(
            "{} sent: {} acknowledged{within}, {} exhausted, {pending} still being retried",
            self.all.len(),
            self.ok.len(),
            self.exhausted.len()
        );
        if slow > 0 {
            actual.push_str(&format!(", {slow} acknowledged too slowly"));
        }
        if let Some(d) = self.not_ok.first() {
            actual.push_str(&format!("; first not acknowledged: {}", attempt_summary(d)));
        }
        actual
    }
}

fn callbacks(state: &AppState, since: &Since, owner: Option<&str>, c: &CallbacksCheck) -> Found {
    let list = deliveries(state, since, owner, c.url.as_deref());
    let sent = Sent::of(&list, c.within.map(|w| w.0));
    let ids_of = |list: &[&Delivery]| list.iter().map(|d| d.id.to_string()).collect::<Vec<_>>();
    let within = c.within.map_or(String::new(), |w| {
        format!(" within {}", humantime::format_duration(w.0))
    });
    let (mut passed, mut expected, mut ids) = (true, Vec::new(), Vec::new());
    if let Some(count) = c.sent() {
        expected.push(format!("callbacks sent: {}", count.describe()));
        passed &= count.holds(sent.all.len() as u64);
        ids.extend(ids_of(&sent.all));
    }
    match c.acknowledged {
        Some(AllOr::All) => {
            expected.push(format!(
                "at least one callback sent, every one acknowledged with a 2xx{within}"
            ));
            passed &= !sent.all.is_empty() && sent.not_ok.is_empty();
            ids.extend(ids_of(&sent.not_ok));
        }
        Some(AllOr::Number(n)) => {
            expected.push(format!(
                "at least {n} callbacks acknowledged with a 2xx{within}"
            ));
            passed &= sent.ok.len() as u64 >= n;
            ids.extend(ids_of(&sent.not_ok));
        }
        None => {}
    }
    if let Some(n) = c.exhausted {
        expected.push(format!("{n} exhausted"));
        passed &= sent.exhausted.len() as u64 == n;
        ids.extend(ids_of(&sent.exhausted));
    }
    let actual = if sent.all.is_empty() && c.acknowledged == Some(AllOr::All) {
        "nothing was sent: no result callback or webhook went out since the scenario loaded (to \
         expect none, write `count: 0`)"
            .into()
    } else {
        sent.describe(&within)
    };
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    ids.truncate(MAX_IDS);
    Found {
        passed,
        expected: Some(expected.join(", ")),
        actual,
        ids,
    }
}

/// `delivery <id> to <url>: attempt 3 answered 500 after 12 ms`.
fn attempt_summary(d: &Delivery) -> String {
    let last = d
        .attempts
        .last()
        .map_or("never attempted".to_string(), |a| {
            let answer = match (a.status, &a.error) {
                (Some(s), _) => format!("answered {s}"),
                (None, Some(e)) => format!("failed ({e})"),
                (None, None) => "failed".into(),
            };
            format!("attempt {} {answer} after {} ms", a.number, a.latency_ms)
        });
    format!("{} to {}: {last}", d.id, d.target)
}

/// The scenario's own receiver probes; for a scenario that sends none, every probe sent since
/// it loaded (by another scenario, say one kept per environment). A probe passes only when
/// the app answered it as a correct receiver does: one never delivered tested nothing.
fn probes(state: &AppState, s: &LoadedScenario, p: &ProbesCheck) -> Found {
    let mut list = state.store.deliveries_where(|d| {
        d.probe().is_some_and(|p| {
            if s.probes > 0 {
                p.scenario.as_deref() == Some(&*s.name)
            } else {
                d.sequence >= s.since.deliveries
            }
        })
    });
    list.sort_by_key(|d| d.sequence);
    let expected = match p.passed {
        AllOr::All => "every probe delivered and answered as a correct receiver does".to_string(),
        AllOr::Number(n) => format!("at least {n} probes passed"),
    };
    if list.is_empty() {
        return Found {
            passed: p.passed == AllOr::Number(0),
            expected: Some(expected),
            actual: "nothing was sent: no receiver probe went out since the scenario loaded \
                     (add a `probes:` section with the app's webhook URL)"
                .into(),
            ids: Vec::new(),
        };
    }
    let verdict = |d: &&Delivery| d.probe().and_then(|p| p.passed);
    let passed = list.iter().filter(|d| verdict(d) == Some(true)).count();
    let failed: Vec<&Delivery> = list.iter().filter(|d| verdict(d) == Some(false)).collect();
    let waiting = list.iter().filter(|d| verdict(d).is_none()).count();
    Found {
        passed: match p.passed {
            AllOr::All => failed.is_empty() && waiting == 0,
            AllOr::Number(n) => passed as u64 >= n,
        },
        expected: Some(expected),
        actual: probes_found(list.len(), passed, &failed, waiting),
        ids: failed
            .iter()
            .take(MAX_IDS)
            .map(|d| d.id.to_string())
            .collect(),
    }
}

/// `1 of 2 passed, 0 answered wrongly, 1 not delivered, 0 not tried yet: valid (not
/// delivered to URL: connection failed); …`.
fn probes_found(total: usize, passed: usize, failed: &[&Delivery], waiting: usize) -> String {
    use crate::domain::delivery::ProbeOutcome;
    let outcome = |d: &Delivery| d.probe().and_then(|p| p.outcome);
    let undelivered = failed
        .iter()
        .filter(|d| outcome(d) == Some(ProbeOutcome::NotDelivered))
        .count();
    let describe = |d: &Delivery| {
        let kind = d.probe().map_or("probe", |p| p.kind.name());
        match outcome(d) {
            Some(ProbeOutcome::NotDelivered) => {
                let why = d
                    .attempts
                    .last()
                    .and_then(|a| a.error)
                    .map_or("no answer", |e| e.describe());
                format!("{kind} (not delivered to {}: {why})", d.target)
            }
            Some(o) => format!("{kind} ({} it)", o.name()),
            None => format!("{kind} (not tried yet)"),
        }
    };
    let mut actual = format!(
        "{passed} of {total} passed, {} answered wrongly, {undelivered} not delivered, {waiting} \
         not tried yet",
        failed.len() - undelivered,
    );
    if !failed.is_empty() {
        let named: Vec<String> = failed.iter().map(|d| describe(d)).collect();
        actual.push_str(&format!(": {}", named.join(", ")));
    }
    if undelivered > 0 {
        actual
            .push_str("; a probe not delivered tested nothing: is the app listening at that URL?");
    }
    actual
}

fn resources(state: &AppState, since: &Since, owner: Option<&str>, r: &ResourcesCheck) -> Found {
    let found = created(
        state,
        r.kind.kind,
        since.resources,
        owner,
        r.status.as_deref(),
    );
    let n = found.len() as u64;
    let ids: Vec<String> = found
        .iter()
        .take(MAX_IDS)
        .map(|(_, id)| id.to_string())
        .collect();
    let mut actual = format!("{n}");
    if !ids.is_empty() {
        actual.push_str(&format!(": {}", ids.join(", ")));
        if found.len() > MAX_IDS {
            actual.push_str(&format!(" and {} more", found.len() - MAX_IDS));
        }
    }
    Found {
        passed: r.count().holds(n),
        expected: None,
        actual,
        ids,
    }
}

/// The `(sequence, id)` of the resources of `kind` created since `from` by `owner` (any, for
/// `None`) with the status asked for (a kind without statuses has none asked: load refuses
/// one), in creation order.
fn created(
    state: &AppState,
    kind: ResourceKind,
    from: u64,
    owner: Option<&str>,
    status: Option<&str>,
) -> Vec<(u64, uuid::Uuid)> {
    fn of<R: Resource>(
        store: &crate::store::Store,
        (from, owner, status): (u64, Option<&str>, Option<&str>),
    ) -> Vec<(u64, uuid::Uuid)> {
        let mut found: Vec<(u64, uuid::Uuid)> = R::collection(store)
            .filter_any(|item| {
                item.sequence() >= from
                    && owner.is_none_or(|o| o == item.owner())
                    && status.is_none_or(|s| s.trim().eq_ignore_ascii_case(item.status()))
            })
            .iter()
            .map(|item| (item.sequence(), item.id()))
            .collect();
        found.sort_unstable();
        found
    }
    with_resource_type!(kind, T => of::<T>(&state.store, (from, owner, status)))
}

/// The balance at the end; its ids are the account's latest ledger entries
/// (`GET /_sandbox/ledger`), which say how it got there.
fn balance(state: &AppState, owner: &str, b: &BalanceCheck) -> Found {
    let account = b.account();
    let balance = state.store.ledger.balance(owner, &account);
    let mut ids = Vec::new();
    let mut before = None;
    // Newest first, a page at a time, until ten of this account's are found.
    while ids.len() < MAX_IDS {
        let page = state
            .store
            .ledger
            .entries(owner, crate::store::PageRequest { before, limit: 100 });
        ids.extend(
            page.items
                .iter()
                .filter(|e| e.account == account)
                .map(|e| e.sequence.to_string()),
        );
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    ids.truncate(MAX_IDS);
    Found {
        passed: b.holds(balance),
        expected: Some(format!("{} of {owner}: {}", account.name(), b.describe())),
        actual: crate::domain::money::format_amount(balance),
        ids,
    }
}

fn sms(state: &AppState, since: &Since, owner: Option<&str>, m: &SmsCheck) -> Found {
    // The webhook events a transaction is named by (its id, M-PESA reference, or the event).
    let events: Vec<String> = m.transaction.as_deref().map_or_else(Vec::new, |t| {
        let t = t.trim();
        let mut ids: Vec<String> = state
            .store
            .webhook_events
            .filter_any(|e| match &e.payload {
                EventPayload::Transaction { tx, .. } => {
                    tx.reference().eq_ignore_ascii_case(t) || tx.id().to_string() == t
                }
                EventPayload::Rendered { .. } => false,
            })
            .iter()
            .map(|e| e.id.to_string())
            .collect();
        ids.push(t.to_string());
        ids
    });
    let sent = state.store.sms_outbox.filter_any(|s| {
        s.meta.sequence >= since.resources
            && owner.is_none_or(|o| *s.meta.owner == *o)
            && m.to
                .as_ref()
                .is_none_or(|to| s.phone_number == to.0.as_str())
            && (events.is_empty() || events.contains(&s.webhook_event_reference))
    });
    Found {
        passed: m.count().holds(sent.len() as u64),
        expected: None,
        actual: format!("{} sent", sent.len()),
        ids: sent
            .iter()
            .take(MAX_IDS)
            .map(|s| s.meta.id.to_string())
            .collect(),
    }
}
