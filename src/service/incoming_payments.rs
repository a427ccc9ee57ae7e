//! STK push: a payment request to a customer's phone, decided by the script's rules or the
//! phone's behaviour when it falls due.

use super::{AppState, accept, due};
use crate::domain::incoming_payment::{
    IncomingPayment, NewIncomingPayment, PaymentState, PlannedTransaction, Rare,
};
use crate::scenarios::rules::{Endpoint, Facts};

/// Records an STK push and schedules its prompt; its URL under `collection`.
pub fn push(
    state: &AppState,
    owner: &str,
    base: &str,
    collection: &str,
    request: NewIncomingPayment,
) -> String {
    prompt(state, owner, base, collection, request, None).1
}

/// [`push`], or the prompt of a payment link's checkout (`for_link`); its id and URL.
pub fn prompt(
    state: &AppState,
    owner: &str,
    base: &str,
    collection: &str,
    request: NewIncomingPayment,
    for_link: Option<uuid::Uuid>,
) -> (uuid::Uuid, String) {
    let decision = state.scenarios.rules.decide(
        Endpoint::IncomingPayment,
        &Facts {
            client_id: owner,
            phone_number: Some(&request.subscriber.phone_number),
            till_number: Some(&request.till_number),
            amount: Some(request.amount.decimal()),
            metadata: request.metadata.as_ref(),
            ..Facts::default()
        },
    );
    let id = state.ids.uuid();
    tracing::Span::current().record("id", tracing::field::display(id));
    let payment = IncomingPayment {
        id,
        sequence: state.ids.next_sequence(),
        owner: state.store.owner(owner),
        request,
        initiated_at_ms: state.clock.now_ms_of(owner),
        url: crate::domain::self_url::UrlPrefix::new(base, collection),
        planned: PlannedTransaction {
            resource_id: state.ids.uuid(),
            reference: state.ids.reference(),
        },
        rare: (decision.is_some() || for_link.is_some()).then(|| {
            Box::new(Rare {
                forced: decision.as_ref().map(|d| d.verdict.clone()),
                for_link,
            })
        }),
        state: PaymentState::Pending,
    };
    tracing::debug!("incoming payment created");
    let self_url = payment.self_url().to_string();
    let due = due(state, decision.as_ref());
    accept(state, payment, due);
    (id, self_url)
}
