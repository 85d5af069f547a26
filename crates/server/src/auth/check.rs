//! Checking tokens the way simplejwt's `TokenBackend.decode` (with PyJWT) and `Token.verify`
//! do, and stricter where the RFCs say so.
//!
//! Validation runs in two steps, as in simplejwt:
//! 1. [`TokenCodec::decode`]: the signature with the one configured algorithm (never the
//!    token's own `alg` choice), a header with no `crit` extension (none is understood here,
//!    RFC 7515 §4.1.11), then the registered claims in PyJWT's order: `iat`, `nbf`, `exp`, `iss`
//!    and `aud` when configured, `sub`, `jti`. Time claims must be numbers within the year
//!    9999, `sub` and `jti` strings. Failures are "Token is invalid" or "Token is expired".
//! 2. [`Payload::verify`]: the claims simplejwt's `Token.verify` requires: `exp`, `jti` and the
//!    right `token_type`.
//!
//! Between the two, refresh tokens are checked against the blacklist (that needs the database,
//! so it happens in the services).
//!
//! Header fields that name keys (`jwk`, `jku`, `x5u`, `x5c`) are never looked at: the key is
//! the configured one.
//!
//! An access token that passed step 1 is remembered (by its exact text, in a bounded cache):
//! its signature and claims cannot change, so presenting it again only needs its times checked
//! against the clock. An access token is typically sent with every request for minutes, and
//! this is what makes checking it cost a hash lookup instead of an HMAC and a JSON parse.
//! (Refresh tokens are not remembered: with rotation each is used once.)

use std::sync::Arc;
use std::time::Duration;

use claims::TokenType;
use jsonwebtoken::{Header, Validation};
use moka::sync::Cache;
use serde_json::{Map, Value};

use crate::auth::mint::TokenCodec;
use crate::configuration::JwtSettings;

/// The latest time a NumericDate may name: 9999-12-31T23:59:59Z. Python's `datetime` (and so
/// simplejwt) cannot go further, and no token needs to.
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// The earliest: 0001-01-01T00:00:00Z.
pub const MIN_NUMERIC_DATE: i64 = -62_135_596_800;

/// Why a token was refused; the messages are simplejwt's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, a bad signature, another algorithm, a wrong `iss`/`aud`, a future `nbf`, a
    /// malformed claim, a `crit` header...
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

    /// The `jti` claim (a string whenever present: [`TokenCodec::decode`] checked it).
    pub fn jti(&self) -> Option<&str> {
        self.0.get("jti").and_then(Value::as_str)
    }

    /// The `exp` claim in whole seconds since the epoch, when present.
    pub fn exp(&self) -> Option<i64> {
        self.0.get("exp").and_then(numeric_date)
    }

    /// The user id from `claim` (a string like `"7"` or a number), when there is one.
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

/// How many verified access tokens are remembered, and for how long unused.
const VERIFIED_CAPACITY: u64 = 4_096;
const VERIFIED_IDLE: Duration = Duration::from_secs(300);

/// Tokens whose signature and claims were checked: their payload and the times to check again.
pub(super) type VerifiedTokens = Cache<String, Verified>;

/// A token that passed [`TokenCodec::decode`]'s checks.
#[derive(Clone)]
pub(super) struct Verified {
    payload: Arc<Payload>,
    times: Times,
}

/// The time claims of a token, in whole seconds.
#[derive(Debug, Clone, Copy, Default)]
struct Times {
    iat: Option<i64>,
    nbf: Option<i64>,
    exp: Option<i64>,
}

/// An empty cache of verified tokens.
pub(super) fn verified_tokens() -> VerifiedTokens {
    Cache::builder()
        .max_capacity(VERIFIED_CAPACITY)
        .time_to_idle(VERIFIED_IDLE)
        .build()
}

