//! Access tokens: keyed by the 32 bytes their text encodes, capped per application (an
//! unused one goes first), and swept once they have been over for a while.

use std::sync::atomic::Ordering;

use super::map::Map;
use super::retention::Retention;

/// An issued access token's record (the token is its key in the store).
#[derive(Debug, Clone)]
pub struct TokenRecord {
    /// Shared: every request the token authenticates carries it without copying.
    pub client_id: std::sync::Arc<str>,
    pub issued_at_ms: i64,
    pub expires_at_ms: i64,
    /// Revoked tokens are kept for a while, so a client is told "revoked" rather than
    /// "invalid".
    pub revoked: bool,
    pub revoked_at_ms: Option<i64>,
    /// Whether it authenticated a request since the token cap last looked at it.
    pub used: Used,
}

/// A token's mark of use (a second chance past the cap, as a resource's read mark): set when
/// it authenticates a request, taken when the cap looks at it. A copy carries its state.
#[derive(Debug, Default)]
pub struct Used(std::sync::atomic::AtomicBool);

impl Used {
    /// Marks it used: a store only the first time, so a token in steady use is only read.
    fn mark(&self) {
        if !self.0.load(Ordering::Relaxed) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    /// Whether it was used since the last look, clearing the mark.
    fn take(&self) -> bool {
        self.0.swap(false, Ordering::Relaxed)
    }
}

impl Clone for Used {
    fn clone(&self) -> Self {
        Self(self.0.load(Ordering::Relaxed).into())
    }
}

impl TokenRecord {
    pub fn is_active(&self, now_ms: i64) -> bool {
        !self.revoked && now_ms < self.expires_at_ms
    }
}

/// An access token's 32 random bytes: the key it is stored under.
type TokenKey = [u8; 32];

/// How many live tokens an application may hold, per item of `--retention`.
pub const TOKENS_PER_RETAINED: usize = 10;

/// A token's text: its 32 bytes in URL-safe base64 without padding.
fn token_text(key: &TokenKey) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// The key of a token as presented: the bytes its text encodes (tokens are 32 random bytes
/// in URL-safe base64, [`token_text`]), decoded instead of hashed: a lookup per request costs
/// a few dozen instructions rather than a SHA-256. Any other text is no token of ours.
fn token_key(token: &str) -> Option<TokenKey> {
    use base64::Engine as _;
    if token.len() != 43 {
        return None;
    }
    // Room for the decoder's estimate of 43 characters (33 bytes); exactly 32 must come out.
    let mut bytes = [0u8; 36];
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode_slice(token, &mut bytes);
    (decoded == Ok(32)).then(|| {
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes[..32]);
        key
    })
}

/// Every token issued, and the order each application's were issued in.
pub struct Tokens {
    map: Map<TokenKey, TokenRecord>,
    /// Tokens in the order they were issued, per application: at most [`TOKENS_PER_RETAINED`]
    /// times the retention cap each, so a client that requests a token per call never pushes
    /// out the long-lived token another part of it holds.
    order: Retention<TokenKey>,
}

impl Tokens {
    pub fn new(retention: usize) -> Self {
        Self {
            map: Map::default(),
            order: Retention::new(retention.saturating_mul(TOKENS_PER_RETAINED)),
        }
    }
    /// Stores the token drawn as `key` (`IdGen::token_bytes`) and returns its text, which
    /// [`token_key`] reads back; past the application's cap its oldest token that has not
    /// authenticated a request since the cap last looked at it is dropped (a client holding it
    /// is told it is invalid). A token in use gets a second chance each time it comes up, as
    /// a resource that is read does: a client that holds one token while asking for many
    /// never loses the one it holds.
    pub fn issue(&self, key: TokenKey, record: TokenRecord) -> String {
        let token = token_text(&key);
        let owner = record.client_id.clone();
        self.map.insert(key, record);
        self.order.push(&owner, key, |old| {
            let used = self.map.get(&old).is_some_and(|t| t.used.take());
            if !used {
                self.map.remove(&old);
            }
            !used
        });
        token
    }

    /// Drops tokens that expired or were revoked more than `keep_ms` ago (by each
    /// application's clock), so that a client is told "expired" or "revoked" for a while,
    /// then "invalid". Returns how many went.
    ///
    /// The walk holds each shard's lock for reading only, so requests reading tokens go on
    /// beside it; each ended token is then removed under a write lock of its own. (A `retain`
    /// held each shard's write lock through its walk: with half a million tokens, the one
    /// runtime worker stood still for 8 ms at a time, waiting to read the token of the request
    /// it was answering.)
    pub fn purge(&self, now_ms_of: impl Fn(&str) -> i64, keep_ms: i64) -> usize {
        // One clock reading per application, not per token.
        let mut now: Option<(std::sync::Arc<str>, i64)> = None;
        let mut is_gone = |t: &TokenRecord| {
            let now = match &now {
                Some((owner, at)) if std::sync::Arc::ptr_eq(owner, &t.client_id) => *at,
                _ => {
                    let at = now_ms_of(&t.client_id);
                    now = Some((t.client_id.clone(), at));
                    at
                }
            };
            let ended_at = if t.revoked {
                t.revoked_at_ms
                    .unwrap_or(t.expires_at_ms)
                    .min(t.expires_at_ms)
            } else {
                t.expires_at_ms
            };
            now >= ended_at.saturating_add(keep_ms)
        };
        let gone: Vec<TokenKey> = self
            .map
            .iter()
            .filter(|entry| is_gone(entry.value()))
            .map(|entry| *entry.key())
            .collect();
        gone.into_iter()
            .filter(|key| self.map.remove_if(key, |_, t| is_gone(t)).is_some())
            .count()
    }

    /// The record of a token, active or not; marks it used.
    pub fn get(&self, token: &str) -> Option<TokenRecord> {
        self.map.get(&token_key(token)?).map(|r| {
            r.used.mark();
            r.clone()
        })
    }

    /// Revokes a token if it belongs to `client_id`; returns whether it did.
    pub fn revoke(&self, token: &str, client_id: &str, now_ms: i64) -> bool {
        let Some(key) = token_key(token) else {
            return false;
        };
        self.map
            .get_mut(&key)
            .filter(|r| *r.client_id == *client_id)
            .map(|mut r| {
                if !r.revoked {
                    r.revoked = true;
                    r.revoked_at_ms = Some(now_ms);
                }
            })
            .is_some()
    }

    /// Forgets every token of `client_id`.
    pub fn remove_owner(&self, client_id: &str) {
        self.map.retain(|_, t| *t.client_id != *client_id);
        self.order.remove_owner(client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::{token_key, token_text};

    #[test]
    fn a_token_is_keyed_by_the_bytes_it_encodes_and_nothing_else_is_a_token() {
        let ids = crate::clock::IdGen::new(None);
        for _ in 0..100 {
            let bytes = ids.token_bytes();
            let token = token_text(&bytes);
            assert_eq!(token.len(), 43);
            assert_eq!(token_key(&token), Some(bytes), "every token made decodes");
        }
        let token = token_text(&ids.token_bytes());
        for other in [
            "",
            "sandbox-api-key",
            &token[..42],
            &format!("{token}A"),
            &format!("{}+", &token[..42]),
        ] {
            assert_eq!(token_key(other), None, "{other:?}");
        }
    }
}
