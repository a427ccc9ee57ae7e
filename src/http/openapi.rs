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
            doc
        })
        .clone();
    doc["servers"] = json!([{"url": server, "description": "this sandbox"}]);
    doc
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
}
