//! Every route the sandbox serves, by method and path pattern (`{id}` for a segment): the
//! K2 API's, which scenario files are checked against, and the control plane's, which
//! `GET /_sandbox/` lists. The routers in `http` serve them; tests prove the two agree (each
//! listed route is served, and every path the routers name is listed).

/// `(method, path pattern)` of every API route (not the control plane).
pub const API: &[(&str, &str)] = &[
    ("POST", "/oauth/token"),
    ("POST", "/oauth/revoke"),
    ("POST", "/oauth/introspect"),
    ("GET", "/oauth/token/info"),
    ("POST", "/api/v2/incoming_payments"),
    ("GET", "/api/v2/incoming_payments/{id}"),
    ("POST", "/api/v1/incoming_payments"),
    ("GET", "/api/v1/incoming_payments/{id}"),
    ("POST", "/api/v2/webhook_subscriptions"),
    ("GET", "/api/v2/webhook_subscriptions/{id}"),
    ("POST", "/api/v1/webhook_subscriptions"),
    ("GET", "/api/v1/webhook_subscriptions/{id}"),
    ("GET", "/webhook_events/{id}"),
    ("POST", "/api/v2/merchant_wallets"),
    ("GET", "/api/v2/merchant_wallets/{id}"),
    ("POST", "/api/v1/merchant_wallets"),
    ("GET", "/api/v1/merchant_wallets/{id}"),
    ("POST", "/api/v2/merchant_bank_accounts"),
    ("GET", "/api/v2/merchant_bank_accounts/{id}"),
    ("POST", "/api/v1/merchant_bank_accounts"),
    ("GET", "/api/v1/merchant_bank_accounts/{id}"),
    ("POST", "/api/v2/external_recipients"),
    ("GET", "/api/v2/external_recipients/{id}"),
    ("POST", "/api/v1/pay_recipients"),
    ("GET", "/api/v1/pay_recipients/{id}"),
    ("POST", "/api/v2/send_money"),
    ("GET", "/api/v2/send_money/{id}"),
    ("POST", "/api/v1/payments"),
    ("GET", "/api/v1/payments/{id}"),
    ("POST", "/api/v1/settlement_transfers"),
    ("GET", "/api/v1/settlement_transfers/{id}"),
    ("POST", "/api/v2/polling"),
    ("GET", "/api/v2/polling/{id}"),
    ("POST", "/api/v1/polling"),
    ("GET", "/api/v1/polling/{id}"),
    ("POST", "/api/v1/transaction_sms_notifications"),
    ("GET", "/api/v1/transaction_sms_notifications/{id}"),
    ("POST", "/api/v2/reversals"),
    ("POST", "/api/api/v2/reversals"),
    ("GET", "/api/v2/reversals/{id}"),
    ("POST", "/api/v2/payment_links"),
    ("GET", "/api/v2/payment_links/{id}"),
    ("POST", "/api/v2/payment_links/{id}/cancel"),
    ("GET", "/links/{id}"),
    ("POST", "/links/{id}"),
    ("GET", "/links/{id}/status"),
];

/// `(method, path, what it does)` of every control-plane route, as `GET /_sandbox/` lists them.
pub const CONTROL: &[(&str, &str, &str)] = &[
    ("GET", "/_sandbox/", "this index"),
    ("GET", "/", "redirects to the dashboard"),
    (
        "GET",
        "/_sandbox/ui/",
        "the dashboard: what happens, live (GET / redirects here)",
    ),
    (
        "GET",
        "/_sandbox/health",
        "200 once ready (never needs the admin token)",
    ),
    (
        "GET",
        "/_sandbox/openapi.json",
        "the OpenAPI 3.1 document of everything served (also .yaml; never needs the admin token)",
    ),
    (
        "GET",
        "/_sandbox/openapi.yaml",
        "the OpenAPI document as YAML",
    ),
    (
        "GET",
        "/_sandbox/stream",
        "what happens, live, as Server-Sent Events (?client_id=&kind=request,callback,...)",
    ),
    (
        "GET",
        "/_sandbox/applications",
        "the applications (with --auto-tenants, every tenant), each with its clock",
    ),
    (
        "GET",
        "/_sandbox/clock",
        "the time, shared or one application's (?client_id=)",
    ),
    (
        "POST",
        "/_sandbox/clock/advance",
        "move the clock forward by {\"by\": \"7d\"}; runs what fell due",
    ),
    (
        "POST",
        "/_sandbox/clock/set",
        "move the clock forward to {\"to\": \"<RFC 3339 instant>\"}",
    ),
    (
        "GET",
        "/_sandbox/prompts",
        "pending STK prompts (?phone=&client_id=)",
    ),
    (
        "POST",
        "/_sandbox/prompts/{target}/{answer}",
        "answer a prompt as the customer: pay, wrong_pin, cancel, timeout, unreachable, insufficient_funds",
    ),
    (
        "GET",
        "/_sandbox/handsets",
        "how each phone number answers prompts",
    ),
    (
        "PUT",
        "/_sandbox/handsets/{phone}",
        "set how a phone number answers prompts",
    ),
    (
        "POST",
        "/_sandbox/payment_links/{id}/pay",
        "a customer pays a payment link",
    ),
    (
        "POST",
        "/_sandbox/events",
        "simulate real-world activity and fire its webhook",
    ),
    (
        "GET",
        "/_sandbox/callbacks",
        "the delivery log: every attempt, exact body and signature",
    ),
    (
        "POST",
        "/_sandbox/callbacks/{id}/replay",
        "send a delivery again, byte for byte",
    ),
    (
        "POST",
        "/_sandbox/callbacks/replay",
        "send every exhausted (or dropped) delivery again, once",
    ),
    (
        "GET",
        "/_sandbox/requests",
        "the request journal (?path=&status=&method=&client_id=&since=)",
    ),
    (
        "GET",
        "/_sandbox/balances",
        "balances of one application (?client_id=)",
    ),
    ("PUT", "/_sandbox/balances", "set a balance outright"),
    ("GET", "/_sandbox/ledger", "every credit and debit"),
    (
        "GET",
        "/_sandbox/sms",
        "the outbox of transaction SMS notifications",
    ),
    (
        "GET",
        "/_sandbox/scenarios",
        "the loaded scenarios, what they added, their probe verdicts",
    ),
    (
        "POST",
        "/_sandbox/scenarios",
        "load a YAML scenario (all or nothing; a loaded name is replaced)",
    ),
    ("DELETE", "/_sandbox/scenarios/{name}", "unload a scenario"),
    (
        "GET",
        "/_sandbox/scenarios/export",
        "the world as a scenario file that loads back into it (?client_id=)",
    ),
    (
        "GET",
        "/_sandbox/verify",
        "judge the loaded scenarios' expectations: what the app did since each loaded",
    ),
    (
        "POST",
        "/_sandbox/reset",
        "forget everything, or one application's world (?client_id=)",
    ),
];

