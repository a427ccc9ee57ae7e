//! The sandbox's sense of time and of randomness, both injectable so a run can be replayed.
//!
//! [`Clock`] is real time by default, or a virtual clock frozen at a fixed instant (`--clock`).
//! Either way it can be advanced from the control plane: the advance is an offset added to the
//! base, so token expiry, due results and callback retries all see the same "now". Each
//! application (tenant) may also run ahead on its own: its "now" is the clock's plus its own
//! offset, so one tenant's "three days later" never moves another's.
//! [`IdGen`] draws ids, references and tokens: from the OS when no seed is given, or from a
//! seeded ChaCha stream per draw (`--seed`), so the n-th draw of a run is always the same value.
//! Neither type takes a lock: both are atomics, safe to call from any handler.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// East Africa Time, the offset every Kopo Kopo timestamp carries (`+03:00`).
pub fn eat() -> FixedOffset {
    FixedOffset::east_opt(3 * 3600).expect("+03:00 is a valid offset")
}

/// A shared clock; cloning shares the same offset.
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<ClockInner>,
}

#[derive(Debug)]
struct ClockInner {
    /// `None`: real time. `Some(ms)`: a virtual clock frozen at this Unix time in milliseconds.
    frozen_at_ms: Option<i64>,
    /// Milliseconds added by `advance`, in both modes.
    offset_ms: AtomicI64,
    /// Milliseconds one tenant's clock runs ahead of the shared one.
    tenants: dashmap::DashMap<String, i64, foldhash::fast::RandomState>,
    /// Whether any tenant ever ran ahead: until then, no lookup per "now".
    any_tenant: AtomicBool,
}

impl Clock {
    pub fn real() -> Self {
        Self::with_base(None)
    }

    pub fn frozen_at(start: DateTime<Utc>) -> Self {
        Self::with_base(Some(start.timestamp_millis()))
    }

    fn with_base(frozen_at_ms: Option<i64>) -> Self {
        Self {
            inner: Arc::new(ClockInner {
                frozen_at_ms,
                offset_ms: AtomicI64::new(0),
                tenants: dashmap::DashMap::default(),
                any_tenant: AtomicBool::new(false),
            }),
        }
    }

    pub fn is_virtual(&self) -> bool {
        self.inner.frozen_at_ms.is_some()
    }

    /// Now, as Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        let base = self
            .inner
            .frozen_at_ms
            .unwrap_or_else(|| Utc::now().timestamp_millis());
        base.saturating_add(self.inner.offset_ms.load(Ordering::Acquire))
    }

    pub fn now(&self) -> DateTime<FixedOffset> {
        to_eat(self.now_ms())
    }

    /// Moves the clock forward for everyone; it never goes back, so due order is preserved.
    pub fn advance(&self, by_ms: i64) {
        let by_ms = by_ms.max(0);
        let _ = self
            .inner
            .offset_ms
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |o| {
                Some(o.saturating_add(by_ms))
            });
    }

    /// How far the shared clock was advanced, in milliseconds, ahead of real time (or of
    /// the virtual clock's start).
    pub fn advanced_ms(&self) -> i64 {
        self.inner.offset_ms.load(Ordering::Acquire)
    }

    /// How far `tenant`'s clock runs ahead of the shared one.
    pub fn tenant_offset_ms(&self, tenant: &str) -> i64 {
        if !self.inner.any_tenant.load(Ordering::Acquire) {
            return 0;
        }
        self.inner.tenants.get(tenant).map_or(0, |o| *o)
    }

    /// Now, on `tenant`'s clock.
    pub fn now_ms_of(&self, tenant: &str) -> i64 {
        self.now_ms().saturating_add(self.tenant_offset_ms(tenant))
    }

    pub fn now_of(&self, tenant: &str) -> DateTime<FixedOffset> {
        to_eat(self.now_ms_of(tenant))
    }

    /// Moves one tenant's clock forward.
    pub fn advance_tenant(&self, tenant: &str, by_ms: i64) {
        self.inner.any_tenant.store(true, Ordering::Release);
        let mut offset = self.inner.tenants.entry(tenant.to_string()).or_insert(0);
        *offset = offset.saturating_add(by_ms.max(0));
    }

    /// Forgets a tenant's own offset (the tenant was dropped).
    pub fn forget_tenant(&self, tenant: &str) {
        self.inner.tenants.remove(tenant);
    }

    /// Moves one tenant's clock forward (`Some`), or everyone's.
    pub fn advance_for(&self, tenant: Option<&str>, by_ms: i64) {
        match tenant {
            Some(tenant) => self.advance_tenant(tenant, by_ms),
            None => self.advance(by_ms),
        }
    }
}

