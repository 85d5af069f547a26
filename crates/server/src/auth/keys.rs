//! Where the signing and verifying keys come from.
//!
//! HMAC (HS256/384/512): `JWT_SIGNING_KEY`, else `SECRET_KEY`, else a development key generated
//! once (256 random bits) and kept in `SECRET_KEY_FILE`. Anyone holding one token can try keys
//! against it offline, as fast as their hardware computes HMACs, so a guessable key is refused
//! at start (RFC 8725 §3.5): shorter than 32 bytes, or guessable by
//! [`crate::auth::key_strength`]. Every source of the key passes the same check, the
//! development key file included.
//!
//! RSA, EC and EdDSA: `JWT_KEYS_DIR`, a directory of keys that rotates (see
//! [`crate::auth::keyset`]), or a single pair, `JWT_SIGNING_KEY` (private) and
//! `JWT_VERIFYING_KEY` (public), each as PEM text or the path of a PEM file.

use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::key_strength::guessable;
use crate::auth::keyset::KeySet;
use crate::configuration::{ConfigError, Settings};

/// The shortest HMAC key accepted, in bytes.
pub const MIN_HMAC_KEY_BYTES: usize = 32;

/// The longest HMAC key accepted, in bytes: far beyond any key's use (HMAC hashes a longer
/// one down first), and short enough to check at once.
pub const MAX_HMAC_KEY_BYTES: usize = 4096;

/// The keys tokens are signed and checked with.
pub struct SigningKeys {
    /// The key that signs, and every key that verifies.
    pub set: KeySet,
    /// Where the keys came from, for the start-up log line.
    pub origin: KeyOrigin,
}

/// Where the keys came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `SECRET_KEY` or `JWT_SIGNING_KEY`.
    Configured,
    /// A development key generated now and written to this file.
    Generated(std::path::PathBuf),
    /// The development key read from this file.
    DevelopmentFile(std::path::PathBuf),
    /// `JWT_KEYS_DIR`.
    Directory(std::path::PathBuf),
}

/// Loads (or for development, creates) the keys for the configured algorithm.
pub fn load(settings: &Settings) -> Result<SigningKeys, ConfigError> {
    let jwt = &settings.jwt;
    // The settings refuse a directory with HMAC.
    if let Some(directory) = &jwt.keys_dir {
        return Ok(SigningKeys {
            set: KeySet::from_directory(directory, jwt.algorithm)?,
            origin: KeyOrigin::Directory(directory.clone()),
        });
    }
    match jwt.algorithm {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            let (secret, origin) = match (&jwt.signing_key, &settings.secret_key) {
                (Some(key), _) => (
                    checked_secret("JWT_SIGNING_KEY", key)?,
                    KeyOrigin::Configured,
                ),
                (None, Some(key)) => (checked_secret("SECRET_KEY", key)?, KeyOrigin::Configured),
                (None, None) => development_key(&settings.secret_key_file)?,
            };
            Ok(SigningKeys {
                set: KeySet::hmac(secret.expose_secret().as_bytes()),
                origin,
            })
        }
        algorithm => {
            let private = pem(
                "JWT_SIGNING_KEY",
                jwt.signing_key.as_ref().map(ExposeSecret::expose_secret),
            )?;
            let public = pem("JWT_VERIFYING_KEY", jwt.verifying_key.as_deref())?;
            let (encoding, decoding, kind) = match algorithm {
                Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => (
                    EncodingKey::from_rsa_pem(&private),
                    DecodingKey::from_rsa_pem(&public),
                    "RSA",
                ),
                Algorithm::ES256 | Algorithm::ES384 => (
                    EncodingKey::from_ec_pem(&private),
                    DecodingKey::from_ec_pem(&public),
                    "EC",
                ),
                _ => (
                    EncodingKey::from_ed_pem(&private),
                    DecodingKey::from_ed_pem(&public),
                    "Ed25519",
                ),
            };
            let encoding = encoding.map_err(|_| {
                ConfigError::new(
                    "JWT_SIGNING_KEY",
                    format!("an {kind} private key in PEM form (text or file path)"),
                    "a value that is not one",
                )
            })?;
            let decoding = decoding.map_err(|_| {
                ConfigError::new(
                    "JWT_VERIFYING_KEY",
                    format!("an {kind} public key in PEM form (text or file path)"),
                    "a value that is not one",
                )
            })?;
            let set = KeySet::pair(encoding, decoding, algorithm).ok_or_else(|| {
                ConfigError::new(
                    "JWT_VERIFYING_KEY",
                    format!("the public half of JWT_SIGNING_KEY, for {algorithm:?}"),
                    "a key that does not verify what it signs",
                )
            })?;
            Ok(SigningKeys {
                set,
                origin: KeyOrigin::Configured,
            })
        }
    }
}

