//! The keys tokens are signed and checked with, as a set: one signs, every one of them verifies,
//! each named by its `kid`, the key's RFC 7638 thumbprint. The public half of each is what
//! `/.well-known/jwks.json` publishes, so that another service can check tokens without any
//! secret.
//!
//! With `JWT_KEYS_DIR` the set lives in a directory, and can rotate while servers run:
//!
//! ```text
//! JWT_KEYS_DIR/
//!   current             the kid of the key that signs (one line)
//!   <kid>.pem           every key that verifies (a PKCS#8 private key)
//!   retired/<kid>.pem   retired keys: kept for the record, never loaded
//! ```
//!
//! Rotating: `server keys generate` writes a new key and makes it current; tokens signed by the
//! previous key keep verifying until they expire; then `server keys retire KID`. Each server
//! reads the directory again every few seconds, and when a token names a `kid` it does not
//! know (at most once per few seconds), so every replica follows without a restart.
//!
//! The algorithm is the configured one (`JWT_ALGORITHM`), never the token's; a key of another
//! kind in the directory stops the server at start. A `kid` only ever selects among these keys:
//! it is never a path, and header fields that name other keys (`jwk`, `jku`, `x5u`, `x5c`) are
//! never used.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse, ThumbprintHash,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use crate::configuration::ConfigError;

/// The file naming the current key.
pub const CURRENT_FILE: &str = "current";

/// Where retired keys go.
pub const RETIRED_DIR: &str = "retired";

/// The keys of a server: the one that signs, and every one that verifies.
pub struct KeySet {
    signing: EncodingKey,
    /// The `kid` tokens are signed under; `None` for HMAC, whose tokens carry none (as
    /// simplejwt's do).
    signing_kid: Option<String>,
    verifying: HashMap<String, DecodingKey>,
    /// The one configured key (the HMAC secret, or `JWT_SIGNING_KEY`'s pair): it checks every
    /// token, whatever `kid` the token names, as simplejwt ignores `kid`. `None` for a key
    /// directory, where `kid` selects among the directory's keys.
    only: Option<DecodingKey>,
    /// The public keys, as JWKs.
    public: Vec<Jwk>,
    /// The directory the set was read from, to read it again.
    directory: Option<PathBuf>,
}

/// One key of a directory, as `keys list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Its RFC 7638 thumbprint.
    pub kid: String,
    /// What kind of key it is: `ES256`, `ES384`, `EdDSA` or `RSA` (any of RS256/384/512).
    pub kind: &'static str,
    /// When its file was written.
    pub created: SystemTime,
    /// Whether it signs, only verifies, or is retired.
    pub state: KeyState,
}

/// What a key of the directory is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// It signs new tokens (and verifies).
    Current,
    /// It verifies tokens it signed before a rotation.
    Verifying,
    /// Its tokens no longer verify.
    Retired,
}

impl KeySet {
    /// An HMAC secret: it signs and verifies, and no JWK is published (a JWK of it would be the
    /// secret itself).
    pub fn hmac(secret: &[u8]) -> Self {
        Self {
            signing: EncodingKey::from_secret(secret),
            signing_kid: None,
            verifying: HashMap::new(),
            only: Some(DecodingKey::from_secret(secret)),
            public: Vec::new(),
            directory: None,
        }
    }

    /// A key pair given as such (`JWT_SIGNING_KEY` and `JWT_VERIFYING_KEY`): tokens carry its
    /// thumbprint as `kid`, and every token is checked with it, whatever `kid` it names. `None` when the
    /// verifying key is not the public half of the signing key.
    pub fn pair(
        signing: EncodingKey,
        verifying: DecodingKey,
        algorithm: Algorithm,
    ) -> Option<Self> {
        let jwk = public_jwk(&signing, algorithm).ok()?;
        let probe = jsonwebtoken::crypto::sign(b"probe", &signing, algorithm).ok()?;
        jsonwebtoken::crypto::verify(&probe, b"probe", &verifying, algorithm)
            .ok()
            .filter(|verified| *verified)?;
        let kid = jwk.common.key_id.clone()?;
        Some(Self {
            signing,
            verifying: HashMap::from([(kid.clone(), verifying.clone())]),
            signing_kid: Some(kid),
            only: Some(verifying),
            public: vec![jwk],
            directory: None,
        })
    }

