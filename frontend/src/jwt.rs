//! Taking a JWT apart for the inspector, and saying what can be seen without the key.
//!
//! Decoding needs no key: the header and payload are only base64url-encoded JSON. Checking the
//! signature needs the key, so that is the server's job (`POST /api/token/verify/`); but much
//! of why a server would refuse a token shows before asking it ([`findings`]).
//!
//! Everything here is plain functions of their input (the time included), so it is tested
//! natively, without a browser.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

/// Splits and decodes `token`.
pub fn decode(token: &str) -> Result<DecodedToken, NotAJwt> {
    let pieces: Vec<&str> = token.trim().split('.').collect();
    let [header, payload, signature] = pieces.as_slice() else {
        return Err(NotAJwt::Parts(pieces.len()));
    };
    Ok(DecodedToken {
        header: json_object(header, "header")?,
        payload: json_object(payload, "payload")?,
        parts: [
            (*header).to_owned(),
            (*payload).to_owned(),
            (*signature).to_owned(),
        ],
    })
}

fn json_object(part: &str, name: &'static str) -> Result<Map<String, Value>, NotAJwt> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| NotAJwt::NotBase64url(name))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(NotAJwt::NotJson(name)),
    }
}

/// `claims` encoded as a payload part.
pub fn encode_part(claims: &Map<String, Value>) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default())
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

/// The token's `exp` in seconds since the epoch, when it has one.
pub fn expiry(token: &str) -> Option<i64> {
    decode(token).ok()?.payload.get("exp")?.as_i64()
}

/// The token's `iat` in seconds since the epoch, when it has one.
pub fn issued_at(token: &str) -> Option<i64> {
    decode(token).ok()?.payload.get("iat")?.as_i64()
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
    /// `exp` has passed by this browser's clock, so many seconds ago.
    Expired(i64),
    /// No `exp`: such a token would never expire, and the server refuses it.
    NoExpiry,
    /// `nbf` or `iat` lies in the future.
    NotYetValid,
    /// A refresh token, not one for protected endpoints.
    RefreshToken,
    /// No `token_type`, so not a token of this server.
    NoTokenType,
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
            Self::Expired(ago) => format!(
                "Expired {} ago by this browser's clock: the server refuses it (\"Token is \
                 expired\").",
                duration(*ago)
            ),
            Self::NoExpiry => "No exp claim: this token would never expire. The server \
                               refuses tokens without one."
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
            Self::Critical => "A crit header: it lists extensions the server must understand; \
                               this one understands none, so it refuses the token."
                .to_owned(),
        }
    }
}

/// What can be seen in `token` at `now` (seconds), given the algorithm the server uses (when
/// known).
pub fn findings(token: &DecodedToken, now: i64, server_alg: Option<&str>) -> Vec<Finding> {
    let mut found = Vec::new();
    let alg = token
        .header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or("");
    if alg.eq_ignore_ascii_case("none") {
        found.push(Finding::AlgNone);
    } else if let Some(server) = server_alg
        && alg != server
    {
        found.push(Finding::OtherAlgorithm {
            token: alg.to_owned(),
            server: server.to_owned(),
        });
    }
    if token.header.contains_key("crit") {
        found.push(Finding::Critical);
    }
    match token.payload.get("exp").and_then(Value::as_f64) {
        None => found.push(Finding::NoExpiry),
        Some(exp) if (exp as i64) <= now => found.push(Finding::Expired(now - exp as i64)),
        Some(_) => {}
    }
    let future = |claim| {
        token
            .payload
            .get(claim)
            .and_then(Value::as_f64)
            .is_some_and(|at| at as i64 > now)
    };
    if future("nbf") || future("iat") {
        found.push(Finding::NotYetValid);
    }
    match token.payload.get("token_type").and_then(Value::as_str) {
        Some("refresh") => found.push(Finding::RefreshToken),
        None => found.push(Finding::NoTokenType),
        Some(_) => {}
    }
    found
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
        let part = |value: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap());
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
        assert_eq!(decode("WzFd.e30.x"), Err(NotAJwt::NotJson("header")));
        assert!(NotAJwt::Parts(1).explain().contains("this has 1"));
    }

    #[test]
    fn the_jwt_io_example_never_expires_and_is_no_token_of_this_server() {
        let decoded = decode(JWT_IO).unwrap();
        assert_eq!(
            findings(&decoded, NOW, Some("HS256")),
            [Finding::NoExpiry, Finding::NoTokenType]
        );
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
