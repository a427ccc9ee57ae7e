//! OAuth responses, as the reference's "Authorization" section shows them.

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    /// ISO 8601 in +03:00, as the reference shows (not Doorkeeper's integer).
    pub created_at: String,
}

impl TokenResponse {
    /// The bytes `serde_json` writes for it, written directly: a token is the hottest route
    /// after GET, and none of its values needs escaping (a token is URL-safe base64, the
    /// time is digits and punctuation), so the serializer's per-character escaping and
    /// formatting machinery is a tenth of the request's cost for nothing.
    pub fn to_json(&self) -> Vec<u8> {
        let plain = |s: &str| !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
        if !(plain(&self.access_token) && plain(self.token_type) && plain(&self.created_at)) {
            return serde_json::to_vec(self).expect("a token response always serialises");
        }
        let mut expires_in = itoa::Buffer::new();
        let expires_in = expires_in.format(self.expires_in);
        // Exactly the length written: the fixed text and the four values.
        let fixed = r#"{"access_token":"","token_type":"","expires_in":,"created_at":""}"#.len();
        let mut out = Vec::with_capacity(
            fixed
                + self.access_token.len()
                + self.token_type.len()
                + expires_in.len()
                + self.created_at.len(),
        );
        out.extend_from_slice(b"{\"access_token\":\"");
        out.extend_from_slice(self.access_token.as_bytes());
        out.extend_from_slice(b"\",\"token_type\":\"");
        out.extend_from_slice(self.token_type.as_bytes());
        out.extend_from_slice(b"\",\"expires_in\":");
        out.extend_from_slice(expires_in.as_bytes());
        out.extend_from_slice(b",\"created_at\":\"");
        out.extend_from_slice(self.created_at.as_bytes());
        out.extend_from_slice(b"\"}");
        out
    }
}

#[derive(Debug, Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub details: Option<IntrospectionDetails>,
}

#[derive(Debug, Serialize)]
pub struct IntrospectionDetails {
    pub scope: &'static str,
    pub client_id: String,
    pub token_type: &'static str,
    pub exp: i64,
    pub iat: i64,
}

#[derive(Debug, Serialize)]
pub struct TokenInfo {
    pub resource_owner_id: Option<String>,
    pub scope: [&'static str; 0],
    pub expires_in: i64,
    pub application: ApplicationRef,
    pub created_at: i64,
}

#[derive(Debug, Serialize)]
pub struct ApplicationRef {
    pub uid: String,
}

/// OAuth errors use RFC 6749's shape, not the API's.
#[derive(Debug, Serialize)]
pub struct OAuthErrorBody {
    pub error: &'static str,
    pub error_description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_response_written_directly_is_what_serde_writes() {
        for (token, created_at) in [
            (
                "hLhM9aHqOBXO2vl2wbBIeQ3VW0lN1s_D8jXqzJhAY9A",
                "2026-11-29T19:20:46+03:00",
            ),
            (
                "with \"quotes\" and \\ and \u{1}",
                "2026-01-01T00:00:00+03:00",
            ),
        ] {
            let response = TokenResponse {
                access_token: token.into(),
                token_type: "Bearer",
                expires_in: 3600,
                created_at: created_at.into(),
            };
            let json = response.to_json();
            // Written into an allocation of exactly its size, never regrown.
            assert!(json.capacity() == json.len() || token.contains('"'));
            assert_eq!(
                String::from_utf8(json).expect("UTF-8"),
                serde_json::to_string(&response).expect("serialises")
            );
        }
    }
}