    /// Keys given to a test, signing and verifying as one, with no `kid`.
    pub fn single(signing: EncodingKey, verifying: DecodingKey) -> Self {
        Self {
            signing,
            signing_kid: None,
            verifying: HashMap::new(),
            only: Some(verifying),
            public: Vec::new(),
            directory: None,
        }
    }

    /// The set in `directory` (see the module's documentation). An empty directory gets its
    /// first key, generated now; of several servers starting together, one writes it and the
    /// others wait for it.
    pub fn from_directory(directory: &Path, algorithm: Algorithm) -> Result<Self, ConfigError> {
        let unusable = |why: String| {
            ConfigError::new(
                "JWT_KEYS_DIR",
                "a directory of PEM private keys and a `current` file (see `server keys --help`)",
                format!("{} ({why})", directory.display()),
            )
        };
        std::fs::create_dir_all(directory).map_err(|e| unusable(e.to_string()))?;
        ensure_current_key(directory, algorithm).map_err(&unusable)?;
        let current = read_current(directory).map_err(&unusable)?;
        let mut verifying = HashMap::new();
        let mut public = Vec::new();
        let mut signing = None;
        for (kid, path) in key_files(directory).map_err(&unusable)? {
            let pem = std::fs::read(&path).map_err(|e| unusable(e.to_string()))?;
            let (key, jwk) = private_key(&pem, algorithm).ok_or_else(|| {
                unusable(format!(
                    "{} is not a private key for {algorithm:?}",
                    path.display()
                ))
            })?;
            if jwk.common.key_id.as_deref() != Some(kid.as_str()) {
                return Err(unusable(format!(
                    "{} holds another key than {kid} (its thumbprint differs)",
                    path.display()
                )));
            }
            let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| unusable(e.to_string()))?;
            verifying.insert(kid.clone(), decoding);
            public.push(jwk);
            if kid == current {
                signing = Some(key);
            }
        }
        let signing = signing
            .ok_or_else(|| unusable(format!("the current key {current} has no .pem file")))?;
        Ok(Self {
            signing,
            signing_kid: Some(current),
            verifying,
            only: None,
            public,
            directory: Some(directory.to_owned()),
        })
    }

    /// The key that signs, and its `kid`.
    pub fn signing(&self) -> (&EncodingKey, Option<&str>) {
        (&self.signing, self.signing_kid.as_deref())
    }

    /// The key that checks a token naming `kid` (or none): the one configured key whatever
    /// the `kid`, or the directory's key of that `kid`.
    pub fn verifying(&self, kid: Option<&str>) -> Option<&DecodingKey> {
        match (&self.only, kid) {
            (Some(only), _) => Some(only),
            (None, Some(kid)) => self.verifying.get(kid),
            (None, None) => None,
        }
    }

    /// The public keys, as the JWKS endpoint publishes them.
    pub fn public_jwks(&self) -> &[Jwk] {
        &self.public
    }

    /// The directory the set came from, when it came from one.
    pub fn directory(&self) -> Option<&Path> {
        self.directory.as_deref()
    }

    /// Whether `other` has the same keys, for the same purposes.
    pub fn same_keys(&self, other: &KeySet) -> bool {
        let mut mine: Vec<&String> = self.verifying.keys().collect();
        let mut theirs: Vec<&String> = other.verifying.keys().collect();
        mine.sort();
        theirs.sort();
        mine == theirs && self.signing_kid == other.signing_kid
    }
}

