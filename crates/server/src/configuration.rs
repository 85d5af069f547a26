//! Typed settings, read from environment variables named after simplejwt's `SIMPLE_JWT` keys.
//!
//! `main` loads a `.env` file (dotenvy) into the environment first; everything here reads through
//! a lookup function, so tests can build settings from a map without touching the process
//! environment. A value that does not parse stops the server with a [`ConfigError`] naming the
//! variable and what it expects.

use std::path::PathBuf;
use std::time::Duration;

pub use dbkit::DatabaseUrl;
use ipnet::IpNet;
use jsonwebtoken::Algorithm;
use secrecy::SecretString;

/// A setting that could not be used: which variable, what it expects, what it got.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: expected {expected}, got {got:?}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What a valid value looks like.
    pub expected: String,
    /// The value found (never a secret: keys are reported by length only).
    pub got: String,
}

impl ConfigError {
    /// A setting error for `variable`.
    pub fn new(
        variable: &'static str,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> Self {
        Self {
            variable,
            expected: expected.into(),
            got: got.into(),
        }
    }
}

/// Everything about how tokens are minted and checked (simplejwt's `SIMPLE_JWT`).
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// `JWT_ACCESS_TOKEN_LIFETIME`, default 5 minutes.
    pub access_token_lifetime: Duration,
    /// `JWT_REFRESH_TOKEN_LIFETIME`, default 1 day.
    pub refresh_token_lifetime: Duration,
    /// `JWT_ROTATE_REFRESH_TOKENS`: a refresh also returns a new refresh token. Default on.
    pub rotate_refresh_tokens: bool,
    /// `JWT_BLACKLIST_AFTER_ROTATION`: the refresh token used for a rotation is revoked. Default on.
    pub blacklist_after_rotation: bool,
    /// `JWT_UPDATE_LAST_LOGIN`: obtaining a pair sets the user's `last_login`. Default off.
    pub update_last_login: bool,
    /// `JWT_ALGORITHM`, default HS256. The only algorithm accepted; never read from a token.
    pub algorithm: Algorithm,
    /// `JWT_SIGNING_KEY`: defaults to `SECRET_KEY`. A PEM (text or file path) for RS/ES/EdDSA.
    pub signing_key: Option<SecretString>,
    /// `JWT_VERIFYING_KEY`: the public key (PEM text or file path) for RS/ES/EdDSA.
    pub verifying_key: Option<String>,
    /// `JWT_KEYS_DIR`: a directory of private keys for RS/ES/EdDSA, one current, rotated with
    /// `server keys` (see [`crate::auth::keyset`]). Instead of the two keys above.
    pub keys_dir: Option<PathBuf>,
    /// `JWT_AUDIENCE`: written as `aud` and required on every token when set.
    pub audience: Option<String>,
    /// `JWT_ISSUER`: written as `iss` and required on every token when set.
    pub issuer: Option<String>,
    /// `JWT_LEEWAY` in seconds, default 0.
    pub leeway: i64,
    /// `JWT_AUTH_HEADER_TYPES`, comma separated, default `Bearer`.
    pub auth_header_types: Vec<String>,
    /// `JWT_USER_ID_CLAIM`, default `user_id`.
    pub user_id_claim: String,
    /// `JWT_CHECK_REVOKE_TOKEN`: tokens carry a hash of the password hash, so changing the
    /// password revokes them. Default off.
    pub check_revoke_token: bool,
    /// `JWT_REFRESH_REUSE_DETECTION`: every log in starts a token family; a rotated-out refresh
    /// token presented again revokes the whole family. Default on when rotation and
    /// blacklist-after-rotation are (it needs both), off otherwise.
    pub refresh_reuse_detection: bool,
    /// `JWT_REFRESH_REUSE_GRACE` (seconds, at most 60, default 0): how long presenting the
    /// predecessor of a family's current refresh token again is a retry, not reuse.
    pub refresh_reuse_grace: Duration,
    /// `JWT_REFRESH_FAMILY_LIFETIME` (seconds, default 7 days): no rotation carries a session
    /// past this long after its log in.
    pub refresh_family_lifetime: Duration,
}

