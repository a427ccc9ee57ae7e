//! The optional `metadata` object a client attaches to a request and gets back in its result.
//!
//! It is stored in the form JavaScript would print it, because the Node SDK verifies a
//! callback's signature over `JSON.stringify(JSON.parse(body))`: integer-like keys come
//! first in ascending order (JavaScript's property order), and integral floats such as `5.0`
//! become integers (`JSON.stringify(5.0)` is `5`). Other keys keep the client's order.

use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

use super::Invalid;

pub const MAX_ENTRIES: usize = 5;

/// Kept as its compact JSON text, in that order: one allocation the size of the text, copied
/// as is into every document that shows it (a map of JSON values would cost several times
/// the text in memory, and a copy per rendering).
#[derive(Debug, Clone)]
pub struct Metadata(Box<RawValue>);

impl PartialEq for Metadata {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl Metadata {
    /// `None` for an absent, null or empty-string metadata (older Python SDK modules send `""`).
    pub fn parse(value: Option<&Value>) -> Result<Option<Self>, Invalid> {
        let map = match value {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::Object(map)) => map,
            Some(_) => return Err(Invalid("Metadata must be a JSON object".into())),
        };
        if map.len() > MAX_ENTRIES {
            return Err(Invalid(format!(
                "Metadata can't have more than {MAX_ENTRIES} key-value pairs"
            )));
        }
        let mut entries = Vec::with_capacity(map.len());
        for (key, value) in map {
            let value = match value {
                Value::Number(n) => Value::Number(js_number(n)),
                Value::Null | Value::Bool(_) | Value::String(_) => value.clone(),
                Value::Array(_) | Value::Object(_) => {
                    return Err(Invalid(format!(
                        "Metadata value of {key} must be a string, number, boolean or null"
                    )));
                }
            };
            entries.push((key.clone(), value));
        }
        // Stable sort: array-index keys first by value, the rest in insertion order.
        entries.sort_by_key(|(k, _)| array_index(k).map_or((1, 0), |i| (0, i)));
        let map: Map<String, Value> = entries.into_iter().collect();
        let raw = serde_json::value::to_raw_value(&map)
            .map_err(|e| Invalid(format!("Metadata could not be read: {e}")))?;
        Ok(Some(Self(raw)))
    }

    /// The entries, read back from the text (rule matching, the documents that reorder them).
    pub fn entries(&self) -> Map<String, Value> {
        serde_json::from_str(self.0.get()).unwrap_or_default()
    }

    /// The JSON text, to put in a document as it is.
    pub fn to_raw(&self) -> Box<RawValue> {
        self.0.clone()
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.entries())
    }

    /// In `jsonb` order, as send money results show metadata (see [`jsonb_canonical`]).
    pub fn to_jsonb_value(&self) -> Value {
        jsonb_canonical(&self.to_value())
    }
}

/// Any JSON value in the form `JSON.stringify` would print it (see the module docs): used for
/// request fields echoed back in results, such as send money destinations.
pub fn js_canonical(value: &Value) -> Value {
    match value {
        Value::Number(n) => Value::Number(js_number(n)),
        Value::Array(items) => Value::Array(items.iter().map(js_canonical).collect()),
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map
                .iter()
                .map(|(k, v)| (k.clone(), js_canonical(v)))
                .collect();
            entries.sort_by_key(|(k, _)| array_index(k).map_or((1, 0), |i| (0, i)));
            Value::Object(entries.into_iter().collect())
        }
        other => other.clone(),
    }
}

/// A value with its object keys in the order Kopo Kopo's send money results show request
/// fields in (PostgreSQL `jsonb` order: shorter keys first, then bytewise), then in
/// JavaScript's order ([`js_canonical`]) so signatures still survive a Node round trip.
pub fn jsonb_canonical(value: &Value) -> Value {
    fn sort(value: &Value) -> Value {
        match value {
            Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries
                    .sort_by(|a, b| (a.0.len(), a.0.as_bytes()).cmp(&(b.0.len(), b.0.as_bytes())));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sort(v)))
                        .collect(),
                )
            }
            other => other.clone(),
        }
    }
    js_canonical(&sort(value))
}

