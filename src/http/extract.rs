//! Extractors that turn every malformed input into an [`ApiError`] in the reference's shape:
//! JSON bodies, OAuth parameters, bearer authentication and the base URL for links.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Multipart, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::{ApiError, OAuthError};
use crate::service::AppState;
use crate::store::TokenRecord;

/// The media type of a request without parameters, lower-cased; `None` when absent.
/// Borrowed from the header when it is in lower case already, as clients send it.
fn media_type(headers: &axum::http::HeaderMap) -> Option<Cow<'_, str>> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media_type = value.split(';').next().unwrap_or_default().trim();
    Some(if media_type.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(media_type.to_ascii_lowercase())
    } else {
        Cow::Borrowed(media_type)
    })
}

/// `application/json` and any `application/*+json`, e.g. the Python SDK's
/// `application/vnd.kopokopo.v4.hal+json`.
fn is_json(media_type: &str) -> bool {
    media_type == "application/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"))
}

/// The body, within the limit; errors in the API's shape. The gate has read it whole within
/// the limit already, and passes it on as one frame: that frame is taken as it is. (Any
/// other body is collected, within the limit, for a caller that did not pass the gate.)
pub async fn read_body(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    body_within(req.into_body(), state.settings.max_body_bytes).await
}

/// [`read_body`]'s reading: `body` whole, at most `limit` bytes.
async fn body_within(mut body: axum::body::Body, limit: usize) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt as _;
    let unreadable = |e: axum::Error| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
        {
            ApiError::PayloadTooLarge(limit)
        } else {
            ApiError::BadRequest(format!("Could not read the request body: {e}"))
        }
    };
    let first = match body.frame().await {
        None => return Ok(Bytes::new()),
        Some(frame) => frame.map_err(unreadable)?.into_data().unwrap_or_default(),
    };
    if first.len() > limit {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    if http_body::Body::is_end_stream(&body) {
        return Ok(first);
    }
    let rest = axum::body::to_bytes(body, limit - first.len())
        .await
        .map_err(unreadable)?;
    Ok([first, rest].concat().into())
}

/// The body of a request that uploads a file: the raw body, or for a multipart form
/// (`curl -F file=@scenario.yaml`) its first file part (its first part if none names a file).
pub async fn read_file_body(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    if media_type(req.headers()).as_deref() != Some("multipart/form-data") {
        return read_body(req, state).await;
    }
    let mut form = multipart(req, state).await?;
    let mut first = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(&e, state))?
    {
        let named = field.file_name().is_some();
        if first.is_some() && !named {
            continue;
        }
        let bytes = field
            .bytes()
            .await
            .map_err(|e| multipart_error(&e, state))?;
        if named {
            return Ok(bytes);
        }
        first = Some(bytes);
    }
    first.ok_or_else(|| {
        ApiError::BadRequest(
            "The multipart form holds no part: send the file, or the raw body \
             (curl --data-binary @file)"
                .into(),
        )
    })
}

async fn multipart(mut req: Request, state: &AppState) -> Result<Multipart, ApiError> {
    // The limit multer holds a form to (else axum's default, 2 MB).
    DefaultBodyLimit::max(state.settings.max_body_bytes).apply(&mut req);
    Multipart::from_request(req, state)
        .await
        .map_err(|e| ApiError::BadRequest(format!("Invalid multipart body: {e}")))
}

fn multipart_error(e: &axum::extract::multipart::MultipartError, state: &AppState) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(state.settings.max_body_bytes)
    } else {
        ApiError::BadRequest(format!("Invalid multipart body: {e}"))
    }
}

/// A JSON body: a JSON content type (or none), at most the body limit, parsed into `T`.
/// Parse errors name the field and position.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        match media_type(req.headers()) {
            Some(mt) if !is_json(&mt) => {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "Unsupported content type {mt}: send application/json"
                )));
            }
            _ => {}
        }
        let body = read_body(req, state).await?;
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            None => {
                return Err(ApiError::BadRequest(
                    "Request body can't be blank: send a JSON object".into(),
                ));
            }
            // Every body is an object; serde's message for anything else names our types.
            Some(b) if *b != b'{' => {
                return Err(ApiError::BadRequest(
                    "Request body must be a JSON object".into(),
                ));
            }
            Some(_) => {}
        }
        // Text limits first, on the whole document: every field of every endpoint, by its
        // path. Only a body with a long string needs the tree for that; the typed request is
        // then read from the tree (its strings move, they are not copied).
        if crate::domain::limits::may_exceed(&body) {
            let value: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| ApiError::BadRequest(format!("Invalid JSON in request body: {e}")))?;
            crate::domain::limits::check(&value)?;
            return serde_path_to_error::deserialize(value)
                .map(ApiJson)
                .map_err(invalid_body);
        }
        // Read without tracking the path (serde_path_to_error keeps every key it passes, a
        // string each); only a body that does not read is read again for its field's path.
        if let Ok(value) = T::deserialize(&mut serde_json::Deserializer::from_slice(&body)) {
            return Ok(ApiJson(value));
        }
        let de = &mut serde_json::Deserializer::from_slice(&body);
        serde_path_to_error::deserialize(de)
            .map(ApiJson)
            .map_err(invalid_body)
    }
}

