//! What every resource kind implements once (`domain::kinds::ResourceKind` names them, and
//! `with_resource_type!` gives each kind's type): its collection and status, what falls due
//! for it (its id, owner and creation sequence are `domain::Owned`'s); and, for those the API
//! shows and calls back with, its document. A due job, an expectation, accepting, settling and the owned `GET` are each one
//! generic path over these.

use serde::Serialize;
use uuid::Uuid;

use super::state::AppState;
use crate::domain::Owned;
use crate::domain::kinds::ResourceKind;
use crate::store::{Collection, Store};
use crate::wire::Status;

/// A kind of resource the sandbox keeps and settles.
pub trait Resource: Owned + Clone + Send + Sync + 'static {
    const KIND: ResourceKind;

    /// Its collection in the store.
    fn collection(store: &Store) -> &Collection<Self>;

    /// Its document's `data.attributes.status` (empty for a kind that shows none).
    fn status(&self) -> &'static str;

    /// Its result falls due (a payment link's: it expires unpaid).
    fn settle(state: &AppState, id: Uuid);

    /// Its wait for someone ran out (an STK prompt nobody answered). Only a kind that
    /// schedules an expiry (`Job::Expire`) has one.
    fn expire(state: &AppState, id: Uuid) {
        let _ = (state, id);
    }
}

/// A resource the API shows by id and sends to its callback URL, as one document.
pub trait Documented: Resource {
    /// What a 404 calls it ("Polling request not found").
    const WHAT: &'static str;

    /// Its document, as `GET` shows it and its result callback sends it.
    type Document: for<'a> From<&'a Self> + Serialize + Status + 'static;
}
