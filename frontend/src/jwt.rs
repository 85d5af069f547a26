//! Taking a JWT apart for the inspector, and saying what can be seen without the key.
//!
//! Decoding needs no key: the header and payload are only base64url-encoded JSON. Checking the
//! signature needs the key, so that is the server's job (`POST /api/token/verify/`); but much
//! of why a server would refuse a token shows before asking it ([`findings`]).
//!
//! Taking a token apart and checking it are the token contract's (`claims::compact`,
//! `claims::check`): the same functions the server runs, so what this page sees is what the
//! server would say, short of the signature.
//!
//! Everything here is plain functions of their input (the time included), so it is tested
//! natively, without a browser.

use claims::compact::{self, Malformed};
use claims::{Claims, Header, Registered, Rules, TokenType, Violation};
use serde_json::{Map, Value};

/// A token split into its three parts, with header and payload decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedToken {
    /// The three base64url parts, as written in the token.
    pub parts: [String; 3],
    /// The decoded header.
    pub header: Map<String, Value>,
    /// The decoded payload: the claims.
    pub payload: Map<String, Value>,
}

/// Why text is not a JWT at all, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAJwt {
    /// A JWT has exactly three parts.
    Parts(usize),
    /// A part holds characters base64url does not use (or `=` padding, which JWTs omit).
    NotBase64url(&'static str),
    /// A part decodes, but not to a JSON object.
    NotJson(&'static str),
}

impl NotAJwt {
    /// The sentence the inspector shows.
    pub fn explain(&self) -> String {
        match self {
            Self::Parts(count) => format!(
                "This is not a JWT: a JWT is three base64url parts joined by dots \
                 (header.payload.signature), and this has {count}."
            ),
            Self::NotBase64url(part) => format!(
                "This is not a JWT: its {part} is not base64url (only letters, digits, - and _, \
                 with no = padding)."
            ),
            Self::NotJson(part) => {
                format!("This is not a JWT: its {part} decodes, but not to a JSON object.")
            }
        }
    }
}

/// Splits and decodes `token`, as the server takes it apart.
pub fn decode(token: &str) -> Result<DecodedToken, NotAJwt> {
    let compact = compact::split(token).map_err(|malformed| match malformed {
        Malformed::Parts(count) => NotAJwt::Parts(count),
        Malformed::NotBase64url(part) => NotAJwt::NotBase64url(part.name()),
    })?;
    let (header, rest) = compact.signing_input.split_once('.').unwrap_or_default();
    Ok(DecodedToken {
        header: json_object(&compact.header, "header")?,
        payload: json_object(&compact.payload, "payload")?,
        parts: [
            header.to_owned(),
            rest.to_owned(),
            compact.signature.to_owned(),
        ],
    })
}

fn json_object(bytes: &[u8], name: &'static str) -> Result<Map<String, Value>, NotAJwt> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(NotAJwt::NotJson(name)),
    }
}

/// `claims` encoded as a payload part.
pub fn encode_part(claims: &Map<String, Value>) -> String {
    compact::encode(&serde_json::to_vec(claims).unwrap_or_default())
}

/// The token with one claim changed and the signature kept: what a forger would try. The
/// server must refuse it.
pub fn tampered(token: &DecodedToken, claim: &str, value: Value) -> String {
    let mut payload = token.payload.clone();
    payload.insert(claim.to_owned(), value);
    format!(
        "{}.{}.{}",
        token.parts[0],
        encode_part(&payload),
        token.parts[2]
    )
}

/// The token's claims, read as the contract reads them.
fn claims_of(token: &str) -> Option<Claims<Value>> {
    serde_json::from_slice(&compact::split(token).ok()?.payload).ok()
}

/// The token's `exp` in seconds since the epoch, when it has one.
pub fn expiry(token: &str) -> Option<i64> {
    claims_of(token)?.exp
}

/// The token's `iat` in seconds since the epoch, when it has one.
pub fn issued_at(token: &str) -> Option<i64> {
    claims_of(token)?.iat
}

/// Something the inspector sees in a token before asking the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// `alg: none`: an unsigned token.
    AlgNone,
    /// Signed with another algorithm than the server's.
    OtherAlgorithm {
        /// The token's `alg`.
        token: String,
        /// The server's.
        server: String,
    },
    /// The header has no `alg`, or a `kid` that is not a string.
    BadHeader,
    /// A claim that is not of its type (an `exp` that is a string, a numeric `jti`...).
    Malformed(&'static str),
    /// `exp` has passed by this browser's clock, so many seconds ago.
    Expired(i64),
    /// No `exp`: such a token would never expire, and the server refuses it.
    NoExpiry,
    /// No `jti`: the server refuses it (simplejwt requires one).
    NoId,
    /// `nbf` or `iat` lies in the future.
    NotYetValid,
    /// A refresh token, not one for protected endpoints.
    RefreshToken,
    /// No `token_type`, so not a token of this server.
    NoTokenType,
    /// A `token_type` that is neither "access" nor "refresh".
    UnknownTokenType,
    /// A `crit` header: extensions the server would have to understand; it understands none.
    Critical,
}