/// A body that does not read into its request type: the field at fault, by its path.
fn invalid_body(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if inner.is_data() && path != "." {
        ApiError::BadRequest(format!("Invalid value for {path}: {inner}"))
    } else {
        ApiError::BadRequest(format!("Invalid JSON in request body: {inner}"))
    }
}

/// OAuth parameters from wherever a client put them: the query string, a form-encoded,
/// multipart (`curl -F`) or JSON body, and HTTP Basic client authentication. Body values win
/// over query values; an empty body with a JSON content type is fine.
pub struct OAuthParams(Vec<(String, String)>);

impl OAuthParams {
    /// The value last given for `key`, trimmed; none when that is blank.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

impl FromRequest<AppState> for OAuthParams {
    type Rejection = OAuthError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, OAuthError> {
        let params = oauth_params(req, state).await?;
        let max = crate::domain::limits::MAX_TEXT_CHARS;
        if let Some(name) = params
            .iter()
            .find(|(k, v)| {
                crate::domain::limits::longer_than(k, max)
                    || crate::domain::limits::longer_than(v, max)
            })
            .map(|(k, _)| k.chars().take(64).collect::<String>())
        {
            return Err(OAuthError::from(ApiError::BadRequest(format!(
                "{name} is too long: at most {max} characters"
            ))));
        }
        Ok(Self(params))
    }
}

/// The parameters in the order they count: the query's, then Basic credentials the query does
/// not name, then the body's; a later one of a name wins. A handful, so a list: no hashing.
async fn oauth_params(req: Request, state: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    {
        let mut params: Vec<(String, String)> = req
            .uri()
            .query()
            .map(|q| form_pairs(q.as_bytes()))
            .unwrap_or_default();
        if let Some((id, secret)) = basic_credentials(req.headers()) {
            for (name, value) in [("client_id", id), ("client_secret", secret)] {
                if !params.iter().any(|(k, _)| k == name) {
                    params.push((name.into(), value));
                }
            }
        }
        // Told apart before the body is read, which takes the request and its headers; a
        // multipart body (none here) is read by its own reader.
        let kind = match media_type(req.headers()).as_deref() {
            Some("multipart/form-data") => None,
            Some(mt) if is_json(mt) => Some(OAuthBody::Json),
            None | Some("application/x-www-form-urlencoded") => Some(OAuthBody::Form),
            Some(mt) => Some(OAuthBody::Unsupported(mt.to_string())),
        };
        let Some(kind) = kind else {
            // Rare, and boxed: every token request's future would otherwise carry room for
            // reading a multipart body (3 KB).
            return Box::pin(multipart_params(req, state, params)).await;
        };
        let body = read_body(req, state).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(params);
        }
        match kind {
            OAuthBody::Json => {
                let object: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_slice(&body).map_err(|e| {
                        ApiError::BadRequest(format!("Invalid JSON in request body: {e}"))
                    })?;
                for (k, v) in object {
                    match v {
                        serde_json::Value::String(s) => params.push((k, s)),
                        serde_json::Value::Null => {}
                        other => params.push((k, other.to_string())),
                    }
                }
            }
            OAuthBody::Form => params.extend(form_pairs(&body)),
            OAuthBody::Unsupported(mt) => {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "Unsupported content type {mt}: send application/x-www-form-urlencoded, \
                     multipart/form-data or application/json"
                )));
            }
        }
        Ok(params)
    }
}

/// How an OAuth request's body other than a multipart one is read, by its media type.
enum OAuthBody {
    Json,
    /// Form-encoded, or no media type.
    Form,
    Unsupported(String),
}

