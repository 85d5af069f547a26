//! Taking a JWT apart for the inspector. Decoding needs no key: the header and payload are
//! only base64url-encoded JSON. Checking the signature needs the key, so that is the server's
//! job (`POST /api/token/verify/`).

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

/// The message shown for text that is not a JWT.
pub const NOT_A_JWT: &str = "This is not a JWT: a JWT is three base64url parts joined by dots \
     (header.payload.signature), and the first two decode to JSON objects.";

/// Splits and decodes `token`.
pub fn decode(token: &str) -> Result<DecodedToken, &'static str> {
    let pieces: Vec<&str> = token.trim().split('.').collect();
    let [header, payload, signature] = pieces.as_slice() else {
        return Err(NOT_A_JWT);
    };
    Ok(DecodedToken {
        header: json_object(header).ok_or(NOT_A_JWT)?,
        payload: json_object(payload).ok_or(NOT_A_JWT)?,
        parts: [
            (*header).to_owned(),
            (*payload).to_owned(),
            (*signature).to_owned(),
        ],
    })
}

fn json_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The token's `exp` in seconds since the epoch, when it has one.
pub fn expiry(token: &str) -> Option<i64> {
    decode(token).ok()?.payload.get("exp")?.as_i64()
}

/// The token's `iat` in seconds since the epoch, when it has one.
pub fn issued_at(token: &str) -> Option<i64> {
    decode(token).ok()?.payload.get("iat")?.as_i64()
}

/// One plain sentence on what a claim means.
pub fn explain(claim: &str) -> &'static str {
    match claim {
        "token_type" => {
            "Which kind of token this is: \"access\" opens protected endpoints, \"refresh\" only buys new access tokens."
        }
        "exp" => "Expiry: after this moment the server refuses the token.",
        "iat" => "Issued at: when the server signed the token.",
        "nbf" => "Not before: the server refuses the token until this moment.",
        "jti" => {
            "The token's unique id; the blacklist records refresh tokens by it when you log out."
        }
        "user_id" => {
            "The id of the user the token was issued to (a string, as simplejwt writes it)."
        }
        "iss" => "Issuer: who signed the token; the server checks it when configured to.",
        "aud" => "Audience: who the token is meant for; the server checks it when configured to.",
        "hash_password" => "A hash of the password hash: changing the password revokes the token.",
        _ => "A claim this app does not use.",
    }
}

/// One plain sentence on what a header field means.
pub fn explain_header(field: &str) -> &'static str {
    match field {
        "alg" => "The signing algorithm. The server uses its own configured one, never this field.",
        "typ" => "The media type: this is a JWT.",
        "kid" => "Which key signed the token.",
        _ => "A header field this app does not use.",
    }
}

/// Pretty-printed JSON, two-space indented.
pub fn pretty(map: &Map<String, Value>) -> String {
    serde_json::to_string_pretty(map).unwrap_or_default()
}
