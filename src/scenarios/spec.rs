//! What a scenario asks of the running sandbox, as serde types shared by the scenario format
//! and the runtime that acts on them: rules, API faults and callback faults, and the
//! validating newtypes every scenario value is read through (a bad value is an error at its
//! line and field).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::handset::{Answer, Behaviour};
use crate::domain::kinds::ResourceKind;
use crate::domain::money::Amount;
use crate::domain::phone::PhoneNumber;
use crate::domain::webhooks::EventType;

fn parsed<'de, D, T, E: std::fmt::Display>(
    d: D,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let text = String::deserialize(d)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// A duration such as `500ms`, `90s`, `3h`, `7d`.
#[derive(Debug, Clone, Copy)]
pub struct Span(pub Duration);

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |s| crate::clock::parse_span(s).map(Span))
    }
}

/// Written as the text that reads back as the same value (an export).
macro_rules! serialize_as_text {
    ($t:ty, |$v:ident| $text:expr) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let $v = self;
                s.serialize_str(&$text)
            }
        }
    };
}

serialize_as_text!(Span, |v| humantime::format_duration(v.0).to_string());
serialize_as_text!(Money, |v| crate::domain::money::format_amount(
    v.0.decimal()
));
serialize_as_text!(Phone, |v| v.0.to_string());
serialize_as_text!(Topic, |v| v.0.as_str());
serialize_as_text!(HandsetBehaviour, |v| v.0.as_str());
serialize_as_text!(Url, |v| v.0);

/// An amount, as a number or a numeric string.
#[derive(Debug, Clone, Copy)]
pub struct Money(pub Amount);

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let value = match value {
            // Balances may be zero.
            serde_json::Value::Number(n) if n.as_f64() == Some(0.0) => {
                return Ok(Money(Amount::zero()));
            }
            serde_json::Value::String(s) if s.trim().parse::<f64>() == Ok(0.0) => {
                return Ok(Money(Amount::zero()));
            }
            other => other,
        };
        Amount::parse(Some(&value), "amount")
            .map(Money)
            .map_err(serde::de::Error::custom)
    }
}

/// A URL the sandbox sends to (a webhook subscription's, a probe's): absolute http or https,
/// as the API requires of a callback URL.
#[derive(Debug, Clone)]
pub struct Url(pub String);

impl<'de> Deserialize<'de> for Url {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |s| {
            let s = s.trim();
            crate::domain::limits::check_url(s, "url")
                .map(|()| Url(s.to_string()))
                .map_err(|e| {
                    let scheme = s.starts_with("http://") || s.starts_with("https://");
                    if scheme {
                        e.0
                    } else {
                        format!(
                            "{s:?} is not an absolute http(s) URL: write it with its scheme, \
                             e.g. http://{}",
                            s.split_once("://").map_or(s, |(_, rest)| rest)
                        )
                    }
                })
        })
    }
}

/// A resource as a scenario names it: by its canonical name or an alias (kept, so that
/// `validate` can answer with the canonical word).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Named {
    pub kind: ResourceKind,
    /// The alias it was written as, if not its canonical name.
    pub alias: Option<&'static str>,
}

impl<'de> Deserialize<'de> for Named {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |s| {
            ResourceKind::parse(s)
                .map(|(kind, alias)| Named { kind, alias })
                .ok_or_else(|| {
                    let names: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.name()).collect();
                    format!(
                        "unknown resource {s:?}: use {}{}",
                        names.join(", "),
                        crate::suggest::did_you_mean(s, ResourceKind::spellings())
                    )
                })
        })
    }
}

/// A duration with its unit (`1s`, `500ms`); a bare number, as earlier versions of the format
/// wrote some of them, is read as seconds (and `validate` suggests the unit).
#[derive(Debug, Clone, Copy)]
pub struct Seconds {
    pub span: Duration,
    /// Written as a bare number.
    pub bare: bool,
}

impl Seconds {
    /// Whole seconds, rounded up (`Retry-After` counts seconds).
    pub fn whole_seconds(self) -> u64 {
        self.span.as_millis().div_ceil(1000) as u64
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) if n.as_u64().is_some() => Ok(Self {
                span: Duration::from_secs(n.as_u64().unwrap_or_default()),
                bare: true,
            }),
            serde_json::Value::String(s) => crate::clock::parse_span(&s)
                .map(|span| Self { span, bare: false })
                .map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!(
                "expected a duration such as 1s or 500ms, found {other}"
            ))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Phone(pub PhoneNumber);

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |s| PhoneNumber::parse(Some(s)).map(Phone))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Topic(pub EventType);

