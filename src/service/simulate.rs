//! Real-world activity the sandbox can simulate on demand (control plane, CLI, scenarios):
//! payments into a till from subscribers and other tills, their reversals, settlement
//! transfers, new customers and card payments. Each fires its webhook event to every matching
//! subscription, and the payments move money in the ledger.

use std::sync::Arc;

use uuid::Uuid;

use crate::domain::Invalid;
use crate::domain::activity::{Activity, DEFAULT_AMOUNT};
use crate::domain::ledger::{
    Account, Payer, Transaction, TransactionFacts, TransactionKind, TransactionStatus,
};
use crate::domain::money::{Amount, Currency, format_amount};
use crate::domain::recipients::{
    BankAccount, MerchantAccount, MerchantAccountKind, SettlementMethod,
};
use crate::domain::self_url::UrlPrefix;
use crate::domain::webhooks::{EventPayload, EventType, RenderedEvent, WebhookEvent};
use crate::service::AppState;
use crate::service::transactions::{emit, emit_transaction_event, receive_transaction};
use crate::wire::webhooks::{
    CardFields, EventFrame, card_payload, customer_payload, m2m_payload, settlement_payload,
};

/// What happened: the webhook event's id, and the resource it is about.
#[derive(Debug, Clone)]
pub struct Simulated {
    pub event_id: Uuid,
    pub resource_id: Uuid,
}

pub fn simulate(state: &AppState, a: &Activity) -> Result<Simulated, Invalid> {
    let amount = a.amount.map_or_else(
        || rust_decimal::Decimal::from(DEFAULT_AMOUNT),
        Amount::decimal,
    );
    match a.topic {
        EventType::BuygoodsTransactionReceived | EventType::B2bTransactionReceived => {
            let tx = new_transaction(state, a, a.topic == EventType::B2bTransactionReceived)?;
            let resource_id = tx.id();
            let event_id = receive_transaction(state, tx);
            Ok(Simulated {
                event_id,
                resource_id,
            })
        }
        EventType::BuygoodsTransactionReversed | EventType::B2bTransactionReversed => {
            reverse(state, a, a.topic == EventType::B2bTransactionReversed)
        }
        EventType::SettlementTransferCompleted => settle(state, a, amount),
        EventType::M2mTransactionReceived => m2m(state, a, amount),
        EventType::CustomerCreated => {
            let (event_id, customer_id) = frame(state, a, |frame| {
                let customer = serde_json::json!({
                    "last_name": a.last_name,
                    "first_name": a.first_name,
                    "middle_name": a.middle_name,
                    "phone_number": a.phone_number.to_string(),
                });
                let id = state.ids.uuid();
                (customer_payload(frame, id, &customer), id)
            });
            Ok(Simulated {
                event_id,
                resource_id: customer_id,
            })
        }
        EventType::CardTransactionReceived
        | EventType::CardTransactionVoided
        | EventType::CardTransactionReversed => {
            let reference = format!("CARD{}", state.ids.mpesa_reference());
            let (event_id, resource_id) = frame(state, a, |frame| {
                let id = state.ids.uuid();
                let fields = CardFields {
                    amount: &format_amount(amount),
                    reference: &reference,
                    till_number: &a.till_number,
                    card_number: &a.card_number,
                };
                (card_payload(frame, a.topic, id, fields), id)
            });
            Ok(Simulated {
                event_id,
                resource_id,
            })
        }
    }
}

