//! Payment links: a link to pay a till an amount, active for seven days, paid on its page or
//! by a scenario, cancelled by its merchant, or expired.

use super::resource::{Documented, Resource};
use super::settle::settle_and_call_back;
use super::transactions::receive_transaction;
use super::{AppState, accept, new_envelope};
use crate::domain::Invalid;
use crate::domain::incoming_payment::{NewIncomingPayment, Subscriber};
use crate::domain::kinds::ResourceKind;
use crate::domain::ledger::{Payer, Transaction, TransactionFacts, TransactionKind};
use crate::domain::metadata::Metadata;
use crate::domain::money::{Amount, Currency};
use crate::domain::payment_link::{LIFETIME_MS, LinkState, PaymentLink};
use crate::domain::phone::PhoneNumber;
use crate::store::{Collection, Store};
use crate::wire::Document;
use crate::wire::payment_links::PaymentLinkAttributes;
use std::sync::Arc;
use uuid::Uuid;

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
    accept(state, link, Some(lifetime));
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
        // Never called: the link calls back (see `prompts::settle_prompt`).
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

/// Ends an active payment link as `to` (Paid, Cancelled or Expired) and calls back. Returns false when
/// the link was not active.
pub fn finish_payment_link(state: &AppState, id: Uuid, to: LinkState) -> bool {
    let mut changed = false;
    settle_and_call_back::<PaymentLink>(
        state,
        id,
        |l| {
            if !matches!(l.state, LinkState::Active) {
                return false;
            }
            l.state = to;
            changed = true;
            true
        },
        |l| Some(l.callback_url.as_str().into()),
    );
    changed
}

/// A customer pays an active payment link: the link reports Paid (and calls back), and the
/// payment is a Buygoods transaction received into the link's till. False if not active.
pub fn pay_payment_link(state: &AppState, link: &PaymentLink, phone: PhoneNumber) -> bool {
    let now_ms = state.clock.now_ms_of(&link.meta.owner);
    let reference = state.ids.mpesa_reference();
    let paid = LinkState::Paid {
        transaction_reference: reference.clone(),
        sender_phone_number: phone.to_string(),
        at_ms: now_ms,
    };
    if !finish_payment_link(state, link.meta.id, paid) {
        return false;
    }
    receive_transaction(
        state,
        Transaction::new(
            state.ids.next_sequence(),
            TransactionFacts {
                id: state.ids.uuid(),
                owner: link.meta.owner.clone(),
                reference,
                till_number: link.till_number.clone(),
                amount: link.amount,
                currency: link.currency,
                originated_at_ms: now_ms,
                kind: TransactionKind::Buygoods(Arc::new(Payer::new(phone, None, None, None))),
                base_url: link.meta.self_url().base().into(),
            },
        ),
    );
    true
}

impl Resource for PaymentLink {
    const KIND: ResourceKind = ResourceKind::PaymentLink;

    fn collection(store: &Store) -> &Collection<Self> {
        &store.payment_links
    }

    fn status(&self) -> &'static str {
        self.state.status()
    }

    /// Still active seven days after creation, it expires.
    fn settle(state: &AppState, id: Uuid) {
        finish_payment_link(state, id, LinkState::Expired);
    }
}

impl Documented for PaymentLink {
    const WHAT: &'static str = "Payment link";
    type Document = Document<PaymentLinkAttributes>;
}
