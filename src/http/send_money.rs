//! `POST /api/v2/send_money` and `GET /api/v2/send_money/{id}`: blind transfers, transfers
//! to the merchant's own accounts, and payments to external recipients.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{accept_pending_after, show};
use crate::domain::Verdict;
use crate::domain::ledger::Account;
use crate::domain::metadata::{Metadata, js_canonical, jsonb_canonical};
use crate::domain::money::Currency;
use crate::domain::recipients::{
    ExternalRecipient, MerchantAccount, MerchantAccountKind, RecipientDetails, SettlementMethod,
};
use crate::domain::send_money::{
    Disbursement, Flavor, SendMoney, SendMoneyState, destination_amount,
};
use crate::domain::{Invalid, lenient_bool, optional_text};
use crate::scheduler::Settle;
use crate::script::rules::{Decision, Endpoint, Facts};
use crate::service::AppState;
use crate::service::new_envelope;
use crate::wire::callback_url_of;
use crate::wire::send_money::{
    DestinationRequest, PaymentRequest, SendMoneyRequest, SendMoneyView, SettlementTransferRequest,
};

const COLLECTION: &str = "/api/v2/send_money";
const PAYMENTS: &str = "/api/v1/payments";
const SETTLEMENT_TRANSFERS: &str = "/api/v1/settlement_transfers";
const EXTERNAL: &str = "/api/v2/external_recipients";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(COLLECTION, post(create))
        .route("/api/v2/send_money/{id}", get(find))
        .route(PAYMENTS, post(create_payment))
        .route("/api/v1/payments/{id}", get(find))
        .route(SETTLEMENT_TRANSFERS, post(create_settlement_transfer))
        .route("/api/v1/settlement_transfers/{id}", get(find))
}

/// A destination validated, before anything is created or debited.
enum Planned {
    Merchant(MerchantAccount, Map<String, Value>),
    External {
        details: RecipientDetails,
        nickname: Option<String>,
        shown: Map<String, Value>,
    },
}

struct PlannedDestination {
    amount: rust_decimal::Decimal,
    planned: Planned,
}

const MERCHANT_TYPES: [&str; 2] = ["merchant_wallet", "merchant_bank_account"];
const EXTERNAL_TYPES: [&str; 4] = ["mobile_wallet", "bank_account", "till", "paybill"];

fn plan_destination(
    state: &AppState,
    owner: &str,
    d: &DestinationRequest,
) -> Result<PlannedDestination, Invalid> {
    let kind = crate::domain::required_text(d.kind.as_deref(), "Destination type")?;
    let amount = destination_amount(d.amount.as_ref())?.decimal();
    let nickname = d.fields.nickname();
    let planned = if MERCHANT_TYPES.contains(&kind.as_str()) {
        let account = d
            .reference
            .as_deref()
            .and_then(|r| state.store.merchant_accounts.find(r, owner))
            .filter(|a| a.destination_type() == kind)
            .ok_or_else(|| Invalid("Destination reference is invalid".into()))?;
        let mut shown = Map::new();
        shown.insert("nickname".into(), json!(account.nickname));
        match &account.kind {
            MerchantAccountKind::Wallet { wallet, .. } => {
                shown.insert("phone_number".into(), json!(wallet.phone.to_string()));
            }
            MerchantAccountKind::Bank(bank) => {
                shown.insert("account_name".into(), json!(bank.account_name));
                shown.insert("account_number".into(), json!(bank.account_number));
            }
        }
        Planned::Merchant(account, shown)
    } else if EXTERNAL_TYPES.contains(&kind.as_str()) {
        let details = d.fields.recipient(&kind, Some(SettlementMethod::Eft))?;
        let favourite = lenient_bool(d.favourite.as_ref(), "Favourite", false)?;
        let mut shown = Map::new();
        shown.insert("nickname".into(), json!(nickname));
        shown.insert("favourite".into(), json!(favourite));
        match &details {
            RecipientDetails::MobileWallet { wallet, .. } => {
                shown.insert("phone_number".into(), json!(wallet.phone_as_sent));
            }
            RecipientDetails::BankAccount(bank) => {
                shown.insert("account_name".into(), json!(bank.account_name));
                shown.insert("account_number".into(), json!(bank.account_number));
                shown.insert("bank_branch_ref".into(), json!(bank.bank_branch_ref));
            }
            RecipientDetails::Till { till_number, .. } => {
                shown.insert("till_number".into(), json!(till_number));
            }
            RecipientDetails::Paybill {
                paybill_number,
                paybill_account_number,
                ..
            } => {
                shown.insert("paybill_number".into(), json!(paybill_number));
                shown.insert(
                    "paybill_account_number".into(),
                    json!(paybill_account_number),
                );
            }
        }
        Planned::External {
            details,
            nickname,
            shown,
        }
    } else {
        return Err(Invalid(format!(
            "Destination type {kind} is invalid: use merchant_wallet, merchant_bank_account, \
             mobile_wallet, bank_account, till or paybill"
        )));
    };
    Ok(PlannedDestination { amount, planned })
}

