//! Every error the API returns, rendered as the reference's JSON:
//! `{"error_code": 400, "error_message": "..."}` with the matching status.
//! OAuth endpoints use RFC 6749's `{"error", "error_description"}` instead ([`OAuthError`]).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::Invalid;
use crate::service::Refusal;
use crate::wire::ErrorBody;
use crate::wire::oauth::OAuthErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// A 400 whose `error_message` is an array, as the reference shows for reversals.
    #[error("{}", .0.join("; "))]
    BadRequestList(Vec<String>),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("Method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("Request body is too large: the limit is {0} bytes")]
    PayloadTooLarge(usize),
    /// The body did not arrive in time (or ended short of its `Content-Length`).
    #[error("{0}")]
    RequestTimeout(String),
    #[error("Request URI is too long: the limit is {0} bytes")]
    UriTooLong(usize),
    #[error("{0}")]
    HeadersTooLarge(String),
    /// Our fault. The detail goes to the log (see [`InternalDetail`]), never to the client.
    #[error("Internal server error")]
    Internal(String),
}

/// Detail of a 500, carried to the logging middleware in the response's extensions.
#[derive(Debug, Clone)]
pub struct InternalDetail(pub String);

/// The message of an error answer, carried to the access log in the response's extensions.
#[derive(Debug, Clone)]
pub struct ErrorMessage(pub String);

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::BadRequestList(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        Self::BadRequest(e.0)
    }
}

impl From<Refusal> for ApiError {
    fn from(e: Refusal) -> Self {
        match e {
            Refusal::Invalid(e) => Self::BadRequest(e.0),
            Refusal::List(messages) => Self::BadRequestList(messages),
        }
    }
}

/// `{"error_code": status, "error_message": message}` with that status: the reference's error
/// shape, for every error the API answers (rejections, faults, [`ApiError`]).
pub fn error_response(status: StatusCode, error_message: String) -> Response {
    let logged = ErrorMessage(error_message.clone());
    let body = ErrorBody {
        error_code: status.as_u16(),
        error_message,
    };
    let mut response = (status, Json(body)).into_response();
    response.extensions_mut().insert(logged);
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = match &self {
            Self::BadRequestList(messages) => {
                let mut response = (
                    status,
                    Json(serde_json::json!({"error_code": status.as_u16(), "error_message": messages})),
                )
                    .into_response();
                response
                    .extensions_mut()
                    .insert(ErrorMessage(self.to_string()));
                response
            }
            _ => error_response(status, self.to_string()),
        };
        match self {
            Self::Unauthorized(message) => {
                let challenge = format!(
                    "Bearer realm=\"k2-sandbox\", error=\"invalid_token\", error_description=\"{}\"",
                    message.replace('"', "'")
                );
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
            }
            Self::Internal(detail) => {
                response.extensions_mut().insert(InternalDetail(detail));
            }
            _ => {}
        }
        response
    }
}

/// An OAuth endpoint's error, RFC 6749 section 5.2.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn invalid_client() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: "Client authentication failed due to unknown client, no client \
                          authentication included, or unsupported authentication method."
                .into(),
        }
    }

    pub fn invalid_request(missing: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: format!("Missing required parameter: {missing}."),
        }
    }

    pub fn unsupported_grant_type() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "unsupported_grant_type",
            description: "The authorization grant type is not supported by the authorization \
                          server. Use grant_type=client_credentials."
                .into(),
        }
    }

    pub fn invalid_token(description: &str) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_token",
            description: description.into(),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let logged = ErrorMessage(format!("{}: {}", self.error, self.description));
        let body = OAuthErrorBody {
            error: self.error,
            error_description: self.description,
        };
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(logged);
        response
    }
}

/// A body-reading failure on an OAuth endpoint (413, 415, malformed) keeps its status and
/// takes the OAuth error shape, like every other answer of those endpoints.
impl From<ApiError> for OAuthError {
    fn from(e: ApiError) -> Self {
        Self {
            status: e.status(),
            error: "invalid_request",
            description: e.to_string(),
        }
    }
}