/// `params` and then the fields of a multipart body.
async fn multipart_params(
    req: Request,
    state: &AppState,
    mut params: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut multipart = multipart(req, state).await?;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e, state))?
    {
        let Some(name) = field.name().map(str::to_string) else {
            continue;
        };
        let value = field.text().await.map_err(|e| multipart_error(&e, state))?;
        params.push((name, value));
    }
    Ok(params)
}

/// The pairs of a form-encoded body or query string, owned. Most bodies need no decoding (no `%` or `+`):
/// those are split as they are, which is what `form_urlencoded` makes of them too, without
/// its three passes over each value.
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let encoded = memchr::memchr2(b'%', b'+', body).is_some();
    match std::str::from_utf8(body) {
        Ok(text) if !encoded => {
            let mut pairs = Vec::with_capacity(4);
            // Split at ASCII bytes (which keeps each piece on a character boundary) found
            // with memchr: `str::split` searches for a character, at several times the cost.
            let mut rest = text;
            while !rest.is_empty() {
                let end = memchr::memchr(b'&', rest.as_bytes()).unwrap_or(rest.len());
                let pair = &rest[..end];
                rest = rest.get(end + 1..).unwrap_or_default();
                if pair.is_empty() {
                    continue;
                }
                let (name, value) = match memchr::memchr(b'=', pair.as_bytes()) {
                    Some(at) => (&pair[..at], &pair[at + 1..]),
                    None => (pair, ""),
                };
                pairs.push((name.to_string(), value.to_string()));
            }
            pairs
        }
        _ => url::form_urlencoded::parse(body).into_owned().collect(),
    }
}

fn basic_credentials(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((decode(id), decode(secret)))
}

/// The token of an `Authorization: Bearer <token>` header.
pub enum BearerToken<'a> {
    Missing,
    Malformed,
    /// The token, borrowed from the header.
    Present(&'a str),
}

impl<'a> BearerToken<'a> {
    pub fn from_headers(headers: &'a axum::http::HeaderMap) -> Self {
        Self::from_value(headers.get(header::AUTHORIZATION))
    }

    /// The token of an `Authorization` header's value, if there is one.
    pub fn from_value(value: Option<&'a axum::http::HeaderValue>) -> Self {
        let Some(value) = value else {
            return Self::Missing;
        };
        let Ok(value) = value.to_str() else {
            return Self::Malformed;
        };
        match value.trim().split_once(' ') {
            Some((scheme, token))
                if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
            {
                Self::Present(token.trim())
            }
            _ => Self::Malformed,
        }
    }
}

/// Why a presented token does not authenticate; the message is what the client is told.
pub enum TokenProblem {
    Unknown,
    Expired,
    Revoked,
}

impl TokenProblem {
    pub fn message(&self) -> &'static str {
        match self {
            Self::Unknown => "The access token is invalid",
            Self::Expired => "The access token expired",
            Self::Revoked => "The access token was revoked",
        }
    }
}

/// Looks a token up and checks it is usable now.
pub fn check_token(state: &AppState, token: &str) -> Result<TokenRecord, TokenProblem> {
    let record = state.store.token(token).ok_or(TokenProblem::Unknown)?;
    if record.revoked {
        return Err(TokenProblem::Revoked);
    }
    if !record.is_active(state.clock.now_ms_of(&record.client_id)) {
        return Err(TokenProblem::Expired);
    }
    if state.settings.auto_tenants {
        state.store.touch_tenant(&record.client_id);
    }
    Ok(record)
}

/// The application behind a valid bearer token; every `/api/...` handler takes one.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub client_id: std::sync::Arc<str>,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match BearerToken::from_headers(&parts.headers) {
            BearerToken::Missing => Err(ApiError::Unauthorized(
                "Authorization header is missing: send Authorization: Bearer <access_token>".into(),
            )),
            BearerToken::Malformed => Err(ApiError::Unauthorized(
                "Authorization header is malformed: expected Bearer <access_token>".into(),
            )),
            BearerToken::Present(token) => {
                let record = check_token(state, token)
                    .map_err(|p| ApiError::Unauthorized(p.message().into()))?;
                // Tell the journal whose request this is, so it need not look the token up
                // again.
                ClientSlot::set(record.client_id.clone());
                Ok(Self {
                    client_id: record.client_id,
                })
            }
        }
    }
}

tokio::task_local! {
    /// The request's application, once known; see [`ClientSlot`].
    static CLIENT: Slot;
}

/// A request's application, once known.
pub type Slot = std::cell::OnceCell<std::sync::Arc<str>>;

