//! Minting tokens the way simplejwt's `Token` classes build them: `token_type`, `exp`, `iat`,
//! `jti`, then the claims the token carries for its user, then `aud` and `iss` when configured.
//!
//! Checking a token is the other half of [`TokenCodec`], in [`crate::auth::check`].

use claims::{TokenType, compact};
use serde_json::{Map, Value};

use crate::auth::codec::{Payload, TokenCodec};

/// The claim that carries a fingerprint of the user's password hash, with
/// `JWT_CHECK_REVOKE_TOKEN` (simplejwt's `REVOKE_TOKEN_CLAIM`).
pub const REVOKE_TOKEN_CLAIM: &str = "hash_password";

/// A freshly minted token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedToken {
    /// The compact JWT.
    pub token: String,
    /// Its `jti`.
    pub jti: String,
    /// Its `exp`, in seconds since the Unix epoch.
    pub exp: i64,
}

impl TokenCodec {
    /// The claims a user's tokens carry besides the registered ones: the user id (a string, as
    /// simplejwt writes it), and with `JWT_CHECK_REVOKE_TOKEN` a fingerprint of the password hash.
    pub fn user_claims(&self, user_id: i32, password_hash: &str) -> Payload {
        let mut claims = Payload::default();
        claims.set_user_id(&self.settings().user_id_claim, user_id.to_string());
        if self.settings().check_revoke_token {
            claims.insert(
                REVOKE_TOKEN_CLAIM,
                Value::String(password_fingerprint(password_hash)),
            );
        }
        claims
    }

    // ANCHOR: mint
    /// Mints a token of `token_type` at `now` (seconds since the epoch): a fresh `jti`,
    /// `iat = now`, `exp = now + lifetime` but no later than `session_end` (the end of the
    /// token's family, which no rotation may carry a session past; `i64::MAX` for none), and
    /// every claim of `carried` but `token_type`, `exp`, `iat`, `jti` (simplejwt's
    /// `no_copy_claims`), `aud` and `iss` (from the settings). simplejwt copies a refresh
    /// token's claims into the access token it makes the same way, so a claim the refresh
    /// token lacks (even the user id) is missing from both.
    pub fn mint(
        &self,
        token_type: TokenType,
        carried: &Payload,
        now: i64,
        session_end: i64,
    ) -> Result<MintedToken, jsonwebtoken::errors::Error> {
        let lifetime = match token_type {
            TokenType::Access => self.settings().access_token_lifetime,
            TokenType::Refresh => self.settings().refresh_token_lifetime,
        };
        let exp = now
            .saturating_add(lifetime.as_secs() as i64)
            .min(session_end);
        let jti = uuid::Uuid::new_v4().simple().to_string();

        let mut claims = carried.carried();
        claims.token_type = Some(token_type);
        claims.exp = Some(exp);
        claims.iat = Some(now);
        claims.jti = Some(jti.clone());
        claims.aud = self.settings().audience.clone().map(|aud| vec![aud]);
        claims.iss = self.settings().issuer.clone();

        let token = self.encode(&claims)?;
        Ok(MintedToken { token, jti, exp })
    }
    // ANCHOR_END: mint

    /// Encodes and signs as PyJWT does: the header `{"alg":...,"kid":...,"typ":"JWT"}` with
    /// its keys sorted (so an HS256 token starts `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9`, as
    /// simplejwt's and jwt.io's do; `kid` only with a key pair), then the claims, each compact
    /// JSON in base64url without padding.
    fn encode(&self, claims: &Payload) -> Result<String, jsonwebtoken::errors::Error> {
        let keys = self.keys();
        let (key, kid) = keys.signing();
        let mut header = Map::new();
        header.insert("alg".into(), self.rules().algorithm.clone().into());
        if let Some(kid) = kid {
            header.insert("kid".into(), kid.into());
        }
        header.insert("typ".into(), "JWT".into());
        let signing_input = format!(
            "{}.{}",
            compact::encode(&serde_json::to_vec(&header)?),
            compact::encode(&serde_json::to_vec(claims)?)
        );
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, self.settings().algorithm)?;
        Ok(format!("{signing_input}.{signature}"))
    }
}

/// Whether `payload` was issued under the password whose hash is `password_hash` (the revoke
/// claim, with `JWT_CHECK_REVOKE_TOKEN`).
pub fn carries_password(payload: &Payload, password_hash: &str) -> bool {
    payload.text(REVOKE_TOKEN_CLAIM) == Some(password_fingerprint(password_hash))
}

