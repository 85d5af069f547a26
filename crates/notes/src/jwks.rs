//! The auth server's published keys (`AUTH_JWKS_URL`), fetched and kept in memory.
//!
//! - A set is fresh for as long as the server's `Cache-Control: max-age` says, at most
//!   `AUTH_JWKS_MAX_AGE` (five minutes by default). A stale set keeps verifying the keys it has
//!   while one fetch runs in the background: a slow or hanging auth server never makes a
//!   request with a known `kid` wait. So a key the auth server retired keeps verifying here
//!   until the first fetch after its set went stale: at most that max-age, plus one request.
//! - A token naming a `kid` the set does not have makes one fetch at once: the auth server may
//!   have just rotated its key. Fetches are at most one per [`REFETCH_AT_MOST_EVERY`], however
//!   many requests miss, so made-up `kid`s cannot turn this service into a flood on the auth
//!   server; requests that miss together wait for the one fetch.
//! - When a fetch fails, the set already held keeps working: the auth server being down does
//!   not stop tokens it already signed from verifying here. Only with nothing held at all is the
//!   answer "unavailable" (a 503).
//! - A key set is read up to [`MAX_JWKS_BYTES`] and refused past it, whatever length the answer
//!   announces (or does not, when chunked).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

/// The fewest time between two fetches of the set.
pub const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(1);

/// The largest key set read, in bytes: a set of a few keys is a few KiB.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// The keys of one fetch.
struct PublishedKeys {
    keys: HashMap<String, Arc<DecodingKey>>,
    fetched: Instant,
    max_age: Duration,
}

/// No key set is held and none could be fetched.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the auth server's keys cannot be fetched: {0}")]
pub struct KeysUnavailable(pub String);

/// The cache of the auth server's keys (cheap to clone: clones share it).
#[derive(Clone)]
pub struct KeyCache(Arc<Cache>);

struct Cache {
    url: String,
    algorithm: Algorithm,
    /// The longest a set is kept.
    max_age: Duration,
    client: reqwest::Client,
    held: RwLock<Option<Arc<PublishedKeys>>>,
    /// When a fetch was last tried; held while fetching, so misses queue behind one fetch.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    /// Whether a background fetch of a stale set is under way.
    refreshing: AtomicBool,
}

impl KeyCache {
    /// A cache of the keys at `url` usable with `algorithm`, kept at most `max_age`, fetched
    /// with this `timeout`; over HTTPS, the public roots and `extra_roots` are trusted.
    pub fn new(
        url: String,
        algorithm: Algorithm,
        max_age: Duration,
        timeout: Duration,
        extra_roots: &[reqwest::Certificate],
    ) -> Self {
        // No pooled connections: fetches are rare, and a pooled connection belongs to the
        // runtime (worker thread) that opened it, which may have stopped by the next fetch.
        let client = extra_roots
            .iter()
            .fold(reqwest::Client::builder(), |client, root| {
                client.add_root_certificate(root.clone())
            })
            .timeout(timeout)
            .pool_max_idle_per_host(0)
            .https_only(url.starts_with("https://"))
            .build()
            .expect("a client with the built-in TLS backend builds");
        Self(Arc::new(Cache {
            url,
            algorithm,
            max_age,
            client,
            held: RwLock::new(None),
            last_fetch: tokio::sync::Mutex::new(None),
            refreshing: AtomicBool::new(false),
        }))
    }

    /// The key named `kid`: from memory when the set held has it (fetching a stale set again in
    /// the background), else after one (rate-limited) fetch. `Ok(None)`: no such key, the
    /// token is invalid.
    pub async fn key(&self, kid: &str) -> Result<Option<Arc<DecodingKey>>, KeysUnavailable> {
        if let Some(set) = self.0.held()
            && let Some(key) = set.keys.get(kid)
        {
            if set.fetched.elapsed() >= set.max_age {
                self.refresh_in_background();
            }
            return Ok(Some(key.clone()));
        }
        match self.0.fetch_unless_recent().await {
            Ok(set) => Ok(set.keys.get(kid).cloned()),
            // The auth server is down or slow: what is held still verifies.
            Err(error) => match self.0.held() {
                Some(set) => Ok(set.keys.get(kid).cloned()),
                None => Err(error),
            },
        }
    }

    /// How many keys are held (none before the first successful fetch).
    pub fn held_keys(&self) -> usize {
        self.0.held().map_or(0, |set| set.keys.len())
    }

    /// Fetches the set now (at start, so the first request need not wait), unless one was
    /// fetched within [`REFETCH_AT_MOST_EVERY`].
    pub async fn refresh(&self) -> Result<usize, KeysUnavailable> {
        self.0.fetch_unless_recent().await.map(|set| set.keys.len())
    }

    /// Starts one fetch on this worker, unless one is under way already.
    fn refresh_in_background(&self) {
        if self.0.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let cache = self.0.clone();
        actix_web::rt::spawn(async move {
            let _ = cache.fetch_unless_recent().await;
            cache.refreshing.store(false, Ordering::Release);
        });
    }
}