/// The JWK of the public half of `key`, with its `kid` (the RFC 7638 thumbprint), `alg` and
/// `use`. Never called for an HMAC key, whose JWK would be the secret.
fn public_jwk(key: &EncodingKey, algorithm: Algorithm) -> Result<Jwk, jsonwebtoken::errors::Error> {
    let mut jwk = Jwk::from_encoding_key(key, algorithm)?;
    jwk.common.key_id = Some(jwk.thumbprint(ThumbprintHash::SHA256)?);
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(KeyAlgorithm::from(algorithm));
    Ok(jwk)
}

/// A private key in PEM form for `algorithm`, with its public JWK, if `pem` is one.
fn private_key(pem: &[u8], algorithm: Algorithm) -> Option<(EncodingKey, Jwk)> {
    let key = match algorithm {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => EncodingKey::from_rsa_pem(pem),
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
        _ => return None,
    }
    .ok()?;
    let jwk = public_jwk(&key, algorithm).ok()?;
    // A P-384 key parses for ES256 too; its JWK names the curve it is really on.
    let curve_matches = match (&jwk.algorithm, algorithm) {
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES384) => {
            ec.curve == EllipticCurve::P384
        }
        _ => true,
    };
    curve_matches.then_some((key, jwk))
}

/// The `kid` in `directory/current`.
fn read_current(directory: &Path) -> Result<String, String> {
    let path = directory.join(CURRENT_FILE);
    std::fs::read_to_string(&path)
        .map(|text| text.trim().to_owned())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The `<kid>.pem` files of the directory (retired ones are elsewhere).
fn key_files(directory: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(directory).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|ext| ext == "pem")
            && let Some(kid) = path.file_stem().and_then(|s| s.to_str())
        {
            found.push((kid.to_owned(), path.clone()));
        }
    }
    found.sort();
    Ok(found)
}

