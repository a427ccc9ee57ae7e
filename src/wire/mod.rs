//! Serde types shaped exactly like Kopo Kopo's JSON, key by key and in the reference's key
//! order. Wire types convert to and from domain types; they hold no behaviour of their own.

pub mod incoming_payments;
pub mod oauth;

use serde::{Deserialize, Deserializer, Serialize};

/// The reference's error body: `{"error_code": 400, "error_message": "..."}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error_code: u16,
    pub error_message: String,
}

/// Accepts a string or a number where the reference says string (till numbers are often sent
/// as numbers); `null` is `None`.
pub fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(match Option::<Lenient>::deserialize(d)? {
        Some(Lenient::Text(s)) => Some(s),
        Some(Lenient::Number(n)) => Some(n.to_string()),
        None => None,
    })
}
