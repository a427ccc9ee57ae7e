//! The merchant's own accounts (for transfers) and external recipients (for send money).

use super::{AppState, new_envelope};
use crate::domain::recipients::{
    ExternalRecipient, MerchantAccount, MerchantAccountKind, RecipientDetails,
};

/// Records one of the merchant's own accounts; its URL under `collection`.
pub fn add_merchant_account(
    state: &AppState,
    owner: &str,
    base: &str,
    collection: &str,
    nickname: Option<String>,
    kind: MerchantAccountKind,
) -> String {
    let account = MerchantAccount {
        meta: new_envelope(state, owner, base, collection),
        nickname,
        kind,
    };
    let url = account.meta.self_url().to_string();
    state.store.merchant_accounts.insert(account);
    url
}

/// Records an external recipient; its URL under `collection`.
pub fn add_external(
    state: &AppState,
    owner: &str,
    base: &str,
    collection: &str,
    nickname: Option<String>,
    details: RecipientDetails,
) -> String {
    let recipient = ExternalRecipient {
        meta: new_envelope(state, owner, base, collection),
        nickname,
        details,
        recipient_reference: state.ids.uuid(),
    };
    let url = recipient.meta.self_url().to_string();
    state.store.external_recipients.insert(recipient);
    url
}
