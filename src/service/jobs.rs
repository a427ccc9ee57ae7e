//! Runs a job that fell due: settling runs here and now, in due order (so seeded runs draw the
//! same ids); a delivery attempt is handed back to be spawned.

use super::AppState;
use super::resource::Resource;
use crate::domain::kinds::with_resource_type;
use crate::scheduler::Job;

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
        Job::Settle(kind, id) => with_resource_type!(kind, T => <T as Resource>::settle(state, id)),
        Job::Expire(kind, id) => with_resource_type!(kind, T => <T as Resource>::expire(state, id)),
    }
    None
}
