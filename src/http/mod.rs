//! The HTTP surface: one router per API area, merged here behind the one gate every request
//! goes through (URI, header and body limits, journal, scenario faults, a panic catcher, JSON
//! errors, error logging, version header), with JSON fallbacks for unknown routes (404) and
//! wrong methods (405).

pub mod admin;
mod checkout;
pub mod cors;
pub mod error;
pub(crate) mod extract;
pub mod faults;
pub mod host;
mod incoming_payments;
mod journal;
mod limits;
mod oauth;
pub mod openapi;
mod payment_links;
mod polling;
mod recipients;
mod resource;
mod reversals;
mod send_money;
mod sms_notifications;
mod ui;
mod webhook_subscriptions;

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use tower::Service;

use self::error::{ApiError, ErrorMessage, InternalDetail};
use crate::service::AppState;
use crate::store::journal::Target;

pub const VERSION_HEADER: &str = "x-k2-sandbox-version";

/// The application: every route, behind the gate. Cheap to clone (three `Arc`s): the server
/// clones it per request.
#[derive(Clone)]
pub struct App {
    state: AppState,
    routes: Router,
    reach: std::sync::Arc<Reach>,
}

/// Who may reach the sandbox, and from where: the `Host` names it answers and the origins
/// whose pages may call it (CORS).
struct Reach {
    hosts: host::AllowedHosts,
    cors: cors::Origins,
}

/// Builds the application; tests may drive it without a socket ([`App::handle`]).
pub fn app(state: AppState) -> App {
    let routes = Router::new()
        .merge(oauth::router())
        .merge(incoming_payments::router())
        .merge(webhook_subscriptions::router())
        .merge(recipients::router())
        .merge(send_money::router())
        .merge(polling::router())
        .merge(sms_notifications::router())
        .merge(reversals::router())
        .merge(payment_links::router())
        .merge(checkout::router())
        .merge(admin::router(state.clone()))
        .merge(ui::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone());
    let reach = std::sync::Arc::new(Reach {
        hosts: host::AllowedHosts::new(
            &state.settings.allowed_hosts,
            state.settings.public_url.as_ref(),
        ),
        cors: cors::Origins::new(&state.settings.cors_origins),
    });
    App {
        state,
        routes,
        reach,
    }
}

impl App {
    /// Answers one request: the gate around the routes, within CORS if `--cors-origin` named
    /// an origin (one branch taken per request otherwise).
    pub fn handle(self, req: Request) -> impl Future<Output = Response> + Send + use<> {
        use futures_util::future::Either;
        if self.reach.cors.is_empty() {
            Either::Left(gate(self, req))
        } else {
            Either::Right(with_cors(self, req))
        }
    }

    /// The route's answer, or a JSON 500 if its handler panicked. The gate wraps the router
    /// from outside rather than as `Router::layer`s: a layer wraps every route in a boxed
    /// `Route` of its own, which costs a boxed future and a clone per request and layer.
    fn route(&self, req: Request) -> impl Future<Output = Response> + use<> {
        let mut routes = self.routes.clone();
        caught(routes.call(req))
    }
}

/// What `route` answers, or a JSON 500 if it panicked. Not an `async fn`: that would hold
/// `route` twice, as its argument and as the future it awaits.
fn caught(
    route: impl Future<Output = Result<Response, std::convert::Infallible>>,
) -> impl Future<Output = Response> {
    AssertUnwindSafe(route)
        .catch_unwind()
        .map(|answer| match answer {
            Ok(Ok(response)) => response,
            Ok(Err(never)) => match never {},
            Err(_) => ApiError::Internal("a handler panicked".into()).into_response(),
        })
}

