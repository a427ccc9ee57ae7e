//! Settling a pending resource and calling back: the document rendered at the moment its
//! result is decided, the callback queued signed, the live feed told. Every resource's settle
//! goes through here.

use std::sync::Arc;

use serde::Serialize;
use uuid::Uuid;

use super::resource::Documented;
use crate::domain::delivery::{CallbackKind, ResourceRef};
use crate::service::AppState;
use crate::store::feed::ResourceData;
use crate::wire::Status;

/// Queues a result callback signed with the owner's API key.
pub fn call_back(
    state: &AppState,
    owner: &str,
    kind: CallbackKind,
    id: Uuid,
    url: Arc<str>,
    document: &impl Serialize,
) {
    let Some(app) = state.store.application(owner) else {
        return;
    };
    state
        .dispatcher
        .enqueue(owner, &app.api_key, ResourceRef { kind, id }, url, document);
}

/// Applies `settle` to a resource under its lock; when it changed state, calls back with the
/// document rendered at that moment, so GET and the callback never disagree, and returns the
/// resource as it settled.
pub(super) fn settle_and_call_back<R: Documented>(
    state: &AppState,
    id: Uuid,
    settle: impl FnOnce(&mut R) -> bool,
    callback_url: impl FnOnce(&R) -> Option<Arc<str>>,
) -> Option<Arc<R>> {
    let kind = CallbackKind::Of(R::KIND);
    let (settled, resource) = R::collection(&state.store).update_shared(id, |resource| {
        let owner = resource.owner_shared();
        // An early callback: GET keeps showing the document from before the result.
        let early = state.scenarios.callback_faults.early(kind, &owner);
        let before = early.and_then(|_| serde_json::to_value(R::Document::from(resource)).ok());
        settle(resource).then(|| {
            (
                owner,
                callback_url(resource),
                R::Document::from(resource),
                early,
                before,
            )
        })
    })?;
    let (owner, url, document, early, before) = settled?;
    tracing::debug!(%id, ?kind, "settled");
    super::publish(
        state,
        crate::store::feed::FeedKind::Resource,
        Some(&owner),
        || ResourceData {
            resource: ResourceRef { kind, id },
            status: document.status().into(),
        },
    );
    if let (Some(lead), Some(before)) = (early, before) {
        let until = state
            .clock
            .now_ms_of(&owner)
            .saturating_add(crate::clock::millis(lead));
        state.scenarios.hide(id, &owner, until, before);
    }
    if let Some(url) = url {
        call_back(state, &owner, kind, id, url, &document);
    }
    Some(resource)
}
