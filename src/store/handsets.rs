//! Per-number behaviour of the virtual customer's phones, set at runtime; numbers without a
//! setting behave as `domain::handset::default_behaviour` says.

use dashmap::DashMap;

use crate::domain::handset::{Behaviour, default_behaviour};
use crate::domain::phone::PhoneNumber;

#[derive(Default)]
pub struct Handsets {
    settings: DashMap<PhoneNumber, Behaviour>,
}

impl Handsets {
    pub fn behaviour(&self, phone: &PhoneNumber) -> Behaviour {
        self.settings
            .get(phone)
            .map_or_else(|| default_behaviour(phone), |b| *b)
    }

    pub fn set(&self, phone: PhoneNumber, behaviour: Behaviour) {
        self.settings.insert(phone, behaviour);
    }

    /// Every number with a setting, sorted.
    pub fn settings(&self) -> Vec<(PhoneNumber, Behaviour)> {
        let mut all: Vec<_> = self
            .settings
            .iter()
            .map(|e| (e.key().clone(), *e.value()))
            .collect();
        all.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        all
    }

    pub fn clear(&self) {
        self.settings.clear();
    }
}