/// Gives an empty directory its first key. Of several processes starting together, the one
/// that creates the lock file writes the key; the others wait (up to 30 s) for `current`.
fn ensure_current_key(directory: &Path, algorithm: Algorithm) -> Result<(), String> {
    if directory.join(CURRENT_FILE).exists() {
        return Ok(());
    }
    let lock = directory.join(".generating");
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock)
    {
        Ok(_) => {
            let outcome = add_key(directory, algorithm).map(|kid| {
                tracing::warn!(
                    %kid,
                    "JWT_KEYS_DIR had no key: generated {algorithm:?} key {kid} in {}; every server using the directory signs with it (back it up; rotate with `server keys generate`; or bring your own pair: JWT_SIGNING_KEY and JWT_VERIFYING_KEY, with JWT_KEYS_DIR unset)",
                    directory.display()
                );
            });
            let _ = std::fs::remove_file(&lock);
            outcome
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !directory.join(CURRENT_FILE).exists() {
                if Instant::now() > deadline {
                    return Err(format!(
                        "another process has been generating the first key for 30 s (remove {} if none is)",
                        lock.display()
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        }
        Err(error) => Err(error.to_string()),
    }
}

/// What kind of key `pem` holds, named as [`KeyInfo::kind`].
fn key_kind(pem: &[u8]) -> Option<&'static str> {
    [
        (Algorithm::ES256, "ES256"),
        (Algorithm::ES384, "ES384"),
        (Algorithm::EdDSA, "EdDSA"),
        (Algorithm::RS256, "RSA"),
    ]
    .into_iter()
    .find(|(algorithm, _)| private_key(pem, *algorithm).is_some())
    .map(|(_, kind)| kind)
}

fn kind_of(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
        _ => "RSA",
    }
}

/// Generates a key for `algorithm`, writes it to the directory and makes it current; returns
/// its `kid`. Refused when the directory's keys are of another kind: servers would stop
/// accepting them.
pub fn add_key(directory: &Path, algorithm: Algorithm) -> Result<String, String> {
    for (kid, path) in key_files(directory)? {
        let pem = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let kind = key_kind(&pem).unwrap_or("not a private key");
        if kind != kind_of(algorithm) {
            return Err(format!(
                "the directory holds {kind} key {kid}, and one directory holds one kind of key: generate {kind} (--algorithm), or use a new directory"
            ));
        }
    }
    let pem = generate_private_key(algorithm)?;
    let (_, jwk) = private_key(pem.as_bytes(), algorithm)
        .ok_or_else(|| "the generated key does not load".to_owned())?;
    let kid = jwk.common.key_id.unwrap_or_default();
    write_private(&directory.join(format!("{kid}.pem")), &pem)?;
    // Written then renamed: a server reading `current` never sees half a line.
    let staged = directory.join(format!(".{CURRENT_FILE}.{kid}"));
    std::fs::write(&staged, format!("{kid}\n")).map_err(|e| e.to_string())?;
    std::fs::rename(&staged, directory.join(CURRENT_FILE)).map_err(|e| e.to_string())?;
    Ok(kid)
}

/// Moves a key out of the set: its tokens stop verifying. The current key cannot be retired.
pub fn retire_key(directory: &Path, kid: &str) -> Result<(), String> {
    let known: Vec<String> = key_files(directory)?.into_iter().map(|(k, _)| k).collect();
    if !known.iter().any(|k| k == kid) {
        return Err(format!("no key {kid:?} in {}", directory.display()));
    }
    if read_current(directory)? == kid {
        return Err(format!(
            "{kid} is the current key: generate a new one first (server keys generate)"
        ));
    }
    let retired = directory.join(RETIRED_DIR);
    std::fs::create_dir_all(&retired).map_err(|e| e.to_string())?;
    std::fs::rename(
        directory.join(format!("{kid}.pem")),
        retired.join(format!("{kid}.pem")),
    )
    .map_err(|e| e.to_string())
}

/// Every key of the directory, retired ones included, oldest first.
pub fn list_keys(directory: &Path) -> Result<Vec<KeyInfo>, String> {
    let current = read_current(directory)?;
    let mut keys = Vec::new();
    let retired_dir = directory.join(RETIRED_DIR);
    let mut files: Vec<(String, PathBuf, bool)> = key_files(directory)?
        .into_iter()
        .map(|(kid, path)| (kid, path, false))
        .collect();
    if retired_dir.is_dir() {
        files.extend(
            key_files(&retired_dir)?
                .into_iter()
                .map(|(kid, path)| (kid, path, true)),
        );
    }
    for (kid, path, retired) in files {
        let created = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let pem = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let state = match (retired, kid == current) {
            (true, _) => KeyState::Retired,
            (false, true) => KeyState::Current,
            (false, false) => KeyState::Verifying,
        };
        keys.push(KeyInfo {
            kid,
            kind: key_kind(&pem).unwrap_or("unreadable"),
            created,
            state,
        });
    }
    keys.sort_by_key(|key| key.created);
    Ok(keys)
}

/// A new private key for `algorithm`, in PKCS#8 PEM form.
pub fn generate_private_key(algorithm: Algorithm) -> Result<String, String> {
    use pkcs8::EncodePrivateKey;
    use pkcs8::LineEnding;
    let mut rng = rand_core::OsRng;
    let document = match algorithm {
        Algorithm::ES256 => p256::SecretKey::random(&mut rng).to_pkcs8_pem(LineEnding::LF),
        Algorithm::ES384 => p384::SecretKey::random(&mut rng).to_pkcs8_pem(LineEnding::LF),
        // The one-key form OpenSSL writes (PKCS#8 v1): jsonwebtoken reads no other.
        Algorithm::EdDSA => ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: ed25519_dalek::SigningKey::generate(&mut rng).to_bytes(),
            public_key: None,
        }
        .to_pkcs8_pem(LineEnding::LF),
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
            rsa::RsaPrivateKey::new(&mut rng, 2048)
                .map_err(|e| e.to_string())?
                .to_pkcs8_pem(LineEnding::LF)
        }
        other => {
            return Err(format!(
                "{other:?} has no key pair: it is an HMAC algorithm"
            ));
        }
    };
    document
        .map(|pem| pem.to_string())
        .map_err(|e| e.to_string())
}

