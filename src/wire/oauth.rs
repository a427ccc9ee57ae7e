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
