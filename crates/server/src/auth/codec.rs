//! The token codec: the settings, the contract's rules, the keys and the cache of verified
//! tokens that minting ([`crate::auth::mint`]) and checking ([`crate::auth::check`]) share.
//! Each of the two adds its half of [`TokenCodec`]'s methods, and neither imports the other.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use claims::Rules;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde_json::{Value, json};

use crate::auth::keyset::KeySet;
use crate::configuration::{ConfigError, JwtSettings};
use crate::memo::Memo;

/// The claims of a token whose signature and registered claims were checked.
pub type Payload = claims::Claims<Value>;

/// How many verified access tokens are remembered, and for how long (simplejwt's access token
/// lifetime: a token presented after that is checked again, at the cost of one signature).
const VERIFIED_CAPACITY: usize = 4_096;
const VERIFIED_FOR: Duration = Duration::from_secs(300);

/// Access tokens whose signature and claims were checked, by their text.
pub(super) type VerifiedTokens = Memo<String, Verified>;

/// A verified token's claims, and the generation of the key set that verified them.
#[derive(Clone)]
pub(super) struct Verified {
    pub(super) keys: u64,
    pub(super) payload: Arc<Payload>,
}

/// An empty cache of verified tokens.
pub(super) fn verified_tokens() -> VerifiedTokens {
    Memo::new(VERIFIED_CAPACITY, VERIFIED_FOR)
}

/// The fewest seconds between two readings of the key directory prompted by tokens that name
/// an unknown `kid` (so a flood of them cannot make the server read the disk per request).
const RELOAD_AT_MOST_EVERY: i64 = 2;

/// How often the key directory is read again regardless, so a rotation reaches a server whose
/// clients have not yet presented a token of the new key, and a retirement reaches every
/// server: a running server refuses a retired key's tokens within this time.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Signs and checks tokens with the configured algorithm and keys.
pub struct TokenCodec {
    settings: JwtSettings,
    /// The contract's rules, from the settings.
    rules: Rules,
    keys: RwLock<Arc<KeySet>>,
    /// Counts the key sets this codec has had: a token verified under an earlier one is not
    /// remembered, even if a check that began before the change stores it after.
    key_generation: AtomicU64,
    verified: VerifiedTokens,
    /// When the key directory was last read, in seconds since the epoch.
    last_reload: AtomicI64,
}

impl TokenCodec {
    /// A codec signing with `encoding_key` and checking with `decoding_key`, tokens carrying
    /// no `kid` (for tests and benchmarks).
    pub fn new(
        settings: JwtSettings,
        encoding_key: EncodingKey,
        decoding_key: DecodingKey,
    ) -> Self {
        Self::with_keys(settings, KeySet::single(encoding_key, decoding_key))
    }

    /// A codec for these settings and this key set.
    pub fn with_keys(settings: JwtSettings, keys: KeySet) -> Self {
        let rules = Rules {
            algorithm: algorithm_name(settings.algorithm),
            leeway: settings.leeway,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        };
        Self {
            settings,
            rules,
            keys: RwLock::new(Arc::new(keys)),
            key_generation: AtomicU64::new(0),
            verified: verified_tokens(),
            last_reload: AtomicI64::new(0),
        }
    }

    /// The token settings.
    pub fn settings(&self) -> &JwtSettings {
        &self.settings
    }

    /// What tokens are checked against (`claims::Rules`), from the settings.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The key set as it is now.
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The public keys, as `/.well-known/jwks.json` publishes them: `{"keys": [...]}`, empty
    /// with HMAC.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys().public_jwks() })
    }

    /// Reads the key directory again (when the keys come from one). When the keys changed,
    /// every remembered verification is forgotten: a retired key's tokens must not pass.
    /// Returns whether they changed.
    pub fn reload_keys(&self, now: i64) -> Result<bool, ConfigError> {
        self.last_reload.store(now, Ordering::Relaxed);
        let current = self.keys();
        let Some(directory) = current.directory() else {
            return Ok(false);
        };
        let fresh = KeySet::from_directory(directory, self.settings.algorithm)?;
        if fresh.same_keys(&current) {
            return Ok(false);
        }
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(fresh);
        self.key_generation.fetch_add(1, Ordering::Release);
        self.verified.invalidate_all();
        tracing::info!("the key set changed: {}", directory.display());
        Ok(true)
    }

    /// Reads the key directory again every few seconds on a thread of its own, for as long as
    /// `codec` is in use. Does nothing when the keys do not come from a directory.
    pub fn watch_key_directory(codec: &Arc<Self>) {
        if codec.keys().directory().is_none() {
            return;
        }
        let codec = Arc::downgrade(codec);
        std::thread::Builder::new()
            .name("key-directory".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(RELOAD_EVERY);
                    let Some(codec) = codec.upgrade() else { return };
                    if let Err(error) = codec.reload_keys(crate::clock::system_now()) {
                        tracing::warn!(%error, "cannot read the key directory again");
                    }
                }
            })
            .expect("a thread can be spawned at start");
    }

    /// [`reload_keys`](Self::reload_keys), unless the directory was read less than
    /// [`RELOAD_AT_MOST_EVERY`] seconds ago; returns whether the keys changed.
    pub(super) fn reload_keys_if_due(&self, now: i64) -> bool {
        let last = self.last_reload.load(Ordering::Relaxed);
        if now - last < RELOAD_AT_MOST_EVERY {
            return false;
        }
        self.reload_keys(now).unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot read the key directory again");
            false
        })
    }

    pub(super) fn verified(&self) -> &VerifiedTokens {
        &self.verified
    }

    /// The generation of the key set: read it before [`keys`](Self::keys), and a token is
    /// remembered under a generation no newer than the keys that verified it.
    pub(super) fn key_generation(&self) -> u64 {
        self.key_generation.load(Ordering::Acquire)
    }
}

/// The JWA name of `algorithm` (`HS256`, `ES256`...), as tokens write it.
fn algorithm_name(algorithm: jsonwebtoken::Algorithm) -> String {
    serde_json::to_value(algorithm)
        .ok()
        .and_then(|name| name.as_str().map(str::to_owned))
        .unwrap_or_default()
}