/// The limits on failed password checks (see [`crate::auth::throttle`]). A limit of 0 turns
/// one off (the benchmarks do, to measure the server rather than the limiter).
#[derive(Debug, Clone)]
pub struct ThrottleSettings {
    /// `LOGIN_THROTTLE_FAILURES`, default 10: failed log ins per username and client address.
    pub login_failures: u32,
    /// `LOGIN_THROTTLE_WINDOW` in seconds, default 300.
    pub login_window: Duration,
    /// `PASSWORD_CHANGE_THROTTLE_FAILURES`, default 5: wrong old passwords per user.
    pub password_change_failures: u32,
    /// `PASSWORD_CHANGE_THROTTLE_WINDOW` in seconds, default 900.
    pub password_change_window: Duration,
}

/// All the server's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`, default `sqlite://db.sqlite3`.
    pub database_url: DatabaseUrl,
    /// `DATABASE_POOL_SIZE`, default 10.
    pub database_pool_size: u32,
    /// `BIND_ADDR`, default `127.0.0.1:8000`. Port 0 picks a free port. Without it, `PORT`
    /// (what a hosting platform sets) means `0.0.0.0:PORT`.
    pub bind_addr: String,
    /// `SECRET_KEY`: the HMAC signing key. When unset, a development key is generated once and
    /// kept in `secret_key_file`.
    pub secret_key: Option<SecretString>,
    /// `SECRET_KEY_FILE`, default `.secret_key`: where the generated development key is kept.
    pub secret_key_file: PathBuf,
    /// `BCRYPT_COST`, default 12 (4 to 31).
    pub bcrypt_cost: u32,
    /// `FRONTEND_DIR`, default `dist`: the built frontend, served at `/`.
    pub frontend_dir: PathBuf,
    /// `TRUSTED_PROXIES`: addresses or networks (comma separated) whose `X-Forwarded-For` is
    /// believed. Default none: the client is the peer address.
    pub trusted_proxies: Vec<IpNet>,
    /// `AUTH_CACHE_TTL` (seconds, default 2, 0 turns the cache off): how long this process
    /// trusts what it knows of a user or a token without asking the database. Writes it makes
    /// or hears of (PostgreSQL `NOTIFY`) take effect at once; others within this time.
    pub auth_cache_ttl: Duration,
    /// `NOTES_URL`, for development: the notes service (`http://127.0.0.1:8001`) that
    /// `/notes/api/` and `/notes/healthz` are forwarded to, so the frontend reaches it on this
    /// origin as it does behind nginx. Unset: those paths are 404s.
    pub notes_url: Option<String>,
    /// Limits on failed password checks.
    pub throttles: ThrottleSettings,
    /// Token settings.
    pub jwt: JwtSettings,
}

