//! Real-world activity the sandbox can simulate (a payment into a till, a reversal, a
//! settlement, a new customer, a card payment): what happens, to whom, and the documented
//! defaults of everything left unsaid. The control plane and scenario timelines build these;
//! `simulate` makes them happen.

use super::money::Amount;
use super::phone::PhoneNumber;
use super::webhooks::EventType;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Activity {
    pub topic: EventType,
    pub owner: String,
    pub base_url: String,
    pub till_number: String,
    /// `None`: [`DEFAULT_AMOUNT`].
    pub amount: Option<Amount>,
    pub phone_number: PhoneNumber,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub sending_till: String,
    /// For reversals: the transaction to reverse (id or M-PESA reference); a new one otherwise.
    pub transaction: Option<String>,
    pub card_number: String,
    /// For a merchant-to-merchant payment: the paying merchant's name.
    pub sending_merchant: String,
}

/// KES, when an activity names no amount.
pub const DEFAULT_AMOUNT: u32 = 100;
pub const DEFAULT_TILL: &str = "000000";
pub const DEFAULT_PHONE: &str = "+254712345678";
pub const DEFAULT_SENDING_TILL: &str = "000001";
pub const DEFAULT_CARD: &str = "450875XXXXXX1019";
pub const DEFAULT_SENDING_MERCHANT: &str = "Jane Flowers";

/// The subscriber a simulated payment comes from when none is named.
pub fn default_phone() -> PhoneNumber {
    PhoneNumber::parse(Some(DEFAULT_PHONE)).expect("the default phone number is valid")
}

impl Activity {
    /// `topic` happening to `owner`, every detail at its default: Jane Doe paying 100 KES
    /// from +254712345678 into till 000000.
    pub fn new(topic: EventType, owner: String, base_url: String) -> Self {
        Self {
            topic,
            owner,
            base_url,
            till_number: DEFAULT_TILL.into(),
            amount: None,
            phone_number: default_phone(),
            first_name: Some("Jane".into()),
            middle_name: None,
            last_name: Some("Doe".into()),
            sending_till: DEFAULT_SENDING_TILL.into(),
            transaction: None,
            card_number: DEFAULT_CARD.into(),
            sending_merchant: DEFAULT_SENDING_MERCHANT.into(),
        }
    }
}
