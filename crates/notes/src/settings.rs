//! The notes service's settings, from the environment (and `.env`). It is told where the auth
//! server publishes its keys and what its tokens must say; it holds no secret.

use std::time::Duration;

use jsonwebtoken::Algorithm;

use crate::store::DatabaseUrl;

/// Everything the service is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `NOTES_BIND_ADDR`, default `127.0.0.1:8001`. Port 0 picks a free port.
    pub bind_addr: String,
    /// `NOTES_DATABASE_URL`, default `sqlite://notes.sqlite3`.
    pub database_url: DatabaseUrl,
    /// `AUTH_JWKS_URL`, default `http://127.0.0.1:8000/.well-known/jwks.json`: the auth server's
    /// published keys. Over HTTPS anywhere a network can be listened to or tampered with:
    /// whoever answers this URL decides which tokens this service accepts.
    pub jwks_url: String,
    /// `AUTH_JWKS_CA_FILE`: a PEM file of certificates to trust for an `https://` key URL
    /// besides the usual public ones (a private CA, or a self-signed certificate).
    pub jwks_extra_roots: Vec<reqwest::Certificate>,
    /// `AUTH_ALGORITHM`, default `ES256`: the only algorithm accepted, whatever a token says.
    pub algorithm: Algorithm,
    /// `AUTH_ISSUER`: when set, tokens must carry this `iss`.
    pub issuer: Option<String>,
    /// `AUTH_AUDIENCE`: when set, tokens must carry this `aud`.
    pub audience: Option<String>,
    /// `AUTH_USER_ID_CLAIM`, default `user_id`: the claim naming the user.
    pub user_id_claim: String,
    /// `AUTH_LEEWAY` in seconds, default 0: the clock skew forgiven, as the auth server's
    /// `JWT_LEEWAY` (set both alike, so both give one verdict).
    pub leeway: i64,
    /// `AUTH_JWKS_MAX_AGE` in seconds, default 300: the longest a fetched key set is kept
    /// (shorter when the auth server's `Cache-Control` says so). A retired key stops verifying
    /// here within this time.
    pub jwks_max_age: Duration,
    /// `AUTH_JWKS_TIMEOUT` in milliseconds, default 2000: how long a fetch of the keys may take.
    pub jwks_timeout: Duration,
}

/// A setting with a value the service cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: expected {expected}, got {got:?}")]
pub struct SettingError {
    /// The variable.
    pub variable: &'static str,
    /// What it should be.
    pub expected: String,
    /// What it was.
    pub got: String,
}

impl Settings {
    /// Settings from the process environment.
    pub fn from_env() -> Result<Self, SettingError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Settings from any lookup; unset and empty mean the default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let jwks_url = get("AUTH_JWKS_URL")
            .unwrap_or_else(|| "http://127.0.0.1:8000/.well-known/jwks.json".into());
        if !jwks_url.starts_with("http://") && !jwks_url.starts_with("https://") {
            return Err(SettingError {
                variable: "AUTH_JWKS_URL",
                expected: "an https:// URL of the auth server's key set (http:// only on a private network)".into(),
                got: jwks_url,
            });
        }
        let jwks_extra_roots = extra_roots(get("AUTH_JWKS_CA_FILE"))?;
        Ok(Self {
            bind_addr: get("NOTES_BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8001".into()),
            database_url: database_url(get("NOTES_DATABASE_URL"))?,
            jwks_url,
            jwks_extra_roots,
            algorithm: algorithm(get("AUTH_ALGORITHM"))?,
            issuer: get("AUTH_ISSUER"),
            audience: get("AUTH_AUDIENCE"),
            user_id_claim: get("AUTH_USER_ID_CLAIM").unwrap_or_else(|| "user_id".into()),
            leeway: leeway_seconds(get("AUTH_LEEWAY"))?,
            jwks_max_age: max_age_seconds(get("AUTH_JWKS_MAX_AGE"))?,
            jwks_timeout: milliseconds(get("AUTH_JWKS_TIMEOUT"))?,
        })
    }
}

impl Settings {
    /// What tokens are checked against: the token contract's rules, from these settings.
    pub fn rules(&self) -> claims::Rules {
        claims::Rules {
            algorithm: serde_json::to_value(self.algorithm)
                .ok()
                .and_then(|name| name.as_str().map(str::to_owned))
                .unwrap_or_default(),
            leeway: self.leeway,
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
        }
    }
}

