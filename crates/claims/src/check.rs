//! The checks a token must pass, as pure functions of the header, the claims, the rules and the
//! time: no I/O and no signature (a reader verifies the signature with its key, then calls
//! these). The auth server, the notes service and the inspector call the same functions, so
//! their verdicts cannot drift apart.
//!
//! Two steps, as in simplejwt:
//! 1. [`Rules::check`] (simplejwt's `TokenBackend.decode`, with PyJWT): the header's `alg` is
//!    the configured one (never the token's choice; `none` never), no `crit` (no extension is
//!    understood here, RFC 7515 §4.1.11), then the claims in PyJWT's order: `iat`, `nbf`,
//!    `exp`, `iss` and `aud` when configured, `sub`, `jti`. Header fields that name keys
//!    (`jwk`, `jku`, `x5u`, `x5c`) are never read.
//! 2. [`Claims::verify`] (simplejwt's `Token.verify`): `exp`, `jti` and the token type.
//!
//! Between the two a reader may look up state this crate cannot see (the blacklist).

use serde::{Deserialize, Deserializer};

use crate::payload::{Claims, Registered};
use crate::{Refusal, TokenType};

/// The HMAC algorithms, by their JWA names (RFC 7518): one shared secret signs and checks.
pub const HMAC_ALGORITHMS: [&str; 3] = ["HS256", "HS384", "HS512"];

/// The key-pair algorithms this project signs with: a private key signs, and the public half,
/// which can be published, checks.
pub const KEY_PAIR_ALGORITHMS: [&str; 6] = ["ES256", "ES384", "EdDSA", "RS256", "RS384", "RS512"];

/// What a token is checked against: the verifier's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// The one accepted algorithm, as JWA names it (`HS256`, `ES256`...).
    pub algorithm: String,
    /// Seconds of clock skew forgiven on `exp`, `nbf` and `iat` (`JWT_LEEWAY`).
    pub leeway: i64,
    /// The `iss` a token must carry (`JWT_ISSUER`), when set.
    pub issuer: Option<String>,
    /// The audience a token's `aud` must include (`JWT_AUDIENCE`), when set.
    pub audience: Option<String>,
}

/// The JOSE header, as far as a verifier reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Header {
    /// The algorithm the token says it was signed with.
    pub alg: String,
    /// Which key signed it; only ever selects among the verifier's own keys.
    #[serde(default)]
    pub kid: Option<String>,
    /// Whether the header has a `crit` member, whatever it holds.
    #[serde(default, deserialize_with = "present")]
    pub crit: bool,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// One thing wrong with a token, in more detail than simplejwt's message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// `alg` is `none` (in any letter case): an unsigned token.
    Unsigned,
    /// Signed with another algorithm than the configured one.
    OtherAlgorithm {
        /// The token's `alg`.
        token: String,
        /// The configured one.
        expected: String,
    },
    /// A `crit` header: extensions this verifier does not understand.
    Critical,
    /// A claim that is not of its type.
    Malformed(Registered),
    /// `iat` in the future.
    IssuedInFuture,
    /// `nbf` in the future.
    NotYetValid,
    /// `exp` passed this many seconds ago (0: this very second).
    Expired(i64),
    /// No `iss`, or another one than configured.
    WrongIssuer,
    /// No `aud`, or one without the configured audience.
    WrongAudience,
    /// No `exp`.
    NoExp,
    /// No `jti`.
    NoId,
    /// No `token_type`.
    NoType,
    /// Another token type than expected (or one that is neither access nor refresh).
    WrongType,
}

impl Violation {
    /// What simplejwt answers for it.
    pub fn refusal(&self) -> Refusal {
        match self {
            Violation::Expired(_) => Refusal::Expired,
            Violation::NoExp => Refusal::NoExp,
            Violation::NoId => Refusal::NoId,
            Violation::NoType => Refusal::NoType,
            Violation::WrongType => Refusal::WrongType,
            _ => Refusal::Invalid,
        }
    }
}

impl Rules {
    /// Step 1 of validation, for a token whose signature verified: the verdict is the first of
    /// [`Rules::violations`].
    pub fn check<V>(&self, header: &Header, claims: &Claims<V>, now: i64) -> Result<(), Refusal> {
        match self.violations(header, claims, now).first() {
            Some(violation) => Err(violation.refusal()),
            None => Ok(()),
        }
    }

