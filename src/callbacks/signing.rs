//! Kopo Kopo's callback signature: `X-KopoKopo-Signature` is the lowercase hex HMAC-SHA256
//! of the raw request body, keyed with the application's API key (reference, "Validating
//! webhooks").

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "X-KopoKopo-Signature";

pub fn sign(api_key: &str, body: &[u8]) -> String {
    hex::encode(mac(api_key, body))
}

/// The HMAC-SHA256 itself, as the 32 bytes a delivery record keeps.
pub fn mac(api_key: &str, body: &[u8]) -> [u8; 32] {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(api_key.as_bytes()).expect("HMAC accepts keys of any size");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_known_hmac_sha256_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
