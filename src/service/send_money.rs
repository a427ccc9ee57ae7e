//! Send money: blind transfers, transfers to the merchant's own accounts and payments to
//! external recipients, from `/api/v2/send_money` and the v1 payments and settlement
//! transfers the Node SDK speaks. A request is planned (every destination validated, so a
//! bad one creates nothing), decided by the script's rules, its money reserved from the
//! source account at once (so concurrent requests never overdraw and outcomes follow request
//! order), recorded and scheduled; the result is revealed when it falls due.

use rust_decimal::Decimal;
use serde_json::Value;

use super::resource::{Documented, Resource};
use super::settle::settle_and_call_back;
use super::{AppState, Refusal, accept, due, imposed_failure, new_envelope};
use crate::domain::kinds::ResourceKind;
use crate::domain::ledger::Account;
use crate::domain::metadata::{Metadata, jsonb_canonical};
use crate::domain::money::{Amount, Currency};
use crate::domain::recipients::{
    ExternalRecipient, MerchantAccount, MerchantAccountKind, RecipientDetails, SettlementMethod,
};
use crate::domain::send_money::{
    Disbursement, Flavor, Payment, SendMoney, SendMoneyState, Shown, destination_amount,
};
use crate::domain::{Invalid, lenient_bool};
use crate::scenarios::rules::{Decision, Endpoint, Facts};
use crate::store::{Collection, Store};
use crate::wire::send_money::DestinationRequest;
use crate::wire::send_money::SendMoneyView;
use uuid::Uuid;

const EXTERNAL: &str = "/api/v2/external_recipients";
const MERCHANT_TYPES: [&str; 2] = ["merchant_wallet", "merchant_bank_account"];
const EXTERNAL_TYPES: [&str; 4] = ["mobile_wallet", "bank_account", "till", "paybill"];

/// `POST /api/v2/send_money`, parsed.
pub struct SendRequest {
    pub source_identifier: Option<String>,
    pub currency: Currency,
    /// The destinations as sent; none: a blind transfer of the whole balance.
    pub destinations: Vec<Value>,
    pub metadata: Option<Metadata>,
    pub callback_url: String,
}

/// `POST /api/v1/payments`, parsed: one payment to a pay recipient.
pub struct PayRequest {
    pub destination_type: &'static str,
    pub destination_reference: Option<String>,
    pub amount: Amount,
    pub currency: Currency,
    pub description: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Value>,
    pub metadata: Option<Metadata>,
    pub callback_url: String,
}

/// `POST /api/v1/settlement_transfers`, parsed: to a merchant account, or blind.
pub struct TransferRequest {
    /// `None`: the whole balance.
    pub requested: Option<Amount>,
    pub currency: Currency,
    pub destination_type: Option<String>,
    pub destination_reference: Option<String>,
    pub callback_url: String,
}

/// A destination validated, before anything is created or debited.
enum Planned {
    Merchant(MerchantAccount),
    External {
        details: RecipientDetails,
        nickname: Option<String>,
        shown: Shown,
    },
}

struct PlannedDestination {
    amount: Decimal,
    planned: Planned,
}

/// What a request asks to send, validated.
enum Plan {
    /// No destination: to the preferred merchant account (or `to`), the whole balance or
    /// `amount`.
    Blind {
        amount: Option<Decimal>,
        to: Option<Box<MerchantAccount>>,
    },
    Destinations(Vec<PlannedDestination>),
}

/// The common parts of a send money request of either API generation.
struct Accepted {
    flavor: Flavor,
    source_identifier: Option<String>,
    currency: Currency,
    destinations: Option<Value>,
    metadata: Option<Metadata>,
    callback_url: String,
    plan: Plan,
}

/// Plans, reserves, records and schedules a v2 request; its URL under `collection`.
pub fn send(
    state: &AppState,
    owner: &str,
    base: &str,
    collection: &str,
    r: SendRequest,
) -> Result<String, Refusal> {
    let planned = plan_destinations(state, owner, &r.destinations)?;
    let own_accounts = planned
        .first()
        .is_none_or(|d| matches!(d.planned, Planned::Merchant(..)));
    let plan = if planned.is_empty() {
        Plan::Blind {
            amount: None,
            to: None,
        }
    } else {
        Plan::Destinations(planned)
    };
    let accepted = Accepted {
        flavor: Flavor::SendMoney,
        source_identifier: r.source_identifier,
        currency: r.currency,
        destinations: (!own_accounts).then(|| jsonb_canonical(&Value::Array(r.destinations))),
        metadata: r.metadata,
        callback_url: r.callback_url,
        plan,
    };
    Ok(record(state, owner, base, collection, accepted))
}