impl TokenCodec {
    // ANCHOR: decode
    /// Step 1 of validation: signature, algorithm, header and registered claims, at time `now`.
    pub fn decode(&self, token: &str, now: i64) -> Result<Arc<Payload>, TokenError> {
        let token = token.trim();
        if let Some(known) = self.verified().get(token) {
            check_times(&known.times, now, self.settings().leeway)?;
            return Ok(known.payload);
        }
        // ANCHOR: pick_key
        let settings = self.settings();
        let mut validation = Validation::new(settings.algorithm);
        // The registered claims are checked below with PyJWT's rules (expired when
        // exp <= now - leeway) and stricter types; jsonwebtoken only checks the signature.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        check_header(&header)?;
        let mut keys = self.keys();
        // A kid this server does not know may be a key another replica just made current.
        if keys.verifying(header.kid.as_deref()).is_none()
            && header.kid.is_some()
            && self.reload_keys_if_due(now)
        {
            keys = self.keys();
        }
        let key = keys
            .verifying(header.kid.as_deref())
            .ok_or(TokenError::Invalid)?;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
            .map_err(|_| TokenError::Invalid)?;
        // ANCHOR_END: pick_key
        let times = check_registered_claims(&data.claims, now, settings)?;
        let payload = Arc::new(Payload(data.claims));
        if payload.get("token_type").and_then(Value::as_str) == Some(TokenType::Access.as_str()) {
            self.verified().insert(
                token.to_owned(),
                Verified {
                    payload: payload.clone(),
                    times,
                },
            );
        }
        Ok(payload)
    }
    // ANCHOR_END: decode
}

/// A `crit` header lists extensions the verifier MUST understand (RFC 7515 §4.1.11); this
/// server understands none, so any `crit` (even an empty one, which the RFC forbids) is refused.
/// Fields naming keys (`jwk`, `jku`, `x5u`, `x5c`) are not looked at: the `kid` alone selects,
/// and only among the server's own keys.
fn check_header(header: &Header) -> Result<(), TokenError> {
    if header.crit.is_some() {
        return Err(TokenError::Invalid);
    }
    Ok(())
}

/// PyJWT's checks of the registered claims, in its order, as simplejwt configures it; returns
/// the time claims, to check again when the token comes back.
fn check_registered_claims(
    claims: &Map<String, Value>,
    now: i64,
    settings: &JwtSettings,
) -> Result<Times, TokenError> {
    let time = |claim| match claims.get(claim) {
        None => Ok(None),
        Some(value) => numeric_date(value).map(Some).ok_or(TokenError::Invalid),
    };
    let times = Times {
        iat: time("iat")?,
        nbf: time("nbf")?,
        exp: time("exp")?,
    };
    check_times(&times, now, settings.leeway)?;
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
    for claim in ["sub", "jti"] {
        if claims.get(claim).is_some_and(|value| !value.is_string()) {
            return Err(TokenError::Invalid);
        }
    }
    Ok(times)
}

/// The time checks, PyJWT's order: `iat` and `nbf` not in the future, `exp` not passed
/// (expired when `exp <= now - leeway`).
fn check_times(times: &Times, now: i64, leeway: i64) -> Result<(), TokenError> {
    if [times.iat, times.nbf]
        .into_iter()
        .flatten()
        .any(|at| at > now + leeway)
    {
        return Err(TokenError::Invalid);
    }
    if times.exp.is_some_and(|exp| exp <= now - leeway) {
        return Err(TokenError::Expired);
    }
    Ok(())
}

/// A NumericDate (RFC 7519 §2) as whole seconds: an integer or a finite float (truncated, as
/// PyJWT's `int(value)` does) between the years 1 and 9999. Anything else, a numeric string
/// included, is not one.
fn numeric_date(value: &Value) -> Option<i64> {
    let Value::Number(number) = value else {
        return None;
    };
    let seconds = match number.as_i64() {
        Some(whole) => whole,
        None => {
            let float = number.as_f64()?;
            if !float.is_finite() || float.abs() > MAX_NUMERIC_DATE as f64 + 1.0 {
                return None;
            }
            float.trunc() as i64
        }
    };
    (MIN_NUMERIC_DATE..=MAX_NUMERIC_DATE)
        .contains(&seconds)
        .then_some(seconds)
}

#[cfg(test)]
mod tests {

    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
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
    fn a_time_claim_that_is_not_a_number_is_invalid() {
        for claim in ["exp", "nbf", "iat"] {
            for value in [
                json!("tomorrow"),
                json!("1800000060"),
                json!(true),
                json!(null),
                json!([1]),
            ] {
                let mut claims = access_claims(NOW + 60);
                claims[claim] = value.clone();
                assert_eq!(
                    codec().decode(&sign(claims), NOW),
                    Err(TokenError::Invalid),
                    "{claim}: {value}"
                );
            }
        }
    }

    #[test]
    fn a_time_claim_past_the_year_9999_is_invalid() {
        for exp in [
            json!(1e300),
            json!(253_402_300_800_i64),
            json!(i64::MAX),
            json!(f64::MAX),
        ] {
            let mut claims = access_claims(NOW + 60);
            claims["exp"] = exp.clone();
            assert_eq!(
                codec().decode(&sign(claims), NOW),
                Err(TokenError::Invalid),
                "exp {exp}"
            );
        }
        let mut claims = access_claims(NOW + 60);
        claims["exp"] = json!(MAX_NUMERIC_DATE);
        assert!(codec().decode(&sign(claims), NOW).is_ok());
    }