impl Cache {
    fn held(&self) -> Option<Arc<PublishedKeys>> {
        self.held
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn fetch_unless_recent(&self) -> Result<Arc<PublishedKeys>, KeysUnavailable> {
        let mut last_fetch = self.last_fetch.lock().await;
        if last_fetch.is_some_and(|at| at.elapsed() < REFETCH_AT_MOST_EVERY) {
            // Someone fetched a moment ago (perhaps while this request waited for the lock).
            return self
                .held()
                .ok_or_else(|| KeysUnavailable("the last fetch failed a moment ago".into()));
        }
        *last_fetch = Some(Instant::now());
        match self.fetch().await {
            Ok(set) => {
                let set = Arc::new(set);
                let count = set.keys.len();
                let previous = self
                    .held
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .replace(set.clone());
                if previous.is_none_or(|old| !same_kids(&old, &set)) {
                    tracing::info!(keys = count, url = %self.url, "fetched the auth server's keys");
                }
                Ok(set)
            }
            Err(error) => {
                tracing::warn!(%error, url = %self.url, "cannot fetch the auth server's keys");
                Err(error)
            }
        }
    }

    async fn fetch(&self) -> Result<PublishedKeys, KeysUnavailable> {
        let unavailable = |why: String| KeysUnavailable(why);
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("HTTP {}", response.status())));
        }
        let max_age = max_age(response.headers(), self.max_age);
        let too_large = || unavailable(format!("the key set is over {MAX_JWKS_BYTES} bytes"));
        if response
            .content_length()
            .is_some_and(|length| length > MAX_JWKS_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| unavailable(e.to_string()))?
        {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let set: JwkSet =
            serde_json::from_slice(&body).map_err(|e| unavailable(format!("not a JWKS: {e}")))?;
        Ok(PublishedKeys {
            keys: usable_keys(&set, self.algorithm),
            fetched: Instant::now(),
            max_age,
        })
    }
}

/// The keys of `set` that can check `algorithm` signatures, by `kid`. Keys for encryption,
/// for another algorithm, or without a `kid` are left out.
fn usable_keys(set: &JwkSet, algorithm: Algorithm) -> HashMap<String, Arc<DecodingKey>> {
    set.keys
        .iter()
        .filter(|jwk| {
            jwk.common
                .public_key_use
                .as_ref()
                .is_none_or(|usage| *usage == PublicKeyUse::Signature)
        })
        .filter(|jwk| {
            jwk.common
                .key_algorithm
                .is_none_or(|alg| alg == KeyAlgorithm::from(algorithm))
        })
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let key = DecodingKey::from_jwk(jwk).ok()?;
            Some((kid, Arc::new(key)))
        })
        .collect()
}

fn same_kids(a: &PublishedKeys, b: &PublishedKeys) -> bool {
    a.keys.len() == b.keys.len() && a.keys.keys().all(|kid| b.keys.contains_key(kid))
}

/// `max-age` of a `Cache-Control` header, at most `longest` (which is also the default).
fn max_age(headers: &reqwest::header::HeaderMap, longest: Duration) -> Duration {
    headers
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .split(',')
                .filter_map(|directive| directive.trim().strip_prefix("max-age="))
                .find_map(|seconds| seconds.trim().parse::<u64>().ok())
        })
        .map_or(longest, |seconds| Duration::from_secs(seconds).min(longest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(json: serde_json::Value) -> JwkSet {
        serde_json::from_value(json).unwrap()
    }

    const X: &str = "AXXgnHYZsv4y6lyAV-ITNXT0q6PcSCOkdlv94801f-Y";
    const Y: &str = "Vm0YTTYsW5SwBCYMe_OsRqh0wq9e4cmKS8Jrv2E51Hk";

    #[test]
    fn only_signature_keys_for_the_configured_algorithm_with_a_kid_are_used() {
        let keys = usable_keys(
            &set(serde_json::json!({"keys": [
                {"kty": "EC", "crv": "P-256", "x": X, "y": Y, "kid": "good", "alg": "ES256", "use": "sig"},
                {"kty": "EC", "crv": "P-256", "x": X, "y": Y, "kid": "bare"},
                {"kty": "EC", "crv": "P-256", "x": X, "y": Y, "kid": "encryption", "use": "enc"},
                {"kty": "EC", "crv": "P-256", "x": X, "y": Y, "kid": "other", "alg": "ES384"},
                {"kty": "EC", "crv": "P-256", "x": X, "y": Y},
            ]})),
            Algorithm::ES256,
        );

        let mut kids: Vec<&String> = keys.keys().collect();
        kids.sort();
        assert_eq!(kids, ["bare", "good"]);
    }

    #[test]
    fn max_age_comes_from_cache_control_and_is_capped_by_the_setting() {
        let longest = Duration::from_secs(300);
        let with = |value: &str| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(reqwest::header::CACHE_CONTROL, value.parse().unwrap());
            max_age(&headers, longest)
        };
        assert_eq!(with("public, max-age=60"), Duration::from_secs(60));
        assert_eq!(with("max-age=86400"), longest);
        assert_eq!(with("no-store"), longest);
        assert_eq!(
            max_age(&reqwest::header::HeaderMap::new(), longest),
            longest
        );
    }
}