impl Finding {
    /// The sentence the inspector shows.
    pub fn explain(&self) -> String {
        match self {
            Self::AlgNone => "alg is \"none\": an unsigned token. This server never accepts one, \
                              whatever its letter case (RFC 8725 §3.1)."
                .to_owned(),
            Self::OtherAlgorithm { token, server } => format!(
                "Signed with {token}, but this server signs and checks with {server} only: it \
                 takes the algorithm from its settings, never from the token."
            ),
            Self::BadHeader => "The header has no alg, or a kid that is not a string: the \
                                server refuses it (\"Token is invalid\")."
                .to_owned(),
            Self::Malformed(claim) => format!(
                "Its {claim} claim is not of its type (a NumericDate is a number of seconds, \
                 jti, sub and family_id are strings): the server refuses it (\"Token is \
                 invalid\")."
            ),
            Self::Expired(ago) => format!(
                "Expired {} ago by this browser's clock: the server refuses it (\"Token is \
                 expired\").",
                duration(*ago)
            ),
            Self::NoExpiry => "No exp claim: this token would never expire. The server \
                               refuses tokens without one."
                .to_owned(),
            Self::NoId => "No jti claim: the server refuses it (\"Token has no id\"); revocation \
                           records tokens by their jti."
                .to_owned(),
            Self::NotYetValid => "Its nbf or iat lies in the future: the server refuses it \
                                  until then."
                .to_owned(),
            Self::RefreshToken => "A refresh token: valid only for refreshing \
                                   (/api/token/refresh/). /hello/ needs an access token and \
                                   refuses this one (\"Token has wrong type\")."
                .to_owned(),
            Self::NoTokenType => "No token_type claim: not a token of this server (simplejwt \
                                  writes \"access\" or \"refresh\")."
                .to_owned(),
            Self::UnknownTokenType => "Its token_type is neither \"access\" nor \"refresh\": \
                                       the server refuses it (\"Token has wrong type\")."
                .to_owned(),
            Self::Critical => "A crit header: it lists extensions the server must understand; \
                               this one understands none, so it refuses the token."
                .to_owned(),
        }
    }
}

/// What can be seen in `token` at `now` (seconds), given the algorithm the server uses (when
/// known): the token contract's own checks, as if the signature were good, for an access token.
pub fn findings(token: &DecodedToken, now: i64, server_alg: Option<&str>) -> Vec<Finding> {
    let mut found = Vec::new();
    let header = serde_json::from_value::<Header>(Value::Object(token.header.clone()));
    let header = header.unwrap_or_else(|_| {
        found.push(Finding::BadHeader);
        Header {
            alg: server_alg.unwrap_or_default().to_owned(),
            kid: None,
            crit: token.header.contains_key("crit"),
        }
    });
    let claims: Claims<Value> =
        serde_json::from_value(Value::Object(token.payload.clone())).unwrap_or_default();
    let rules = Rules {
        algorithm: server_alg.unwrap_or(&header.alg).to_owned(),
        leeway: 0,
        issuer: None,
        audience: None,
    };
    let violations = rules
        .violations(&header, &claims, now)
        .into_iter()
        .chain(claims.verify_violations(Some(TokenType::Access)));
    for violation in violations {
        let finding = match violation {
            Violation::Unsigned => Finding::AlgNone,
            Violation::OtherAlgorithm { token, expected } => Finding::OtherAlgorithm {
                token,
                server: expected,
            },
            Violation::Critical => Finding::Critical,
            Violation::Malformed(Registered::TokenType) => Finding::UnknownTokenType,
            Violation::Malformed(claim) => Finding::Malformed(claim.name()),
            Violation::IssuedInFuture | Violation::NotYetValid => Finding::NotYetValid,
            Violation::Expired(ago) => Finding::Expired(ago),
            Violation::NoExp => Finding::NoExpiry,
            Violation::NoId => Finding::NoId,
            Violation::NoType => Finding::NoTokenType,
            Violation::WrongType if claims.token_type == Some(TokenType::Refresh) => {
                Finding::RefreshToken
            }
            Violation::WrongType => Finding::UnknownTokenType,
            // The page does not know the server's issuer or audience.
            Violation::WrongIssuer | Violation::WrongAudience => continue,
        };
        if !found.contains(&finding) {
            found.push(finding);
        }
    }
    found
}