/// A v1 payment to a pay recipient; its URL under `collection`.
pub fn pay(
    state: &AppState,
    owner: &str,
    base: &str,
    collection: &str,
    r: PayRequest,
) -> Result<String, Refusal> {
    let (recipient, destination_reference) = r
        .destination_reference
        .as_deref()
        .and_then(|reference| pay_recipient(state, owner, reference))
        .filter(|(recipient, _)| recipient.details.type_name() == r.destination_type)
        .ok_or_else(|| Invalid("Destination reference is invalid".into()))?;
    let plan = Plan::Destinations(vec![PlannedDestination {
        amount: r.amount.decimal(),
        planned: Planned::External {
            details: recipient.details.clone(),
            nickname: recipient.nickname.clone(),
            shown: Shown::PayRecipient {
                nickname: recipient.nickname.clone(),
            },
        },
    }]);
    let accepted = Accepted {
        flavor: Flavor::Payment(Payment {
            destination_type: r.destination_type.to_string(),
            destination_reference,
            amount: r.amount,
            description: r.description,
            category: r.category,
            tags: r.tags,
        }),
        source_identifier: None,
        currency: r.currency,
        destinations: None,
        metadata: r.metadata,
        callback_url: r.callback_url,
        plan,
    };
    Ok(record(state, owner, base, collection, accepted))
}

/// The pay recipient a payment names, and the reference it was named by: its id (its
/// location's last segment, what the Python and Node SDKs' examples send) or its
/// `recipient_reference`, which Kopo Kopo's guide calls its destination reference (seed 004)
/// and the PHP SDK reads from it.
fn pay_recipient(
    state: &AppState,
    owner: &str,
    reference: &str,
) -> Option<(ExternalRecipient, Uuid)> {
    if let Some(recipient) = state.store.external_recipients.find(reference, owner) {
        let id = recipient.meta.id;
        return Some((recipient, id));
    }
    let wanted = Uuid::parse_str(reference.trim()).ok()?;
    state
        .store
        .external_recipients
        .filter(owner, |r| r.recipient_reference == wanted)
        .into_iter()
        .next()
        .map(|r| (r, wanted))
}

/// A v1 settlement transfer; its URL under `collection`.
pub fn transfer(
    state: &AppState,
    owner: &str,
    base: &str,
    collection: &str,
    r: TransferRequest,
) -> Result<String, Refusal> {
    let to = match r.destination_reference.as_deref() {
        None => None,
        Some(reference) => Some(Box::new(
            state
                .store
                .merchant_accounts
                .find(reference, owner)
                .filter(|a| {
                    r.destination_type
                        .as_deref()
                        .is_none_or(|t| t.trim().is_empty() || a.destination_type() == t.trim())
                })
                .ok_or_else(|| Invalid("Destination reference is invalid".into()))?,
        )),
    };
    let accepted = Accepted {
        flavor: Flavor::SettlementTransfer {
            requested: r.requested,
        },
        source_identifier: None,
        currency: r.currency,
        destinations: None,
        metadata: None,
        callback_url: r.callback_url,
        plan: Plan::Blind {
            amount: r.requested.map(|a| a.decimal()),
            to,
        },
    };
    Ok(record(state, owner, base, collection, accepted))
}

