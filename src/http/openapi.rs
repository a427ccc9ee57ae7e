//! The OpenAPI 3.1 document of everything the sandbox serves: `openapi.yaml`, written by hand
//! and embedded. Tests keep it true: every route the routers serve is in it and every path in
//! it is served, the fixtures validate against their schemas, and so does every response the
//! integration tests receive and every callback their receivers get.

use std::sync::OnceLock;

use axum::Json;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::extract::BaseUrl;

const SOURCE: &str = include_str!("openapi.yaml");

/// `(name, fixtures/requests/<name>.json)` for each name: the key and its file cannot differ.
macro_rules! examples {
    ($($name:ident),* $(,)?) => {
        &[$((
            stringify!($name),
            include_str!(concat!("../../fixtures/requests/", stringify!($name), ".json")),
        )),*]
    };
}

/// Every request body's example (`fixtures/requests/`, the reference's examples), by its
/// shared request body's name or its operation's id (the `…V1` twin gets it too): what
/// Postman or Insomnia fill a request with when they import the document.
const EXAMPLES: &[(&str, &str)] = examples!(
    requestToken,
    revokeToken,
    introspectToken,
    IncomingPayment,
    WebhookSubscription,
    addMerchantWallet,
    addMerchantBankAccount,
    addExternalRecipient,
    addPayRecipient,
    sendMoney,
    createPayment,
    createSettlementTransfer,
    Polling,
    sendSmsNotification,
    Reversal,
    createPaymentLink,
    setHandset,
    payLinkAsCustomer,
    triggerEvent,
    setBalance,
    advanceClock,
    setClock,
    payPaymentLink,
);

/// `POST /_sandbox/scenarios`'s example: a scenario file.
const SCENARIO_EXAMPLE: &str = include_str!("../../fixtures/requests/loadScenario.yaml");

/// The document, with `server` (a sandbox's base URL) as its one server.
pub fn document(server: &str) -> Value {
    static PARSED: OnceLock<Value> = OnceLock::new();
    let mut doc = PARSED
        .get_or_init(|| {
            let mut doc: Value = serde_yaml_ng::from_str(SOURCE)
                .expect("openapi.yaml is YAML (a unit test reads it)");
            if let Some(map) = doc.as_object_mut() {
                // The response sets the operations share through YAML anchors.
                map.shift_remove("x-shared");
            }
            doc["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
            with_examples(&mut doc);
            doc
        })
        .clone();
    doc["servers"] = json!([{"url": server, "description": "this sandbox"}]);
    doc
}

/// Puts each of [`EXAMPLES`] on its request body's every media type (and the scenario file on
/// `loadScenario`'s YAML one).
fn with_examples(doc: &mut Value) {
    for (key, text) in EXAMPLES {
        let example: Value =
            serde_json::from_str(text).expect("request examples are JSON (a unit test reads them)");
        if let Some(shared) = doc["components"]["requestBodies"].get_mut(*key) {
            set_example(shared, &example);
            continue;
        }
        let twin = format!("{key}V1");
        for op in operations(doc) {
            let id = op["operationId"].as_str().unwrap_or_default();
            if id == *key || id == twin {
                set_example(&mut op["requestBody"], &example);
            }
        }
    }
    for op in operations(doc) {
        if op["operationId"] == "loadScenario" {
            op["requestBody"]["content"]["application/yaml"]["example"] = json!(SCENARIO_EXAMPLE);
        }
    }
}

/// Every operation of the document's paths.
fn operations(doc: &mut Value) -> impl Iterator<Item = &mut Value> {
    doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter(|op| op.get("operationId").is_some())
}

/// `example` on every media type of a request body but a YAML one.
fn set_example(body: &mut Value, example: &Value) {
    if let Some(content) = body["content"].as_object_mut() {
        for (media, entry) in content.iter_mut() {
            if media != "application/yaml" {
                entry["example"] = example.clone();
            }
        }
    }
}

/// The document as YAML.
pub fn yaml(doc: &Value) -> String {
    serde_yaml_ng::to_string(doc).expect("a JSON value is YAML")
}

/// `GET /_sandbox/openapi.json`.
pub async fn serve_json(BaseUrl(base): BaseUrl) -> Json<Value> {
    Json(document(&base))
}

/// `GET /_sandbox/openapi.yaml`.
pub async fn serve_yaml(BaseUrl(base): BaseUrl) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/yaml")],
        yaml(&document(&base)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_parses_with_its_server_and_version() {
        let doc = document("http://example.test:1234");
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["servers"][0]["url"], "http://example.test:1234");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert!(doc.get("x-shared").is_none());
        // The shared response sets are expanded where they are used.
        assert!(
            doc["paths"]["/api/v2/send_money"]["post"]["responses"]["201"]["headers"]["Location"]
                .is_object()
        );
        let again: Value = serde_yaml_ng::from_str(&yaml(&doc)).expect("YAML");
        assert_eq!(again, doc);
    }

    #[test]
    fn every_request_example_names_a_request_body() {
        let mut doc: Value = serde_yaml_ng::from_str(SOURCE).expect("YAML");
        let ids: Vec<String> = operations(&mut doc)
            .map(|op| op["operationId"].as_str().unwrap_or_default().to_string())
            .collect();
        for (key, _) in EXAMPLES {
            assert!(
                doc["components"]["requestBodies"].get(*key).is_some()
                    || ids.iter().any(|id| id == key),
                "{key} names no shared request body and no operation"
            );
        }
    }
}
