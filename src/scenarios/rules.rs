//! Scenario rules: the result a matching request gets, decided on the request path (first
//! match wins, `times` counted atomically) and revealed when due, like any result.
//! Read without a lock (`ArcSwap`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rust_decimal::Decimal;

use super::listed::Listed;
use super::spec::{OutcomeSpec, RuleSpec};
use crate::domain::Verdict;
pub use crate::domain::kinds::ResourceKind as Endpoint;
use crate::domain::phone::PhoneNumber;

#[derive(Debug, Clone)]
pub struct Decision {
    pub verdict: Verdict,
    /// Decide the result this long after the request instead of the default delay.
    pub delay: Option<Duration>,
}

/// What is known about a request, for matching.
#[derive(Debug, Default)]
pub struct Facts<'a> {
    pub client_id: &'a str,
    pub phone_number: Option<&'a PhoneNumber>,
    pub till_number: Option<&'a str>,
    pub amount: Option<Decimal>,
    pub destination_types: Vec<&'a str>,
    pub destination_references: Vec<String>,
    pub metadata: Option<&'a crate::domain::metadata::Metadata>,
}

#[derive(Debug)]
struct Rule {
    spec: RuleSpec,
    used: AtomicU64,
}

impl Rule {
    fn matches(&self, endpoint: Endpoint, f: &Facts<'_>) -> bool {
        let m = &self.spec.matching;
        self.spec.endpoint.kind == endpoint
            && m.client_id.as_deref().is_none_or(|c| c == f.client_id)
            && m.phone_number
                .as_ref()
                .is_none_or(|p| Some(&p.0) == f.phone_number)
            && m.till_number
                .as_deref()
                .is_none_or(|t| Some(t) == f.till_number)
            && m.amount.as_ref().is_none_or(|r| {
                f.amount.is_some_and(|a| {
                    r.min.is_none_or(|min| a >= min.0.decimal())
                        && r.max.is_none_or(|max| a <= max.0.decimal())
                })
            })
            && m.destination_type
                .as_deref()
                .is_none_or(|t| f.destination_types.contains(&t))
            && m.destination_reference
                .as_deref()
                .is_none_or(|r| f.destination_references.iter().any(|x| x == r))
            && m.metadata.as_ref().is_none_or(|wanted| {
                f.metadata.is_some_and(|have| {
                    let have = have.entries();
                    wanted.iter().all(|(k, v)| have.get(k) == Some(v))
                })
            })
    }
}

#[derive(Default)]
pub struct Rules {
    rules: Listed<Rule>,
}

impl Rules {
    pub fn add(&self, scenario: &std::sync::Arc<str>, spec: RuleSpec) {
        let rule = Rule {
            spec,
            used: AtomicU64::new(0),
        };
        self.rules.push(scenario, rule);
    }

    pub fn clear(&self) {
        self.rules.clear();
    }

    /// Removes the scenario `name`'s; how many went.
    pub fn remove_scenario(&self, name: &str) -> usize {
        self.rules.remove_scenario(name)
    }

    /// The first matching rule with uses left decides; `None`: the default behaviour.
    pub fn decide(&self, endpoint: Endpoint, facts: &Facts<'_>) -> Option<Decision> {
        let rules = self.rules.load();
        let rule = rules.iter().find(|r| {
            r.matches(endpoint, facts)
                && r.spec
                    .times
                    .is_none_or(|t| r.used.fetch_add(1, Ordering::Relaxed) < t)
        })?;
        Some(Decision {
            verdict: match rule.spec.outcome {
                OutcomeSpec::Success => Verdict::Success,
                OutcomeSpec::Failure => Verdict::Failure(rule.spec.error.clone()),
                OutcomeSpec::Pending => Verdict::Pending,
            },
            delay: rule.spec.delay.map(|d| d.0),
        })
    }
}