/// The one gate every request goes through, in this order: the limits (URI, headers, the
/// body read whole), then for API requests (not the control plane) the journal around the
/// scenario's faults around the route (for the control plane's changes, the journal alone); every error in the API's JSON; the log; the version
/// header.
///
/// An `async` block, not an `async fn`: an `async fn` keeps its arguments twice (as captured
/// and as moved into its body), and hyper moves the whole future into place per request. For
/// the same reason nothing awaited later is matched on while an earlier result is still held.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice"
)]
fn gate(app: App, mut req: Request) -> impl Future<Output = Response> + Send {
    async move {
        let (app, state) = (&app, &app.state);
        squeeze_slashes(&mut req);
        // A name this sandbox does not answer (DNS rebinding), or a page elsewhere changing it:
        // refused before anything runs.
        let reach = &app.reach;
        let refusal = reach.hosts.refusal(&req);
        if let Some(refusal) = refusal.or_else(|| host::cross_site(&req, &reach.cors)) {
            let target = Target::of(req.uri());
            let method = req.method().clone();
            let refused = ApiError::Forbidden(refusal).into_response();
            return answered(state, &method, target, Instant::now(), refused, None);
        }
        let started = Instant::now();
        // Kept by the journal and the live feed.
        let (method, target) = (req.method().clone(), Target::of(req.uri()));
        let (parts, body) = match limits::read(state, req).await {
            Ok(read) => read,
            Err(refused) => return answered(state, &method, target, started, refused, None),
        };
        let (response, journaled) = if outside_the_api(parts.uri.path()) {
            if changes_the_control_plane(&parts) {
                // Journaled (who reset the world, loaded a scenario, moved the clock), never
                // faulted, not in the feed.
                let (response, _) =
                    journal::around(state, parts, body, target.clone(), started, |req| async {
                        json_errors(app.route(req).await).await
                    })
                    .await;
                (response, None)
            } else {
                let route = app.route(Request::from_parts(parts, Body::from(body)));
                (json_errors(route.await).await, None)
            }
        } else {
            let (response, journaled) = journal::around(
                state,
                parts,
                body,
                target.clone(),
                started,
                move |req| async move {
                    if let Some(fault) = faults::imposed(state, &req)
                        && let Some(imposed) = fault.await
                    {
                        return imposed;
                    }
                    json_errors(app.route(req).await).await
                },
            )
            .await;
            (response, Some(journaled))
        };
        answered(state, &method, target, started, response, journaled)
    }
}

/// The gate for a sandbox with `--cors-origin`: a listed origin's preflight answered (to a
/// Host it serves) before any route or token check, and every answer marked for CORS.
async fn with_cors(app: App, req: Request) -> Response {
    let origin = app.reach.cors.of(&req);
    if let Some(origin) = &origin
        && cors::is_preflight(&req)
        && app.reach.hosts.refusal(&req).is_none()
    {
        let response = cors::preflight(origin.clone(), &req);
        log_access(req.method(), req.uri().path(), &response, 0.0, None);
        return response;
    }
    let mut response = gate(app, req).await;
    cors::allow(origin, response.headers_mut());
    response
}

/// Repeated slashes in the path read as one, as Rails (which serves the real API) reads
/// them: the Ruby SDK 4.0.0 sends `POST //api/v2/payment_links`, and the live API answers it.
fn squeeze_slashes(req: &mut Request) {
    // Built once: a search with its own finder costs a request more than the search.
    static SLASHES: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"//"));
    let uri = req.uri();
    if SLASHES.find(uri.path().as_bytes()).is_none() {
        return;
    }
    let mut target = String::with_capacity(uri.path().len() + uri.query().map_or(0, str::len) + 1);
    for c in uri.path().chars() {
        if !(c == '/' && target.ends_with('/')) {
            target.push(c);
        }
    }
    if let Some(query) = uri.query() {
        target.push('?');
        target.push_str(query);
    }
    let mut parts = uri.clone().into_parts();
    // From a path that parsed already, less some slashes: it parses again.
    parts.path_and_query = target.parse().ok();
    if let Ok(uri) = axum::http::Uri::from_parts(parts) {
        *req.uri_mut() = uri;
    }
}

