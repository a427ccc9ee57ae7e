//! Scenario timeline moments, run when they fall due: real-world activity, a customer's answer
//! to an STK prompt, a payment-link payment, a clock jump.

use uuid::Uuid;

use super::AppState;
use super::payment_links::pay_payment_link;
use super::prompts::{answer_prompt, pending_prompts};
use super::simulate::simulate;
use crate::domain::payment_link::LinkState;
use crate::scenarios::Action;

/// Runs a timeline moment that fell due.
pub fn run_moment(state: &AppState, id: Uuid) {
    match state.scenarios.take_moment(id) {
        Some(Action::Event(activity)) => {
            if let Err(e) = simulate(state, &activity) {
                tracing::warn!(error = %e, "a scenario event could not happen");
            }
        }
        Some(Action::Answer {
            owner,
            phone,
            answer,
        }) => match pending_prompts(state, Some(&phone), Some(&owner)).last() {
            Some(p) => {
                answer_prompt(state, p.id, answer);
            }
            None => tracing::warn!(%phone, "a scenario answer found no pending STK prompt"),
        },
        Some(Action::PayLink {
            owner,
            till_number,
            phone,
        }) => {
            let mut active = state.store.payment_links.filter(&owner, |l| {
                l.till_number == till_number && matches!(l.state, LinkState::Active)
            });
            active.sort_by_key(|l| l.meta.sequence);
            match active.last() {
                Some(link) => {
                    pay_payment_link(state, link, phone);
                }
                None => {
                    tracing::warn!(%till_number, "a scenario found no active payment link to pay")
                }
            }
        }
        Some(Action::Jump { client_id, by }) => {
            let by_ms = crate::clock::millis(by);
            state.clock.advance_for(client_id.as_deref(), by_ms);
            state.scheduler.clock_moved();
            tracing::info!(
                by_ms,
                client_id = client_id.as_deref(),
                "a scenario jumped the clock"
            );
            super::clock_moved(state, client_id.as_deref(), by_ms);
        }
        None => {}
    }
}
