//! Minting and validating JWTs the way simplejwt's `TokenBackend` and `Token` classes do.
//!
//! Validation runs in two steps, as in simplejwt:
//! 1. [`TokenCodec::decode`]: the signature with the one configured algorithm (never the
//!    token's own `alg` choice), then the registered claims PyJWT checks: `exp`, `nbf`, `iat`,
//!    and `iss`/`aud` when configured. Failures are "Token is invalid" or "Token is expired".
//! 2. [`Payload::verify`]: the claims simplejwt's `Token.verify` requires: `exp`, `jti` and the
//!    right `token_type`.
//!
//! Between the two, refresh tokens are checked against the blacklist (that needs the database,
//! so it lives in the flows).

use chrono::{DateTime, NaiveDateTime};
use claims::{Claims, TokenType};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};

use crate::configuration::JwtSettings;

/// Why a token was refused; the messages are simplejwt's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, a bad signature, another algorithm, a wrong `iss`/`aud`, a future `nbf`...
    #[error("Token is invalid")]
    Invalid,
    /// `exp <= now - leeway`.
    #[error("Token is expired")]
    Expired,
    /// An access token where a refresh token is expected, or the reverse.
    #[error("Token has wrong type")]
    WrongType,
    /// A refresh token that was revoked.
    #[error("Token is blacklisted")]
    Blacklisted,
    /// No `jti` claim.
    #[error("Token has no id")]
    NoId,
    /// No `token_type` claim.
    #[error("Token has no type")]
    NoType,
    /// No `exp` claim.
    #[error("Token has no 'exp' claim")]
    NoExp,
}

/// The claim that carries a hash of the user's password hash, with `JWT_CHECK_REVOKE_TOKEN`.
pub const REVOKE_TOKEN_CLAIM: &str = "hash_password";

/// The decoded claims of a token whose signature and registered claims were checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload(Map<String, Value>);

impl Payload {
    /// simplejwt's `Token.verify`: `exp`, `jti` and, when `expected` is given, `token_type`.
    /// The verify endpoint passes `None` (simplejwt's `UntypedToken`).
    pub fn verify(&self, expected: Option<TokenType>) -> Result<(), TokenError> {
        if !self.0.contains_key("exp") {
            return Err(TokenError::NoExp);
        }
        if !self.0.contains_key("jti") {
            return Err(TokenError::NoId);
        }
        if let Some(expected) = expected {
            match self.0.get("token_type") {
                None => return Err(TokenError::NoType),
                Some(Value::String(kind)) if kind == expected.as_str() => {}
                Some(_) => return Err(TokenError::WrongType),
            }
        }
        Ok(())
    }

    /// The `jti` claim, when it is a string.
    pub fn jti(&self) -> Option<&str> {
        self.0.get("jti").and_then(Value::as_str)
    }

    /// The `exp` claim as a UTC time, when it is a number.
    pub fn expires_at(&self) -> Option<NaiveDateTime> {
        let exp = self.0.get("exp").and_then(numeric)?;
        DateTime::from_timestamp(exp, 0).map(|at| at.naive_utc())
    }

    /// The user id from `claim` (a string like `"7"` or a number), when it is one.
    pub fn user_id(&self, claim: &str) -> Option<UserIdClaim> {
        match self.0.get(claim)? {
            Value::String(id) => Some(id.parse().map_or(UserIdClaim::Unusable, UserIdClaim::Id)),
            Value::Number(id) => Some(
                id.as_i64()
                    .and_then(|id| i32::try_from(id).ok())
                    .map_or(UserIdClaim::Unusable, UserIdClaim::Id),
            ),
            _ => Some(UserIdClaim::Unusable),
        }
    }

    /// All the claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Any claim.
    pub fn get(&self, claim: &str) -> Option<&Value> {
        self.0.get(claim)
    }
}

/// What a token's user id claim holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserIdClaim {
    /// A user id.
    Id(i32),
    /// Something no user can have (treated as an unknown user).
    Unusable,
}

/// A freshly minted token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedToken {
    /// The compact JWT.
    pub token: String,
    /// Its `jti`.
    pub jti: String,
    /// Its `exp`, as a UTC time.
    pub expires_at: NaiveDateTime,
}

/// Signs and checks tokens with the configured algorithm and keys.
#[derive(Clone)]
pub struct TokenCodec {
    settings: JwtSettings,
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
}

impl TokenCodec {
    /// A codec for these settings and keys.
    pub fn new(
        settings: JwtSettings,
        encoding_key: EncodingKey,
        decoding_key: DecodingKey,
    ) -> Self {
        Self {
            settings,
            encoding_key,
            decoding_key,
        }
    }

    /// The token settings.
    pub fn settings(&self) -> &JwtSettings {
        &self.settings
    }

