//! Domain types: input parsed once at the edge into values that cannot be invalid, and the
//! state machines of resources. Nothing here knows about HTTP or the wire JSON.

pub mod activity;
pub mod delivery;
pub mod handset;
pub mod incoming_payment;
pub mod interned;
pub mod kinds;
pub mod ledger;
pub mod limits;
pub mod metadata;
pub mod money;
pub mod payment_link;
pub mod phone;
pub mod polling;
pub mod recipients;
pub mod reversal;
pub mod rewrite;
pub mod self_url;
pub mod send_money;
pub mod sms_notification;
pub mod webhooks;

/// A resource that belongs to one OAuth application.
pub trait Owned {
    fn id(&self) -> uuid::Uuid;
    fn owner(&self) -> &str;
    /// Its owner, shared (what a callback or an event about it keeps).
    fn owner_shared(&self) -> std::sync::Arc<str>;
    /// Its creation order: expectations count the resources created after a scenario loaded.
    fn sequence(&self) -> u64;
    /// Whether retention may evict it: pending work (a push awaiting its result, an active
    /// payment link) is never evicted.
    fn finished(&self) -> bool {
        true
    }
}

/// What a scenario rule decided for a request's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Success,
    /// Fail with this error text, or the endpoint's default when `None`.
    Failure(Option<String>),
    Pending,
}

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

    /// The reference's "X is invalid", and what is accepted instead.
    pub fn expected(field: &str, accepted: &str) -> Self {
        Self(format!("{field} is invalid: {accepted}"))
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

/// Company-wide, or one till: the scope of webhook subscriptions and polling requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Company,
    Till(String),
}

impl Scope {
    /// Parses `scope` and `scope_reference`; a till scope needs its till number.
    pub fn parse(scope: Option<&str>, reference: Option<&str>) -> Result<Self, Invalid> {
        match scope.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") => Err(Invalid::blank("Scope")),
            Some("company") => Ok(Self::Company),
            Some("till") => optional_text(reference)
                .map(Self::Till)
                .ok_or_else(|| Invalid("Invalid scope reference".into())),
            Some(_) => Err(Invalid("Scope is invalid".into())),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Company => "company",
            Self::Till(_) => "till",
        }
    }

    pub fn reference(&self) -> Option<&str> {
        match self {
            Self::Company => None,
            Self::Till(t) => Some(t),
        }
    }

    /// Whether something that happened on `till` falls in this scope.
    pub fn covers(&self, till: &str) -> bool {
        match self {
            Self::Company => true,
            Self::Till(t) => t == till,
        }
    }
}

/// What every API resource has: an id, the application that owns it, when it was created,
/// and its absolute URL (fixed at creation: `Location` and `_links.self`).
#[derive(Debug, Clone)]
pub struct Envelope {
    pub id: uuid::Uuid,
    /// Creation order among all resources (ties on `created_at_ms` are common on a virtual
    /// clock); lists that must be stable sort by it.
    pub sequence: u64,
    pub owner: std::sync::Arc<str>,
    pub created_at_ms: i64,
    /// Where it lives: its URL is this and its id (`Location`, `_links.self`).
    pub url: self_url::UrlPrefix,
}

impl Envelope {
    pub fn self_url(&self) -> self_url::SelfUrl<'_> {
        self.url.of(self.id)
    }
}

/// Implements [`crate::domain::Owned`] for resources that carry an [`Envelope`] as `meta`.
/// `owned_by_envelope!(T => |t| ...)` also says when retention may evict a `T` (see
/// [`crate::domain::Owned::finished`]); without it, any time.
macro_rules! owned_by_envelope {
    ($t:ty => $finished:expr) => {
        impl crate::domain::Owned for $t {
            fn id(&self) -> uuid::Uuid {
                self.meta.id
            }
            fn owner(&self) -> &str {
                &self.meta.owner
            }
            fn owner_shared(&self) -> std::sync::Arc<str> {
                self.meta.owner.clone()
            }
            fn sequence(&self) -> u64 {
                self.meta.sequence
            }
            fn finished(&self) -> bool {
                let finished: fn(&$t) -> bool = $finished;
                finished(self)
            }
        }
    };
    ($($t:ty),* $(,)?) => {$(
        owned_by_envelope!($t => |_| true);
    )*};
}
pub(crate) use owned_by_envelope;

/// A boolean that may come as `true`/`false` or as the strings `"true"`/`"false"` (the PHP
/// SDK's examples send strings); absent or null is `default`.
pub fn lenient_bool(
    value: Option<&serde_json::Value>,
    field: &str,
    default: bool,
) -> Result<bool, Invalid> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(default),
        Some(serde_json::Value::Bool(b)) => Ok(*b),
        Some(serde_json::Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" | "" => Ok(false),
            _ => Err(Invalid::malformed(field)),
        },
        Some(_) => Err(Invalid::malformed(field)),
    }
}

/// Accepts a string or a number where the reference says string (till numbers are often sent
/// as numbers); `null` is `None`.
pub fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(
        match <Option<Lenient> as serde::Deserialize>::deserialize(d)? {
            Some(Lenient::Text(s)) => Some(s),
            Some(Lenient::Number(n)) => Some(n.to_string()),
            None => None,
        },
    )
}