impl Settings {
    /// Settings from the process environment (call `dotenvy::dotenv()` first to include `.env`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Settings from any lookup of variable name to value; unset and empty mean the default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let jwt = JwtSettings {
            access_token_lifetime: seconds(&get, "JWT_ACCESS_TOKEN_LIFETIME", 5 * 60)?,
            refresh_token_lifetime: seconds(&get, "JWT_REFRESH_TOKEN_LIFETIME", 24 * 60 * 60)?,
            rotate_refresh_tokens: boolean(&get, "JWT_ROTATE_REFRESH_TOKENS", true)?,
            blacklist_after_rotation: boolean(&get, "JWT_BLACKLIST_AFTER_ROTATION", true)?,
            update_last_login: boolean(&get, "JWT_UPDATE_LAST_LOGIN", false)?,
            algorithm: algorithm(get("JWT_ALGORITHM"))?,
            signing_key: get("JWT_SIGNING_KEY").map(SecretString::from),
            verifying_key: get("JWT_VERIFYING_KEY"),
            keys_dir: get("JWT_KEYS_DIR").map(PathBuf::from),
            audience: get("JWT_AUDIENCE"),
            issuer: get("JWT_ISSUER"),
            leeway: whole_number(&get, "JWT_LEEWAY", 0, 0..=i64::from(u32::MAX))?,
            auth_header_types: header_types(get("JWT_AUTH_HEADER_TYPES"))?,
            user_id_claim: claim_name(get("JWT_USER_ID_CLAIM"))?,
            check_revoke_token: boolean(&get, "JWT_CHECK_REVOKE_TOKEN", false)?,
            refresh_reuse_detection: false,
            refresh_reuse_grace: Duration::from_secs(whole_number(
                &get,
                "JWT_REFRESH_REUSE_GRACE",
                0,
                0..=60,
            )? as u64),
            refresh_family_lifetime: seconds(
                &get,
                "JWT_REFRESH_FAMILY_LIFETIME",
                7 * 24 * 60 * 60,
            )?,
        };
        let jwt = JwtSettings {
            refresh_reuse_detection: reuse_detection(&get, &jwt)?,
            ..jwt
        };
        check_keys_dir(&jwt)?;
        Ok(Self {
            database_url: database_url(get("DATABASE_URL"))?,
            database_pool_size: whole_number(&get, "DATABASE_POOL_SIZE", 10, 1..=1000)? as u32,
            bind_addr: bind_addr(get("BIND_ADDR"), get("PORT"))?,
            secret_key: get("SECRET_KEY").map(SecretString::from),
            secret_key_file: PathBuf::from(
                get("SECRET_KEY_FILE").unwrap_or_else(|| ".secret_key".into()),
            ),
            bcrypt_cost: whole_number(&get, "BCRYPT_COST", 12, 4..=31)? as u32,
            frontend_dir: PathBuf::from(get("FRONTEND_DIR").unwrap_or_else(|| "dist".into())),
            trusted_proxies: networks(get("TRUSTED_PROXIES"))?,
            auth_cache_ttl: Duration::from_secs(
                whole_number(&get, "AUTH_CACHE_TTL", 2, 0..=3600)? as u64
            ),
            notes_url: notes_url(get("NOTES_URL"))?,
            throttles: ThrottleSettings {
                login_failures: whole_number(&get, "LOGIN_THROTTLE_FAILURES", 10, 0..=100_000)?
                    as u32,
                login_window: seconds(&get, "LOGIN_THROTTLE_WINDOW", 300)?,
                password_change_failures: whole_number(
                    &get,
                    "PASSWORD_CHANGE_THROTTLE_FAILURES",
                    5,
                    0..=100_000,
                )? as u32,
                password_change_window: seconds(&get, "PASSWORD_CHANGE_THROTTLE_WINDOW", 900)?,
            },
            jwt,
        })
    }
}

fn notes_url(raw: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    if !raw.starts_with("http://") {
        return Err(ConfigError::new(
            "NOTES_URL",
            "an http:// URL of the notes service, such as http://127.0.0.1:8001",
            raw,
        ));
    }
    Ok(Some(raw.trim_end_matches('/').to_owned()))
}

fn whole_number(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ConfigError> {
    let Some(raw) = get(variable) else {
        return Ok(default);
    };
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|value| range.contains(value))
        .ok_or_else(|| {
            ConfigError::new(
                variable,
                format!("a whole number from {} to {}", range.start(), range.end()),
                raw,
            )
        })
}

fn seconds(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u64,
) -> Result<Duration, ConfigError> {
    let Some(raw) = get(variable) else {
        return Ok(Duration::from_secs(default));
    };
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|&secs| secs > 0 && secs <= 10 * 365 * 24 * 60 * 60)
        .map(Duration::from_secs)
        .ok_or_else(|| {
            ConfigError::new(
                variable,
                "a lifetime in whole seconds, from 1 to 315360000 (ten years)",
                raw,
            )
        })
}