/// Validates every destination first, so a bad one creates nothing.
fn plan_destinations(
    state: &AppState,
    owner: &str,
    raw: &[Value],
) -> Result<Vec<PlannedDestination>, ApiError> {
    let requests: Vec<DestinationRequest> = raw
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value(v.clone()).map_err(|e| {
                ApiError::BadRequest(format!("Invalid value for destinations[{i}]: {e}"))
            })
        })
        .collect::<Result<_, _>>()?;
    let kinds: Vec<&str> = requests.iter().filter_map(|d| d.kind.as_deref()).collect();
    if kinds.windows(2).any(|w| w[0] != w[1]) {
        return Err(ApiError::BadRequest(
            "All destinations must be of the same type".into(),
        ));
    }
    if let Some(single @ ("till" | "paybill")) = kinds.first().copied() {
        if requests.len() > 1 {
            return Err(ApiError::BadRequest(format!(
                "Only one {single} destination is allowed per request"
            )));
        }
    }
    Ok(requests
        .iter()
        .map(|d| plan_destination(state, owner, d))
        .collect::<Result<_, _>>()?)
}

/// The merchant account a blind transfer settles to: the first one added, if any.
fn preferred_account(state: &AppState, owner: &str) -> Option<MerchantAccount> {
    let mut accounts = state.store.merchant_accounts.filter(owner, |_| true);
    accounts.sort_by_key(|a| a.meta.sequence);
    accounts.into_iter().next()
}

/// What a request asks to send, validated.
enum Plan {
    /// No destination: to the preferred merchant account (or `to`), the whole balance or
    /// `amount`.
    Blind {
        amount: Option<rust_decimal::Decimal>,
        to: Option<Box<MerchantAccount>>,
    },
    Destinations(Vec<PlannedDestination>),
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
                    Planned::Merchant(account, shown) => {
                        let mut disbursement = merchant_disbursement(state, &account, d.amount);
                        disbursement.details = shown;
                        disbursement
                    }
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

/// Reserves, records and schedules a request: `201` with its `Location` under `collection`.
fn accept(state: &AppState, owner: &str, base: &str, collection: &str, a: Accepted) -> Response {
    let source = Account::from_source(a.source_identifier.as_deref());
    let decision = decide(state, owner, &a);
    let meta = new_envelope(state, owner, base, collection);
    let memo = format!("send_money {}", meta.id);
    let (disbursements, planned) = match decision.as_ref().map(|d| &d.verdict) {
        // A scenario says it fails: nothing is reserved.
        Some(Verdict::Failure(error)) => (
            Vec::new(),
            Err(error
                .clone()
                .unwrap_or_else(|| "The transaction could not be completed".into())),
        ),
        _ => reserve(state, owner, base, &source, &memo, a.plan),
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
    tracing::info!(id = %send_money.meta.id, total = %send_money.total(), ok = send_money.planned.is_ok(), "send money accepted");
    let self_url = send_money.meta.self_url.clone();
    let delay = match decision {
        Some(Decision {
            verdict: Verdict::Pending,
            ..
        }) => None,
        Some(Decision { delay: Some(d), .. }) => Some(d),
        _ => Some(state.settings.callback_delay),
    };
    accept_pending_after(
        state,
        &state.store.send_money,
        send_money,
        &self_url,
        Settle::SendMoney,
        delay,
    )
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
                    Planned::Merchant(account, _) => account.destination_type(),
                    Planned::External { details, .. } => details.type_name(),
                })
                .collect(),
            planned
                .iter()
                .filter_map(|d| match &d.planned {
                    Planned::Merchant(account, _) => Some(account.meta.id.to_string()),
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
            metadata: a.metadata.as_ref().map(|m| m.entries()),
            ..Facts::default()
        },
    )
}

fn currency_or_kes(value: Option<&str>) -> Result<Currency, Invalid> {
    match value.map(str::trim) {
        None | Some("") => Ok(Currency::Kes),
        Some(c) => Currency::parse(Some(c)),
    }
}

async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<SendMoneyRequest>,
) -> Result<Response, ApiError> {
    let owner = auth.client_id.as_str();
    let currency = currency_or_kes(body.currency.as_deref())?;
    let metadata = Metadata::parse(body.metadata.as_ref())?;
    let callback_url = callback_url_of(body.links.as_ref())?;
    let raw = match &body.destinations {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => {
            return Err(ApiError::BadRequest("Destinations must be an array".into()));
        }
    };
    let planned = plan_destinations(&state, owner, &raw)?;
    let own_accounts = planned.is_empty() || matches!(planned[0].planned, Planned::Merchant(..));
    let plan = if planned.is_empty() {
        Plan::Blind {
            amount: None,
            to: None,
        }
    } else {
        Plan::Destinations(planned)
    };
    Ok(accept(
        &state,
        owner,
        &base,
        COLLECTION,
        Accepted {
            flavor: Flavor::SendMoney,
            source_identifier: optional_text(body.source_identifier.as_deref()),
            currency,
            destinations: (!own_accounts).then(|| jsonb_canonical(&Value::Array(raw))),
            metadata,
            callback_url,
            plan,
        },
    ))
}

