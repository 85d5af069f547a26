//! Reading a token: its signature with the configured algorithm and key, then the contract's
//! checks (`claims::check`), the same functions the notes service and the inspector call.
//!
//! Validation runs in two steps, as in simplejwt:
//! 1. [`TokenCodec::decode`]: the token taken apart (`claims::compact`), the signature checked
//!    with the one configured algorithm (never the token's own `alg` choice) and the key the
//!    `kid` selects among the server's own, then [`claims::Rules::check`]: the header and the
//!    registered claims in PyJWT's order. Failures are "Token is invalid" or "Token is
//!    expired".
//! 2. [`claims::Claims::verify`]: the claims simplejwt's `Token.verify` requires: `exp`, `jti`
//!    and the right `token_type`.
//!
//! Between the two, refresh tokens are checked against the blacklist (that needs the database,
//! so it happens in the services).
//!
//! An access token that passed step 1 is remembered (by its exact text, in a bounded cache):
//! its signature and claims cannot change, so presenting it again only needs its times checked
//! against the clock. An access token is typically sent with every request for minutes, and
//! this is what makes checking it cost a hash lookup instead of a signature and a JSON parse.
//! (Refresh tokens are not remembered: with rotation each is used once.)

use std::sync::Arc;

use claims::{Header, Refusal, TokenType, UserId, compact};

use crate::auth::codec::{Payload, TokenCodec, Verified};

/// What a token's user id claim holds, for this server's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserIdClaim {
    /// A user id.
    Id(i32),
    /// Something no user of this server can have (treated as an unknown user).
    Unusable,
}

/// The user id in `payload`'s `claim`, when it has one.
pub fn user_id(payload: &Payload, claim: &str) -> Option<UserIdClaim> {
    Some(match payload.user_id(claim)? {
        UserId::Id(id) => id.parse().map_or(UserIdClaim::Unusable, UserIdClaim::Id),
        UserId::Unusable => UserIdClaim::Unusable,
    })
}

impl TokenCodec {
    // ANCHOR: decode
    /// Step 1 of validation: signature, algorithm, header and registered claims, at time `now`.
    pub fn decode(&self, token: &str, now: i64) -> Result<Arc<Payload>, Refusal> {
        let token = token.trim();
        let generation = self.key_generation();
        if let Some(known) = self.verified().get(token)
            && known.keys == generation
        {
            if let Some(violation) = self.rules().time_violations(&known.payload, now).first() {
                return Err(violation.refusal());
            }
            return Ok(known.payload);
        }
        let parts = compact::split(token).map_err(|_| Refusal::Invalid)?;
        let header: Header = serde_json::from_slice(&parts.header).map_err(|_| Refusal::Invalid)?;
        // ANCHOR: pick_key
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
            .ok_or(Refusal::Invalid)?;
        let signed = jsonwebtoken::crypto::verify(
            parts.signature,
            parts.signing_input.as_bytes(),
            key,
            self.settings().algorithm,
        );
        // ANCHOR_END: pick_key
        if !signed.unwrap_or(false) {
            return Err(Refusal::Invalid);
        }
        let payload: Payload =
            serde_json::from_slice(&parts.payload).map_err(|_| Refusal::Invalid)?;
        self.rules().check(&header, &payload, now)?;
        let payload = Arc::new(payload);
        if payload.token_type == Some(TokenType::Access) {
            let verified = Verified {
                keys: generation,
                payload: payload.clone(),
            };
            self.verified().insert(token.to_owned(), verified);
        }
        Ok(payload)
    }
    // ANCHOR_END: decode
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
    use serde_json::{Value, json};

    use super::*;
    use crate::configuration::JwtSettings;

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

