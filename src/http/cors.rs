//! CORS for the origins named with `--cors-origin` (a developer's own web app that calls the
//! API or the control plane from a browser), and for no other: without the flag the sandbox
//! sends no CORS header at all, so no page elsewhere can read an answer, and the cross-site
//! check ([`super::host::cross_site`]) refuses its changes. A listed origin's requests act
//! and their answers are readable; its preflights are answered before any route or token
//! check, as browsers send them without credentials.

use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;

/// The origins named with `--cors-origin`, as browsers write them in `Origin`.
#[derive(Debug, Clone, Default)]
pub struct Origins(Vec<String>);

impl Origins {
    /// `--cors-origin`'s values, already as `Origin` writes them
    /// ([`crate::config::serve::parse_origin`]).
    pub fn new(origins: &[String]) -> Self {
        Self(origins.to_vec())
    }

    /// Whether no origin was named: then nothing here runs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `origin` (an `Origin` header's value) is one of them.
    pub fn lists(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    /// The request's `Origin`, if it is one of them.
    pub fn of<B>(&self, req: &Request<B>) -> Option<HeaderValue> {
        let origin = req.headers().get(header::ORIGIN)?;
        self.lists(origin.to_str().ok()?).then(|| origin.clone())
    }
}

/// Whether the request is a CORS preflight: `OPTIONS` naming the method to come.
pub fn is_preflight<B>(req: &Request<B>) -> bool {
    req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a listed origin's preflight: any method the sandbox serves, the headers
/// asked for (an `Authorization` bearer, a JSON `Content-Type`), for ten minutes.
pub fn preflight<B>(origin: HeaderValue, req: &Request<B>) -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"),
    );
    if let Some(asked) = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        ),
    );
    response
}

/// An answer as a listed origin may read it (`Some`), or as any other origin's answer,
/// which varies by origin all the same (`None`): the page reads the `Location` of what it
/// created, a 429's `Retry-After` and the sandbox's version.
pub fn allow(origin: Option<HeaderValue>, headers: &mut HeaderMap) {
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Location, Retry-After, X-K2-Sandbox-Version"),
        );
    }
}