    /// The claims a new pair for a user starts from: the user id, and with
    /// `JWT_CHECK_REVOKE_TOKEN` a hash of the password hash.
    pub fn user_claims(&self, user_id: i32, password_hash: &str) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert(
            self.settings.user_id_claim.clone(),
            Value::String(user_id.to_string()),
        );
        if self.settings.check_revoke_token {
            claims.insert(
                REVOKE_TOKEN_CLAIM.to_owned(),
                Value::String(revoke_hash(password_hash)),
            );
        }
        claims
    }

    /// Mints a token of `token_type` carrying the non-registered claims of `base` (simplejwt
    /// copies a refresh token's claims into the access token it makes), with a fresh `jti`,
    /// `iat = now` and `exp = now + lifetime`.
    pub fn mint(
        &self,
        token_type: TokenType,
        base: &Map<String, Value>,
        now: i64,
    ) -> Result<MintedToken, jsonwebtoken::errors::Error> {
        let lifetime = match token_type {
            TokenType::Access => self.settings.access_token_lifetime,
            TokenType::Refresh => self.settings.refresh_token_lifetime,
        };
        let exp = now + lifetime.as_secs() as i64;
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let user_id = base
            .get(&self.settings.user_id_claim)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let claims = Claims {
            token_type,
            exp,
            iat: now,
            jti: jti.clone(),
            user_id,
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
        };
        let Value::Object(mut payload) = serde_json::to_value(&claims)? else {
            unreachable!("Claims serialize to a JSON object");
        };
        if self.settings.user_id_claim != "user_id" {
            let id = payload.remove("user_id").unwrap_or(Value::Null);
            payload.insert(self.settings.user_id_claim.clone(), id);
        }
        for (claim, value) in base {
            if !NOT_COPIED.contains(&claim.as_str()) {
                payload.insert(claim.clone(), value.clone());
            }
        }
        let token = jsonwebtoken::encode(
            &Header::new(self.settings.algorithm),
            &payload,
            &self.encoding_key,
        )?;
        let expires_at = DateTime::from_timestamp(exp, 0)
            .map(|at| at.naive_utc())
            .unwrap_or_default();
        Ok(MintedToken {
            token,
            jti,
            expires_at,
        })
    }

    /// Step 1 of validation: signature, algorithm and registered claims, at time `now`.
    pub fn decode(&self, token: &str, now: i64) -> Result<Payload, TokenError> {
        let mut validation = Validation::new(self.settings.algorithm);
        // The registered claims are checked below with PyJWT's exact rules
        // (expired when exp <= now - leeway); jsonwebtoken only checks the signature here.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Map<String, Value>>(
            token.trim(),
            &self.decoding_key,
            &validation,
        )
        .map_err(|_| TokenError::Invalid)?;
        debug_assert!(data.header.alg == self.settings.algorithm);
        check_registered_claims(&data.claims, now, &self.settings)?;
        Ok(Payload(data.claims))
    }
}

/// The claims that belong to one token and are never copied into another.
const NOT_COPIED: [&str; 6] = ["token_type", "exp", "iat", "jti", "iss", "aud"];

/// A value the revoke claim compares: the SHA-256 of the password hash, in hex. When the
/// password changes, so does its hash, and tokens carrying the old value stop working.
pub fn revoke_hash(password_hash: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(password_hash.as_bytes()))
}

/// PyJWT's checks of the registered claims, as simplejwt configures it.
fn check_registered_claims(
    claims: &Map<String, Value>,
    now: i64,
    settings: &JwtSettings,
) -> Result<(), TokenError> {
    let leeway = settings.leeway;
    if let Some(exp) = claims.get("exp") {
        let exp = numeric(exp).ok_or(TokenError::Invalid)?;
        if exp <= now - leeway {
            return Err(TokenError::Expired);
        }
    }
    for claim in ["nbf", "iat"] {
        if let Some(value) = claims.get(claim) {
            let at = numeric(value).ok_or(TokenError::Invalid)?;
            if at > now + leeway {
                return Err(TokenError::Invalid);
            }
        }
    }
    if let Some(issuer) = &settings.issuer
        && claims.get("iss").and_then(Value::as_str) != Some(issuer.as_str())
    {
        return Err(TokenError::Invalid);
    }
    if let Some(audience) = &settings.audience {
        let matches = match claims.get("aud") {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
            _ => false,
        };
        if !matches {
            return Err(TokenError::Invalid);
        }
    }
    Ok(())
}