/// What the signature of a token signed with `alg` is, and who can make and check it.
pub fn explain_signature(alg: &str) -> String {
    let (what, key) = match alg {
        "HS256" | "HS384" | "HS512" => (
            format!("an HMAC-SHA{} of the first two parts", &alg[2..]),
            "under the server's secret key: only a holder of that one key can make or check it.",
        ),
        "ES256" | "ES384" => (
            format!(
                "an ECDSA signature (P-{}, SHA-{}) of the first two parts",
                &alg[2..],
                &alg[2..]
            ),
            "made with the server's private key; anyone can check it with the public key at \
             /.well-known/jwks.json.",
        ),
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => (
            format!(
                "an RSA signature (SHA-{}) of the first two parts",
                &alg[2..]
            ),
            "made with the server's private key; anyone can check it with the public key at \
             /.well-known/jwks.json.",
        ),
        "EdDSA" => (
            "an Ed25519 signature of the first two parts".to_owned(),
            "made with the server's private key; anyone can check it with the public key at \
             /.well-known/jwks.json.",
        ),
        none if none.eq_ignore_ascii_case("none") => {
            return "none at all: an unsigned token, which anyone can make.".to_owned();
        }
        other => (
            format!("made with {other:?}"),
            "an algorithm this server does not use, so it refuses the token.",
        ),
    };
    format!("{what}, {key}")
}

/// "3m 02s".
pub fn duration(seconds: i64) -> String {
    let seconds = seconds.abs();
    format!("{}m {:02}s", seconds / 60, seconds % 60)
}

/// One plain sentence on what a claim means.
pub fn explain(claim: &str) -> &'static str {
    match claim {
        "token_type" => {
            "Which kind of token this is: \"access\" opens protected endpoints, \"refresh\" only buys new access tokens."
        }
        "exp" => "Expiry (registered, RFC 7519): after this moment the server refuses the token.",
        "iat" => "Issued at (registered): when the server signed the token.",
        "nbf" => "Not before (registered): the server refuses the token until this moment.",
        "jti" => {
            "JWT ID (registered): the token's unique id; revocation (log out, rotation) records tokens by it."
        }
        "user_id" => {
            "The id of the user the token was issued to (a string, as simplejwt writes it)."
        }
        "family_id" => {
            "The session's token family: every token of one log in carries it, and reusing a rotated-out refresh token revokes the whole family."
        }
        "iss" => {
            "Issuer (registered): who signed the token; the server checks it when configured to (JWT_ISSUER)."
        }
        "aud" => {
            "Audience (registered): who the token is meant for; the server checks it when configured to (JWT_AUDIENCE)."
        }
        "sub" => {
            "Subject (registered): whom the token is about. This app names its user in user_id instead, as simplejwt does."
        }
        "name" => {
            "A public claim (IANA registry): the person's full name. This app does not use it."
        }
        "email" => "A public claim (IANA registry): an e-mail address. This app does not use it.",
        "admin" | "role" | "roles" | "scope" => {
            "A claim about permissions. This app grants nothing from a token's claims: its user's row decides."
        }
        "hash_password" => {
            "A fingerprint of the password hash (JWT_CHECK_REVOKE_TOKEN): changing the password revokes the token."
        }
        _ => "A private claim this app does not use.",
    }
}

/// One plain sentence on what a header field means.
pub fn explain_header(field: &str) -> &'static str {
    match field {
        "alg" => "The signing algorithm. The server uses its own configured one, never this field.",
        "typ" => "The media type: this is a JWT.",
        "kid" => "Which of the server's keys signed the token; it only ever selects among them.",
        "crit" => "Extensions the reader must understand. This server understands none.",
        "jku" | "jwk" | "x5u" | "x5c" => {
            "Names a key or where to fetch one. A server must never trust it: this one ignores it."
        }
        _ => "A header field this app does not use.",
    }
}