/// JavaScript's "array index" property keys: canonical decimal integers below 2^32 - 1.
fn array_index(key: &str) -> Option<u32> {
    if key.is_empty() || (key.len() > 1 && key.starts_with('0')) {
        return None;
    }
    if !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u32>().ok().filter(|&i| i != u32::MAX)
}

/// A number as JavaScript prints it after `JSON.parse`, where every number is a double: an
/// integral double prints as an integer; beyond the safe-integer range, as its shortest
/// round-trip digits followed by zeros (up to 1e21), which is what Rust's `Display` for `f64`
/// prints too. So `5.0` becomes `5` and `12345678901234567890` becomes `12345678901234567000`.
/// Out of reach: magnitudes from 1e21 (JavaScript writes `1e+21`, serde_json `1e21`) and
/// integers below `i64::MIN` once padded, which serde_json cannot hold.
fn js_number(n: &Number) -> Number {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    let Some(f) = n.as_f64() else {
        return n.clone();
    };
    if f.fract() != 0.0 || (f.abs() <= MAX_SAFE && !n.is_f64()) {
        return n.clone();
    }
    if f.abs() <= MAX_SAFE {
        return Number::from(f as i64);
    }
    if f.abs() < 1e21 {
        let digits = format!("{f}");
        if let Ok(i) = digits.parse::<i64>() {
            return Number::from(i);
        }
        if let Ok(u) = digits.parse::<u64>() {
            return Number::from(u);
        }
    }
    n.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Option<String>, Invalid> {
        Metadata::parse(Some(&v)).map(|m| m.map(|m| m.to_value().to_string()))
    }

    #[test]
    fn keys_are_in_javascript_order() {
        let body = r#"{"b":1,"10":2,"a":3,"2":4,"01":5}"#;
        let v: Value = serde_json::from_str(body).expect("json");
        assert_eq!(
            parse(v).expect("valid").as_deref(),
            Some(r#"{"2":4,"10":2,"b":1,"a":3,"01":5}"#)
        );
    }

    #[test]
    fn jsonb_order_is_by_length_then_bytes_with_integer_keys_first() {
        let v: Value =
            serde_json::from_str(r#"{"customerId":1,"notes":2,"ab":3,"123":4}"#).expect("json");
        assert_eq!(
            jsonb_canonical(&v).to_string(),
            r#"{"123":4,"ab":3,"notes":2,"customerId":1}"#
        );
    }

    #[test]
    fn integral_floats_become_integers() {
        assert_eq!(
            parse(json!({"n": 5.0, "f": 1.5}))
                .expect("valid")
                .as_deref(),
            Some(r#"{"n":5,"f":1.5}"#)
        );
    }

    #[test]
    fn numbers_beyond_the_safe_integers_print_as_javascript_prints_them() {
        // What `JSON.stringify(JSON.parse(...))` gives in Node for each.
        let v: Value = serde_json::from_str(
            r#"{"a":1e17,"b":12345678901234567890,"c":-12345678901234567,"d":9007199254740993}"#,
        )
        .expect("json");
        assert_eq!(
            parse(v).expect("valid").as_deref(),
            Some(
                r#"{"a":100000000000000000,"b":12345678901234567000,"c":-12345678901234568,"d":9007199254740992}"#
            )
        );
    }

    #[test]
    fn absent_null_and_empty_string_mean_none() {
        assert_eq!(Metadata::parse(None), Ok(None));
        assert_eq!(parse(json!(null)), Ok(None));
        assert_eq!(parse(json!("")), Ok(None));
    }

    #[test]
    fn more_than_five_entries_or_nested_values_are_rejected() {
        assert!(parse(json!({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6})).is_err());
        assert!(parse(json!({"a": {"b": 1}})).is_err());
        assert!(parse(json!([1])).is_err());
    }
}
