//! Per-number behaviour of the virtual customer's phones, set at runtime for every application
//! or for one (parallel CI jobs sharing a sandbox each set their own); numbers without a
//! setting behave as `domain::handset::default_behaviour` says.

use super::map::Map;

use crate::domain::handset::{Behaviour, default_behaviour};
use crate::domain::phone::PhoneNumber;

/// A setting's key: the application it is for (`None`: every application) and the number.
type Key = (Option<String>, PhoneNumber);

#[derive(Default)]
pub struct Handsets {
    settings: Map<Key, Behaviour>,
}

impl Handsets {
    /// How `phone` answers a prompt of `owner`: that application's setting, else the setting
    /// for every application, else the default (magic numbers, then `pay`).
    pub fn behaviour(&self, owner: &str, phone: &PhoneNumber) -> Behaviour {
        self.settings
            .get(&(Some(owner.to_string()), *phone))
            .or_else(|| self.settings.get(&(None, *phone)))
            .map_or_else(|| default_behaviour(phone), |b| *b)
    }

    pub fn set(&self, client_id: Option<String>, phone: PhoneNumber, behaviour: Behaviour) {
        self.settings.insert((client_id, phone), behaviour);
    }

    /// Every setting, sorted by number, the settings for every application first.
    pub fn settings(&self) -> Vec<(Option<String>, PhoneNumber, Behaviour)> {
        let mut all: Vec<_> = self
            .settings
            .iter()
            .map(|e| (e.key().0.clone(), e.key().1, *e.value()))
            .collect();
        all.sort_by(|a, b| (a.1.as_str(), &a.0).cmp(&(b.1.as_str(), &b.0)));
        all
    }

    /// Forgets one application's own settings (a per-application reset).
    pub fn remove_owner(&self, owner: &str) {
        self.settings
            .retain(|(client, _), _| client.as_deref() != Some(owner));
    }

    pub fn clear(&self) {
        self.settings.clear();
    }
}
