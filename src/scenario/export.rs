//! The running sandbox's world written as a scenario file that loads back into the same
//! world: applications, tills, balances, merchant accounts, external recipients, webhook
//! subscriptions, handsets and the transactions received. What a scenario cannot say (STK
//! pushes, payments, deliveries, the journal) is left out, as are ids: loading makes new ones.
//! Applications' credentials are written only when asked for: an exported file ends up in
//! repositories and CI artifacts, and on a shared sandbox they are other jobs' secrets. Left
//! out, an application loads back into a sandbox that has it (a reset keeps applications).

use super::model::{
    ApplicationSpec, BalanceSpec, HandsetSpec, MerchantBankSpec, MerchantWalletSpec, RecipientSpec,
    ScopeSpec, SettlementMethodSpec, SubscriptionSpec, TillSpec, TransactionKindSpec,
    TransactionSpec, World,
};
use crate::domain::Scope;
use crate::domain::ledger::{Account, Sender, TransactionStatus};
use crate::domain::money::Amount;
use crate::domain::recipients::{MerchantAccountKind, RecipientFields, SettlementMethod};
use crate::scenarios::spec::{HandsetBehaviour, Money, Phone, Span, Topic, Url};
use crate::service::AppState;

/// The world of every application (or of `client_id`'s) as scenario YAML named `name`, with
/// the applications' credentials if `secrets`: the scenario format's own types, serialised, so
/// what it writes is what `load` reads.
pub fn export(state: &AppState, client_id: Option<&str>, name: &str, secrets: bool) -> String {
    let wanted = |owner: &str| client_id.is_none_or(|c| c == owner);
    let (merchant_wallets, merchant_bank_accounts) = accounts(state, &wanted);
    let world = World {
        applications: applications(state, &wanted, secrets),
        tills: tills(state, &wanted),
        balances: balances(state, &wanted),
        merchant_wallets,
        merchant_bank_accounts,
        external_recipients: recipients(state, &wanted),
        webhook_subscriptions: subscriptions(state, &wanted),
        transactions: transactions(state, &wanted),
        handsets: handsets(state, &wanted),
    };
    let scenario = Exported {
        name,
        description: format!(
            "The world of {} as exported at {}",
            client_id.map_or_else(
                || "every application".to_string(),
                |c| format!("application {c}")
            ),
            crate::clock::format_millis(state.clock.now())
        ),
        world,
    };
    let yaml = serde_yaml_ng::to_string(&scenario).unwrap_or_default();
    let credentials = if secrets {
        "# It holds the applications' credentials: keep it out of shared places.\n"
    } else {
        "# Credentials left out: it loads where its applications exist (add --with-secrets to\n\
         # write them).\n"
    };
    format!(
        "# Exported by k2-sandbox {}: load it with `k2-sandbox scenario load` or --scenario.\n\
         {credentials}{yaml}",
        env!("CARGO_PKG_VERSION")
    )
}

/// A scenario that sets up a world and nothing else.
#[derive(serde::Serialize)]
struct Exported<'a> {
    name: &'a str,
    description: String,
    world: World,
}

/// Whether an owner's part of the world is exported.
type Wanted<'a> = dyn Fn(&str) -> bool + 'a;

fn applications(state: &AppState, wanted: &Wanted<'_>, secrets: bool) -> Vec<ApplicationSpec> {
    state
        .store
        .applications()
        .into_iter()
        .filter(|a| wanted(&a.client_id))
        .map(|a| ApplicationSpec {
            client_id: a.client_id.to_string(),
            client_secret: secrets.then(|| a.client_secret.clone()),
            api_key: secrets.then(|| a.api_key.clone()),
        })
        .collect()
}

/// Every balance as it stands; the transactions are history only (`credit: false`), so a
/// balance set by hand below what its till received loads back as it is.
fn balances(state: &AppState, wanted: &Wanted<'_>) -> Vec<BalanceSpec> {
    let mut balances = Vec::new();
    for app in state.store.applications() {
        let owner = app.client_id.to_string();
        if !wanted(&owner) {
            continue;
        }
        for (account, balance) in state.store.ledger.accounts(&owner) {
            balances.push(BalanceSpec {
                client_id: Some(owner.clone()),
                till_number: match account {
                    Account::Company => None,
                    Account::Till(t) => Some(t.to_string()),
                },
                balance: Money(Amount::balance(balance)),
            });
        }
    }
    balances
}

fn tills(state: &AppState, wanted: &Wanted<'_>) -> Vec<TillSpec> {
    let mut tills: Vec<TillSpec> = state
        .store
        .till_names
        .iter()
        .filter(|e| wanted(&e.key().0))
        .map(|e| TillSpec {
            client_id: Some(e.key().0.clone()),
            till_number: e.key().1.clone(),
            name: e.value().clone(),
            balance: None,
        })
        .collect();
    tills.sort_by(|a, b| (&a.client_id, &a.till_number).cmp(&(&b.client_id, &b.till_number)));
    tills
}

