//! STK prompts: the customer's phone answers when its prompt falls due (or waits, for a
//! `manual` phone, until answered from the control plane or it times out), and the push
//! settles with what the answer means, paying a payment link's checkout.

use uuid::Uuid;

use super::payment_links::finish_payment_link;
use super::resource::{Documented, Resource};
use super::settle::settle_and_call_back;
use super::transactions::receive_transaction;
use crate::domain::Verdict;
use crate::domain::handset::{Answer, Behaviour};
use crate::domain::incoming_payment::{IncomingPayment, Outcome};
use crate::domain::kinds::ResourceKind;
use crate::domain::ledger::Transaction;
use crate::domain::payment_link::LinkState;
use crate::domain::phone::PhoneNumber;
use crate::scheduler::Job;
use crate::service::AppState;
use crate::store::{Collection, Store};
use crate::wire::incoming_payments::IncomingPaymentDocument;

/// STK prompts still waiting for an answer, oldest first: on one phone and of one application
/// when given.
pub fn pending_prompts(
    state: &AppState,
    phone: Option<&PhoneNumber>,
    client_id: Option<&str>,
) -> Vec<IncomingPayment> {
    let mut pending = state.store.incoming_payments.filter_any(|p| {
        p.state.is_pending()
            && phone.is_none_or(|ph| &p.request.subscriber.phone_number == ph)
            && client_id.is_none_or(|c| *c == *p.owner)
    });
    pending.sort_by_key(|p| p.sequence);
    pending
}

/// A pending STK push falls due: its phone answers as its behaviour says, or, if it waits for
/// a control-plane answer, the prompt expires after the STK timeout.
fn prompt_due(state: &AppState, id: Uuid) {
    let Some((owner, phone, initiated_at_ms)) = state.store.incoming_payments.inspect(id, |p| {
        (
            p.owner.clone(),
            p.request.subscriber.phone_number,
            p.initiated_at_ms,
        )
    }) else {
        return;
    };
    let forced = state
        .store
        .incoming_payments
        .inspect(id, |p| p.forced().cloned())
        .flatten();
    match forced {
        // A pending verdict is never scheduled (`service::due`); kept for completeness.
        Some(Verdict::Pending) => return,
        Some(Verdict::Success) => {
            settle_prompt(state, id, Outcome::Paid);
            return;
        }
        Some(Verdict::Failure(error)) => {
            let error = error.unwrap_or_else(|| "Request cancelled by user".into());
            settle_prompt(state, id, Outcome::Failed(error));
            return;
        }
        None => {}
    }
    match state.store.handsets.behaviour(&owner, &phone) {
        Behaviour::Auto(answer) => {
            answer_prompt(state, id, answer);
        }
        Behaviour::Manual => {
            super::publish_view(
                state,
                crate::store::feed::FeedKind::Prompt,
                Some(&owner),
                || crate::wire::control::PromptEvent {
                    id,
                    phone_number: phone.to_string(),
                    status: "waiting".into(),
                },
            );
            let expires_at =
                initiated_at_ms.saturating_add(crate::clock::millis(state.settings.stk_timeout));
            let wait = (expires_at - state.clock.now_ms_of(&owner)).max(0) as u64;
            state.scheduler.schedule(
                Job::Expire(ResourceKind::IncomingPayment, id),
                &owner,
                std::time::Duration::from_millis(wait),
            );
        }
    }
}

/// Answers a pending STK prompt: the payment settles with the answer's outcome, calls back,
/// and a payment becomes a received transaction. False if it was no longer pending.
pub fn answer_prompt(state: &AppState, id: Uuid, answer: Answer) -> bool {
    settle_prompt(state, id, answer.outcome())
}

/// Settles a pending STK push with `outcome`; see [`answer_prompt`].
fn settle_prompt(state: &AppState, id: Uuid, outcome: Outcome) -> bool {
    // Only a pending push is settled; one settled already is not even touched (its
    // transaction holds it: a write would copy it).
    let Some(owner) = state
        .store
        .incoming_payments
        .inspect(id, |p| p.state.is_pending().then(|| p.owner.clone()))
        .flatten()
    else {
        return false;
    };
    let now_ms = state.clock.now_ms_of(&owner);
    let Some(push) = settle_and_call_back::<IncomingPayment>(
        state,
        id,
        |p| p.settle(outcome, now_ms),
        // A link's checkout prompt: the link calls back instead.
        |p| {
            p.for_link()
                .is_none()
                .then(|| p.request.callback_url.clone())
        },
    ) else {
        return false;
    };
    if let Some(tx) = Transaction::paid_by(push.clone(), || state.ids.next_sequence()) {
        if let Some(link) = push.for_link() {
            // Paid on its page: the link reports Paid (a link that ended meanwhile stays as
            // it is; the money arrived all the same).
            let paid = LinkState::Paid {
                transaction_reference: tx.reference().to_string(),
                sender_phone_number: push.request.subscriber.phone_number.to_string(),
                at_ms: now_ms,
            };
            finish_payment_link(state, link, paid);
        }
        receive_transaction(state, tx);
    }
    true
}

impl Resource for IncomingPayment {
    const KIND: ResourceKind = ResourceKind::IncomingPayment;

    fn collection(store: &Store) -> &Collection<Self> {
        &store.incoming_payments
    }

    fn status(&self) -> &'static str {
        self.state.status()
    }

    fn settle(state: &AppState, id: Uuid) {
        prompt_due(state, id);
    }

    fn expire(state: &AppState, id: Uuid) {
        answer_prompt(state, id, Answer::Timeout);
    }
}

impl Documented for IncomingPayment {
    const WHAT: &'static str = "Incoming payment";
    type Document = IncomingPaymentDocument;
}