    #[test]
    fn a_fractional_exp_counts_in_whole_seconds() {
        let mut claims = access_claims(NOW + 60);
        claims["exp"] = json!(NOW as f64 + 0.5);
        assert_eq!(
            codec().decode(&sign(claims.clone()), NOW),
            Err(TokenError::Expired)
        );
        claims["exp"] = json!(NOW as f64 + 1.5);
        assert!(codec().decode(&sign(claims), NOW).is_ok());
    }

    #[test]
    fn a_jti_that_is_not_a_string_is_invalid() {
        for jti in [
            json!(42),
            json!(["a"]),
            json!({"id": 1}),
            json!(null),
            json!(true),
        ] {
            let mut claims = access_claims(NOW + 60);
            claims["jti"] = jti.clone();
            assert_eq!(
                codec().decode(&sign(claims), NOW),
                Err(TokenError::Invalid),
                "jti {jti}"
            );
        }
    }

    #[test]
    fn a_sub_that_is_not_a_string_is_invalid_and_a_string_sub_is_fine() {
        let mut claims = access_claims(NOW + 60);
        claims["sub"] = json!(7);
        assert_eq!(
            codec().decode(&sign(claims.clone()), NOW),
            Err(TokenError::Invalid)
        );
        claims["sub"] = json!("7");
        assert!(codec().decode(&sign(claims), NOW).is_ok());
    }

    #[test]
    fn an_expired_token_is_expired_before_its_other_claims_are_looked_at() {
        // PyJWT's order: iat, nbf, exp, then iss, aud, sub and jti.
        let mut claims = access_claims(NOW - 1);
        claims["jti"] = json!(42);
        assert_eq!(codec().decode(&sign(claims), NOW), Err(TokenError::Expired));
    }

    #[test]
    fn a_crit_header_is_refused_since_no_extension_is_understood() {
        for crit in [vec!["exp".to_owned()], vec!["b64".to_owned()], vec![]] {
            let mut header = Header::new(Algorithm::HS256);
            header.crit = Some(crit.clone());
            let token = jsonwebtoken::encode(
                &header,
                &access_claims(NOW + 60),
                &EncodingKey::from_secret(SECRET),
            )
            .unwrap();
            assert_eq!(
                codec().decode(&token, NOW),
                Err(TokenError::Invalid),
                "crit {crit:?}"
            );
        }
    }

    #[test]
    fn a_remembered_token_still_expires_by_the_clock() {
        let codec = codec();
        let token = sign(access_claims(NOW + 60));
        assert!(codec.decode(&token, NOW).is_ok());

        assert!(codec.decode(&token, NOW + 59).is_ok());
        assert_eq!(codec.decode(&token, NOW + 60), Err(TokenError::Expired));
    }

    #[test]
    fn a_remembered_token_is_still_refused_before_its_nbf() {
        let codec = codec();
        let mut claims = access_claims(NOW + 60);
        claims["nbf"] = json!(NOW);
        let token = sign(claims);
        assert!(codec.decode(&token, NOW).is_ok());

        assert_eq!(codec.decode(&token, NOW - 1), Err(TokenError::Invalid));
    }

    #[test]
    fn only_the_exact_text_of_a_verified_token_is_remembered() {
        let codec = codec();
        let token = sign(access_claims(NOW + 60));
        assert!(codec.decode(&token, NOW).is_ok());
        let (rest, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[0] ^= 1;
        let tampered = format!("{rest}.{}", URL_SAFE_NO_PAD.encode(bytes));

        assert_eq!(codec.decode(&tampered, NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn a_padded_segment_is_invalid() {
        let token = sign(access_claims(NOW + 60));
        let (header, rest) = token.split_once('.').unwrap();
        let padded = format!("{header}=.{rest}");
        assert_eq!(codec().decode(&padded, NOW), Err(TokenError::Invalid));
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
        let access = codec
            .mint(TokenType::Access, payload.claims(), NOW + 5)
            .unwrap();
        let access = codec.decode(&access.token, NOW + 5).unwrap();
        assert_eq!(access.user_id("user_id"), Some(UserIdClaim::Id(9)));
        assert_eq!(access.get("token_type"), Some(&json!("access")));
        assert_eq!(access.get("exp"), Some(&json!(NOW + 5 + 300)));
        assert_ne!(access.jti(), payload.jti());
    }
}
