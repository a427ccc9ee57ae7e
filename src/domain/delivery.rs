//! The record of a callback delivery: what it reports on, its attempts and how it ended, and
//! for a receiver probe, what a correct receiver does and what the app did. Plain values; the
//! dispatcher (`callbacks`) makes the attempts and the store keeps the records.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Owned;
use super::kinds::ResourceKind;

/// What a callback reports on: a resource's result (or a transaction's webhook event), or a
/// scenario's receiver probe. Its name is the one the delivery log and a scenario's
/// `callback_faults.resource` use: the kind's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackKind {
    Of(ResourceKind),
    /// A scenario's receiver probe, not a resource's result (no callback fault applies).
    ReceiverProbe,
}

impl CallbackKind {
    /// Every kind a callback can have.
    pub const ALL: [Self; ResourceKind::ALL.len() + 1] = {
        let mut all = [Self::ReceiverProbe; ResourceKind::ALL.len() + 1];
        let mut i = 0;
        while i < ResourceKind::ALL.len() {
            all[i] = Self::Of(ResourceKind::ALL[i]);
            i += 1;
        }
        all
    };

    /// Its name as serialised (`incoming_payment`, …), for JSON written by hand.
    pub fn name(self) -> &'static str {
        match self {
            Self::Of(kind) => kind.name(),
            Self::ReceiverProbe => "receiver_probe",
        }
    }

    /// The kind of a resource's callback by its name in the delivery log.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| *k != Self::ReceiverProbe && k.name() == name)
    }
}

impl From<ResourceKind> for CallbackKind {
    fn from(kind: ResourceKind) -> Self {
        Self::Of(kind)
    }
}

impl Serialize for CallbackKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// A resource's callback kind (a receiver probe is never read back).
impl<'de> Deserialize<'de> for CallbackKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown callback kind {name:?}")))
    }
}

/// What a callback reports on: the kind and the resource's id.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub kind: CallbackKind,
    pub id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Exhausted,
    /// A scenario's callback fault dropped it: never sent.
    Dropped,
}

impl DeliveryState {
    /// Its name as serialised.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Exhausted => "exhausted",
            Self::Dropped => "dropped",
        }
    }

    /// A state by its name in the delivery log, in any case.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "exhausted" => Some(Self::Exhausted),
            "dropped" => Some(Self::Dropped),
            _ => None,
        }
    }
}

/// The `X-KopoKopo-Signature` a delivery sends, as compact as it can be kept: an HMAC-SHA256
/// as its 32 bytes (its hex is 64), anything else (a probe's truncated or missing one) as
/// the text. Reads back as exactly the text it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    Hmac([u8; 32]),
    Text(Box<str>),
}

impl Signature {
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Text(t) if t.is_empty())
    }
}

impl From<String> for Signature {
    fn from(text: String) -> Self {
        let mut bytes = [0u8; 32];
        // Lowercase only: the bytes must read back as the same text.
        let lowercase_hex = text.len() == 64
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if lowercase_hex && hex::decode_to_slice(&text, &mut bytes).is_ok() {
            Self::Hmac(bytes)
        } else {
            Self::Text(text.into_boxed_str())
        }
    }
}

impl std::fmt::Display for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hmac(bytes) => f.write_str(&hex::encode(bytes)),
            Self::Text(text) => f.write_str(text),
        }
    }
}

/// Why a delivery attempt got no HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No answer within the policy's timeout.
    TimedOut,
    /// No connection: refused, unresolvable, or the TLS handshake failed.
    Connect,
    /// The connection failed while the request was sent or the answer read.
    Request,
    /// The target or the signature cannot be put into a request.
    Invalid,
}

