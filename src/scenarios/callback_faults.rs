//! Callback faults from scenarios: delayed, dropped, duplicated and conflicting deliveries.
//! Decided when a callback is queued (off the request path); read without a lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::listed::Listed;
use super::spec::CallbackFaultSpec;
use crate::domain::delivery::CallbackKind;

#[derive(Debug)]
struct Entry {
    spec: CallbackFaultSpec,
    used: AtomicU64,
}

impl Entry {
    fn applies(&self, resource_kind: CallbackKind, owner: &str) -> bool {
        self.spec
            .resource
            .is_none_or(|r| CallbackKind::Of(r.kind) == resource_kind)
            && self.spec.client_id.as_deref().is_none_or(|c| c == owner)
    }

    /// Counts one use; whether it had one left.
    fn use_one(&self) -> bool {
        self.spec
            .times
            .is_none_or(|t| self.used.fetch_add(1, Ordering::Relaxed) < t)
    }
}

/// What happens to one callback.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Treatment {
    pub delay: Option<Duration>,
    pub drop: bool,
    pub duplicates: u32,
    pub conflicting: bool,
}

#[derive(Default)]
pub struct CallbackFaults {
    entries: Listed<Entry>,
}

impl CallbackFaults {
    pub fn add(&self, scenario: &std::sync::Arc<str>, spec: CallbackFaultSpec) {
        let entry = Entry {
            spec,
            used: AtomicU64::new(0),
        };
        self.entries.push(scenario, entry);
    }

    pub fn clear(&self) {
        self.entries.clear();
    }

    /// Removes the scenario `name`'s; how many went.
    pub fn remove_scenario(&self, name: &str) -> usize {
        self.entries.remove_scenario(name)
    }

    /// The first matching fault with uses left decides; `None`: deliver normally.
    pub fn treatment(&self, resource_kind: CallbackKind, owner: &str) -> Option<Treatment> {
        let entries = self.entries.load();
        let e = entries
            .iter()
            .find(|e| e.spec.early.is_none() && e.applies(resource_kind, owner) && e.use_one())?;
        Some(Treatment {
            delay: e.spec.delay.map(|d| d.0),
            drop: e.spec.drop,
            duplicates: e.spec.duplicate,
            conflicting: e.spec.conflicting,
        })
    }
}

impl CallbackFaults {
    /// How long before its resource shows the result a callback of this kind arrives, if an
    /// `early` fault applies (counted against its `times`).
    pub fn early(&self, resource_kind: CallbackKind, owner: &str) -> Option<Duration> {
        let entries = self.entries.load();
        entries
            .iter()
            .find(|e| e.spec.early.is_some() && e.applies(resource_kind, owner) && e.use_one())
            .and_then(|e| e.spec.early.map(|s| s.0))
    }
}

/// The body of a result callback with its `data.attributes.status` flipped, for a
/// conflicting duplicate; `None` for bodies without one (webhooks).
pub fn conflicting_body(body: &str) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_str(body).ok()?;
    let status = value.pointer_mut("/data/attributes/status")?;
    let flipped = match status.as_str()? {
        "Success" | "Processed" | "Received" | "Complete" | "Paid" => "Failed",
        _ => "Success",
    };
    *status = flipped.into();
    serde_json::to_string(&value).ok()
}