/// The certificates of `AUTH_JWKS_CA_FILE`, read at start so that a wrong file stops the
/// service with the reason rather than failing the first fetch.
fn extra_roots(path: Option<String>) -> Result<Vec<reqwest::Certificate>, SettingError> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let refused = |why: &str| SettingError {
        variable: "AUTH_JWKS_CA_FILE",
        expected: format!("a readable PEM file of certificates ({why})"),
        got: path.clone(),
    };
    let pem = std::fs::read(&path).map_err(|error| refused(&error.to_string()))?;
    let roots = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|_| refused("it holds no certificate reqwest can read"))?;
    if roots.is_empty() {
        return Err(refused("it holds no certificate"));
    }
    Ok(roots)
}

/// `NOTES_DATABASE_URL`, read as the auth server reads `DATABASE_URL`.
fn database_url(raw: Option<String>) -> Result<DatabaseUrl, SettingError> {
    let raw = raw.unwrap_or_else(|| "sqlite://notes.sqlite3".to_owned());
    DatabaseUrl::parse(&raw).ok_or_else(|| SettingError {
        variable: "NOTES_DATABASE_URL",
        expected: DatabaseUrl::EXPECTED.into(),
        got: raw,
    })
}

fn leeway_seconds(raw: Option<String>) -> Result<i64, SettingError> {
    let Some(raw) = raw else {
        return Ok(0);
    };
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|seconds| (0..=86_400).contains(seconds))
        .ok_or(SettingError {
            variable: "AUTH_LEEWAY",
            expected: "seconds, from 0 to 86400".into(),
            got: raw,
        })
}

/// Only key-pair algorithms: with HMAC there would be a secret to share, the very thing this
/// service exists to show is not needed.
fn algorithm(raw: Option<String>) -> Result<Algorithm, SettingError> {
    let Some(raw) = raw else {
        return Ok(Algorithm::ES256);
    };
    let name = raw.trim();
    match name.parse::<Algorithm>() {
        Ok(algorithm) if claims::KEY_PAIR_ALGORITHMS.contains(&name) => Ok(algorithm),
        _ => Err(SettingError {
            variable: "AUTH_ALGORITHM",
            expected: format!(
                "one of {} (a key pair: HMAC has no public key)",
                claims::KEY_PAIR_ALGORITHMS.join(", ")
            ),
            got: raw,
        }),
    }
}

fn milliseconds(raw: Option<String>) -> Result<Duration, SettingError> {
    let Some(raw) = raw else {
        return Ok(Duration::from_millis(2000));
    };
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|ms| (1..=60_000).contains(ms))
        .map(Duration::from_millis)
        .ok_or(SettingError {
            variable: "AUTH_JWKS_TIMEOUT",
            expected: "milliseconds, from 1 to 60000".into(),
            got: raw,
        })
}

fn max_age_seconds(raw: Option<String>) -> Result<Duration, SettingError> {
    let Some(raw) = raw else {
        return Ok(Duration::from_secs(300));
    };
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|seconds| (1..=3600).contains(seconds))
        .map(Duration::from_secs)
        .ok_or(SettingError {
            variable: "AUTH_JWKS_MAX_AGE",
            expected: "seconds, from 1 to 3600".into(),
            got: raw,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &'static str, value: &'static str) -> Result<Settings, SettingError> {
        Settings::from_lookup(|asked| (asked == name).then(|| value.to_owned()))
    }

    #[test]
    fn an_https_jwks_url_is_taken() {
        let settings = with(
            "AUTH_JWKS_URL",
            "https://auth.example/.well-known/jwks.json",
        )
        .unwrap();
        assert_eq!(
            settings.jwks_url,
            "https://auth.example/.well-known/jwks.json"
        );
    }

    #[test]
    fn a_key_url_of_another_scheme_is_refused_at_start_with_the_reason() {
        let error = with("AUTH_JWKS_URL", "ftp://auth.example/jwks.json").unwrap_err();
        assert_eq!(error.variable, "AUTH_JWKS_URL");
    }

    #[test]
    fn a_ca_file_that_cannot_be_read_stops_the_service_at_start() {
        let error = with("AUTH_JWKS_CA_FILE", "/nonexistent/ca.pem").unwrap_err();
        assert_eq!(error.variable, "AUTH_JWKS_CA_FILE");
        let error = with("AUTH_JWKS_CA_FILE", "/etc/hostname").unwrap_err();
        assert_eq!(error.variable, "AUTH_JWKS_CA_FILE");
    }

    #[test]
    fn an_hmac_algorithm_is_refused() {
        let error = with("AUTH_ALGORITHM", "HS256").unwrap_err();

        assert_eq!(
            error.to_string(),
            "AUTH_ALGORITHM: expected one of ES256, ES384, EdDSA, RS256, RS384, RS512 (a key pair: HMAC has no public key), got \"HS256\""
        );
    }
}
