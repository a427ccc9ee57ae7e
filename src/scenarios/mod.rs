//! What scenarios ask of the running sandbox, as values the services read: rules that decide
//! results, API faults, callback faults, timeline moments and hidden results. The `scenario`
//! module parses files into these; nothing here knows YAML positions or applies anything.
//!
//! Everything read on the request path is read without a lock (`ArcSwap`, sharded maps).

pub mod callback_faults;
pub mod expect;
pub mod faults;
mod listed;
pub mod rules;
pub mod spec;

use std::sync::Arc;

use crate::store::Map;
use uuid::Uuid;

use self::callback_faults::CallbackFaults;
use self::faults::Faults;
pub use self::listed::{Listed, Tagged};
use self::rules::Rules;
use crate::domain::activity::Activity;
use crate::domain::handset::Answer;
pub use crate::wire::control::Unloaded;

/// A timeline moment waiting for its time.
#[derive(Debug, Clone)]
pub enum Action {
    Event(Box<Activity>),
    /// The phone answers its latest prompt of this application.
    Answer {
        owner: String,
        phone: crate::domain::phone::PhoneNumber,
        answer: Answer,
    },
    PayLink {
        owner: String,
        till_number: String,
        phone: crate::domain::phone::PhoneNumber,
    },
    /// The clock jumps: one application's (`Some`) or everyone's.
    Jump {
        client_id: Option<String>,
        by: std::time::Duration,
    },
}

/// What loaded scenarios ask of the running sandbox: rules, API faults, callback faults,
/// timeline moments waiting for their time, and results not shown yet.
#[derive(Default)]
pub struct Scenarios {
    pub faults: Faults,
    pub rules: Rules,
    pub callback_faults: CallbackFaults,
    /// Timeline moments waiting for their time, with the scenario that scheduled each.
    moments: Map<Uuid, (Arc<str>, Action)>,
    /// The scenarios loaded, in load order (control plane only: never on the request path).
    loaded: std::sync::Mutex<Vec<LoadedScenario>>,
    /// Resources whose result is not shown yet (an `early` callback fault): the document GET
    /// answers until the owner's clock reaches the instant.
    hidden: Map<Uuid, (String, i64, serde_json::Value)>,
}

impl Scenarios {
    /// Keeps a timeline moment of `scenario` until it falls due; its id is the scheduler
    /// job's.
    pub fn add_moment(&self, scenario: &Arc<str>, id: Uuid, action: Action) {
        self.moments.insert(id, (scenario.clone(), action));
    }

    pub fn take_moment(&self, id: Uuid) -> Option<Action> {
        self.moments.remove(&id).map(|(_, (_, a))| a)
    }

    /// Records a loaded scenario (its rules, faults and moments were added under its name).
    pub fn register(&self, scenario: LoadedScenario) {
        self.loaded_lock().push(scenario);
    }

    /// The scenarios loaded, in load order, with how many of their moments still wait.
    pub fn list(&self) -> Vec<LoadedScenario> {
        let mut list = self.loaded_lock().clone();
        for s in &mut list {
            s.timeline_pending = self
                .moments
                .iter()
                .filter(|m| *m.value().0 == *s.name)
                .count();
        }
        list
    }

    /// Removes what the scenario `name` keeps acting with (rules, faults, callback faults,
    /// moments still waiting) and forgets it; what it added to the world stays. `None` when
    /// no scenario of that name is loaded.
    pub fn unload(&self, name: &str) -> Option<Unloaded> {
        let mut loaded = self.loaded_lock();
        let at = loaded.iter().position(|s| &*s.name == name)?;
        loaded.remove(at);
        let before = self.moments.len();
        self.moments.retain(|_, (scenario, _)| &**scenario != name);
        Some(Unloaded {
            name: name.to_string(),
            rules: self.rules.remove_scenario(name),
            faults: self.faults.remove_scenario(name),
            callback_faults: self.callback_faults.remove_scenario(name),
            timeline: before - self.moments.len(),
        })
    }

    fn loaded_lock(&self) -> std::sync::MutexGuard<'_, Vec<LoadedScenario>> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps showing `before` for resource `id` until `until_ms` on `owner`'s clock.
    pub fn hide(&self, id: Uuid, owner: &str, until_ms: i64, before: serde_json::Value) {
        self.hidden
            .insert(id, (owner.to_string(), until_ms, before));
    }

    /// The document GET must still show for `id`, while its result is hidden.
    pub fn shown_instead(
        &self,
        clock: &crate::clock::Clock,
        id: Uuid,
    ) -> Option<serde_json::Value> {
        let entry = self.hidden.get(&id)?;
        let (owner, until_ms, before) = entry.value();
        (clock.now_ms_of(owner) < *until_ms).then(|| before.clone())
    }

    pub fn clear(&self) {
        self.loaded_lock().clear();
        self.hidden.clear();
        self.faults.clear();
        self.rules.clear();
        self.callback_faults.clear();
        self.moments.clear();
    }
}

/// A loaded scenario, as the registry keeps it (`GET /_sandbox/scenarios` shows it as
/// `wire::control::ScenarioView`).
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    pub name: Arc<str>,
    pub description: Option<String>,
    /// The file it came from, or `(request body)`.
    pub source: String,
    pub loaded_at: String,
    /// What it added to the world, by section (stays after an unload).
    pub added: std::collections::BTreeMap<&'static str, usize>,
    pub rules: usize,
    pub faults: usize,
    pub callback_faults: usize,
    pub probes: usize,
    pub timeline: usize,
    /// Moments still waiting for their time.
    pub timeline_pending: usize,
    /// The names of its expectations (`GET /_sandbox/verify` judges them).
    pub expectations: Vec<String>,
    pub expect: Arc<[expect::ExpectSpec]>,
    /// Where the records stood when it loaded: its expectations judge what came after.
    pub since: expect::Since,
}