fn boolean(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    let Some(raw) = get(variable) else {
        return Ok(default);
    };
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::new(variable, "true or false", raw)),
    }
}

/// Reuse detection needs rotation (there is nothing to reuse without it) and
/// blacklist-after-rotation (a rotated-out token must be refused to be caught).
fn reuse_detection(
    get: &impl Fn(&str) -> Option<String>,
    jwt: &JwtSettings,
) -> Result<bool, ConfigError> {
    let possible = jwt.rotate_refresh_tokens && jwt.blacklist_after_rotation;
    let wanted = boolean(get, "JWT_REFRESH_REUSE_DETECTION", possible)?;
    if wanted && !possible {
        return Err(ConfigError::new(
            "JWT_REFRESH_REUSE_DETECTION",
            "false while JWT_ROTATE_REFRESH_TOKENS or JWT_BLACKLIST_AFTER_ROTATION is false (it needs both)",
            "true",
        ));
    }
    Ok(wanted)
}

/// A key directory holds key pairs, and replaces the single pair: HMAC has no public half to
/// publish, and two sources of keys would leave it unclear which signs.
fn check_keys_dir(jwt: &JwtSettings) -> Result<(), ConfigError> {
    let Some(dir) = &jwt.keys_dir else {
        return Ok(());
    };
    let shown = dir.display().to_string();
    if matches!(
        jwt.algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        return Err(ConfigError::new(
            "JWT_KEYS_DIR",
            "unset with an HMAC JWT_ALGORITHM (a key directory holds key pairs: set JWT_ALGORITHM=ES256, RS256 or EdDSA)",
            shown,
        ));
    }
    if jwt.signing_key.is_some() || jwt.verifying_key.is_some() {
        return Err(ConfigError::new(
            "JWT_KEYS_DIR",
            "unset while JWT_SIGNING_KEY or JWT_VERIFYING_KEY is set (one source of keys)",
            shown,
        ));
    }
    Ok(())
}

fn algorithm(raw: Option<String>) -> Result<Algorithm, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Algorithm::HS256);
    };
    let name = raw.trim();
    let supported: Vec<&str> = claims::HMAC_ALGORITHMS
        .iter()
        .chain(&claims::KEY_PAIR_ALGORITHMS)
        .copied()
        .collect();
    match name.parse::<Algorithm>() {
        Ok(algorithm) if supported.contains(&name) => Ok(algorithm),
        _ => Err(ConfigError::new(
            "JWT_ALGORITHM",
            format!("one of {}", supported.join(", ")),
            raw,
        )),
    }
}

fn header_types(raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(vec!["Bearer".to_owned()]);
    };
    let types: Vec<String> = raw.split(',').map(|t| t.trim().to_owned()).collect();
    let valid = |t: &String| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric());
    if types.iter().all(valid) {
        Ok(types)
    } else {
        Err(ConfigError::new(
            "JWT_AUTH_HEADER_TYPES",
            "comma-separated words such as Bearer or Bearer,JWT",
            raw,
        ))
    }
}

fn claim_name(raw: Option<String>) -> Result<String, ConfigError> {
    let Some(raw) = raw else {
        return Ok("user_id".to_owned());
    };
    let reserved = ["token_type", "exp", "iat", "jti", "iss", "aud", "nbf"];
    let name = raw.trim();
    if reserved.contains(&name) || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(ConfigError::new(
            "JWT_USER_ID_CLAIM",
            "a claim name of letters, digits and _ other than the registered ones",
            raw,
        ));
    }
    Ok(name.to_owned())
}

fn database_url(raw: Option<String>) -> Result<DatabaseUrl, ConfigError> {
    let raw = raw.unwrap_or_else(|| "sqlite://db.sqlite3".to_owned());
    DatabaseUrl::parse(&raw)
        .ok_or_else(|| ConfigError::new("DATABASE_URL", DatabaseUrl::EXPECTED, raw.trim()))
}

