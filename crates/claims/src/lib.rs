//! The token's one contract, and the API's bodies, shared by the auth server, the notes
//! service and the frontend:
//!
//! - [`compact`]: taking a token apart (three base64url parts, no padding);
//! - [`payload`]: what it carries ([`Claims`]), typed, with the NumericDate rules of RFC 7519;
//! - [`check`]: the checks every reader runs, as pure functions ([`Rules::check`],
//!   [`Claims::verify`]);
//! - [`refusal`]: every reason a token is refused, with simplejwt's message and code
//!   ([`Refusal`]);
//! - [`session`]: why a browser session ended ([`SessionEnd`]), the session endpoints' own
//!   addition;
//! - the JSON bodies of the API, shaped as `djangorestframework-simplejwt` shapes them.
//!
//! Signatures are not checked here (each reader does that with its keys), and nothing here does
//! I/O. The crate depends on `serde` alone so that it compiles for the browser (wasm) as well as
//! for the servers; the `openapi` feature (the server's) adds the bodies' OpenAPI schemas.

pub mod check;
pub mod compact;
pub mod payload;
pub mod refusal;
pub mod session;

use std::collections::BTreeMap;

pub use check::{HMAC_ALGORITHMS, Header, KEY_PAIR_ALGORITHMS, Rules, Violation};
pub use payload::{Claims, MAX_NUMERIC_DATE, MIN_NUMERIC_DATE, Registered, UserId};
pub use refusal::{NOT_AUTHENTICATED, NOT_VALID_FOR_ANY_TOKEN_TYPE, Refusal};
pub use session::SessionEnd;

use serde::{Deserialize, Serialize};

/// Which kind of token a JWT is, written in its `token_type` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// Short-lived; sent as `Authorization: Bearer <token>` to protected endpoints.
    Access,
    /// Long-lived; only ever sent to `/api/token/refresh/` and `/api/token/blacklist/`.
    Refresh,
}

impl TokenType {
    /// The claim value, `"access"` or `"refresh"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Access => "access",
            TokenType::Refresh => "refresh",
        }
    }

    /// The class simplejwt uses for this kind of token, as named in its error messages.
    pub fn token_class(self) -> &'static str {
        match self {
            TokenType::Access => "AccessToken",
            TokenType::Refresh => "RefreshToken",
        }
    }
}

/// `POST /api/token/` and `POST /api/register/` request body. The browser sends the password
/// as a `String`; the server reads it into a secret type (`Credentials<SecretString>`) that no
/// `Debug` output or log line shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(description = "A username and a password (to log in, or to register).")
)]
pub struct Credentials<Password = String> {
    /// The account name.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub username: String,
    /// The password, in clear: send it over HTTPS only.
    #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 1))]
    pub password: Password,
}

/// `POST /api/token/` success body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPair {
    /// The refresh token.
    pub refresh: String,
    /// The access token.
    pub access: String,
}

/// `POST /api/token/refresh/` and `POST /api/token/blacklist/` request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    /// The refresh token to use (refresh) or revoke (blacklist).
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub refresh: String,
}

/// `POST /api/token/refresh/` success body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshResponse {
    /// A new access token.
    pub access: String,
    /// A new refresh token, present when the server rotates refresh tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
}

/// `POST /api/session/` and `POST /api/session/refresh/` success body: the access token, and
/// when the session's refresh token and the session itself end. The refresh token travels in
/// an HttpOnly cookie the page cannot read, so the page learns its times here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionResponse {
    /// A new access token.
    pub access: String,
    /// When the refresh token in the cookie expires (a NumericDate): the session ends then
    /// unless refreshed before.
    pub refresh_expires: i64,
    /// When the session ends however often it is refreshed (its family's lifetime; the refresh
    /// token's expiry without families).
    pub session_expires: i64,
}

/// `POST /api/password/change/` request body (the server reads the passwords as secrets, as
/// in [`Credentials`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(description = "The password now, and the one from now on.")
)]
pub struct PasswordChange<Password = String> {
    /// The password now.
    #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 1))]
    pub old_password: Password,
    /// The password from now on (Django's password rules apply).
    #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 1))]
    pub new_password: Password,
}

/// `POST /api/token/verify/` request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyRequest {
    /// Any token, access or refresh.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub token: String,
}

/// `POST /api/register/` success body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisteredUser {
    /// The new user's id.
    pub id: i32,
    /// The new user's name.
    pub username: String,
}

/// `GET /api/me/` success body: the authenticated user, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserProfile {
    /// The user's id.
    pub id: i32,
    /// The user's name.
    pub username: String,
    /// Whether the user may log in.
    pub is_active: bool,
    /// Whether the user is staff (`createuser --staff`).
    pub is_staff: bool,
    /// When the account was created, ISO 8601 in UTC.
    pub date_joined: String,
    /// When the user last obtained a token pair (with `JWT_UPDATE_LAST_LOGIN`), ISO 8601 in UTC.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_login: Option<String>,
}

/// `GET /hello/` success body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HelloResponse {
    /// Always "Hello, World!".
    pub message: String,
}

/// A note of the notes service (`GET /notes/api/notes/`, and the 201 of a `POST`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Its id.
    pub id: i64,
    /// What the user wrote.
    pub text: String,
    /// When it was written, ISO 8601 in UTC.
    pub created: String,
}

/// The body of `POST /notes/api/notes/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNote {
    /// At most [`NOTE_MAX_CHARS`] characters, not blank.
    pub text: String,
}

/// The longest note, in characters.
pub const NOTE_MAX_CHARS: usize = 1000;

/// Why one token class refused a token, an entry of the `messages` list of a 401.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenMessage {
    /// `"AccessToken"`.
    pub token_class: String,
    /// `"access"`.
    pub token_type: String,
    /// What was wrong, for example "Token is expired".
    pub message: String,
}

/// Any error body the API returns, in Django REST Framework's shapes:
/// `{"detail": ...}`, `{"detail": ..., "code": ...}`, or field errors `{"field": ["..."]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The message, for errors that are not about one field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// A machine-readable code, for example `token_not_valid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Per token class reasons, on a 401 from a protected endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<TokenMessage>>,
    /// Why the session ended, on a 401 from a session endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<SessionEnd>,
    /// Field errors: field name to messages (`non_field_errors` for the body as a whole).
    #[serde(flatten)]
    pub fields: BTreeMap<String, Vec<String>>,
}

impl ErrorBody {
    /// The one line to show a person: the detail, or the field errors joined.
    pub fn summary(&self) -> String {
        if let Some(detail) = &self.detail {
            return detail.clone();
        }
        self.fields
            .iter()
            .map(|(field, messages)| format!("{field}: {}", messages.join(" ")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_reads_field_errors_and_detail_forms() {
        let fields: ErrorBody =
            serde_json::from_str(r#"{"username":["This field is required."]}"#).unwrap();
        assert_eq!(fields.summary(), "username: This field is required.");

        let detail: ErrorBody =
            serde_json::from_str(r#"{"detail":"Token is expired","code":"token_not_valid"}"#)
                .unwrap();
        assert_eq!(detail.summary(), "Token is expired");
        assert_eq!(detail.code.as_deref(), Some("token_not_valid"));
    }
}
