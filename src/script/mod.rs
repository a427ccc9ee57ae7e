//! What scenarios ask of the running sandbox, as values the services read: rules that decide
//! results, API faults, callback faults, timeline moments and hidden results. The `scenario`
//! module parses files into these; nothing here knows YAML positions or applies anything.
//!
//! Everything read on the request path is read without a lock (`ArcSwap`, sharded maps).

pub mod callback_faults;
pub mod faults;
pub mod rules;
pub mod spec;

use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};
use dashmap::DashMap;
use uuid::Uuid;

use self::callback_faults::CallbackFaults;
use self::faults::Faults;
use self::rules::Rules;
use crate::domain::activity::Activity;
use crate::domain::handset::Answer;

/// A list read on every request without a lock, appended to by scenario loads (copy on
/// write) and emptied by a reset.
pub struct Listed<T> {
    items: ArcSwap<Vec<Arc<T>>>,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Self {
            items: ArcSwap::default(),
        }
    }
}

impl<T> Listed<T> {
    pub fn push(&self, item: T) {
        let item = Arc::new(item);
        self.items.rcu(|items| {
            let mut next = Vec::clone(items);
            next.push(item.clone());
            next
        });
    }

    pub fn clear(&self) {
        self.items.store(Arc::default());
    }

    /// The items as they are now.
    pub fn load(&self) -> Guard<Arc<Vec<Arc<T>>>> {
        self.items.load()
    }
}

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
pub struct Script {
    pub faults: Faults,
    pub rules: Rules,
    pub callback_faults: CallbackFaults,
    moments: DashMap<Uuid, Action>,
    /// Resources whose result is not shown yet (an `early` callback fault): the document GET
    /// answers until the owner's clock reaches the instant.
    hidden: DashMap<Uuid, (String, i64, serde_json::Value)>,
}

impl Script {
    /// Keeps a timeline moment until it falls due; its id is the scheduler job's.
    pub fn add_moment(&self, id: Uuid, action: Action) {
        self.moments.insert(id, action);
    }

    pub fn take_moment(&self, id: Uuid) -> Option<Action> {
        self.moments.remove(&id).map(|(_, a)| a)
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
        self.hidden.clear();
        self.faults.clear();
        self.rules.clear();
        self.callback_faults.clear();
        self.moments.clear();
    }
}