    /// Everything step 1 finds wrong, in PyJWT's order.
    pub fn violations<V>(&self, header: &Header, claims: &Claims<V>, now: i64) -> Vec<Violation> {
        let mut found = Vec::new();
        if header.alg.eq_ignore_ascii_case("none") {
            found.push(Violation::Unsigned);
        } else if header.alg != self.algorithm {
            found.push(Violation::OtherAlgorithm {
                token: header.alg.clone(),
                expected: self.algorithm.clone(),
            });
        }
        if header.crit {
            found.push(Violation::Critical);
        }
        found.extend(self.time_violations(claims, now));
        if self.issuer.is_some() && (claims.iss != self.issuer) {
            found.push(Violation::WrongIssuer);
        }
        if let Some(audience) = &self.audience {
            let listed = claims.aud.iter().flatten().any(|aud| aud == audience);
            if !listed {
                found.push(Violation::WrongAudience);
            }
        }
        for claim in [Registered::Sub, Registered::Jti, Registered::FamilyId] {
            if claims.is_malformed(claim) {
                found.push(Violation::Malformed(claim));
            }
        }
        found
    }

    /// The time claims alone, in PyJWT's order: `iat` and `nbf` not in the future, then `exp`
    /// not passed (expired when `exp <= now - leeway`). A reader that remembers a verified
    /// token checks these again each time it comes back.
    pub fn time_violations<V>(&self, claims: &Claims<V>, now: i64) -> Vec<Violation> {
        let mut found = Vec::new();
        let times = [
            (Registered::Iat, claims.iat, Violation::IssuedInFuture),
            (Registered::Nbf, claims.nbf, Violation::NotYetValid),
        ];
        for (claim, at, violation) in times {
            if claims.is_malformed(claim) {
                found.push(Violation::Malformed(claim));
            } else if at.is_some_and(|at| at > now.saturating_add(self.leeway)) {
                found.push(violation);
            }
        }
        if claims.is_malformed(Registered::Exp) {
            found.push(Violation::Malformed(Registered::Exp));
        } else if let Some(exp) = claims.exp
            && exp <= now.saturating_sub(self.leeway)
        {
            found.push(Violation::Expired(now - exp));
        }
        found
    }
}

impl<V> Claims<V> {
    /// Step 2 of validation, simplejwt's `Token.verify`: `exp`, `jti` and, when `expected` is
    /// given, `token_type`. The verify endpoint passes `None` (simplejwt's `UntypedToken`).
    pub fn verify(&self, expected: Option<TokenType>) -> Result<(), Refusal> {
        match self.verify_violations(expected).first() {
            Some(violation) => Err(violation.refusal()),
            None => Ok(()),
        }
    }