impl Failure {
    /// The short reason a delivery record and the log show (without the URL: the log has it).
    pub fn describe(self) -> &'static str {
        match self {
            Self::TimedOut => "timed out",
            Self::Connect => "connection failed",
            Self::Request => "request failed",
            Self::Invalid => "invalid request",
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub number: u32,
    pub at_ms: i64,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why the attempt failed without a status.
    pub error: Option<Failure>,
    pub latency_ms: u64,
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: Uuid,
    /// Creation order, for listing.
    pub sequence: u64,
    /// Client id of the application the callback belongs to.
    pub owner: std::sync::Arc<str>,
    pub resource: ResourceRef,
    /// Shared with the resource that names it.
    pub target: std::sync::Arc<str>,
    /// The exact bytes sent, every attempt: shared by every copy of the record and every
    /// attempt, never copied. `None` once it was delivered and let go because the resource
    /// renders the same bytes again whenever asked (`callbacks::Dispatcher::body_of`): a
    /// finished callback costs no copy of its result. See [`release`](Self::release).
    pub body: Option<Arc<[u8]>>,
    /// Whether `body` is its resource's own result document (not a scenario's conflicting
    /// copy, not a probe): then it can be rendered again from the resource.
    pub of_resource: bool,
    /// The HMAC sent as `X-KopoKopo-Signature`, as its 32 bytes: every delivery's but a
    /// receiver probe's, whose text (truncated, missing) is in [`Rare`]. See
    /// [`signature`](Self::signature).
    pub hmac: Option<[u8; 32]>,
    pub created_at_ms: i64,
    /// Exactly as many as were made (most deliveries take one): no spare capacity.
    pub attempts: Box<[Attempt]>,
    pub state: DeliveryState,
    /// Set on a receiver probe, a replay and a replayed delivery (rare: boxed, so the others
    /// do not pay).
    pub rare: Option<Box<Rare>>,
}

/// What few deliveries have.
#[derive(Debug, Clone, Default)]
pub struct Rare {
    /// A scenario's receiver probe: one attempt, judged by whether the app rejected it.
    pub probe: Option<Probe>,
    /// A signature that is not an HMAC's hex (a probe's).
    signature: Option<Box<str>>,
    /// The URL the callback asked for, when `--callback-rewrite` sent it to `target` instead.
    pub rewritten_from: Option<std::sync::Arc<str>>,
    pub replays: Replays,
}

/// How a delivery relates to its replays.
#[derive(Debug, Clone, Default)]
pub struct Replays {
    /// The delivery this one sends again, if it is a replay.
    pub of: Option<Uuid>,
    /// The latest replay of this delivery, once replayed.
    pub by: Option<Uuid>,
}

impl Owned for Delivery {
    fn id(&self) -> Uuid {
        self.id
    }
    fn owner(&self) -> &str {
        &self.owner
    }
    fn owner_shared(&self) -> std::sync::Arc<str> {
        self.owner.clone()
    }
    fn sequence(&self) -> u64 {
        self.sequence
    }
    /// A delivery still being attempted is pending work.
    fn finished(&self) -> bool {
        !matches!(self.state, DeliveryState::Pending)
    }
}

impl Delivery {
    /// Signs it with `signature`: see [`signature`](Self::signature).
    pub fn sign(&mut self, signature: Signature) {
        match signature {
            Signature::Hmac(bytes) => {
                self.hmac = Some(bytes);
                if let Some(rare) = &mut self.rare {
                    rare.signature = None;
                }
            }
            Signature::Text(text) => {
                self.hmac = None;
                self.rare.get_or_insert_default().signature = Some(text);
            }
        }
    }

    /// The `X-KopoKopo-Signature` it sends (empty: none).
    pub fn signature(&self) -> Signature {
        match (
            self.hmac,
            self.rare.as_ref().and_then(|r| r.signature.as_ref()),
        ) {
            (Some(bytes), _) => Signature::Hmac(bytes),
            (None, text) => Signature::Text(text.cloned().unwrap_or_default()),
        }
    }

    /// The URL asked for, when `--callback-rewrite` sent the delivery elsewhere.
    pub fn rewritten_from(&self) -> Option<&str> {
        self.rare.as_ref().and_then(|r| r.rewritten_from.as_deref())
    }

    /// The delivery this one sends again, if it is a replay.
    pub fn replay_of(&self) -> Option<Uuid> {
        self.rare.as_ref().and_then(|r| r.replays.of)
    }

    /// The latest replay of this delivery, once replayed.
    pub fn replayed_by(&self) -> Option<Uuid> {
        self.rare.as_ref().and_then(|r| r.replays.by)
    }

    pub fn replays_mut(&mut self) -> &mut Replays {
        &mut self.rare.get_or_insert_default().replays
    }

    /// Set on a scenario's receiver probe.
    pub fn probe(&self) -> Option<&Probe> {
        self.rare.as_ref().and_then(|r| r.probe.as_ref())
    }

    /// Makes it a receiver probe.
    pub fn set_probe(&mut self, probe: Probe) {
        self.rare.get_or_insert_default().probe = Some(probe);
    }

