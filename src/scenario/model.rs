//! The YAML scenario format, as serde types. Unknown keys are errors; every value that can be
//! wrong is parsed by a newtype here, so the YAML parser reports the file's line and column
//! and `serde_path_to_error` the field, for every problem.

use serde::{Deserialize, Serialize};

use crate::domain::delivery::ProbeKind;
use crate::scenarios::expect::ExpectSpec;
use crate::scenarios::spec::{
    CallbackFaultSpec, Fault, HandsetAnswer, HandsetBehaviour, Money, Phone, RuleSpec, Span, Topic,
    Url,
};

/// One scenario document. A file may hold several, separated by `---`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub world: World,
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    #[serde(default)]
    pub faults: Vec<Fault>,
    #[serde(default)]
    pub callback_faults: Vec<CallbackFaultSpec>,
    #[serde(default)]
    pub probes: Vec<ProbeSpec>,
    #[serde(default)]
    pub timeline: Vec<Moment>,
    /// What must have happened by the time it is verified (`k2-sandbox run`, `verify`).
    #[serde(default)]
    pub expect: Vec<ExpectSpec>,
    /// Filled in by `parse`, for problems found later.
    #[serde(skip)]
    pub origin: super::problems::Origin,
    /// Filled in by `parse`: what is written in an older spelling that still works (an alias
    /// for a resource, a duration without its unit), with the canonical word.
    #[serde(skip)]
    pub notes: Vec<super::problems::Problem>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<ApplicationSpec>,
    /// Tills with their names (shown as `till_name`) and starting balances.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tills: Vec<TillSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub balances: Vec<BalanceSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merchant_wallets: Vec<MerchantWalletSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merchant_bank_accounts: Vec<MerchantBankSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_recipients: Vec<RecipientSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_subscriptions: Vec<SubscriptionSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transactions: Vec<TransactionSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handsets: Vec<HandsetSpec>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationSpec {
    pub client_id: String,
    /// With `api_key`: the application's credentials. Both left out: the application this
    /// sandbox already has (an export leaves credentials out unless asked for them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TillSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub till_number: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<Money>,
}

/// An external recipient, in the API's request shape (`type` plus its fields).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub fields: crate::domain::recipients::RecipientFields,
}

/// A starting balance: the company account, or a till's.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Absent: the company account (`source_identifier: null`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub till_number: Option<String>,
    pub balance: Money,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantWalletSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub phone_number: Phone,
    pub network: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantBankSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub account_name: String,
    pub bank_branch_ref: String,
    pub account_number: String,
    pub settlement_method: SettlementMethodSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
pub enum SettlementMethodSpec {
    #[serde(rename = "EFT")]
    Eft,
    #[serde(rename = "RTS")]
    Rts,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub event_type: Topic,
    pub url: Url,
    pub scope: ScopeSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_reference: Option<String>,
    #[serde(default)]
    pub enable_daraja_payload: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeSpec {
    Company,
    Till,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKindSpec {
    Buygoods,
    B2b,
}

/// A transaction received before the scenario starts (for polling, reversals, SMS).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: TransactionKindSpec,
    pub till_number: String,
    pub amount: Money,
    /// How long before the scenario starts it was received, e.g. `2d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ago: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<Phone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sending_till: Option<String>,
    /// Whether it credits its till (the default). An exported world says `false`: its
    /// balances already hold what its transactions brought in.
    #[serde(default = "yes")]
    pub credit: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HandsetSpec {
    pub phone_number: Phone,
    pub behaviour: HandsetBehaviour,
    /// Only this application's prompts; absent: every application's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// Something that happens at a time after the scenario is loaded, on its application's clock.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moment {
    pub at: Span,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Real-world activity, with the fields of `POST /_sandbox/events`.
    #[serde(default)]
    pub event: Option<EventSpec>,
    /// A customer answers their latest STK prompt.
    #[serde(default)]
    pub answer: Option<AnswerSpec>,
    /// A customer pays the till's latest active payment link.
    #[serde(default)]
    pub pay_link: Option<PayLinkSpec>,
    /// The clock jumps forward by this much: the application's clock when `client_id` is
    /// set, otherwise everyone's. What falls due runs, in due order.
    #[serde(default)]
    pub jump: Option<Span>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayLinkSpec {
    pub till_number: String,
    pub phone_number: Phone,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    #[serde(rename = "type")]
    pub topic: Topic,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub till_number: Option<String>,
    #[serde(default)]
    pub amount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<Phone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default)]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sending_till: Option<String>,
    #[serde(default)]
    pub transaction: Option<String>,
    #[serde(default)]
    pub card_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sending_merchant: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSpec {
    pub phone_number: Phone,
    pub answer: HandsetAnswer,
}

/// Deliveries that test the receiving app's own signature checking.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    /// The app's webhook receiver: absolute http(s).
    pub url: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// When to send them (default: at once).
    #[serde(default)]
    pub at: Option<Span>,
    /// Which probes (default: all).
    #[serde(default)]
    pub kinds: Option<Vec<ProbeKind>>,
}