/// Where `Authenticated` (or the OAuth endpoints, once the client credentials check out)
/// leaves the application of a request, for the journal around it: a task-local, as the
/// handler runs in the request's task (a request extension cost an allocation for the slot
/// and one for the extension map).
pub struct ClientSlot;

impl ClientSlot {
    /// `request` with a slot of its own: await it, then [`take`](Self::take) what was left.
    pub fn around<F: Future>(request: F) -> tokio::task::futures::TaskLocalFuture<Slot, F> {
        CLIENT.scope(Slot::new(), request)
    }

    /// The application left in the slot of a request [`around`](Self::around) has run.
    pub fn take<F: Future>(
        scoped: std::pin::Pin<&mut tokio::task::futures::TaskLocalFuture<Slot, F>>,
    ) -> Option<std::sync::Arc<str>> {
        scoped.take_value().and_then(Slot::into_inner)
    }

    /// Records `client_id` as the request's application, when a journal is around it; the
    /// first one set stays.
    pub fn set(client_id: impl Into<std::sync::Arc<str>>) {
        let _ = CLIENT.try_with(|slot| slot.set(client_id.into()));
    }
}

/// The base of absolute URLs in `Location` and `_links`: `--public-url` when set, else the
/// request's `Host` (so a client reaching us as `http://k2:8080` can follow them), else the
/// bound address.
pub struct BaseUrl(pub String);

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let settings = &state.settings;
        if let Some(public) = &settings.public_url {
            return Ok(Self(public.as_str().trim_end_matches('/').to_string()));
        }
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.parse::<axum::http::uri::Authority>().is_ok())
            .map(str::to_string)
            .unwrap_or_else(|| settings.local_addr.to_string());
        Ok(Self(format!("http://{host}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_split_directly_read_as_form_urlencoded_reads_them() {
        for body in [
            "grant_type=client_credentials&client_id=sandbox-client-id&client_secret=s3cr3t",
            "a=1&&b&=c&d==e&",
            "secret=a%2Bb+c&name=Zo%C3%AB",
            "caf\u{e9}=cr\u{e8}me",
            "",
        ] {
            let expected: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect();
            assert_eq!(form_pairs(body.as_bytes()), expected, "{body:?}");
        }
        let invalid_utf8 = b"name=\xff";
        assert_eq!(
            form_pairs(invalid_utf8),
            url::form_urlencoded::parse(invalid_utf8)
                .into_owned()
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn media_types_are_lower_cased_without_their_parameters() {
        let mut headers = axum::http::HeaderMap::new();
        assert_eq!(media_type(&headers), None);
        for (sent, read) in [
            ("application/json", "application/json"),
            ("Application/JSON; charset=UTF-8", "application/json"),
            (
                " application/x-www-form-urlencoded ;q=1",
                "application/x-www-form-urlencoded",
            ),
        ] {
            headers.insert(header::CONTENT_TYPE, sent.parse().expect("header"));
            assert_eq!(media_type(&headers).as_deref(), Some(read), "{sent:?}");
        }
    }

    #[tokio::test]
    async fn a_body_in_one_frame_or_in_several_is_read_whole_within_the_limit() {
        use axum::body::Body;
        use axum::response::IntoResponse as _;
        let chunks = |parts: &'static [&'static str]| {
            Body::from_stream(futures_util::stream::iter(
                parts
                    .iter()
                    .map(|p| Ok::<_, std::io::Error>(Bytes::from_static(p.as_bytes()))),
            ))
        };
        let read = |body, limit| async move {
            body_within(body, limit)
                .await
                .map_err(|e| e.into_response().status())
        };
        assert_eq!(read(Body::from("abc"), 3).await, Ok(Bytes::from("abc")));
        assert_eq!(read(Body::empty(), 0).await, Ok(Bytes::new()));
        assert_eq!(
            read(chunks(&["ab", "", "cd", "e"]), 5).await,
            Ok(Bytes::from("abcde"))
        );
        assert_eq!(
            read(Body::from("abcd"), 3).await,
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        );
        assert_eq!(
            read(chunks(&["ab", "cd"]), 3).await,
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        );
    }

    #[test]
    fn json_media_types_include_vendor_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/vnd.kopokopo.v4.hal+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            "Basic c2FuZGJveC1jbGllbnQtaWQ6c2FuZGJveC1jbGllbnQtc2VjcmV0"
                .parse()
                .expect("header"),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some((
                "sandbox-client-id".to_string(),
                "sandbox-client-secret".to_string()
            ))
        );
    }
}