/// The merchant's own wallets and bank accounts.
fn accounts(
    state: &AppState,
    wanted: &Wanted<'_>,
) -> (Vec<MerchantWalletSpec>, Vec<MerchantBankSpec>) {
    let mut accounts = state
        .store
        .merchant_accounts
        .filter_any(|m| wanted(&m.meta.owner));
    accounts.sort_by_key(|m| m.meta.sequence);
    let (mut wallets, mut banks) = (Vec::new(), Vec::new());
    for account in accounts {
        let client_id = Some(account.meta.owner.to_string());
        match account.kind {
            MerchantAccountKind::Wallet {
                first_name,
                last_name,
                wallet,
            } => wallets.push(MerchantWalletSpec {
                client_id,
                first_name,
                last_name,
                phone_number: Phone(wallet.phone),
                network: wallet.network,
                nickname: account.nickname,
            }),
            MerchantAccountKind::Bank(bank) => banks.push(MerchantBankSpec {
                client_id,
                account_name: bank.account_name,
                bank_branch_ref: bank.bank_branch_ref,
                account_number: bank.account_number,
                settlement_method: match bank.settlement_method {
                    SettlementMethod::Eft => SettlementMethodSpec::Eft,
                    SettlementMethod::Rts => SettlementMethodSpec::Rts,
                },
                nickname: account.nickname,
            }),
        }
    }
    (wallets, banks)
}

fn recipients(state: &AppState, wanted: &Wanted<'_>) -> Vec<RecipientSpec> {
    let mut recipients = state
        .store
        .external_recipients
        .filter_any(|r| wanted(&r.meta.owner));
    recipients.sort_by_key(|r| r.meta.sequence);
    recipients
        .into_iter()
        .map(|r| RecipientSpec {
            client_id: Some(r.meta.owner.to_string()),
            kind: r.details.type_name().to_string(),
            fields: RecipientFields::of(&r.details, r.nickname.clone()),
        })
        .collect()
}

fn subscriptions(state: &AppState, wanted: &Wanted<'_>) -> Vec<SubscriptionSpec> {
    let mut subscriptions = state
        .store
        .webhook_subscriptions
        .filter_any(|s| wanted(&s.meta.owner));
    subscriptions.sort_by_key(|s| s.meta.sequence);
    subscriptions
        .into_iter()
        .map(|s| {
            let (scope, scope_reference) = match s.scope {
                Scope::Company => (ScopeSpec::Company, None),
                Scope::Till(t) => (ScopeSpec::Till, Some(t)),
            };
            SubscriptionSpec {
                client_id: Some(s.meta.owner.to_string()),
                event_type: Topic(s.event_type),
                url: Url(s.url),
                scope,
                scope_reference,
                enable_daraja_payload: s.enable_daraja_payload,
            }
        })
        .collect()
}

fn handsets(state: &AppState, wanted: &Wanted<'_>) -> Vec<HandsetSpec> {
    state
        .store
        .handsets
        .settings()
        .into_iter()
        .filter(|(owner, _, _)| owner.as_deref().is_none_or(wanted))
        .map(|(client_id, phone, behaviour)| HandsetSpec {
            phone_number: Phone(phone),
            behaviour: HandsetBehaviour(behaviour),
            client_id,
        })
        .collect()
}

/// The transactions received (not reversed), as history: `credit: false`.
fn transactions(state: &AppState, wanted: &Wanted<'_>) -> Vec<TransactionSpec> {
    let mut transactions = state
        .store
        .transactions
        .filter_any(|t| wanted(t.owner_id()) && t.status == TransactionStatus::Received);
    transactions.sort_by_key(|t| t.sequence);
    transactions
        .iter()
        .map(|t| {
            let ago_ms = (state.clock.now_ms_of(t.owner_id()) - t.originated_at_ms()).max(0);
            let mut spec = TransactionSpec {
                client_id: Some(t.owner_id().to_string()),
                kind: TransactionKindSpec::Buygoods,
                till_number: t.till_number().to_string(),
                amount: Money(t.amount()),
                ago: Some(Span(std::time::Duration::from_millis(ago_ms as u64))),
                reference: Some(t.reference().to_string()),
                phone_number: None,
                first_name: None,
                last_name: None,
                sending_till: None,
                credit: false,
            };
            match t.sender() {
                Sender::Buygoods(payer) => {
                    spec.phone_number = Some(Phone(payer.phone_number));
                    spec.first_name = payer.first_name().map(str::to_string);
                    spec.last_name = payer.last_name().map(str::to_string);
                }
                Sender::B2b { sending_till } => {
                    spec.kind = TransactionKindSpec::B2b;
                    spec.sending_till = Some(sending_till.to_string());
                }
            }
            spec
        })
        .collect()
}