/// The HTTP methods a route may be named with.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Whether `path` reaches some API route, as a fault's prefix does: a prefix of a route's
/// pattern, or a concrete path of one (any segment for `{id}`).
pub fn reaches(method: Option<&str>, path: &str) -> bool {
    API.iter()
        .filter(|(m, _)| method.is_none_or(|method| method == *m))
        .any(|(_, pattern)| prefix_of(path, pattern))
}

/// Whether `path` names the start of `pattern`, segment by segment; its last segment may
/// be a partial one (`/api/v2/incoming_pay` is a prefix as the fault matches it).
fn prefix_of(path: &str, pattern: &str) -> bool {
    let path: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let pattern: Vec<&str> = pattern.split('/').collect();
    if path.len() > pattern.len() {
        return false;
    }
    let last = path.len() - 1;
    path.iter()
        .zip(&pattern)
        .enumerate()
        .all(|(i, (seg, pat))| {
            let variable = pat.starts_with('{');
            if i == last {
                variable || pat.starts_with(seg)
            } else {
                variable && !seg.is_empty() || seg == pat
            }
        })
}

/// The listed route paths closest to `path`, for a "did you mean".
pub fn paths() -> impl Iterator<Item = &'static str> {
    API.iter().map(|(_, pattern)| *pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_concrete_paths_reach_routes() {
        assert!(reaches(Some("POST"), "/api/v2/incoming_payments"));
        assert!(reaches(None, "/api/v2/incoming_pay"));
        assert!(reaches(Some("GET"), "/api/v2/incoming_payments/123e4567"));
        assert!(reaches(Some("POST"), "/api/v2/payment_links/abc/cancel"));
        assert!(reaches(None, "/api"));
        assert!(reaches(None, "/oauth/token"));
        assert!(!reaches(Some("POST"), "/api/v2/poling"));
        assert!(!reaches(Some("DELETE"), "/oauth/token"));
        assert!(!reaches(None, "/api/v3/incoming_payments"));
        assert!(!reaches(None, "/api/v2/incoming_payments/abc/extra"));
    }

    /// Every API path literal the routers name is listed here: a new route cannot be
    /// served without scenario files being able to name it.
    #[test]
    fn every_path_the_routers_name_is_listed() {
        let http = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
        let admin = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/admin");
        let files = [http, admin]
            .into_iter()
            .flat_map(|dir| std::fs::read_dir(dir).expect("source dir"))
            .map(|entry| entry.expect("entry").path());
        let mut named = Vec::new();
        for path in files {
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            for piece in text.split('"').skip(1).step_by(2) {
                let api = [
                    "/api/",
                    "/oauth/",
                    "/links/",
                    "/webhook_events/",
                    "/_sandbox/",
                ];
                if api.iter().any(|p| piece.starts_with(p))
                    && !piece.contains(' ')
                    && !piece.ends_with('/')
                {
                    named.push(piece.to_string());
                }
            }
        }
        assert!(named.len() > 30, "{named:?}");
        for path in named {
            let pattern = path.replace("{token}", "{id}");
            assert!(
                paths().any(|p| p == pattern)
                    || CONTROL.iter().any(|(_, p, _)| *p == path)
                    // The dashboard's page lists its own assets.
                    || path.starts_with("/_sandbox/ui"),
                "{path} is routed but not in routes::API or routes::CONTROL"
            );
        }
    }
}