/// `POST /api/v1/payments`: one payment to a pay recipient.
async fn create_payment(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<PaymentRequest>,
) -> Result<Response, ApiError> {
    let owner = auth.client_id.as_str();
    let destination_type = crate::domain::recipients::recipient_type(
        body.destination_type.as_deref(),
    )
    .map_err(|_| {
        Invalid("Destination type must be mobile_wallet, bank_account, till or paybill".into())
    })?;
    let amount_request = body.amount.as_ref();
    let currency = currency_or_kes(amount_request.and_then(|a| a.currency.as_deref()))?;
    let amount = destination_amount(amount_request.and_then(|a| a.value.as_ref()))?;
    let recipient = body
        .destination_reference
        .as_deref()
        .and_then(|r| state.store.external_recipients.find(r, owner))
        .filter(|r| r.details.type_name() == destination_type)
        .ok_or_else(|| Invalid("Destination reference is invalid".into()))?;
    let metadata = Metadata::parse(body.metadata.as_ref())?;
    let callback_url = callback_url_of(body.links.as_ref())?;
    let mut shown = Map::new();
    shown.insert("nickname".into(), json!(recipient.nickname));
    let plan = Plan::Destinations(vec![PlannedDestination {
        amount: amount.decimal(),
        planned: Planned::External {
            details: recipient.details.clone(),
            nickname: recipient.nickname.clone(),
            shown,
        },
    }]);
    Ok(accept(
        &state,
        owner,
        &base,
        PAYMENTS,
        Accepted {
            flavor: Flavor::Payment {
                destination_type: destination_type.to_string(),
                destination_reference: recipient.meta.id,
                amount,
                description: optional_text(body.description.as_deref()),
                category: optional_text(body.category.as_deref()),
                tags: body
                    .tags
                    .clone()
                    .filter(|t| !t.is_null())
                    .map(|t| js_canonical(&t)),
            },
            source_identifier: None,
            currency,
            destinations: None,
            metadata,
            callback_url,
            plan,
        },
    ))
}

/// `POST /api/v1/settlement_transfers`: to a merchant account, or blind.
async fn create_settlement_transfer(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<SettlementTransferRequest>,
) -> Result<Response, ApiError> {
    let owner = auth.client_id.as_str();
    let amount_request = body.amount.as_ref();
    let currency = currency_or_kes(amount_request.and_then(|a| a.currency.as_deref()))?;
    let requested = match amount_request.and_then(|a| a.value.as_ref()) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(v) => Some(destination_amount(Some(v))?),
    };
    let to = match optional_text(body.destination_reference.as_deref()) {
        None => None,
        Some(reference) => Some(Box::new(
            state
                .store
                .merchant_accounts
                .find(&reference, owner)
                .filter(|a| {
                    body.destination_type
                        .as_deref()
                        .is_none_or(|t| t.trim().is_empty() || a.destination_type() == t.trim())
                })
                .ok_or_else(|| Invalid("Destination reference is invalid".into()))?,
        )),
    };
    let callback_url = callback_url_of(body.links.as_ref())?;
    Ok(accept(
        &state,
        owner,
        &base,
        SETTLEMENT_TRANSFERS,
        Accepted {
            flavor: Flavor::SettlementTransfer { requested },
            source_identifier: None,
            currency,
            destinations: None,
            metadata: None,
            callback_url,
            plan: Plan::Blind {
                amount: requested.map(|a| a.decimal()),
                to,
            },
        },
    ))
}

fn merchant_disbursement(
    state: &AppState,
    account: &MerchantAccount,
    amount: rust_decimal::Decimal,
) -> Disbursement {
    let (transaction_reference, details) = match &account.kind {
        MerchantAccountKind::Wallet { wallet, .. } => (
            Some(state.ids.mpesa_reference()),
            Map::from_iter([
                ("nickname".into(), json!(account.nickname)),
                ("phone_number".into(), json!(wallet.phone.to_string())),
            ]),
        ),
        MerchantAccountKind::Bank(bank) => (
            (bank.settlement_method == SettlementMethod::Rts).then(|| state.ids.mpesa_reference()),
            Map::from_iter([
                ("nickname".into(), json!(account.nickname)),
                ("account_name".into(), json!(bank.account_name)),
                ("account_number".into(), json!(bank.account_number)),
            ]),
        ),
    };
    Disbursement {
        amount,
        destination_type: account.destination_type(),
        destination_reference: account.meta.id,
        transaction_reference,
        details,
    }
}

/// Reuses the recipient if this destination exists already, else creates it.
fn external_disbursement(
    state: &AppState,
    owner: &str,
    base: &str,
    details: RecipientDetails,
    nickname: Option<String>,
    shown: Map<String, Value>,
    amount: rust_decimal::Decimal,
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
        details: shown,
    }
}

async fn find(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show::<_, SendMoneyView>(
        &state,
        &state.store.send_money,
        &id,
        &auth.client_id,
        "Send money request",
    )
}