/// Pretty-printed JSON, two-space indented.
pub fn pretty(map: &Map<String, Value>) -> String {
    serde_json::to_string_pretty(map).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_800_000_000;

    /// The example token on jwt.io (HS256, secret "your-256-bit-secret").
    const JWT_IO: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

    fn token(header: Value, payload: Value) -> DecodedToken {
        let part = |value: &Value| compact::encode(&serde_json::to_vec(value).unwrap());
        decode(&format!("{}.{}.sig", part(&header), part(&payload))).unwrap()
    }

    fn access(exp: i64) -> Value {
        json!({"token_type": "access", "exp": exp, "iat": NOW - 10, "jti": "j", "user_id": "1"})
    }

    #[test]
    fn text_that_is_not_a_jwt_says_how() {
        assert_eq!(decode("abc"), Err(NotAJwt::Parts(1)));
        assert_eq!(decode("a.b.c.d"), Err(NotAJwt::Parts(4)));
        assert_eq!(decode("a*b.c.d"), Err(NotAJwt::NotBase64url("header")));
        assert_eq!(
            decode("eyJhIjoxfQ==.e30.x"),
            Err(NotAJwt::NotBase64url("header"))
        );
        assert_eq!(decode("WzFd.e30.c2ln"), Err(NotAJwt::NotJson("header")));
        assert!(NotAJwt::Parts(1).explain().contains("this has 1"));
    }

    #[test]
    fn the_jwt_io_example_never_expires_and_is_no_token_of_this_server() {
        let decoded = decode(JWT_IO).unwrap();
        assert_eq!(
            findings(&decoded, NOW, Some("HS256")),
            [Finding::NoExpiry, Finding::NoId, Finding::NoTokenType]
        );
    }

    #[test]
    fn the_signature_is_explained_for_the_tokens_own_algorithm() {
        assert!(explain_signature("HS256").starts_with("an HMAC-SHA256 of the first two parts"));
        assert!(explain_signature("HS512").starts_with("an HMAC-SHA512"));
        assert!(explain_signature("ES256").starts_with("an ECDSA signature (P-256, SHA-256)"));
        assert!(explain_signature("RS256").starts_with("an RSA signature (SHA-256)"));
        assert!(explain_signature("EdDSA").starts_with("an Ed25519 signature"));
        assert!(explain_signature("ES256").contains("/.well-known/jwks.json"));
        assert!(!explain_signature("HS256").contains("public key"));
        assert!(explain_signature("nOnE").starts_with("none at all"));
        assert!(explain_signature("XY1").contains("does not use"));
    }

    #[test]
    fn a_fresh_access_token_shows_nothing_wrong() {
        let decoded = token(json!({"alg": "HS256", "typ": "JWT"}), access(NOW + 60));
        assert_eq!(findings(&decoded, NOW, Some("HS256")), []);
    }

    #[test]
    fn alg_none_in_any_letter_case_is_seen() {
        for alg in ["none", "None", "NONE"] {
            let decoded = token(json!({"alg": alg}), access(NOW + 60));
            assert_eq!(findings(&decoded, NOW, Some("HS256")), [Finding::AlgNone]);
        }
    }

    #[test]
    fn another_algorithm_than_the_servers_is_seen() {
        let decoded = token(json!({"alg": "HS512"}), access(NOW + 60));
        assert_eq!(
            findings(&decoded, NOW, Some("HS256")),
            [Finding::OtherAlgorithm {
                token: "HS512".into(),
                server: "HS256".into()
            }]
        );
        assert_eq!(findings(&decoded, NOW, None), []);
    }

    #[test]
    fn an_expired_token_says_how_long_ago() {
        let decoded = token(json!({"alg": "HS256"}), access(NOW - 122));
        let found = findings(&decoded, NOW, Some("HS256"));
        assert_eq!(found, [Finding::Expired(122)]);
        assert!(found[0].explain().starts_with("Expired 2m 02s ago"));
    }

    #[test]
    fn a_refresh_token_is_only_for_refreshing() {
        let mut claims = access(NOW + 60);
        claims["token_type"] = json!("refresh");
        let decoded = token(json!({"alg": "HS256"}), claims);
        let found = findings(&decoded, NOW, Some("HS256"));
        assert_eq!(found, [Finding::RefreshToken]);
        assert!(found[0].explain().contains("/hello/ needs an access token"));
    }

    #[test]
    fn a_future_nbf_and_a_crit_header_are_seen() {
        let mut claims = access(NOW + 60);
        claims["nbf"] = json!(NOW + 30);
        let decoded = token(json!({"alg": "HS256", "crit": ["exp"]}), claims);
        assert_eq!(
            findings(&decoded, NOW, Some("HS256")),
            [Finding::Critical, Finding::NotYetValid]
        );
    }

    #[test]
    fn a_malformed_claim_is_seen_as_the_server_sees_it() {
        let mut claims = access(NOW + 60);
        claims["jti"] = json!(42);
        claims["exp"] = json!("tomorrow");
        let decoded = token(json!({"alg": "HS256"}), claims);
        assert_eq!(
            findings(&decoded, NOW, Some("HS256")),
            [Finding::Malformed("exp"), Finding::Malformed("jti")]
        );
    }

    #[test]
    fn a_tampered_token_keeps_header_and_signature_and_changes_the_claim() {
        let decoded = token(json!({"alg": "HS256"}), access(NOW + 60));
        let forged = tampered(&decoded, "user_id", json!("2"));
        let again = decode(&forged).unwrap();
        assert_eq!(again.parts[0], decoded.parts[0]);
        assert_eq!(again.parts[2], decoded.parts[2]);
        assert_eq!(again.payload["user_id"], "2");
    }

    #[test]
    fn registered_and_common_claims_are_explained() {
        for claim in ["sub", "name", "aud", "iss", "nbf", "family_id", "jti"] {
            assert_ne!(
                explain(claim),
                "A private claim this app does not use.",
                "{claim}"
            );
        }
    }
}
