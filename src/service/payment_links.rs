//! Payment links: a link to pay a till an amount, active for seven days, paid on its page or
//! by a scenario, cancelled by its merchant, or expired.

use super::lifecycle::finish_payment_link;
use super::{AppState, accept, new_envelope};
use crate::domain::Invalid;
use crate::domain::incoming_payment::{NewIncomingPayment, Subscriber};
use crate::domain::metadata::Metadata;
use crate::domain::money::{Amount, Currency};
use crate::domain::payment_link::{LIFETIME_MS, LinkState, PaymentLink};
use crate::domain::phone::PhoneNumber;
use crate::scheduler::Settle;

/// `POST /api/v2/payment_links`, parsed.
pub struct NewLink {
    pub till_number: String,
    pub currency: Currency,
    pub amount: Amount,
    pub payment_reference: Option<String>,
    pub note: Option<String>,
    pub metadata: Option<Metadata>,
    pub callback_url: String,
}

/// Creates a link that expires in seven days unless paid or cancelled; its URL under
/// `collection`.
pub fn create(state: &AppState, owner: &str, base: &str, collection: &str, l: NewLink) -> String {
    let meta = new_envelope(state, owner, base, collection);
    let token = state.ids.uuid();
    let link = PaymentLink {
        till_name: state
            .store
            .till_names
            .get(&(owner.to_string(), l.till_number.clone()))
            .map_or_else(|| format!("Till {}", l.till_number), |n| n.value().clone()),
        till_number: l.till_number,
        currency: l.currency,
        amount: l.amount,
        payment_reference: l.payment_reference,
        note: l.note,
        metadata: l.metadata,
        callback_url: l.callback_url,
        expires_at_ms: meta.created_at_ms + LIFETIME_MS,
        link: format!("{base}/links/{token}"),
        link_token: token,
        meta,
        state: LinkState::Active,
        checkout: None,
    };
    let self_url = link.meta.self_url().to_string();
    let lifetime = std::time::Duration::from_millis(LIFETIME_MS as u64);
    accept(
        state,
        &state.store.payment_links,
        link,
        Settle::PaymentLinkExpiry,
        Some(lifetime),
    );
    self_url
}

/// A customer starts paying an active link on its page: an STK prompt for the link's amount
/// goes to `phone`, which answers it as it answers any prompt (`/_sandbox/handsets`, the
/// dashboard's phone); paying it pays the link. Refused for a link no longer active.
pub fn checkout(state: &AppState, link: &PaymentLink, phone: PhoneNumber) -> Result<(), Invalid> {
    if !matches!(link.state, LinkState::Active) {
        return Err(Invalid(format!(
            "This link is {} and cannot be paid.",
            link.state.status()
        )));
    }
    let request = NewIncomingPayment {
        till_number: link.till_number.as_str().into(),
        subscriber: Subscriber {
            payer: std::sync::Arc::new(crate::domain::ledger::Payer::new(phone, None, None, None)),
            email: None,
        },
        amount: link.amount,
        currency: link.currency,
        metadata: None,
        // Never called: the link calls back (see `lifecycle::settle_prompt`).
        callback_url: "".into(),
    };
    let (prompt, _) = super::incoming_payments::prompt(
        state,
        &link.meta.owner,
        link.meta.self_url().base(),
        "/api/v2/incoming_payments",
        request,
        Some(link.meta.id),
    );
    state
        .store
        .payment_links
        .update(link.meta.id, |l| l.checkout = Some(prompt));
    Ok(())
}

/// Cancels an active link; refused for one already paid, cancelled or expired.
pub fn cancel(state: &AppState, link: &PaymentLink) -> Result<(), Invalid> {
    if finish_payment_link(state, link.meta.id, LinkState::Cancelled) {
        Ok(())
    } else {
        Err(Invalid(
            "Only active payment links can be cancelled.".into(),
        ))
    }
}