/// The longest span one duration may name (a scenario time, one move of the clock): a
/// hundred years.
pub const MAX_SPAN: Duration = Duration::from_secs(100 * 365 * 86_400);

/// A duration such as `500ms`, `90s`, `15m`, `3h`, `7d`, at most [`MAX_SPAN`].
pub fn parse_span(text: &str) -> Result<Duration, String> {
    let span = humantime::parse_duration(text.trim())
        .map_err(|e| format!("invalid duration {text:?} ({e}); use e.g. 500ms, 90s, 3h, 7d"))?;
    if span > MAX_SPAN {
        return Err(format!("duration {text:?} is too long: at most 100 years"));
    }
    Ok(span)
}

/// A duration in milliseconds, saturating: arithmetic on instants never wraps.
pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The instants the sandbox shows: years 1 to 9999.
const EARLIEST_MS: i64 = -62_135_596_800_000;
const LATEST_MS: i64 = 253_402_300_799_999;

/// A Unix-millisecond instant in East Africa Time (held within years 1 to 9999, however far
/// a clock was moved).
pub fn to_eat(ms: i64) -> DateTime<FixedOffset> {
    eat()
        .timestamp_millis_opt(ms.clamp(EARLIEST_MS, LATEST_MS))
        .single()
        .expect("years 1 to 9999 are within chrono's range")
}