/// Validates every destination first, so a bad one creates nothing.
fn plan_destinations(
    state: &AppState,
    owner: &str,
    raw: &[Value],
) -> Result<Vec<PlannedDestination>, Invalid> {
    let requests: Vec<DestinationRequest> = raw
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value(v.clone())
                .map_err(|e| Invalid(format!("Invalid value for destinations[{i}]: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let kinds: Vec<&str> = requests.iter().filter_map(|d| d.kind.as_deref()).collect();
    if kinds.windows(2).any(|w| w[0] != w[1]) {
        return Err(Invalid("All destinations must be of the same type".into()));
    }
    if let Some(single @ ("till" | "paybill")) = kinds.first().copied()
        && requests.len() > 1
    {
        return Err(Invalid(format!(
            "Only one {single} destination is allowed per request"
        )));
    }
    requests
        .iter()
        .map(|d| plan_destination(state, owner, d))
        .collect()
}

fn plan_destination(
    state: &AppState,
    owner: &str,
    d: &DestinationRequest,
) -> Result<PlannedDestination, Invalid> {
    let kind = crate::domain::required_text(d.kind.as_deref(), "Destination type")?;
    let amount = destination_amount(d.amount.as_ref())?.decimal();
    let planned = if MERCHANT_TYPES.contains(&kind.as_str()) {
        let account = d
            .reference
            .as_deref()
            .and_then(|r| state.store.merchant_accounts.find(r, owner))
            .filter(|a| a.destination_type() == kind)
            .ok_or_else(|| Invalid("Destination reference is invalid".into()))?;
        Planned::Merchant(account)
    } else if EXTERNAL_TYPES.contains(&kind.as_str()) {
        let details = d.fields.recipient(&kind, Some(SettlementMethod::Eft))?;
        let favourite = lenient_bool(d.favourite.as_ref(), "Favourite", false)?;
        let nickname = d.fields.nickname();
        Planned::External {
            shown: Shown::external(&details, nickname.clone(), favourite),
            details,
            nickname,
        }
    } else {
        return Err(Invalid(format!(
            "Destination type {kind} is invalid: use merchant_wallet, merchant_bank_account, \
             mobile_wallet, bank_account, till or paybill"
        )));
    };
    Ok(PlannedDestination { amount, planned })
}

/// Decides, reserves, records and schedules an accepted request; its URL.
fn record(state: &AppState, owner: &str, base: &str, collection: &str, a: Accepted) -> String {
    let source = Account::from_source(a.source_identifier.as_deref());
    let decision = decide(state, owner, &a);
    let meta = new_envelope(state, owner, base, collection);
    let memo = format!("send_money {}", meta.id);
    // A scenario says it fails: nothing is reserved.
    let (disbursements, planned) =
        match imposed_failure(decision.as_ref(), "The transaction could not be completed") {
            Some(failure) => (Vec::new(), Err(failure)),
            None => reserve(state, owner, base, &source, &memo, a.plan),
        };
    let send_money = SendMoney {
        meta,
        flavor: a.flavor,
        source,
        source_identifier: a.source_identifier,
        currency: a.currency,
        destinations: a.destinations,
        disbursements,
        metadata: a.metadata,
        callback_url: a.callback_url,
        planned,
        state: SendMoneyState::Pending,
    };
    tracing::debug!(id = %send_money.meta.id, total = %send_money.total(), ok = send_money.planned.is_ok(), "send money accepted");
    let self_url = send_money.meta.self_url().to_string();
    let due = due(state, decision.as_ref());
    accept(state, send_money, due);
    self_url
}

/// A scenario rule's decision for this request, if one matches.
fn decide(state: &AppState, owner: &str, a: &Accepted) -> Option<Decision> {
    let (destination_types, destination_references, amount) = match &a.plan {
        Plan::Blind { amount, to } => (
            vec![
                to.as_ref()
                    .map_or("merchant_bank_account", |t| t.destination_type()),
            ],
            to.iter().map(|t| t.meta.id.to_string()).collect(),
            *amount,
        ),
        Plan::Destinations(planned) => (
            planned
                .iter()
                .map(|d| match &d.planned {
                    Planned::Merchant(account) => account.destination_type(),
                    Planned::External { details, .. } => details.type_name(),
                })
                .collect(),
            planned
                .iter()
                .filter_map(|d| match &d.planned {
                    Planned::Merchant(account) => Some(account.meta.id.to_string()),
                    Planned::External { .. } => None,
                })
                .collect(),
            Some(planned.iter().map(|d| d.amount).sum()),
        ),
    };
    state.scenarios.rules.decide(
        Endpoint::SendMoney,
        &Facts {
            client_id: owner,
            till_number: a.source_identifier.as_deref(),
            amount,
            destination_types,
            destination_references,
            metadata: a.metadata.as_ref(),
            ..Facts::default()
        },
    )
}

/// Reserves the money a plan needs from `source` and lays out its disbursements; the `Err`
/// is the failure the result will report.
fn reserve(
    state: &AppState,
    owner: &str,
    base: &str,
    source: &Account,
    memo: &str,
    plan: Plan,
) -> (Vec<Disbursement>, Result<(), String>) {
    let ledger = &state.store.ledger;
    match plan {
        Plan::Blind { amount, to } => {
            let Some(account) = to.map(|a| *a).or_else(|| preferred_account(state, owner)) else {
                return (
                    Vec::new(),
                    Err(
                        "No settlement account is linked to your company: add a merchant \
                         wallet or bank account first"
                            .to_string(),
                    ),
                );
            };
            let taken = match amount {
                Some(a) => ledger.debit(owner, source, a, memo).map(|()| a),
                None => ledger.sweep(owner, source, memo),
            };
            match taken {
                Ok(a) => (vec![merchant_disbursement(state, &account, a)], Ok(())),
                Err(e) => (Vec::new(), Err(e.to_string())),
            }
        }
        Plan::Destinations(planned) => {
            let disbursements: Vec<Disbursement> = planned
                .into_iter()
                .map(|d| match d.planned {
                    Planned::Merchant(account) => merchant_disbursement(state, &account, d.amount),
                    Planned::External {
                        details,
                        nickname,
                        shown,
                    } => external_disbursement(
                        state, owner, base, details, nickname, shown, d.amount,
                    ),
                })
                .collect();
            let total = disbursements.iter().map(|d| d.amount).sum();
            let outcome = ledger
                .debit(owner, source, total, memo)
                .map_err(|e| e.to_string());
            (disbursements, outcome)
        }
    }
}

/// The merchant account a blind transfer settles to: the first one added, if any.
fn preferred_account(state: &AppState, owner: &str) -> Option<MerchantAccount> {
    let mut accounts = state.store.merchant_accounts.filter(owner, |_| true);
    accounts.sort_by_key(|a| a.meta.sequence);
    accounts.into_iter().next()
}

fn merchant_disbursement(
    state: &AppState,
    account: &MerchantAccount,
    amount: Decimal,
) -> Disbursement {
    let transaction_reference = match &account.kind {
        MerchantAccountKind::Wallet { .. } => Some(state.ids.mpesa_reference()),
        MerchantAccountKind::Bank(bank) => {
            (bank.settlement_method == SettlementMethod::Rts).then(|| state.ids.mpesa_reference())
        }
    };
    Disbursement {
        amount,
        destination_type: account.destination_type(),
        destination_reference: account.meta.id,
        transaction_reference,
        shown: Shown::merchant(account),
    }
}

/// Reuses the recipient if this destination exists already, else creates it.
fn external_disbursement(
    state: &AppState,
    owner: &str,
    base: &str,
    details: RecipientDetails,
    nickname: Option<String>,
    shown: Shown,
    amount: Decimal,
) -> Disbursement {
    let existing = state
        .store
        .external_recipients
        .filter(owner, |r| r.details.same_destination(&details))
        .into_iter()
        .min_by_key(|r| r.meta.sequence);
    let destination_type = details.type_name();
    let eft = matches!(&details, RecipientDetails::BankAccount(b) if b.settlement_method == SettlementMethod::Eft);
    let reference = match existing {
        Some(r) => r.meta.id,
        None => {
            let recipient = ExternalRecipient {
                meta: new_envelope(state, owner, base, EXTERNAL),
                nickname,
                details,
                recipient_reference: state.ids.uuid(),
            };
            let id = recipient.meta.id;
            state.store.external_recipients.insert(recipient);
            id
        }
    };
    Disbursement {
        amount,
        destination_type,
        destination_reference: reference,
        transaction_reference: (!eft).then(|| state.ids.mpesa_reference()),
        shown,
    }
}

impl Resource for SendMoney {
    const KIND: ResourceKind = ResourceKind::SendMoney;

    fn collection(store: &Store) -> &Collection<Self> {
        &store.send_money
    }

    fn status(&self) -> &'static str {
        self.state.status()
    }

    fn settle(state: &AppState, id: Uuid) {
        settle_and_call_back::<Self>(
            state,
            id,
            |s| s.settle(state.clock.now_ms_of(&s.meta.owner)),
            |s| Some(s.callback_url.as_str().into()),
        );
    }
}

impl Documented for SendMoney {
    const WHAT: &'static str = "Send money request";
    type Document = SendMoneyView;
}
