//! Moves pending resources to their results when they fall due, and hands each result to the
//! callback dispatcher. Runs on the scheduler's worker, never on the request path.

use uuid::Uuid;

use crate::AppState;
use crate::callbacks::ResourceRef;
use crate::domain::incoming_payment::Outcome;
use crate::scheduler::Job;
use crate::wire::incoming_payments::IncomingPaymentDocument;

/// Runs one due job.
pub async fn execute(state: AppState, job: Job) {
    match job {
        Job::SettleIncomingPayment(id) => settle_incoming_payment(&state, id),
        Job::Deliver(id) => state.dispatcher.attempt(id).await,
    }
}

/// Decides a pending STK push: the customer pays. The GET document and the callback body are
/// rendered from the same state at the same instant, so they never disagree.
fn settle_incoming_payment(state: &AppState, id: Uuid) {
    let now_ms = state.clock.now_ms();
    let settled = state
        .store
        .update_incoming_payment(id, |payment| {
            payment.settle(Outcome::Paid, now_ms).then(|| {
                (
                    payment.owner.clone(),
                    payment.request.callback_url.clone(),
                    IncomingPaymentDocument::from(&*payment),
                )
            })
        })
        .flatten();
    let Some((owner, callback_url, document)) = settled else {
        return; // reset meanwhile, or already settled
    };
    let Some(app) = state.store.application(&owner) else {
        return;
    };
    tracing::info!(%id, status = document.data.attributes.status, "incoming payment settled");
    state.dispatcher.enqueue(
        &owner,
        &app.api_key,
        ResourceRef {
            kind: "incoming_payment",
            id,
        },
        &callback_url,
        &document,
    );
}