/// `2020-10-19T09:24:48.622+03:00`: the reference's format for `initiation_time`.
pub fn format_millis(t: DateTime<FixedOffset>) -> String {
    // The RFC 3339 writer gives the same text as `%Y-%m-%dT%H:%M:%S%.3f%:z` for years 1 to
    // 9999 (to_eat clamps to them) without parsing a format string per call.
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

/// [`format_millis`] of [`to_eat`] for a stream of nearby instants: the text is built once per
/// second and only the milliseconds written per call (the live feed stamps every event).
#[derive(Default)]
pub struct MillisStamp {
    second: Option<i64>,
    text: Vec<u8>,
}

impl MillisStamp {
    /// The text, as bytes (ASCII).
    pub fn format(&mut self, ms: i64) -> &[u8] {
        let ms = ms.clamp(EARLIEST_MS, LATEST_MS);
        let second = ms.div_euclid(1000);
        if self.second != Some(second) {
            self.second = Some(second);
            self.text = format_millis(to_eat(second * 1000)).into_bytes();
        }
        // `...:SS.mmm+03:00`: the milliseconds are the three digits before the offset.
        let at = self.text.len() - 9;
        let millis = ms.rem_euclid(1000) as u16;
        self.text[at..at + 3].copy_from_slice(&[
            b'0' + (millis / 100) as u8,
            b'0' + (millis / 10 % 10) as u8,
            b'0' + (millis % 10) as u8,
        ]);
        &self.text
    }
}

/// `2020-10-19T09:24:54+03:00`: the reference's format for `created_at`, `origination_time`.
pub fn format_seconds(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// [`format_seconds`] of [`to_eat`]`(ms)`, formatted once per second per thread: every token
/// response carries it, and the calendar arithmetic is most of the cost of writing one.
pub fn eat_seconds_text(ms: i64) -> String {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> =
            const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    let second = ms.div_euclid(1000);
    LAST.with_borrow_mut(|(last, text)| {
        if *last != second {
            *last = second;
            *text = format_seconds(to_eat(ms));
        }
        text.clone()
    })
}

/// Source of every id, reference and token the sandbox makes up.
#[derive(Clone, Debug)]
pub struct IdGen {
    seed: Option<u64>,
    draws: Arc<AtomicU64>,
    sequence: Arc<AtomicU64>,
}

impl IdGen {
    pub fn new(seed: Option<u64>) -> Self {
        Self {
            seed,
            draws: Arc::new(AtomicU64::new(0)),
            sequence: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The number the next [`next_sequence`](Self::next_sequence) will give.
    pub fn sequence_now(&self) -> u64 {
        self.sequence.load(Ordering::Relaxed)
    }

    /// The next number of a run-wide counter: creation order.
    pub fn next_sequence(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::Relaxed)
    }

    /// Fills `buf` from the next draw. With a seed, draw n uses ChaCha stream n of that seed:
    /// lock-free, and independent of which thread makes the draw.
    fn fill(&self, buf: &mut [u8]) {
        match self.seed {
            Some(seed) => {
                let n = self.draws.fetch_add(1, Ordering::Relaxed);
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(n);
                rng.fill_bytes(buf);
            }
            None => rand::rng().fill_bytes(buf),
        }
    }

    /// A number in [0, 1): the next draw, for seeded probabilities.
    pub fn unit(&self) -> f64 {
        let mut bytes = [0u8; 8];
        self.fill(&mut bytes);
        (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn uuid(&self) -> Uuid {
        let mut bytes = [0u8; 16];
        self.fill(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// 32 random bytes (256 bits): an OAuth access token, which the store writes as text
    /// (`Store::issue_token`).
    pub fn token_bytes(&self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        self.fill(&mut bytes);
        bytes
    }

    /// An M-PESA style transaction reference: ten upper-case letters and digits starting with
    /// a letter, like the reference's `OJJ1MPU40Z`.
    pub fn mpesa_reference(&self) -> String {
        self.reference().as_str().to_string()
    }

    /// As [`mpesa_reference`](Self::mpesa_reference), held inline.
    pub fn reference(&self) -> MpesaReference {
        const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        const ALPHANUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut seed = [0u8; 32];
        self.fill(&mut seed);
        let mut rng = ChaCha8Rng::from_seed(seed);
        let mut out = [0u8; 10];
        out[0] = LETTERS[rng.random_range(0..LETTERS.len())];
        for byte in &mut out[1..] {
            *byte = ALPHANUM[rng.random_range(0..ALPHANUM.len())];
        }
        MpesaReference(out)
    }
}

/// A generated M-PESA transaction reference, as its ten ASCII bytes: no allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MpesaReference([u8; 10]);

impl MpesaReference {
    /// `text` if it is ten upper-case letters and digits, as generated.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes: [u8; 10] = text.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            .then_some(Self(bytes))
    }

    pub fn as_str(&self) -> &str {
        // Always ASCII: `IdGen::reference` writes only letters and digits.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for MpesaReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for MpesaReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn millis_stamp_writes_what_format_millis_writes() {
        let mut stamp = super::MillisStamp::default();
        for ms in [
            0,
            1,
            999,
            1_000,
            1_603_088_694_007,
            1_603_088_694_120,
            1_603_088_695_999,
            -1,
            -1_001,
            super::LATEST_MS,
            super::EARLIEST_MS,
        ] {
            assert_eq!(
                stamp.format(ms),
                super::format_millis(super::to_eat(ms)).as_bytes(),
                "{ms}"
            );
        }
    }

    use super::*;

    #[test]
    fn seeded_draws_repeat_across_generators() {
        let a = IdGen::new(Some(7));
        let b = IdGen::new(Some(7));
        assert_eq!(a.uuid(), b.uuid());
        assert_eq!(a.mpesa_reference(), b.mpesa_reference());
        assert_ne!(a.uuid(), a.uuid());
    }

    #[test]
    fn mpesa_references_look_like_the_reference() {
        let r = IdGen::new(None).mpesa_reference();
        assert_eq!(r.len(), 10);
        assert!(r.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
        assert!(
            r.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
    }

    #[test]
    fn virtual_clock_is_frozen_until_advanced() {
        let start = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .expect("valid")
            .with_timezone(&Utc);
        let clock = Clock::frozen_at(start);
        assert_eq!(format_seconds(clock.now()), "2026-01-02T06:04:05+03:00");
        clock.advance(1_500);
        assert_eq!(format_millis(clock.now()), "2026-01-02T06:04:06.500+03:00");
        clock.advance_tenant("a", 1_000);
        assert_eq!(clock.now_ms_of("a") - clock.now_ms_of("b"), 1_000);
        clock.advance(1);
        assert_eq!(clock.now_ms_of("a") - clock.now_ms(), 1_000);
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn seconds_text_kept_per_second_is_what_format_seconds_writes() {
        for ms in [
            1_764_430_846_000,
            1_764_430_846_999,
            1_764_430_847_000,
            1_764_430_846_500,
            0,
            -1,
            -1_000,
            EARLIEST_MS - 5_000,
        ] {
            assert_eq!(eat_seconds_text(ms), format_seconds(to_eat(ms)), "{ms}");
        }
    }

    #[test]
    fn timestamps_read_as_the_reference_writes_them() {
        let t = to_eat(1_603_088_688_622);
        assert_eq!(format_millis(t), "2020-10-19T09:24:48.622+03:00");
        assert_eq!(format_seconds(t), "2020-10-19T09:24:48+03:00");
        // The same text as the strftime patterns, to the ends of the clamped range.
        for ms in [i64::MIN, -1, 0, 1_603_088_688_000, i64::MAX] {
            let t = to_eat(ms);
            assert_eq!(
                format_millis(t),
                t.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
            );
            assert_eq!(
                format_seconds(t),
                t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
            );
        }
    }
}