/// A time claim as whole seconds: PyJWT's `int(value)` accepts integers and floats.
fn numeric(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::Algorithm;
    use serde_json::json;

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-unit-tests";
    const NOW: i64 = 1_800_000_000;

    fn settings() -> JwtSettings {
        crate::configuration::Settings::from_lookup(|_| None)
            .unwrap()
            .jwt
    }

    fn hs256(settings: JwtSettings) -> TokenCodec {
        TokenCodec::new(
            settings,
            EncodingKey::from_secret(SECRET),
            DecodingKey::from_secret(SECRET),
        )
    }

    fn codec() -> TokenCodec {
        hs256(settings())
    }

    fn sign(claims: Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    }

    fn access_claims(exp: i64) -> Value {
        json!({"token_type": "access", "exp": exp, "iat": NOW - 10, "jti": "a".repeat(32), "user_id": "1"})
    }

    fn b64(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    }

    #[test]
    fn a_minted_access_token_decodes_and_verifies_as_access() {
        let codec = codec();
        let minted = codec
            .mint(TokenType::Access, &codec.user_claims(7, "hash"), NOW)
            .unwrap();
        let payload = codec.decode(&minted.token, NOW).unwrap();
        assert_eq!(payload.verify(Some(TokenType::Access)), Ok(()));
        assert_eq!(payload.get("user_id"), Some(&json!("7")));
        assert_eq!(payload.get("exp"), Some(&json!(NOW + 300)));
        assert_eq!(payload.jti().map(str::len), Some(32));
        assert_eq!(minted.jti, payload.jti().unwrap());
    }

    #[test]
    fn the_header_is_simplejwts() {
        let codec = codec();
        let minted = codec
            .mint(TokenType::Refresh, &codec.user_claims(7, "hash"), NOW)
            .unwrap();
        let header = minted.token.split('.').next().unwrap();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(header, json!({"typ": "JWT", "alg": "HS256"}));
    }

    #[test]
    fn exp_equal_to_now_is_expired() {
        let token = sign(access_claims(NOW));
        assert_eq!(codec().decode(&token, NOW), Err(TokenError::Expired));
    }

    #[test]
    fn exp_one_second_ahead_is_valid() {
        let token = sign(access_claims(NOW + 1));
        assert!(codec().decode(&token, NOW).is_ok());
    }

    #[test]
    fn leeway_extends_the_life_of_an_expired_token() {
        let mut settings = settings();
        settings.leeway = 30;
        let token = sign(access_claims(NOW - 29));
        assert!(hs256(settings.clone()).decode(&token, NOW).is_ok());
        let token = sign(access_claims(NOW - 30));
        assert_eq!(
            hs256(settings).decode(&token, NOW),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn nbf_in_the_future_is_invalid() {
        let mut claims = access_claims(NOW + 60);
        claims["nbf"] = json!(NOW + 10);
        assert_eq!(codec().decode(&sign(claims), NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn iat_in_the_future_is_invalid() {
        let mut claims = access_claims(NOW + 60);
        claims["iat"] = json!(NOW + 10);
        assert_eq!(codec().decode(&sign(claims), NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn a_non_numeric_exp_is_invalid() {
        let mut claims = access_claims(NOW + 60);
        claims["exp"] = json!("tomorrow");
        assert_eq!(codec().decode(&sign(claims), NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn alg_none_is_refused_in_any_letter_case() {
        let payload = b64(&access_claims(NOW + 60));
        for alg in ["none", "None", "NONE", "nOnE"] {
            let header = b64(&json!({"alg": alg, "typ": "JWT"}));
            for token in [
                format!("{header}.{payload}."),
                format!("{header}.{payload}"),
                format!("{header}.{payload}.AAAA"),
            ] {
                assert_eq!(
                    codec().decode(&token, NOW),
                    Err(TokenError::Invalid),
                    "alg {alg}"
                );
            }
        }
    }

    #[test]
    fn another_hmac_algorithm_than_the_configured_one_is_refused() {
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &access_claims(NOW + 60),
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert_eq!(codec().decode(&token, NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn hs256_signed_with_the_rsa_public_key_is_refused_by_an_rs256_server() {
        let private = include_bytes!("../../tests/fixtures/rsa_private.pem");
        let public = include_bytes!("../../tests/fixtures/rsa_public.pem");
        let mut settings = settings();
        settings.algorithm = Algorithm::RS256;
        let codec = TokenCodec::new(
            settings,
            EncodingKey::from_rsa_pem(private).unwrap(),
            DecodingKey::from_rsa_pem(public).unwrap(),
        );
        let genuine = codec
            .mint(TokenType::Access, &codec.user_claims(1, "h"), NOW)
            .unwrap();
        assert!(codec.decode(&genuine.token, NOW).is_ok());

        // The classic confusion attack: the public key used as an HMAC secret.
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &access_claims(NOW + 60),
            &EncodingKey::from_secret(public),
        )
        .unwrap();
        assert_eq!(codec.decode(&forged, NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn a_tampered_payload_is_invalid() {
        let token = sign(access_claims(NOW + 60));
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims = access_claims(NOW + 60);
        claims["user_id"] = json!("2");
        let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
        assert_eq!(codec().decode(&tampered, NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn a_tampered_signature_is_invalid() {
        let token = sign(access_claims(NOW + 60));
        let (rest, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[0] ^= 1;
        let tampered = format!("{rest}.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(codec().decode(&tampered, NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn garbage_is_invalid() {
        for garbage in ["", "abc", "a.b.c", "....", "eyJ.eyJ.sig", "😀.😀.😀"] {
            assert_eq!(codec().decode(garbage, NOW), Err(TokenError::Invalid));
        }
    }

    #[test]
    fn a_wrong_issuer_or_audience_is_invalid() {
        let mut settings = settings();
        settings.issuer = Some("https://issuer.example".into());
        settings.audience = Some("students".into());
        let codec = hs256(settings);

        let minted = codec
            .mint(TokenType::Access, &codec.user_claims(1, "h"), NOW)
            .unwrap();
        assert!(codec.decode(&minted.token, NOW).is_ok());

        let mut claims = access_claims(NOW + 60);
        claims["iss"] = json!("https://issuer.example");
        claims["aud"] = json!("teachers");
        assert_eq!(
            codec.decode(&sign(claims.clone()), NOW),
            Err(TokenError::Invalid)
        );

        claims["aud"] = json!(["teachers", "students"]);
        assert!(codec.decode(&sign(claims.clone()), NOW).is_ok());

        claims["iss"] = json!("https://evil.example");
        assert_eq!(
            codec.decode(&sign(claims.clone()), NOW),
            Err(TokenError::Invalid)
        );

        claims.as_object_mut().unwrap().remove("iss");
        assert_eq!(codec.decode(&sign(claims), NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn missing_claims_are_named_in_simplejwts_order() {
        let codec = codec();
        let without = |claim: &str| {
            let mut claims = access_claims(NOW + 60);
            claims.as_object_mut().unwrap().remove(claim);
            codec
                .decode(&sign(claims), NOW)
                .unwrap()
                .verify(Some(TokenType::Access))
        };
        assert_eq!(without("exp"), Err(TokenError::NoExp));
        assert_eq!(without("jti"), Err(TokenError::NoId));
        assert_eq!(without("token_type"), Err(TokenError::NoType));
    }

    #[test]
    fn a_refresh_token_is_not_an_access_token_nor_the_reverse() {
        let codec = codec();
        let base = codec.user_claims(1, "h");
        let refresh = codec.mint(TokenType::Refresh, &base, NOW).unwrap();
        let access = codec.mint(TokenType::Access, &base, NOW).unwrap();
        let refresh = codec.decode(&refresh.token, NOW).unwrap();
        let access = codec.decode(&access.token, NOW).unwrap();
        assert_eq!(
            refresh.verify(Some(TokenType::Access)),
            Err(TokenError::WrongType)
        );
        assert_eq!(
            access.verify(Some(TokenType::Refresh)),
            Err(TokenError::WrongType)
        );
        assert_eq!(refresh.verify(None), Ok(()));
        assert_eq!(access.verify(None), Ok(()));
    }

    #[test]
    fn an_access_token_made_from_a_refresh_token_keeps_its_user_and_gets_its_own_id() {
        let codec = codec();
        let refresh = codec
            .mint(TokenType::Refresh, &codec.user_claims(9, "h"), NOW)
            .unwrap();
        let payload = codec.decode(&refresh.token, NOW).unwrap();
        let access = codec.mint(TokenType::Access, &payload.0, NOW + 5).unwrap();
        let access = codec.decode(&access.token, NOW + 5).unwrap();
        assert_eq!(access.user_id("user_id"), Some(UserIdClaim::Id(9)));
        assert_eq!(access.get("token_type"), Some(&json!("access")));
        assert_eq!(access.get("exp"), Some(&json!(NOW + 5 + 300)));
        assert_ne!(access.jti(), payload.jti());
    }

    #[test]
    fn lifetimes_come_from_the_settings() {
        let mut settings = settings();
        settings.refresh_token_lifetime = Duration::from_secs(60);
        let codec = hs256(settings);
        let refresh = codec
            .mint(TokenType::Refresh, &codec.user_claims(1, "h"), NOW)
            .unwrap();
        let payload = codec.decode(&refresh.token, NOW).unwrap();
        assert_eq!(payload.get("exp"), Some(&json!(NOW + 60)));
    }

    #[test]
    fn a_custom_user_id_claim_is_written_and_read() {
        let mut settings = settings();
        settings.user_id_claim = "uid".into();
        let codec = hs256(settings);
        let minted = codec
            .mint(TokenType::Access, &codec.user_claims(4, "h"), NOW)
            .unwrap();
        let payload = codec.decode(&minted.token, NOW).unwrap();
        assert_eq!(payload.get("user_id"), None);
        assert_eq!(payload.user_id("uid"), Some(UserIdClaim::Id(4)));
    }
}
