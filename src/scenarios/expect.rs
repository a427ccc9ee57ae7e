//! Expectations: what a scenario says must have happened by the time it is verified (the end of
//! `k2-sandbox run`, `GET /_sandbox/verify`, `k2-sandbox verify`). Each is one check of what the
//! app under test did: the requests it sent, how it answered callbacks and probes, the
//! resources and money that resulted, the SMS it sent, the prompts left open. The serde types
//! are the scenario format's; `service::verify` evaluates them against the store.

use serde::{Deserialize, Deserializer};

use super::spec::{Money, Named, Phone, Span};
use crate::store::journal::Actor;

/// Where the sandbox's records stood when a scenario loaded: what came after is what its
/// expectations judge.
#[derive(Debug, Clone, Copy, Default)]
pub struct Since {
    /// The journal's next sequence.
    pub journal: u64,
    /// The next resource sequence (creation order of every resource).
    pub resources: u64,
    /// The next delivery sequence.
    pub deliveries: u64,
}

/// One expectation as written: a name (else one is derived) and exactly one check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// Only this application's requests, callbacks, resources, SMS and prompts; absent: every
    /// application's (a balance is the default application's).
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub requests: Option<RequestsCheck>,
    #[serde(default)]
    pub callbacks: Option<CallbacksCheck>,
    #[serde(default)]
    pub probes: Option<ProbesCheck>,
    #[serde(default)]
    pub resources: Option<ResourcesCheck>,
    #[serde(default)]
    pub balance: Option<BalanceCheck>,
    #[serde(default)]
    pub sms: Option<SmsCheck>,
    #[serde(default)]
    pub prompts: Option<PromptsCheck>,
}

/// The checks an expectation may hold, by key, in the order they are documented.
pub const CHECKS: [&str; 7] = [
    "requests",
    "callbacks",
    "probes",
    "resources",
    "balance",
    "sms",
    "prompts",
];

impl ExpectSpec {
    /// The keys of the checks it holds (exactly one, when valid).
    pub fn checks(&self) -> Vec<&'static str> {
        let set = [
            self.requests.is_some(),
            self.callbacks.is_some(),
            self.probes.is_some(),
            self.resources.is_some(),
            self.balance.is_some(),
            self.sms.is_some(),
            self.prompts.is_some(),
        ];
        CHECKS
            .iter()
            .zip(set)
            .filter_map(|(name, set)| set.then_some(*name))
            .collect()
    }

    /// What its check expects, e.g. `requests to POST /api/v2/incoming_payments: exactly 1`.
    pub fn describe(&self) -> String {
        if let Some(r) = &self.requests {
            r.describe()
        } else if let Some(c) = &self.callbacks {
            c.describe()
        } else if let Some(p) = &self.probes {
            format!("probes passed: {}", p.passed)
        } else if let Some(r) = &self.resources {
            let status = r
                .status
                .as_deref()
                .map_or(String::new(), |s| format!(" {}", s.trim()));
            format!("{}{status}: {}", r.kind.kind.name(), r.count().describe())
        } else if let Some(b) = &self.balance {
            format!("balance of {}: {}", b.account().name(), b.describe())
        } else if let Some(s) = &self.sms {
            s.describe()
        } else if let Some(p) = &self.prompts {
            format!("prompts unanswered: {}", p.unanswered)
        } else {
            "nothing".into()
        }
    }

    /// Its name: the one written, else what it expects (and of which application).
    pub fn name(&self) -> String {
        if let Some(name) = self
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            return name.to_string();
        }
        let what = self.describe();
        match &self.client_id {
            Some(c) => format!("{what} ({c})"),
            None => what,
        }
    }
}

/// How many: exactly, at least, at most (any combination; none given: the check's default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub exactly: Option<u64>,
    pub at_least: Option<u64>,
    pub at_most: Option<u64>,
}

impl Count {
    fn of(exactly: Option<u64>, at_least: Option<u64>, at_most: Option<u64>) -> Self {
        let count = Self {
            exactly,
            at_least,
            at_most,
        };
        // Nothing said: at least one.
        if count == Self::default() {
            Self {
                at_least: Some(1),
                ..count
            }
        } else {
            count
        }
    }

    pub fn holds(&self, n: u64) -> bool {
        self.exactly.is_none_or(|e| n == e)
            && self.at_least.is_none_or(|l| n >= l)
            && self.at_most.is_none_or(|m| n <= m)
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = self.exactly {
            parts.push(format!("exactly {e}"));
        }
        if let Some(l) = self.at_least {
            parts.push(format!("at least {l}"));
        }
        if let Some(m) = self.at_most {
            parts.push(format!("at most {m}"));
        }
        parts.join(" and ")
    }
}

/// `all`, or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllOr {
    All,
    Number(u64),
}

impl std::fmt::Display for AllOr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::All => f.write_str("all"),
            Self::Number(n) => write!(f, "{n}"),
        }
    }
}