    fn sign_with(header: jsonwebtoken::Header, claims: Value) -> String {
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(SECRET)).unwrap()
    }

    fn sign(claims: Value) -> String {
        sign_with(jsonwebtoken::Header::new(Algorithm::HS256), claims)
    }

    fn access_claims(exp: i64) -> Value {
        json!({"token_type": "access", "exp": exp, "iat": NOW - 10, "jti": "a".repeat(32), "user_id": "1"})
    }

    fn b64(value: &Value) -> String {
        compact::encode(&serde_json::to_vec(value).unwrap())
    }

    fn flip_first_signature_bit(token: &str) -> String {
        let (rest, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = compact::decode(signature).unwrap();
        bytes[0] ^= 1;
        format!("{rest}.{}", compact::encode(&bytes))
    }

    #[test]
    fn a_minted_access_token_decodes_and_verifies_as_access() {
        let codec = codec();
        let minted = codec
            .mint(
                TokenType::Access,
                &codec.user_claims(7, "hash"),
                NOW,
                i64::MAX,
            )
            .unwrap();
        let payload = codec.decode(&minted.token, NOW).unwrap();
        assert_eq!(payload.verify(Some(TokenType::Access)), Ok(()));
        assert_eq!(user_id(&payload, "user_id"), Some(UserIdClaim::Id(7)));
        assert_eq!(payload.exp, Some(NOW + 300));
        assert_eq!(payload.jti.as_deref().map(str::len), Some(32));
        assert_eq!(Some(minted.jti), payload.jti);
    }

    #[test]
    fn the_contracts_checks_decide_after_the_signature() {
        let mut claims = access_claims(NOW + 60);
        claims["nbf"] = json!(NOW + 10);
        assert_eq!(codec().decode(&sign(claims), NOW), Err(Refusal::Invalid));
        assert_eq!(
            codec().decode(&sign(access_claims(NOW)), NOW),
            Err(Refusal::Expired)
        );
    }

    #[test]
    fn a_kid_is_ignored_with_one_configured_key_as_simplejwt_ignores_it() {
        let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
        header.kid = Some("some-other-key".into());
        let token = sign_with(header, access_claims(NOW + 60));
        assert!(codec().decode(&token, NOW).is_ok());
    }

    #[test]
    fn a_remembered_token_still_expires_by_the_clock() {
        let codec = codec();
        let token = sign(access_claims(NOW + 60));
        assert!(codec.decode(&token, NOW).is_ok());

        assert!(codec.decode(&token, NOW + 59).is_ok());
        assert_eq!(codec.decode(&token, NOW + 60), Err(Refusal::Expired));
    }

    #[test]
    fn a_remembered_token_is_still_refused_before_its_nbf() {
        let codec = codec();
        let mut claims = access_claims(NOW + 60);
        claims["nbf"] = json!(NOW);
        let token = sign(claims);
        assert!(codec.decode(&token, NOW).is_ok());

        assert_eq!(codec.decode(&token, NOW - 1), Err(Refusal::Invalid));
    }

    #[test]
    fn only_the_exact_text_of_a_verified_token_is_remembered() {
        let codec = codec();
        let token = sign(access_claims(NOW + 60));
        assert!(codec.decode(&token, NOW).is_ok());

        let tampered = flip_first_signature_bit(&token);
        assert_eq!(codec.decode(&tampered, NOW), Err(Refusal::Invalid));
    }

    #[test]
    fn a_token_remembered_under_keys_since_replaced_is_checked_again() {
        let codec = codec();
        let forged = "not.a.token".to_owned();
        let remembered = |keys| Verified {
            keys,
            payload: Arc::new(serde_json::from_value(access_claims(NOW + 60)).unwrap()),
        };
        let today = codec.key_generation();
        // As a check that began before a key change would store it after the change.
        codec
            .verified()
            .insert(forged.clone(), remembered(today.wrapping_sub(1)));
        assert_eq!(codec.decode(&forged, NOW), Err(Refusal::Invalid));

        codec.verified().insert(forged.clone(), remembered(today));
        assert!(
            codec.decode(&forged, NOW).is_ok(),
            "remembered under today's keys"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_change_to_a_valid_tokens_text_is_refused(
            at in 0usize..400,
            change in 0u8..3,
            byte in proptest::sample::select(b"AQgw09-_.= \t".to_vec()),
        ) {
            let token = sign(access_claims(NOW + 60));
            let mut text = token.clone().into_bytes();
            let at = at % (text.len() + 1);
            match change {
                0 if at < text.len() => text[at] = byte,
                1 => text.insert(at, byte),
                _ if at < text.len() => {
                    text.remove(at);
                }
                _ => text.push(byte),
            }
            let changed = String::from_utf8(text).expect("ASCII");
            let decoded = codec().decode(&changed, NOW);
            proptest::prop_assert_eq!(decoded.is_ok(), changed.trim() == token, "{}", changed);
        }

        #[test]
        fn any_text_as_a_token_is_invalid(text in ".*") {
            proptest::prop_assert_eq!(codec().decode(&text, NOW), Err(Refusal::Invalid));
        }
    }

    #[test]
    fn a_padded_segment_is_invalid() {
        let token = sign(access_claims(NOW + 60));
        let (header, rest) = token.split_once('.').unwrap();
        let padded = format!("{header}=.{rest}");
        assert_eq!(codec().decode(&padded, NOW), Err(Refusal::Invalid));
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
                    Err(Refusal::Invalid),
                    "alg {alg}"
                );
            }
        }
    }

    #[test]
    fn another_hmac_algorithm_than_the_configured_one_is_refused() {
        let token = sign_with(
            jsonwebtoken::Header::new(Algorithm::HS512),
            access_claims(NOW + 60),
        );
        assert_eq!(codec().decode(&token, NOW), Err(Refusal::Invalid));
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
            .mint(TokenType::Access, &codec.user_claims(1, "h"), NOW, i64::MAX)
            .unwrap();
        assert!(codec.decode(&genuine.token, NOW).is_ok());

        // The classic confusion attack: the public key used as an HMAC secret.
        let forged = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &access_claims(NOW + 60),
            &EncodingKey::from_secret(public),
        )
        .unwrap();
        assert_eq!(codec.decode(&forged, NOW), Err(Refusal::Invalid));
    }

    #[test]
    fn a_tampered_payload_is_invalid() {
        let token = sign(access_claims(NOW + 60));
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims = access_claims(NOW + 60);
        claims["user_id"] = json!("2");
        let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
        assert_eq!(codec().decode(&tampered, NOW), Err(Refusal::Invalid));
    }

    #[test]
    fn a_tampered_signature_is_invalid() {
        let token = sign(access_claims(NOW + 60));
        let tampered = flip_first_signature_bit(&token);
        assert_eq!(codec().decode(&tampered, NOW), Err(Refusal::Invalid));
    }

    #[test]
    fn garbage_is_invalid() {
        for garbage in ["", "abc", "a.b.c", "....", "eyJ.eyJ.sig", "😀.😀.😀"] {
            assert_eq!(codec().decode(garbage, NOW), Err(Refusal::Invalid));
        }
    }

    #[test]
    fn a_token_minted_under_an_issuer_and_audience_passes_their_checks() {
        let mut settings = settings();
        settings.issuer = Some("https://issuer.example".into());
        settings.audience = Some("students".into());
        let codec = hs256(settings);

        let minted = codec
            .mint(TokenType::Access, &codec.user_claims(1, "h"), NOW, i64::MAX)
            .unwrap();
        assert!(codec.decode(&minted.token, NOW).is_ok());
        assert_eq!(
            codec.decode(&sign(access_claims(NOW + 60)), NOW),
            Err(Refusal::Invalid)
        );
    }

    #[test]
    fn an_access_token_made_from_a_refresh_token_keeps_its_user_and_gets_its_own_id() {
        let codec = codec();
        let refresh = codec
            .mint(
                TokenType::Refresh,
                &codec.user_claims(9, "h"),
                NOW,
                i64::MAX,
            )
            .unwrap();
        let payload = codec.decode(&refresh.token, NOW).unwrap();
        let access = codec
            .mint(TokenType::Access, &payload, NOW + 5, i64::MAX)
            .unwrap();
        let access = codec.decode(&access.token, NOW + 5).unwrap();
        assert_eq!(user_id(&access, "user_id"), Some(UserIdClaim::Id(9)));
        assert_eq!(access.token_type, Some(TokenType::Access));
        assert_eq!(access.exp, Some(NOW + 5 + 300));
        assert_ne!(access.jti, payload.jti);
    }
}
