//! Runs a job that fell due: settling runs here and now, in due order (so seeded runs draw the
//! same ids); a delivery attempt is handed back to be spawned.

use super::AppState;
use super::{payment_links, polling, prompts, reversals, send_money, sms_notifications};
use crate::domain::handset::Answer;
use crate::scheduler::{Job, Settle};

/// A delivery attempt, run off the worker loop.
pub type Attempt = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Runs one due job: settling is done here and now (in due order, so seeded runs draw the
/// same ids); a delivery attempt is returned to be spawned, unless its target's connection
/// failed lately, when it fails here as that one did.
pub fn execute(state: &AppState, job: Job) -> Option<Attempt> {
    match job {
        Job::Deliver(id) => {
            return state
                .dispatcher
                .attempt(id)
                .map(|attempt| Box::pin(attempt) as Attempt);
        }
        Job::Moment(id) => super::timeline::run_moment(state, id),
        Job::Settle(kind, id) => match kind {
            Settle::IncomingPayment => prompts::prompt_due(state, id),
            Settle::IncomingPaymentExpiry => {
                prompts::answer_prompt(state, id, Answer::Timeout);
            }
            Settle::SendMoney => send_money::settle_send_money(state, id),
            Settle::Polling => polling::settle_polling(state, id),
            Settle::SmsNotification => sms_notifications::settle_sms_notification(state, id),
            Settle::Reversal => reversals::settle_reversal(state, id),
            Settle::PaymentLinkExpiry => payment_links::expire_payment_link(state, id),
        },
    }
    None
}