fn bind_addr(raw: Option<String>, port: Option<String>) -> Result<String, ConfigError> {
    let Some(raw) = raw else {
        // A platform (Heroku, Render, Fly.io, Cloud Run...) says only which port to listen on,
        // and routes to it from outside the container.
        return match port {
            None => Ok("127.0.0.1:8000".to_owned()),
            Some(port) => match port.trim().parse::<u16>() {
                Ok(port) => Ok(format!("0.0.0.0:{port}")),
                Err(_) => Err(ConfigError::new("PORT", "a port number, 0 to 65535", port)),
            },
        };
    };
    let valid = raw
        .trim()
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if valid {
        Ok(raw.trim().to_owned())
    } else {
        Err(ConfigError::new(
            "BIND_ADDR",
            "HOST:PORT, for example 127.0.0.1:8000 or 0.0.0.0:8000",
            raw,
        ))
    }
}

fn networks(raw: Option<String>) -> Result<Vec<IpNet>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
        })
        .collect::<Result<_, _>>()
        .map_err(|_| {
            ConfigError::new(
                "TRUSTED_PROXIES",
                "comma-separated addresses or networks, for example 10.0.0.5,172.16.0.0/12",
                raw,
            )
        })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings_with(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_follow_simplejwt_except_rotation() {
        let settings = settings_with(&[]).unwrap();
        assert_eq!(settings.jwt.access_token_lifetime, Duration::from_secs(300));
        assert_eq!(
            settings.jwt.refresh_token_lifetime,
            Duration::from_secs(86_400)
        );
        assert!(settings.jwt.rotate_refresh_tokens);
        assert!(settings.jwt.blacklist_after_rotation);
        assert!(settings.jwt.refresh_reuse_detection);
        assert_eq!(settings.jwt.refresh_reuse_grace, Duration::ZERO);
        assert_eq!(
            settings.jwt.refresh_family_lifetime,
            Duration::from_secs(7 * 86_400)
        );
        assert_eq!(settings.auth_cache_ttl, Duration::from_secs(2));
        assert!(!settings.jwt.update_last_login);
        assert_eq!(settings.jwt.algorithm, Algorithm::HS256);
        assert_eq!(settings.jwt.leeway, 0);
        assert_eq!(settings.jwt.auth_header_types, vec!["Bearer"]);
        assert_eq!(settings.jwt.user_id_claim, "user_id");
        assert_eq!(settings.bcrypt_cost, 12);
        assert_eq!(settings.bind_addr, "127.0.0.1:8000");
        assert_eq!(
            settings.database_url,
            DatabaseUrl::Sqlite(PathBuf::from("db.sqlite3"))
        );
    }

    #[test]
    fn a_bad_lifetime_names_the_variable_and_what_it_expects() {
        let error = settings_with(&[("JWT_ACCESS_TOKEN_LIFETIME", "5m")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "JWT_ACCESS_TOKEN_LIFETIME: expected a lifetime in whole seconds, from 1 to 315360000 (ten years), got \"5m\""
        );
    }

    #[test]
    fn a_bad_boolean_is_refused() {
        let error = settings_with(&[("JWT_ROTATE_REFRESH_TOKENS", "maybe")]).unwrap_err();
        assert_eq!(error.variable, "JWT_ROTATE_REFRESH_TOKENS");
        assert_eq!(error.expected, "true or false");
    }

    #[test]
    fn booleans_accept_the_usual_spellings() {
        let settings = settings_with(&[
            ("JWT_ROTATE_REFRESH_TOKENS", "False"),
            ("JWT_BLACKLIST_AFTER_ROTATION", "0"),
            ("JWT_UPDATE_LAST_LOGIN", "yes"),
        ])
        .unwrap();
        assert!(!settings.jwt.rotate_refresh_tokens);
        assert!(!settings.jwt.blacklist_after_rotation);
        assert!(settings.jwt.update_last_login);
    }

    #[test]
    fn simplejwts_defaults_turn_reuse_detection_off() {
        let settings = settings_with(&[
            ("JWT_ROTATE_REFRESH_TOKENS", "false"),
            ("JWT_BLACKLIST_AFTER_ROTATION", "false"),
        ])
        .unwrap();
        assert!(!settings.jwt.refresh_reuse_detection);
    }

    #[test]
    fn reuse_detection_without_blacklisting_is_refused() {
        let error = settings_with(&[
            ("JWT_BLACKLIST_AFTER_ROTATION", "false"),
            ("JWT_REFRESH_REUSE_DETECTION", "true"),
        ])
        .unwrap_err();
        assert_eq!(error.variable, "JWT_REFRESH_REUSE_DETECTION");
    }

    #[test]
    fn the_reuse_grace_is_at_most_a_minute() {
        let error = settings_with(&[("JWT_REFRESH_REUSE_GRACE", "61")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "JWT_REFRESH_REUSE_GRACE: expected a whole number from 0 to 60, got \"61\""
        );
    }

    #[test]
    fn the_algorithm_none_is_not_a_choice() {
        let error = settings_with(&[("JWT_ALGORITHM", "none")]).unwrap_err();
        assert_eq!(error.variable, "JWT_ALGORITHM");
    }

    #[test]
    fn bcrypt_cost_outside_4_to_31_is_refused() {
        assert_eq!(
            settings_with(&[("BCRYPT_COST", "3")]).unwrap_err().variable,
            "BCRYPT_COST"
        );
        assert_eq!(
            settings_with(&[("BCRYPT_COST", "4")]).unwrap().bcrypt_cost,
            4
        );
    }

    #[test]
    fn a_database_url_of_another_kind_names_the_variable() {
        let error = settings_with(&[("DATABASE_URL", "mysql://root@localhost/app")]).unwrap_err();
        assert_eq!(error.variable, "DATABASE_URL");
    }

    #[test]
    fn debug_output_of_the_settings_shows_no_secret() {
        let settings = settings_with(&[
            ("SECRET_KEY", "the-secret-key-that-must-not-leak-0123456789"),
            (
                "JWT_SIGNING_KEY",
                "the-signing-key-that-must-not-leak-0123456",
            ),
            ("DATABASE_URL", "postgres://app:hunter2@db:5432/app"),
        ])
        .unwrap();

        let shown = format!("{settings:?}");

        assert!(!shown.contains("must-not-leak"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn a_bind_address_needs_a_port() {
        assert_eq!(
            settings_with(&[("BIND_ADDR", "localhost")])
                .unwrap_err()
                .variable,
            "BIND_ADDR"
        );
    }

    #[test]
    fn a_platforms_port_is_listened_to_on_every_interface_unless_bind_addr_says_otherwise() {
        assert_eq!(
            settings_with(&[("PORT", "9000")]).unwrap().bind_addr,
            "0.0.0.0:9000"
        );
        assert_eq!(
            settings_with(&[("PORT", "9000"), ("BIND_ADDR", "127.0.0.1:8005")])
                .unwrap()
                .bind_addr,
            "127.0.0.1:8005"
        );
        assert_eq!(
            settings_with(&[("PORT", "http")]).unwrap_err().to_string(),
            "PORT: expected a port number, 0 to 65535, got \"http\""
        );
    }

    #[test]
    fn a_registered_claim_cannot_hold_the_user_id() {
        assert_eq!(
            settings_with(&[("JWT_USER_ID_CLAIM", "exp")])
                .unwrap_err()
                .variable,
            "JWT_USER_ID_CLAIM"
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let settings = settings_with(&[("TRUSTED_PROXIES", "10.0.0.5, 172.16.0.0/12")]).unwrap();
        let shown: Vec<String> = settings
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["10.0.0.5/32", "172.16.0.0/12"]);
        let error = settings_with(&[("TRUSTED_PROXIES", "nginx")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "TRUSTED_PROXIES: expected comma-separated addresses or networks, for example 10.0.0.5,172.16.0.0/12, got \"nginx\""
        );
    }
}