impl<'de> Deserialize<'de> for AllOr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) if n.as_u64().is_some() => {
                Ok(Self::Number(n.as_u64().unwrap_or_default()))
            }
            serde_json::Value::String(s) if s.trim().eq_ignore_ascii_case("all") => Ok(Self::All),
            other => Err(serde::de::Error::custom(format!(
                "expected `all` or a number, found {other}"
            ))),
        }
    }
}

/// A response status to match: a code (`404`) or a class (`4xx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMatch {
    Code(u16),
    /// The hundreds digit: 4 for `4xx`.
    Class(u16),
}

impl StatusMatch {
    pub fn matches(self, status: u16) -> bool {
        match self {
            Self::Code(c) => status == c,
            Self::Class(c) => status / 100 == c,
        }
    }
}

impl std::fmt::Display for StatusMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Code(c) => write!(f, "{c}"),
            Self::Class(c) => write!(f, "{c}xx"),
        }
    }
}

impl<'de> Deserialize<'de> for StatusMatch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.trim().to_ascii_lowercase(),
            other => other.to_string(),
        };
        let wrong = || {
            serde::de::Error::custom(format!(
                "{text:?} is not a status: use a code such as 404 or a class such as 4xx"
            ))
        };
        if let Some(class) = text.strip_suffix("xx") {
            return match class.parse::<u16>() {
                Ok(c @ 1..=5) => Ok(Self::Class(c)),
                _ => Err(wrong()),
            };
        }
        match text.parse::<u16>() {
            Ok(c @ 100..=599) => Ok(Self::Code(c)),
            _ => Err(wrong()),
        }
    }
}

/// Who sent the requests a check counts: `app` (the default), `customer`, `control`, `all`,
/// or a list of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Senders(pub Vec<Actor>);

impl Default for Senders {
    fn default() -> Self {
        Self(vec![Actor::App])
    }
}

impl<'de> Deserialize<'de> for Senders {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names: Vec<String> = match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => vec![s],
            serde_json::Value::Array(items) => items
                .into_iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect(),
            other => vec![other.to_string()],
        };
        Actor::parse_list(names.iter().map(String::as_str))
            .map(Self)
            .map_err(|e| serde::de::Error::custom(format!("sender {e}")))
    }
}

/// Requests the app sent: `{endpoint: POST /api/v2/incoming_payments, count: 1}`,
/// `{status: 4xx, count: 0}`, `{status: 4xx, except: [404], count: 0}`; with `by`, the
/// customer's (checkout) or the control plane's too.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestsCheck {
    /// Who sent them (default: the app).
    #[serde(default)]
    pub by: Senders,
    /// `METHOD /path` or `/path`; the path matches whole segments from the start, and a
    /// `{name}` segment matches any one (`GET /api/v2/incoming_payments/{id}`).
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub status: Option<StatusMatch>,
    /// Statuses not counted (allowed), e.g. a 404 the app expects.
    #[serde(default)]
    pub except: Vec<u16>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub at_least: Option<u64>,
    #[serde(default)]
    pub at_most: Option<u64>,
}

impl RequestsCheck {
    pub fn count(&self) -> Count {
        Count::of(self.count, self.at_least, self.at_most)
    }

    fn describe(&self) -> String {
        let mut what = "requests".to_string();
        if let Some(e) = &self.endpoint {
            what.push_str(&format!(" to {}", e.trim()));
        }
        if let Some(s) = self.status {
            what.push_str(&format!(" answered {s}"));
        }
        if !self.except.is_empty() {
            let except: Vec<String> = self.except.iter().map(u16::to_string).collect();
            what.push_str(&format!(" but {}", except.join(", ")));
        }
        if self.by != Senders::default() {
            let by: Vec<&str> = self.by.0.iter().map(|a| a.name()).collect();
            what.push_str(&format!(" by {}", by.join(", ")));
        }
        format!("{what}: {}", self.count().describe())
    }
}

/// Callbacks the sandbox sent the app (results and webhooks, not probes):
/// `{acknowledged: all}`, `{acknowledged: all, within: 500ms}`, `{exhausted: 0}`,
/// `{count: 0}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbacksCheck {
    /// Answered with a 2xx: every delivery (`all`: at least one was sent, and every one was
    /// acknowledged), or at least this many.
    #[serde(default)]
    pub acknowledged: Option<AllOr>,
    /// How many were sent (`count: 0`: none).
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub at_least: Option<u64>,
    #[serde(default)]
    pub at_most: Option<u64>,
    /// With `acknowledged`: the acknowledging answer came within this long.
    #[serde(default)]
    pub within: Option<Span>,
    /// How many ran out of attempts.
    #[serde(default)]
    pub exhausted: Option<u64>,
    /// Only deliveries to URLs that start with this.
    #[serde(default)]
    pub url: Option<String>,
}