    /// Records an attempt and moves on: delivered on a 2xx, else pending until the
    /// `max_attempts`th, then exhausted. A probe ends at its one attempt, judged by whether
    /// the app accepted it (an answer of any kind delivers it; none fails it).
    pub fn record(&mut self, attempt: Attempt, max_attempts: u32) -> DeliveryState {
        let answered = attempt.status.is_some();
        let succeeded = attempt.status.is_some_and(|s| (200..300).contains(&s));
        let status = attempt.status;
        let number = attempt.number;
        let mut attempts = std::mem::take(&mut self.attempts).into_vec();
        attempts.push(attempt);
        self.attempts = attempts.into_boxed_slice();
        self.state = if let Some(probe) = self.rare.as_mut().and_then(|r| r.probe.as_mut()) {
            probe.judge(status);
            if answered {
                DeliveryState::Delivered
            } else {
                DeliveryState::Exhausted
            }
        } else if succeeded {
            DeliveryState::Delivered
        } else if number >= max_attempts {
            DeliveryState::Exhausted
        } else {
            DeliveryState::Pending
        };
        self.state
    }

    /// Lets the body go once delivered, if it is its resource's own document (the caller
    /// knows whether that renders the same bytes again).
    pub fn release(&mut self) {
        if self.state == DeliveryState::Delivered && self.of_resource {
            self.body = None;
        }
    }
}

/// The receiver probes a scenario can send, each testing one part of the app's signature
/// checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// Validly signed, compact: accept.
    Valid,
    /// Validly signed over whitespace, reordered keys and `\u` escapes: accept (verify the
    /// raw bytes, not a re-serialisation).
    NonCanonicalJson,
    /// No `X-KopoKopo-Signature`: reject.
    MissingSignature,
    /// A truncated signature: reject.
    ShortSignature,
    /// Signed with another key: reject.
    WrongKey,
    /// A validly signed copy of an event a day old, with a seen id: reject.
    StaleReplay,
}

impl ProbeKind {
    pub const ALL: [Self; 6] = [
        Self::Valid,
        Self::NonCanonicalJson,
        Self::MissingSignature,
        Self::ShortSignature,
        Self::WrongKey,
        Self::StaleReplay,
    ];

    /// Its name as serialised (`wrong_key`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::NonCanonicalJson => "non_canonical_json",
            Self::MissingSignature => "missing_signature",
            Self::ShortSignature => "short_signature",
            Self::WrongKey => "wrong_key",
            Self::StaleReplay => "stale_replay",
        }
    }

    /// What a correct receiver does with this probe.
    pub fn expected(self) -> Expected {
        match self {
            Self::Valid | Self::NonCanonicalJson => Expected::Accept,
            Self::MissingSignature | Self::ShortSignature | Self::WrongKey | Self::StaleReplay => {
                Expected::Reject
            }
        }
    }
}

/// What a correct receiver does: accept (2xx) or reject (non-2xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    Accept,
    Reject,
}

/// What the app did with a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeOutcome {
    /// Answered with a 2xx.
    Accepted,
    /// Answered with anything else.
    Rejected,
    /// Never answered: refused, timed out, or the URL could not be sent to. The app was not
    /// tested, so the probe fails whatever it expected.
    NotDelivered,
}

impl ProbeOutcome {
    /// Its name as serialised.
    pub fn name(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::NotDelivered => "not_delivered",
        }
    }
}

/// A delivery that tests the receiving app's own signature checking.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    pub kind: ProbeKind,
    pub expect: Expected,
    /// Once tried.
    pub outcome: Option<ProbeOutcome>,
    /// Whether the app did what a correct receiver does.
    pub passed: Option<bool>,
    /// The scenario that sent it.
    pub scenario: Option<std::sync::Arc<str>>,
}

impl Probe {
    pub fn new(kind: ProbeKind, scenario: Option<std::sync::Arc<str>>) -> Self {
        Self {
            kind,
            expect: kind.expected(),
            outcome: None,
            passed: None,
            scenario,
        }
    }