/// Builds an event with `payload` and emits it; returns (event id, resource id).
fn frame(
    state: &AppState,
    a: &Activity,
    payload: impl FnOnce(&EventFrame<'_>) -> (serde_json::Value, Uuid),
) -> (Uuid, Uuid) {
    let id = state.ids.uuid();
    let now_ms = state.clock.now_ms_of(&a.owner);
    let frame = EventFrame {
        id,
        created_at_ms: now_ms,
        base_url: &a.base_url,
    };
    let (body, resource_id) = payload(&frame);
    emit(
        state,
        WebhookEvent {
            id,
            sequence: state.ids.next_sequence(),
            topic: a.topic,
            payload: EventPayload::Rendered(Box::new(RenderedEvent {
                owner: state.store.owner(&a.owner),
                created_at_ms: now_ms,
                url: UrlPrefix::new(&a.base_url, crate::domain::webhooks::COLLECTION),
                text: super::transactions::raw(&body),
                till_number: matches!(
                    a.topic,
                    EventType::CardTransactionReceived
                        | EventType::CardTransactionVoided
                        | EventType::CardTransactionReversed
                )
                .then(|| a.till_number.as_str().into()),
            })),
        },
        || None,
    );
    (id, resource_id)
}

fn new_transaction(state: &AppState, a: &Activity, b2b: bool) -> Result<Transaction, Invalid> {
    let amount = a
        .amount
        .map_or_else(|| Amount::parse(Some(&DEFAULT_AMOUNT.into()), "Amount"), Ok)?;
    Ok(Transaction::new(
        state.ids.next_sequence(),
        TransactionFacts {
            id: state.ids.uuid(),
            owner: state.store.owner(&a.owner),
            reference: state.ids.mpesa_reference(),
            till_number: a.till_number.clone(),
            amount,
            currency: Currency::Kes,
            originated_at_ms: state.clock.now_ms_of(&a.owner),
            base_url: a.base_url.as_str().into(),
            kind: if b2b {
                TransactionKind::B2b {
                    sending_till: a.sending_till.clone(),
                }
            } else {
                TransactionKind::Buygoods(std::sync::Arc::new(Payer::new(
                    a.phone_number,
                    a.first_name.as_deref(),
                    a.middle_name.as_deref(),
                    a.last_name.as_deref(),
                )))
            },
        },
    ))
}

/// Reverses a received transaction (named, or a new one): the till pays the money back.
/// The transaction a reversal names (by id or M-PESA reference), or a new one received now
/// when it names none.
fn to_reverse(state: &AppState, a: &Activity, b2b: bool) -> Result<Transaction, Invalid> {
    let Some(reference) = &a.transaction else {
        let tx = new_transaction(state, a, b2b)?;
        receive_transaction(state, tx.clone());
        return Ok(tx);
    };
    state
        .store
        .transactions
        .find(reference, &a.owner)
        .or_else(|| {
            state
                .store
                .transactions
                .filter(&a.owner, |t| t.reference().eq_ignore_ascii_case(reference))
                .into_iter()
                .next()
        })
        .filter(|t| t.is_buygoods() != b2b)
        .ok_or_else(|| {
            let kind = if b2b { "b2b" } else { "buygoods" };
            Invalid(format!(
                "No received {kind} transaction {reference} in this application: trigger \
                 {kind} first and pass the reference it prints (or its id), or leave out the \
                 transaction to reverse a new one"
            ))
        })
}

fn reverse(state: &AppState, a: &Activity, b2b: bool) -> Result<Simulated, Invalid> {
    let tx = to_reverse(state, a, b2b)?;
    let reversible = state
        .store
        .transactions
        .update(tx.id(), |t| {
            let ok = t.status == TransactionStatus::Received;
            if ok {
                t.status = TransactionStatus::Reversed;
            }
            ok
        })
        .unwrap_or(false);
    if !reversible {
        return Err(Invalid(
            "The transaction is not in a state that can be reversed".into(),
        ));
    }
    let till = Account::Till(tx.till_number().into());
    if let Err(e) = state.store.ledger.debit(
        tx.owner_id(),
        &till,
        tx.amount().decimal(),
        &format!("transaction {} reversed", tx.reference()),
    ) {
        state
            .store
            .transactions
            .update(tx.id(), |t| t.status = TransactionStatus::Received);
        return Err(Invalid(e.to_string()));
    }
    let now_ms = state.clock.now_ms_of(tx.owner_id());
    let mut reversed = tx.clone();
    reversed.status = TransactionStatus::Reversed;
    let event_id = emit_transaction_event(state, Arc::new(reversed), Some((now_ms, &a.base_url)));
    Ok(Simulated {
        event_id,
        resource_id: tx.id(),
    })
}

/// Another merchant pays into the company account (as a settlement is paid out of it).
fn m2m(
    state: &AppState,
    a: &Activity,
    amount: rust_decimal::Decimal,
) -> Result<Simulated, Invalid> {
    let (event_id, batch_id) = frame(state, a, |frame| {
        let id = state.ids.uuid();
        let amount = format_amount(amount);
        (m2m_payload(frame, id, &amount, &a.sending_merchant), id)
    });
    state.store.ledger.credit(
        &a.owner,
        &Account::Company,
        amount,
        &format!("m2m transaction from {} received", a.sending_merchant),
    );
    Ok(Simulated {
        event_id,
        resource_id: batch_id,
    })
}

/// Moves money from the company account to the first merchant account; an application
/// with none gets a default merchant bank account to settle to (a real one, readable at its
/// `self` URL), so that a settlement can be triggered on a fresh sandbox.
fn settle(
    state: &AppState,
    a: &Activity,
    amount: rust_decimal::Decimal,
) -> Result<Simulated, Invalid> {
    let mut accounts = state.store.merchant_accounts.filter(&a.owner, |_| true);
    accounts.sort_by_key(|m| m.meta.sequence);
    let account = match accounts.into_iter().next() {
        Some(account) => account,
        None => default_settlement_account(state, a),
    };
    state
        .store
        .ledger
        .debit(&a.owner, &Account::Company, amount, "settlement transfer")
        .map_err(|e| Invalid(e.to_string()))?;
    let (destination, reference) = match &account.kind {
        MerchantAccountKind::Wallet {
            first_name,
            last_name,
            wallet,
        } => (
            serde_json::json!({"type": "Mobile Wallet", "resource": {
                "reference": account.meta.id, "first_name": first_name, "last_name": last_name,
                "email": null, "phone_number": wallet.phone.to_string(), "network": wallet.network}}),
            Some(state.ids.mpesa_reference()),
        ),
        MerchantAccountKind::Bank(bank) => (
            serde_json::json!({"type": "Bank Account", "resource": {
                "reference": account.meta.id, "account_name": bank.account_name,
                "account_number": bank.account_number, "bank_branch_ref": bank.bank_branch_ref,
                "settlement_method": bank.settlement_method.as_str()}}),
            (bank.settlement_method == SettlementMethod::Rts).then(|| state.ids.mpesa_reference()),
        ),
    };
    let (event_id, resource_id) = frame(state, a, |frame| {
        let id = state.ids.uuid();
        (
            settlement_payload(
                frame,
                id,
                reference.as_deref(),
                &format_amount(amount),
                destination,
            ),
            id,
        )
    });
    Ok(Simulated {
        event_id,
        resource_id,
    })
}

/// The merchant bank account a settlement goes to when the application added none.
fn default_settlement_account(state: &AppState, a: &Activity) -> MerchantAccount {
    let account = MerchantAccount {
        meta: crate::service::new_envelope(
            state,
            &a.owner,
            &a.base_url,
            "/api/v2/merchant_bank_accounts",
        ),
        nickname: Some("Sandbox settlement account".into()),
        kind: MerchantAccountKind::Bank(BankAccount {
            account_name: "Sandbox Merchant".into(),
            bank_branch_ref: "633aa26c-7b7c-4091-ae28-96c0687cf886".into(),
            account_number: "0000000000".into(),
            settlement_method: SettlementMethod::Eft,
        }),
    };
    state.store.merchant_accounts.insert(account.clone());
    account
}