    /// Everything step 2 finds wrong, in simplejwt's order.
    pub fn verify_violations(&self, expected: Option<TokenType>) -> Vec<Violation> {
        let mut found = Vec::new();
        if self.exp.is_none() && !self.is_malformed(Registered::Exp) {
            found.push(Violation::NoExp);
        }
        if self.jti.is_none() && !self.is_malformed(Registered::Jti) {
            found.push(Violation::NoId);
        }
        if let Some(expected) = expected {
            match self.token_type {
                None if !self.is_malformed(Registered::TokenType) => found.push(Violation::NoType),
                Some(kind) if kind == expected => {}
                _ => found.push(Violation::WrongType),
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn rules() -> Rules {
        Rules {
            algorithm: "HS256".into(),
            leeway: 0,
            issuer: None,
            audience: None,
        }
    }

    fn header() -> Header {
        serde_json::from_value(json!({"alg": "HS256", "typ": "JWT"})).unwrap()
    }

    fn access(exp: i64) -> Value {
        json!({"token_type": "access", "exp": exp, "iat": NOW - 10, "jti": "a".repeat(32),
               "user_id": "1"})
    }

    fn claims(payload: Value) -> Claims<Value> {
        serde_json::from_value(payload).unwrap()
    }

    fn check(payload: Value) -> Result<(), Refusal> {
        rules().check(&header(), &claims(payload), NOW)
    }

    fn with(mut payload: Value, claim: &str, value: Value) -> Value {
        payload[claim] = value;
        payload
    }

    #[test]
    fn a_fresh_access_token_passes_both_steps() {
        let claims = claims(access(NOW + 60));
        assert_eq!(rules().check(&header(), &claims, NOW), Ok(()));
        assert_eq!(claims.verify(Some(TokenType::Access)), Ok(()));
    }

    #[test]
    fn alg_none_is_refused_in_any_letter_case() {
        for alg in ["none", "None", "NONE", "nOnE"] {
            let header = Header {
                alg: alg.into(),
                kid: None,
                crit: false,
            };
            let found = rules().violations(&header, &claims(access(NOW + 60)), NOW);
            assert_eq!(found, [Violation::Unsigned], "{alg}");
        }
    }

    #[test]
    fn another_algorithm_than_the_configured_one_is_refused() {
        for alg in ["HS512", "hs256", "ES256", "RS256"] {
            let header = Header {
                alg: alg.into(),
                kid: None,
                crit: false,
            };
            assert_eq!(
                rules().check(&header, &claims(access(NOW + 60)), NOW),
                Err(Refusal::Invalid),
                "{alg}"
            );
        }
    }

    #[test]
    fn a_crit_header_is_refused_whatever_it_holds() {
        for crit in [json!(["exp"]), json!([]), json!(null), json!("b64")] {
            let header: Header =
                serde_json::from_value(json!({"alg": "HS256", "crit": crit})).unwrap();
            assert_eq!(
                rules().violations(&header, &claims(access(NOW + 60)), NOW),
                [Violation::Critical]
            );
        }
    }

    #[test]
    fn header_fields_that_name_keys_are_not_read() {
        let header: Header = serde_json::from_value(json!({
            "alg": "HS256", "jwk": {"kty": "oct", "k": "AAAA"}, "jku": "http://evil.example",
            "x5u": "http://evil.example", "x5c": ["MIIB"], "kid": "k1"
        }))
        .unwrap();
        assert_eq!(header.kid.as_deref(), Some("k1"));
        assert_eq!(
            rules().check(&header, &claims(access(NOW + 60)), NOW),
            Ok(())
        );
    }

    #[test]
    fn a_header_without_alg_or_with_a_kid_that_is_not_a_string_is_no_header() {
        assert!(serde_json::from_value::<Header>(json!({"typ": "JWT"})).is_err());
        assert!(serde_json::from_value::<Header>(json!({"alg": "HS256", "kid": 1})).is_err());
    }

    #[test]
    fn exp_equal_to_now_is_expired_and_one_second_ahead_is_not() {
        assert_eq!(check(access(NOW)), Err(Refusal::Expired));
        assert_eq!(check(access(NOW + 1)), Ok(()));
    }

    #[test]
    fn a_fractional_exp_counts_in_whole_seconds() {
        assert_eq!(
            check(with(access(0), "exp", json!(NOW as f64 + 0.5))),
            Err(Refusal::Expired)
        );
        assert_eq!(
            check(with(access(0), "exp", json!(NOW as f64 + 1.5))),
            Ok(())
        );
    }

    #[test]
    fn leeway_extends_the_life_of_an_expired_token() {
        let rules = Rules {
            leeway: 30,
            ..rules()
        };
        let at = |exp| rules.check(&header(), &claims(access(exp)), NOW);
        assert_eq!(at(NOW - 29), Ok(()));
        assert_eq!(at(NOW - 30), Err(Refusal::Expired));
    }

    #[test]
    fn a_future_nbf_or_iat_is_invalid_and_leeway_forgives_it() {
        for claim in ["nbf", "iat"] {
            let token = with(access(NOW + 60), claim, json!(NOW + 10));
            assert_eq!(check(token.clone()), Err(Refusal::Invalid), "{claim}");
            let lenient = Rules {
                leeway: 10,
                ..rules()
            };
            assert_eq!(lenient.check(&header(), &claims(token), NOW), Ok(()));
        }
    }

    #[test]
    fn a_time_claim_that_is_not_a_numeric_date_is_invalid() {
        for claim in ["exp", "nbf", "iat"] {
            for value in [json!("1800000060"), json!(true), json!(null), json!(1e300)] {
                let token = with(access(NOW + 60), claim, value.clone());
                assert_eq!(check(token), Err(Refusal::Invalid), "{claim}: {value}");
            }
        }
    }

    #[test]
    fn an_expired_token_is_expired_before_its_other_claims_are_looked_at() {
        let token = with(access(NOW - 1), "jti", json!(42));
        assert_eq!(check(token), Err(Refusal::Expired));
    }

    #[test]
    fn a_sub_jti_or_family_that_is_not_a_string_is_invalid() {
        for claim in ["sub", "jti", "family_id"] {
            let token = with(access(NOW + 60), claim, json!(7));
            assert_eq!(check(token), Err(Refusal::Invalid), "{claim}");
        }
        assert_eq!(check(with(access(NOW + 60), "sub", json!("7"))), Ok(()));
    }

    #[test]
    fn a_configured_issuer_must_be_carried() {
        let rules = Rules {
            issuer: Some("https://issuer.example".into()),
            ..rules()
        };
        let at = |payload| rules.check(&header(), &claims(payload), NOW);
        let token = access(NOW + 60);
        assert_eq!(at(token.clone()), Err(Refusal::Invalid));
        assert_eq!(
            at(with(token.clone(), "iss", json!("https://evil.example"))),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            at(with(token.clone(), "iss", json!(1))),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            at(with(token, "iss", json!("https://issuer.example"))),
            Ok(())
        );
    }

    #[test]
    fn a_configured_audience_must_be_listed() {
        let rules = Rules {
            audience: Some("students".into()),
            ..rules()
        };
        let at = |aud: Option<Value>| {
            let mut token = access(NOW + 60);
            if let Some(aud) = aud {
                token["aud"] = aud;
            }
            rules.check(&header(), &claims(token), NOW)
        };
        assert_eq!(at(None), Err(Refusal::Invalid));
        assert_eq!(at(Some(json!("teachers"))), Err(Refusal::Invalid));
        assert_eq!(at(Some(json!(["teachers", 1]))), Err(Refusal::Invalid));
        assert_eq!(at(Some(json!("students"))), Ok(()));
        assert_eq!(at(Some(json!(["teachers", "students"]))), Ok(()));
    }

    #[test]
    fn without_a_configured_issuer_or_audience_neither_is_looked_at() {
        let token = with(
            with(access(NOW + 60), "iss", json!(1)),
            "aud",
            json!({"a": 1}),
        );
        assert_eq!(check(token), Ok(()));
    }

    #[test]
    fn missing_claims_are_named_in_simplejwts_order() {
        let without = |claim: &str| {
            let mut token = access(NOW + 60);
            token.as_object_mut().unwrap().remove(claim);
            claims(token).verify(Some(TokenType::Access))
        };
        assert_eq!(without("exp"), Err(Refusal::NoExp));
        assert_eq!(without("jti"), Err(Refusal::NoId));
        assert_eq!(without("token_type"), Err(Refusal::NoType));
    }

    #[test]
    fn a_refresh_token_is_not_an_access_token_nor_the_reverse() {
        let refresh = claims(with(access(NOW + 60), "token_type", json!("refresh")));
        let access = claims(access(NOW + 60));
        assert_eq!(
            refresh.verify(Some(TokenType::Access)),
            Err(Refusal::WrongType)
        );
        assert_eq!(
            access.verify(Some(TokenType::Refresh)),
            Err(Refusal::WrongType)
        );
        assert_eq!(refresh.verify(None), Ok(()));
        assert_eq!(access.verify(None), Ok(()));
    }

    #[test]
    fn an_unknown_token_type_is_the_wrong_type_but_any_type_will_do_for_verify() {
        let other = claims(with(access(NOW + 60), "token_type", json!("id")));
        assert_eq!(
            other.verify(Some(TokenType::Access)),
            Err(Refusal::WrongType)
        );
        assert_eq!(other.verify(None), Ok(()));
    }

    #[test]
    fn every_violation_is_listed_for_the_inspector() {
        let token = json!({"token_type": "refresh", "exp": NOW - 122, "nbf": NOW + 5});
        let header: Header = serde_json::from_value(json!({"alg": "none", "crit": []})).unwrap();
        let claims = claims(token);
        assert_eq!(
            rules().violations(&header, &claims, NOW),
            [
                Violation::Unsigned,
                Violation::Critical,
                Violation::NotYetValid,
                Violation::Expired(122)
            ]
        );
        assert_eq!(
            claims.verify_violations(Some(TokenType::Access)),
            [Violation::NoId, Violation::WrongType]
        );
    }
}
