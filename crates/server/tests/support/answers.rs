//! What the API answers, asserted and taken apart: shared by the API tests, the end-to-end
//! tests and the notes service's tests, which all speak to servers with the same (DRF) shapes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Response;
use serde_json::{Value, json};

/// The challenge every 401 carries.
pub const CHALLENGE: &str = "Bearer realm=\"api\"";

/// `{"detail": message, "code": "token_not_valid"}`: simplejwt's `InvalidToken` body.
pub fn token_not_valid(message: &str) -> Value {
    json!({"detail": message, "code": "token_not_valid"})
}

/// Asserts the status and the exact JSON body of a response, and that every 401 carries the
/// `WWW-Authenticate` challenge.
pub async fn assert_json(response: Response, status: u16, body: Value) {
    let actual_status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("WWW-Authenticate")
        .map(|v| v.to_str().expect("ASCII").to_owned());
    let content_type = response
        .headers()
        .get("Content-Type")
        .map(|v| v.to_str().expect("ASCII").to_owned());
    let text = response.text().await.expect("a body");
    assert_eq!(actual_status, status, "status; body was {text}");
    assert_eq!(content_type.as_deref(), Some("application/json"), "{text}");
    let actual: Value = serde_json::from_str(&text).expect("the body is JSON");
    assert_eq!(actual, body);
    if status == 401 {
        assert_eq!(
            challenge.as_deref(),
            Some(CHALLENGE),
            "a 401 needs a challenge"
        );
    }
}

/// The JSON body of a successful response with the given status.
pub async fn json_body(response: Response, status: u16) -> Value {
    let actual_status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    assert_eq!(actual_status, status, "status; body was {text}");
    serde_json::from_str(&text).expect("the body is JSON")
}

/// The decoded payload of a JWT (without checking it).
pub fn payload_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    serde_json::from_slice(&bytes).expect("a JSON payload")
}

/// The decoded header of a JWT.
pub fn header_of(token: &str) -> Value {
    let header = token.split('.').next().expect("a JWT has three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url"))
        .expect("a JSON header")
}

/// simplejwt's 401 for an access token that failed validation on a protected endpoint.
pub fn access_token_refused(message: &str) -> Value {
    json!({
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}],
    })
}