fn write_private(path: &Path, contents: &str) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_directory_gets_a_current_key_that_signs() {
        let dir = tempfile::tempdir().unwrap();

        let set = KeySet::from_directory(dir.path(), Algorithm::ES256).unwrap();

        let (_, kid) = set.signing();
        let kid = kid.unwrap().to_owned();
        assert_eq!(read_current(dir.path()).unwrap(), kid);
        assert!(set.verifying(Some(&kid)).is_some());
        assert!(set.verifying(None).is_none());
        assert_eq!(set.public_jwks().len(), 1);
    }

    #[test]
    fn the_published_jwk_is_public_and_named_by_its_thumbprint() {
        let dir = tempfile::tempdir().unwrap();
        let set = KeySet::from_directory(dir.path(), Algorithm::ES256).unwrap();

        let jwk = serde_json::to_value(&set.public_jwks()[0]).unwrap();

        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["alg"], "ES256");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"].as_str(), set.signing().1);
        assert!(jwk.get("d").is_none(), "a private member: {jwk}");
    }

    #[test]
    fn a_rotation_keeps_the_old_key_verifying_until_it_is_retired() {
        let dir = tempfile::tempdir().unwrap();
        let first = KeySet::from_directory(dir.path(), Algorithm::ES256).unwrap();
        let old = first.signing().1.unwrap().to_owned();

        let new = add_key(dir.path(), Algorithm::ES256).unwrap();
        let rotated = KeySet::from_directory(dir.path(), Algorithm::ES256).unwrap();

        assert_eq!(rotated.signing().1, Some(new.as_str()));
        assert!(rotated.verifying(Some(&old)).is_some());
        assert!(!rotated.same_keys(&first));
        assert!(
            retire_key(dir.path(), &new).is_err(),
            "the current key cannot be retired"
        );
        retire_key(dir.path(), &old).unwrap();
        let retired = KeySet::from_directory(dir.path(), Algorithm::ES256).unwrap();
        assert!(retired.verifying(Some(&old)).is_none());
        let states: Vec<KeyState> = list_keys(dir.path())
            .unwrap()
            .into_iter()
            .map(|k| k.state)
            .collect();
        assert!(states.contains(&KeyState::Retired) && states.contains(&KeyState::Current));
    }

    #[test]
    fn a_key_of_another_kind_stops_the_server() {
        let dir = tempfile::tempdir().unwrap();
        KeySet::from_directory(dir.path(), Algorithm::EdDSA).unwrap();

        let error = KeySet::from_directory(dir.path(), Algorithm::ES256)
            .err()
            .unwrap();

        assert_eq!(error.variable, "JWT_KEYS_DIR");
        assert!(
            error.got.contains("is not a private key for ES256"),
            "{}",
            error.got
        );
    }

    #[test]
    fn a_key_of_another_kind_is_not_added() {
        let dir = tempfile::tempdir().unwrap();
        KeySet::from_directory(dir.path(), Algorithm::EdDSA).unwrap();

        let error = add_key(dir.path(), Algorithm::ES256).unwrap_err();

        assert!(
            error.starts_with("the directory holds EdDSA key"),
            "{error}"
        );
        assert_eq!(list_keys(dir.path()).unwrap().len(), 1);
    }

    #[test]
    fn a_kid_that_is_a_path_retires_nothing() {
        let dir = tempfile::tempdir().unwrap();
        KeySet::from_directory(dir.path(), Algorithm::ES256).unwrap();

        let error = retire_key(dir.path(), "../current").unwrap_err();

        assert!(error.starts_with("no key \"../current\""), "{error}");
        assert!(dir.path().join(CURRENT_FILE).exists());
    }

    #[test]
    fn every_asymmetric_algorithm_generates_a_key_that_loads() {
        for algorithm in [
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
            Algorithm::RS256,
        ] {
            let pem = generate_private_key(algorithm).unwrap();
            assert!(
                private_key(pem.as_bytes(), algorithm).is_some(),
                "{algorithm:?}"
            );
        }
        assert!(generate_private_key(Algorithm::HS256).is_err());
    }
}