impl CallbacksCheck {
    /// How many must have been sent, if it says.
    pub fn sent(&self) -> Option<Count> {
        let count = Count {
            exactly: self.count,
            at_least: self.at_least,
            at_most: self.at_most,
        };
        (count != Count::default()).then_some(count)
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(count) = self.sent() {
            parts.push(format!("sent: {}", count.describe()));
        }
        if let Some(a) = self.acknowledged {
            parts.push(format!("acknowledged: {a}"));
        }
        if let Some(w) = self.within {
            parts.push(format!("within {}", humantime::format_duration(w.0)));
        }
        if let Some(e) = self.exhausted {
            parts.push(format!("exhausted: {e}"));
        }
        let to = self
            .url
            .as_deref()
            .map_or(String::new(), |u| format!(" to {u}"));
        format!("callbacks{to} {}", parts.join(", "))
    }
}

/// The scenario's receiver probes: `{passed: all}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbesCheck {
    pub passed: AllOr,
}

/// Resources created since the scenario loaded: `{type: incoming_payment, status: Success,
/// count: 2}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcesCheck {
    #[serde(rename = "type")]
    pub kind: Named,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub at_least: Option<u64>,
    #[serde(default)]
    pub at_most: Option<u64>,
}

impl ResourcesCheck {
    pub fn count(&self) -> Count {
        Count::of(self.count, self.at_least, self.at_most)
    }
}

/// A balance at the end: `{till: "000000", equals: 1000100}`; no till: the company account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceCheck {
    #[serde(default)]
    pub till: Option<String>,
    #[serde(default)]
    pub equals: Option<Money>,
    #[serde(default)]
    pub at_least: Option<Money>,
    #[serde(default)]
    pub at_most: Option<Money>,
}

impl BalanceCheck {
    pub fn account(&self) -> crate::domain::ledger::Account {
        crate::domain::ledger::Account::from_source(self.till.as_deref())
    }

    pub fn holds(&self, balance: rust_decimal::Decimal) -> bool {
        self.equals.is_none_or(|m| balance == m.0.decimal())
            && self.at_least.is_none_or(|m| balance >= m.0.decimal())
            && self.at_most.is_none_or(|m| balance <= m.0.decimal())
    }

    pub fn describe(&self) -> String {
        let show = |m: Money| crate::domain::money::format_amount(m.0.decimal());
        let mut parts = Vec::new();
        if let Some(m) = self.equals {
            parts.push(format!("equals {}", show(m)));
        }
        if let Some(m) = self.at_least {
            parts.push(format!("at least {}", show(m)));
        }
        if let Some(m) = self.at_most {
            parts.push(format!("at most {}", show(m)));
        }
        parts.join(" and ")
    }
}

/// SMS the app had sent (transaction SMS notifications that went out): `{transaction:
/// OJM6Q1W84K}` (an M-PESA reference, a transaction id or a webhook event id), `{to:
/// "+254712345678", count: 1}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsCheck {
    #[serde(default)]
    pub transaction: Option<String>,
    #[serde(default)]
    pub to: Option<Phone>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub at_least: Option<u64>,
    #[serde(default)]
    pub at_most: Option<u64>,
}

impl SmsCheck {
    pub fn count(&self) -> Count {
        Count::of(self.count, self.at_least, self.at_most)
    }

    fn describe(&self) -> String {
        let mut what = "SMS".to_string();
        if let Some(t) = &self.transaction {
            what.push_str(&format!(" for {}", t.trim()));
        }
        if let Some(p) = &self.to {
            what.push_str(&format!(" to {}", p.0.as_str()));
        }
        format!("{what}: {}", self.count().describe())
    }
}

/// STK prompts still waiting for the customer: `{unanswered: 0}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptsCheck {
    pub unanswered: u64,
}

/// Whether `path` is reached by `pattern`: whole segments from the start, a `{name}` or `*`
/// segment matching any one.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let mut path = path.trim_end_matches('/').split('/');
    pattern.trim_end_matches('/').split('/').all(|want| {
        path.next()
            .is_some_and(|got| want == got || is_wildcard(want))
    })
}

fn is_wildcard(segment: &str) -> bool {
    segment == "*" || (segment.starts_with('{') && segment.ends_with('}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_by_whole_segments() {
        let id = "/api/v2/incoming_payments/0b6a4c1e";
        assert!(path_matches("/api/v2/incoming_payments", id));
        assert!(path_matches("/api/v2/incoming_payments/{id}", id));
        assert!(path_matches("/api/v2/incoming_payments/*", id));
        assert!(path_matches(
            "/api/v2/incoming_payments",
            "/api/v2/incoming_payments"
        ));
        assert!(!path_matches("/api/v2/incoming", id));
        assert!(!path_matches(
            "/api/v2/incoming_payments/{id}",
            "/api/v2/incoming_payments"
        ));
        assert!(!path_matches("/api/v1/incoming_payments", id));
    }

    #[test]
    fn a_count_says_at_least_one_unless_told() {
        assert_eq!(Count::of(None, None, None).describe(), "at least 1");
        assert!(!Count::of(None, None, None).holds(0));
        let between = Count::of(None, Some(2), Some(3));
        assert!(between.holds(2) && between.holds(3) && !between.holds(4));
        assert!(Count::of(Some(0), None, None).holds(0));
    }
}