    /// Records the app's answer (`None`: there was none): a 2xx accepted the probe, any
    /// other status rejected it, and a probe never answered tested nothing and fails.
    pub fn judge(&mut self, status: Option<u16>) {
        let outcome = match status {
            Some(s) if (200..300).contains(&s) => ProbeOutcome::Accepted,
            Some(_) => ProbeOutcome::Rejected,
            None => ProbeOutcome::NotDelivered,
        };
        self.outcome = Some(outcome);
        self.passed = Some(matches!(
            (self.expect, outcome),
            (Expected::Accept, ProbeOutcome::Accepted) | (Expected::Reject, ProbeOutcome::Rejected)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::CallbackKind;
    use super::Signature;
    use crate::domain::kinds::ResourceKind;

    #[test]
    fn a_signature_reads_back_as_the_text_it_was_made_from() {
        let hmac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let upper = hmac.to_uppercase();
        let not_hex = format!("{}zz", &hmac[..62]);
        for text in [hmac, "", "5bdcc146", &upper, &not_hex] {
            assert_eq!(Signature::from(text.to_string()).to_string(), text);
        }
        assert!(matches!(
            Signature::from(hmac.to_string()),
            Signature::Hmac(_)
        ));
        assert!(Signature::from(String::new()).is_empty());
        assert!(!Signature::from(hmac.to_string()).is_empty());
    }

    #[test]
    fn a_delivery_sends_the_signature_it_was_signed_with() {
        let hmac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let mut delivery = super::Delivery {
            id: uuid::Uuid::nil(),
            sequence: 0,
            owner: "app".into(),
            resource: super::ResourceRef {
                kind: CallbackKind::Of(ResourceKind::IncomingPayment),
                id: uuid::Uuid::nil(),
            },
            target: "http://shop.test/cb".into(),
            body: Some(b"{}".as_slice().into()),
            of_resource: true,
            hmac: None,
            created_at_ms: 0,
            attempts: Box::default(),
            state: super::DeliveryState::Pending,
            rare: None,
        };
        for text in [hmac, "", "5bdcc146", hmac] {
            delivery.sign(Signature::from(text.to_string()));
            assert_eq!(delivery.signature().to_string(), text);
        }
        // An HMAC keeps nothing beside its 32 bytes.
        assert!(delivery.hmac.is_some());
        assert!(delivery.rare.is_none_or(|r| r.signature.is_none()));
    }

    #[test]
    fn a_probe_never_answered_fails_whatever_it_expected() {
        use super::{Probe, ProbeKind, ProbeOutcome};
        for kind in ProbeKind::ALL {
            let mut probe = Probe::new(kind, None);
            probe.judge(None);
            assert_eq!(probe.outcome, Some(ProbeOutcome::NotDelivered));
            assert_eq!(probe.passed, Some(false), "{kind:?}");
        }
        let mut forged = Probe::new(ProbeKind::WrongKey, None);
        forged.judge(Some(401));
        assert_eq!(
            (forged.outcome, forged.passed),
            (Some(ProbeOutcome::Rejected), Some(true))
        );
        forged.judge(Some(204));
        assert_eq!(
            (forged.outcome, forged.passed),
            (Some(ProbeOutcome::Accepted), Some(false))
        );
        let mut genuine = Probe::new(ProbeKind::Valid, None);
        genuine.judge(Some(200));
        assert_eq!(genuine.passed, Some(true));
        genuine.judge(Some(500));
        assert_eq!(genuine.passed, Some(false));
    }

    #[test]
    fn a_probe_kinds_name_is_its_serialised_name() {
        for kind in super::ProbeKind::ALL {
            assert_eq!(serde_json::to_value(kind).expect("serialises"), kind.name());
        }
        for state in [
            super::DeliveryState::Pending,
            super::DeliveryState::Delivered,
            super::DeliveryState::Exhausted,
            super::DeliveryState::Dropped,
        ] {
            assert_eq!(
                serde_json::to_value(state).expect("serialises"),
                state.name()
            );
            assert_eq!(super::DeliveryState::parse(state.name()), Some(state));
        }
        for outcome in [
            super::ProbeOutcome::Accepted,
            super::ProbeOutcome::Rejected,
            super::ProbeOutcome::NotDelivered,
        ] {
            assert_eq!(
                serde_json::to_value(outcome).expect("serialises"),
                outcome.name()
            );
        }
    }

    #[test]
    fn a_kinds_name_is_its_serialised_name_and_names_its_resource() {
        for kind in CallbackKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).expect("serialises"),
                kind.name(),
                "{kind:?}"
            );
        }
        for kind in ResourceKind::ALL {
            let logged = CallbackKind::from(kind).name();
            assert_eq!(CallbackKind::parse(logged), Some(CallbackKind::Of(kind)));
            // Scenarios name a kind's callbacks by their logged name too.
            assert_eq!(ResourceKind::parse(logged).map(|k| k.0), Some(kind));
        }
        assert_eq!(CallbackKind::parse("receiver_probe"), None);
    }
}