/// What the revoke claim compares: the SHA-256 of the password hash, in hex. When the password
/// changes, so does its hash, and tokens carrying the old value stop working.
pub fn password_fingerprint(password_hash: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(password_hash.as_bytes()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
    use serde_json::json;

    use super::*;
    use crate::configuration::JwtSettings;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-unit-tests";
    const NOW: i64 = 1_800_000_000;

    fn codec_with(change: impl FnOnce(&mut JwtSettings)) -> TokenCodec {
        let mut settings = crate::configuration::Settings::from_lookup(|_| None)
            .unwrap()
            .jwt;
        change(&mut settings);
        TokenCodec::new(
            settings,
            EncodingKey::from_secret(SECRET),
            DecodingKey::from_secret(SECRET),
        )
    }

    fn part(token: &str, index: usize) -> Value {
        let part = token.split('.').nth(index).unwrap();
        serde_json::from_slice(&compact::decode(part).unwrap()).unwrap()
    }

    #[test]
    fn the_header_is_simplejwts() {
        let codec = codec_with(|_| {});
        let minted = codec
            .mint(
                TokenType::Refresh,
                &codec.user_claims(7, "hash"),
                NOW,
                i64::MAX,
            )
            .unwrap();
        assert_eq!(
            part(&minted.token, 0),
            json!({"alg": "HS256", "typ": "JWT"})
        );
        assert!(
            minted
                .token
                .starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.")
        );
    }

    #[test]
    fn the_payload_has_simplejwts_claims_in_simplejwts_order() {
        let codec = codec_with(|_| {});
        let minted = codec
            .mint(
                TokenType::Access,
                &codec.user_claims(7, "hash"),
                NOW,
                i64::MAX,
            )
            .unwrap();
        let payload = part(&minted.token, 1);
        let names: Vec<&String> = payload.as_object().unwrap().keys().collect();
        assert_eq!(names, ["token_type", "exp", "iat", "jti", "user_id"]);
        assert_eq!(payload["token_type"], "access");
        assert_eq!(payload["exp"], NOW + 300);
        assert_eq!(payload["iat"], NOW);
        assert_eq!(payload["user_id"], "7");
        assert_eq!(payload["jti"], minted.jti);
        assert_eq!(minted.jti.len(), 32);
        assert_eq!(minted.exp, NOW + 300);
    }

    #[test]
    fn lifetimes_come_from_the_settings() {
        let codec = codec_with(|s| s.refresh_token_lifetime = Duration::from_secs(60));
        let refresh = codec
            .mint(
                TokenType::Refresh,
                &codec.user_claims(1, "h"),
                NOW,
                i64::MAX,
            )
            .unwrap();
        assert_eq!(part(&refresh.token, 1)["exp"], NOW + 60);
    }

    #[test]
    fn carried_claims_are_copied_but_registered_ones_are_not() {
        let codec = codec_with(|_| {});
        let carried = json!({"user_id": "9", "jti": "old", "exp": 1, "iat": 1,
                             "token_type": "refresh", "colour": "teal"});
        let minted = codec
            .mint(
                TokenType::Access,
                &serde_json::from_value(carried).unwrap(),
                NOW,
                i64::MAX,
            )
            .unwrap();
        let payload = part(&minted.token, 1);
        assert_eq!(payload["user_id"], "9");
        assert_eq!(payload["colour"], "teal");
        assert_eq!(payload["token_type"], "access");
        assert_ne!(payload["jti"], "old");
        assert_eq!(payload["iat"], NOW);
    }

    #[test]
    fn a_token_made_from_one_without_a_user_id_has_none_either() {
        let codec = codec_with(|_| {});
        let minted = codec
            .mint(TokenType::Access, &Payload::default(), NOW, i64::MAX)
            .unwrap();
        assert_eq!(part(&minted.token, 1).get("user_id"), None);
    }

    #[test]
    fn a_custom_user_id_claim_is_written() {
        let codec = codec_with(|s| s.user_id_claim = "uid".into());
        let minted = codec
            .mint(TokenType::Access, &codec.user_claims(4, "h"), NOW, i64::MAX)
            .unwrap();
        let payload = part(&minted.token, 1);
        assert_eq!(payload.get("user_id"), None::<&Value>);
        assert_eq!(payload["uid"], "4");
    }

    #[test]
    fn audience_and_issuer_come_last_from_the_settings() {
        let codec = codec_with(|s| {
            s.audience = Some("students".into());
            s.issuer = Some("https://issuer.example".into());
        });
        let carried = json!({"user_id": "1", "aud": "teachers", "iss": "https://evil.example"});
        let minted = codec
            .mint(
                TokenType::Access,
                &serde_json::from_value(carried).unwrap(),
                NOW,
                i64::MAX,
            )
            .unwrap();
        let payload = part(&minted.token, 1);
        let names: Vec<&String> = payload.as_object().unwrap().keys().collect();
        assert_eq!(
            names,
            ["token_type", "exp", "iat", "jti", "user_id", "aud", "iss"]
        );
        assert_eq!(payload["aud"], "students");
        assert_eq!(payload["iss"], "https://issuer.example");
    }

    #[test]
    fn with_check_revoke_token_the_password_fingerprint_is_carried() {
        let codec = codec_with(|s| s.check_revoke_token = true);
        let claims = codec.user_claims(1, "$2b$04$hash");
        assert_eq!(
            claims.text(REVOKE_TOKEN_CLAIM),
            Some(password_fingerprint("$2b$04$hash"))
        );
        assert_ne!(password_fingerprint("a"), password_fingerprint("b"));
    }

    #[test]
    fn a_token_never_outlives_its_session() {
        let codec = codec_with(|_| {});
        let minted = codec
            .mint(TokenType::Refresh, &Payload::default(), NOW, NOW + 60)
            .unwrap();
        assert_eq!(minted.exp, NOW + 60);
        assert_eq!(part(&minted.token, 1)["exp"], NOW + 60);
    }

    #[test]
    fn the_configured_algorithm_signs() {
        let codec = codec_with(|s| s.algorithm = Algorithm::HS512);
        let minted = codec
            .mint(TokenType::Access, &Payload::default(), NOW, i64::MAX)
            .unwrap();
        assert_eq!(part(&minted.token, 0)["alg"], "HS512");
    }
}
