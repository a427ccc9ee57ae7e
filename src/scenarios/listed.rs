//! `Listed`: what scenarios add to the running sandbox (rules, faults, callback faults), read
//! on every request without a lock and tagged with the scenario that added it.

use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};

/// A list read on every request without a lock, appended to by scenario loads (copy on
/// write), thinned by an unload and emptied by a reset. Each item remembers the scenario
/// that added it.
pub struct Listed<T> {
    items: ArcSwap<Vec<Arc<Tagged<T>>>>,
}

/// An item and the name of the scenario that added it; reads as the item.
pub struct Tagged<T> {
    pub scenario: Arc<str>,
    item: T,
}

impl<T> std::ops::Deref for Tagged<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.item
    }
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Self {
            items: ArcSwap::default(),
        }
    }
}

impl<T> Listed<T> {
    /// Appends `item`, added by the scenario `scenario`.
    pub fn push(&self, scenario: &Arc<str>, item: T) {
        let item = Arc::new(Tagged {
            scenario: scenario.clone(),
            item,
        });
        self.items.rcu(|items| {
            let mut next = Vec::clone(items);
            next.push(item.clone());
            next
        });
    }

    /// Removes what the scenario `name` added; how many went.
    pub fn remove_scenario(&self, name: &str) -> usize {
        let before = self.items.load().len();
        self.items.rcu(|items| {
            items
                .iter()
                .filter(|i| &*i.scenario != name)
                .cloned()
                .collect::<Vec<_>>()
        });
        before - self.items.load().len()
    }

    pub fn clear(&self) {
        self.items.store(Arc::default());
    }

    /// The items as they are now.
    pub fn load(&self) -> Guard<Arc<Vec<Arc<Tagged<T>>>>> {
        self.items.load()
    }
}
