//! Domain types: input parsed once at the edge into values that cannot be invalid, and the
//! state machines of resources. Nothing here knows about HTTP or the wire JSON.

pub mod incoming_payment;
pub mod metadata;
pub mod money;
pub mod phone;

/// A validation failure, worded like the reference's messages ("Till number can't be blank").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn blank(field: &str) -> Self {
        Self(format!("{field} can't be blank"))
    }

    pub fn malformed(field: &str) -> Self {
        Self(format!("{field} is invalid"))
    }
}

/// A required, non-blank string field.
pub fn required_text(value: Option<&str>, field: &str) -> Result<String, Invalid> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(Invalid::blank(field)),
    }
}

/// An optional string field: blank counts as absent.
pub fn optional_text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}