/// What the gate does with an answer: the access log, the live feed (API requests only), the
/// version header.
fn answered(
    state: &AppState,
    method: &Method,
    target: Target,
    started: Instant,
    mut response: Response,
    journaled: Option<journal::Journaled>,
) -> Response {
    let client_id = journaled.as_ref().and_then(|j| j.client_id.as_deref());
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    log_access(method, target.path(), &response, latency_ms, client_id);
    if !outside_the_api(target.path()) {
        // A request refused before the journal belongs to no application.
        let (client_id, at_ms, journal) = match journaled {
            Some(j) => (j.client_id, Some(j.at_ms), Some(j.sequence)),
            None => (None, None, None),
        };
        state.store.feed.publish(
            crate::store::feed::FeedKind::Request,
            client_id,
            || at_ms.unwrap_or_else(|| state.clock.now_ms()),
            || {
                crate::store::feed::Data::Request(crate::store::feed::RequestData {
                    method: method.clone(),
                    target,
                    status: response.status().as_u16(),
                    latency_ms,
                    journal,
                    error: response
                        .extensions()
                        .get::<ErrorMessage>()
                        .map(|e| e.0.clone()),
                })
            },
        );
    }
    // Constants: the name is checked once, at compile time, not per request.
    const NAME: HeaderName = HeaderName::from_static(VERSION_HEADER);
    const VALUE: HeaderValue = HeaderValue::from_static(env!("CARGO_PKG_VERSION"));
    response.headers_mut().insert(NAME, VALUE);
    response
}

/// The control plane and the redirect to the dashboard: not faulted, not in the feed, and
/// journaled only when they change something.
fn outside_the_api(path: &str) -> bool {
    path == "/" || path == "/_sandbox" || path.starts_with("/_sandbox/")
}

/// A control-plane request that may change the world (not a read): the journal keeps it,
/// with who sent it, beside the app's requests.
fn changes_the_control_plane(parts: &axum::http::request::Parts) -> bool {
    !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS)
        && parts.uri.path().starts_with("/_sandbox/")
}

async fn not_found(req: Request) -> ApiError {
    ApiError::NotFound(format!(
        "No route for {} {}",
        req.method(),
        req.uri().path()
    ))
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Every error leaves as the reference's JSON. axum's own extractors reject a query string or
/// path segment that does not parse in plain text; such a body becomes the `error_message`.
/// HTML pages for people (the payment link page) keep their HTML.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    // A success is passed on without looking up its headers.
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") || content_type.starts_with("text/html") {
        return response;
    }
    // Rare, and boxed: every request's future would otherwise carry room for reading a body.
    Box::pin(as_json_error(response)).await
}

/// A plain-text error answer rewritten as the reference's JSON.
async fn as_json_error(response: Response) -> Response {
    let status = response.status();
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let error_message = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_string()
    } else {
        text
    };
    // The original's other headers (`Allow`, `Retry-After`) stay.
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let json = error::error_response(status, error_message).into_body();
    Response::from_parts(parts, json)
}

/// The access log: one line per request answered, at info (error for a server fault, with
/// its detail): method, path, status, latency, the application when known, and the message
/// of an error answer. Target `k2_sandbox::access`, so `RUST_LOG` can quiet it on its own.
fn log_access(
    method: &Method,
    path: &str,
    response: &Response,
    latency_ms: f64,
    client_id: Option<&str>,
) {
    let status = response.status().as_u16();
    let latency_ms = (latency_ms * 10.0).round() / 10.0;
    // Strings as strings (not through `Display`): the formatter writes them straight in;
    // absent ones are left out.
    let method = method.as_str();
    let error = response
        .extensions()
        .get::<ErrorMessage>()
        .map(|e| e.0.as_str());
    if let Some(InternalDetail(detail)) = response.extensions().get::<InternalDetail>() {
        tracing::error!(target: "k2_sandbox::access", method, path, status, latency_ms, client_id, error, %detail, "request failed");
    } else if tracing::enabled!(target: "k2_sandbox::access", tracing::Level::INFO)
        && !crate::telemetry::access_line(method, path, status, latency_ms, client_id, error)
    {
        tracing::info!(target: "k2_sandbox::access", method, path, status, latency_ms, client_id, error, "request");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_route_is_answered_with_a_json_500() {
        let response = caught(async { panic!("a handler's bug") }).await;
        assert_eq!(
            response.status(),
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error_code"], 500);
        assert!(
            json["error_message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }

    #[tokio::test]
    async fn a_route_that_answers_is_passed_through() {
        let answer = (axum::http::StatusCode::CREATED, "made").into_response();
        let response = caught(async { Ok(answer) }).await;
        assert_eq!(response.status(), axum::http::StatusCode::CREATED);
    }
}