fn checked_secret(variable: &'static str, key: &SecretString) -> Result<SecretString, ConfigError> {
    let key = key.expose_secret();
    if !(MIN_HMAC_KEY_BYTES..=MAX_HMAC_KEY_BYTES).contains(&key.len()) {
        return Err(ConfigError::new(
            variable,
            format!(
                "a key of {MIN_HMAC_KEY_BYTES} to {MAX_HMAC_KEY_BYTES} bytes (make one with: \
                 openssl rand -hex 32)"
            ),
            format!("a key of {} bytes", key.len()),
        ));
    }
    if let Some(flaw) = guessable(key) {
        return Err(ConfigError::new(
            variable,
            "a random key, not a guessable one (make one with: openssl rand -hex 32)",
            format!("a key that {flaw}"),
        ));
    }
    Ok(SecretString::from(key))
}

fn development_key(path: &Path) -> Result<(SecretString, KeyOrigin), ConfigError> {
    let unusable = |why: String| {
        ConfigError::new(
            "SECRET_KEY_FILE",
            "a writable path for the generated development key (or set SECRET_KEY)",
            format!("{} ({why})", path.display()),
        )
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let contents = String::from_utf8(bytes).map_err(|_| {
                ConfigError::new(
                    "SECRET_KEY_FILE",
                    "a key written as text (openssl rand -hex 32 writes one)",
                    format!("{} (raw bytes, not text)", path.display()),
                )
            })?;
            let key = SecretString::from(contents.trim());
            let key = checked_secret("SECRET_KEY_FILE", &key)?;
            Ok((key, KeyOrigin::DevelopmentFile(path.to_owned())))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| unusable(e.to_string()))?;
            let key = hex::encode(bytes);
            write_private_file(path, &key).map_err(|e| unusable(e.to_string()))?;
            Ok((key.into(), KeyOrigin::Generated(path.to_owned())))
        }
        Err(error) => Err(unusable(error.to_string())),
    }
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    writeln!(file, "{contents}")
}