impl<'de> Deserialize<'de> for Topic {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |s| EventType::parse(Some(s)).map(Topic))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct HandsetBehaviour(pub Behaviour);

impl<'de> Deserialize<'de> for HandsetBehaviour {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |s| Behaviour::parse(s).map(HandsetBehaviour))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct HandsetAnswer(pub Answer);

impl<'de> Deserialize<'de> for HandsetAnswer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |s| Answer::parse(s).map(HandsetAnswer))
    }
}

/// A rule: requests to an endpoint that match get this outcome instead of the default.
/// First match wins; with `times`, a rule applies to that many requests, then falls through.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// `incoming_payment`, `send_money` or `reversal` (load refuses the others).
    pub endpoint: Named,
    #[serde(default, rename = "match")]
    pub matching: MatchSpec,
    pub outcome: OutcomeSpec,
    /// The failure's error text (default: the reference's text for the endpoint).
    #[serde(default)]
    pub error: Option<String>,
    /// Decide the result this long after the request instead of `--callback-delay-ms`.
    #[serde(default)]
    pub delay: Option<Span>,
    #[serde(default)]
    pub times: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeSpec {
    Success,
    Failure,
    /// Stays pending: only the control plane (an STK answer) or nothing resolves it.
    Pending,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub phone_number: Option<Phone>,
    #[serde(default)]
    pub till_number: Option<String>,
    #[serde(default)]
    pub amount: Option<AmountRange>,
    #[serde(default)]
    pub destination_type: Option<String>,
    #[serde(default)]
    pub destination_reference: Option<String>,
    /// Every key given must be in the request's metadata with this value.
    #[serde(default)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountRange {
    #[serde(default)]
    pub min: Option<Money>,
    #[serde(default)]
    pub max: Option<Money>,
}

/// An API fault: requests that match answer an error, are slowed down, or are dropped.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// `METHOD /path` or `/path`; the path matches as a prefix (`POST /api/v2/send_money`).
    pub endpoint: String,
    /// Only requests bearing a token of this application (parallel CI jobs sharing one
    /// sandbox keep their faults to themselves); absent: every request.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Answer this status (429, 500, 502, 503 or 504) instead of serving the request.
    #[serde(default)]
    pub status: Option<u16>,
    /// With 429 or 503: the `Retry-After` header, a duration in whole seconds (`1s`).
    #[serde(default)]
    pub retry_after: Option<Seconds>,
    /// Delay the answer by this long (real time).
    #[serde(default)]
    pub latency: Option<Span>,
    /// Close the connection without an answer.
    #[serde(default)]
    pub drop: bool,
    /// Let this many matching requests pass first: `after: 2` with `times: 1` fails the
    /// third request only.
    #[serde(default)]
    pub after: Option<u64>,
    /// Only N matching requests (after `after`); then requests pass.
    #[serde(default)]
    pub times: Option<u64>,
    /// Only this share of matching requests (0.0 to 1.0), decided by the seeded generator.
    #[serde(default)]
    pub probability: Option<f64>,
}

/// A callback fault: what happens to the deliveries of matching results and webhooks.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackFaultSpec {
    /// `incoming_payment`, `send_money`, `polling`, `transaction_sms_notification`,
    /// `reversal`, `payment_link`, `webhook_event` (or an alias), or absent for all.
    #[serde(default)]
    pub resource: Option<Named>,
    /// Only deliveries of this application; absent: every application's.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Send the first attempt this long later (on the sandbox clock): later callbacks can
    /// overtake it, so callbacks arrive out of order.
    #[serde(default)]
    pub delay: Option<Span>,
    /// Never send it: the delivery is recorded as `dropped`; only polling (GET) recovers.
    #[serde(default)]
    pub drop: bool,
    /// Send this many extra copies, byte for byte, validly signed.
    #[serde(default)]
    pub duplicate: u32,
    /// Also send a validly signed copy whose status says the opposite (Success/Processed
    /// becomes Failed, Failed becomes Success).
    #[serde(default)]
    pub conflicting: bool,
    /// The callback arrives this long before the resource shows its result: GET keeps
    /// answering the pending document meanwhile. An `early` fault does only that.
    #[serde(default)]
    pub early: Option<Span>,
    #[serde(default)]
    pub times: Option<u64>,
}