fn pem(variable: &'static str, value: Option<&str>) -> Result<Vec<u8>, ConfigError> {
    let expected = "a PEM key (the text, or the path of a .pem file)";
    let Some(value) = value else {
        return Err(ConfigError::new(variable, expected, ""));
    };
    if value.trim_start().starts_with("-----BEGIN") {
        // Environment files often carry PEM text on one line with literal \n.
        return Ok(value.replace("\\n", "\n").into_bytes());
    }
    std::fs::read(value).map_err(|e| ConfigError::new(variable, expected, format!("{value} ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
        .unwrap()
    }

    #[test]
    fn a_secret_key_shorter_than_32_bytes_is_refused() {
        let error = load(&settings(&[("SECRET_KEY", "too-short")]))
            .err()
            .unwrap();
        assert_eq!(
            error.to_string(),
            "SECRET_KEY: expected a key of 32 to 4096 bytes (make one with: openssl rand -hex 32), got \"a key of 9 bytes\""
        );
    }

    #[test]
    fn a_key_of_one_repeated_letter_is_refused() {
        let error = load(&settings(&[("SECRET_KEY", &"k".repeat(40))]))
            .err()
            .unwrap();
        assert_eq!(
            error.to_string(),
            "SECRET_KEY: expected a random key, not a guessable one (make one with: openssl rand -hex 32), got \"a key that repeats a shorter pattern\""
        );
    }

    #[test]
    fn a_guessable_key_in_the_development_key_file_is_refused_as_one_in_secret_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dev-key");
        std::fs::write(&file, format!("{}\n", "a".repeat(40))).unwrap();
        let file_setting = file.to_str().unwrap().to_owned();

        let error = load(&settings(&[("SECRET_KEY_FILE", &file_setting)]))
            .err()
            .unwrap();

        assert_eq!(
            error.to_string(),
            "SECRET_KEY_FILE: expected a random key, not a guessable one (make one with: openssl rand -hex 32), got \"a key that repeats a shorter pattern\""
        );
    }

    #[test]
    fn a_development_key_file_of_raw_bytes_is_refused_as_not_text() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dev-key");
        std::fs::write(&file, [0xff_u8, 0xfe, 0x00, 0x81].repeat(8)).unwrap();
        let file_setting = file.to_str().unwrap().to_owned();

        let error = load(&settings(&[("SECRET_KEY_FILE", &file_setting)]))
            .err()
            .unwrap();

        assert_eq!(error.variable, "SECRET_KEY_FILE");
        assert!(
            error.to_string().contains("a key written as text"),
            "{error}"
        );
    }

    #[test]
    fn a_key_longer_than_4096_bytes_is_refused_before_it_is_scored() {
        let error = load(&settings(&[("SECRET_KEY", &"ab1".repeat(100_000))]))
            .err()
            .unwrap();

        assert_eq!(
            error.to_string(),
            "SECRET_KEY: expected a key of 32 to 4096 bytes (make one with: openssl rand -hex 32), got \"a key of 300000 bytes\""
        );
    }

    #[test]
    fn a_key_of_common_words_is_refused_with_its_estimate() {
        let error = load(&settings(&[(
            "SECRET_KEY",
            "django-insecure-change-me-in-production-please!",
        )]))
        .err()
        .unwrap();

        assert_eq!(error.variable, "SECRET_KEY");
        assert!(
            error
                .to_string()
                .contains("got \"a key that is estimated at "),
            "{error}"
        );
    }

    #[test]
    fn a_short_jwt_signing_key_is_refused_even_with_a_good_secret_key() {
        let error = load(&settings(&[
            ("SECRET_KEY", "3f9a0c7be41d58e2a6b9c0d7f1e3a5b8c2d4e6f8"),
            ("JWT_SIGNING_KEY", "short"),
        ]))
        .err()
        .unwrap();
        assert_eq!(error.variable, "JWT_SIGNING_KEY");
    }

    #[test]
    fn without_a_secret_key_a_development_key_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dev-key");
        let file_setting = file.to_str().unwrap().to_owned();
        let settings = settings(&[("SECRET_KEY_FILE", &file_setting)]);

        let first = load(&settings).unwrap();
        assert_eq!(first.origin, KeyOrigin::Generated(file.clone()));
        let key = std::fs::read_to_string(&file).unwrap();
        assert_eq!(key.trim().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        let second = load(&settings).unwrap();
        assert_eq!(second.origin, KeyOrigin::DevelopmentFile(file.clone()));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), key);
    }

    #[test]
    fn rsa_needs_both_pem_keys() {
        let error = load(&settings(&[("JWT_ALGORITHM", "RS256")]))
            .err()
            .unwrap();
        assert_eq!(error.variable, "JWT_SIGNING_KEY");
    }

    #[test]
    fn a_verifying_key_of_another_pair_is_refused() {
        use pkcs8::EncodePublicKey;
        let dir = env!("CARGO_MANIFEST_DIR");
        let another = p256::SecretKey::random(&mut rand_core::OsRng)
            .public_key()
            .to_public_key_pem(pkcs8::LineEnding::LF)
            .unwrap();
        let error = load(&settings(&[
            ("JWT_ALGORITHM", "ES256"),
            (
                "JWT_SIGNING_KEY",
                &format!("{dir}/tests/fixtures/ec_private.pem"),
            ),
            ("JWT_VERIFYING_KEY", &another),
        ]))
        .err()
        .unwrap();
        assert_eq!(
            error.to_string(),
            "JWT_VERIFYING_KEY: expected the public half of JWT_SIGNING_KEY, for ES256, got \"a key that does not verify what it signs\""
        );
    }

    #[test]
    fn rsa_keys_load_from_pem_files() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let keys = load(&settings(&[
            ("JWT_ALGORITHM", "RS256"),
            (
                "JWT_SIGNING_KEY",
                &format!("{dir}/tests/fixtures/rsa_private.pem"),
            ),
            (
                "JWT_VERIFYING_KEY",
                &format!("{dir}/tests/fixtures/rsa_public.pem"),
            ),
        ]));
        assert!(keys.is_ok());
    }
}
