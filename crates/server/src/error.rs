//! Every error the API answers with, mapped in one place to Django REST Framework's JSON shapes
//! and status codes. Internal details are logged, never sent.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use claims::{TokenMessage, TokenType};
use serde_json::{Map, Value, json};

use crate::auth::tokens::TokenError;
use crate::db::DbError;

/// Field name to messages, in the order the fields were checked.
pub type FieldErrors = Vec<(String, Vec<String>)>;

/// An error answer of the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `{"field": ["..."]}`: the body's fields failed validation.
    #[error("invalid fields")]
    Validation(FieldErrors),
    /// 400 `{"detail": "JSON parse error - ..."}`.
    #[error("JSON parse error - {0}")]
    JsonParse(String),
    /// 401 `{"detail": "Authentication credentials were not provided."}`.
    #[error("Authentication credentials were not provided.")]
    NotAuthenticated,
    /// 401, code `bad_authorization_header`: `Bearer` with no token or with two.
    #[error("Authorization header must contain two space-delimited values")]
    BadAuthorizationHeader,
    /// 401 from a protected endpoint: the access token was refused.
    #[error("Given token not valid for any token type")]
    AccessTokenRefused(TokenError),
    /// 401, code `token_not_valid`, from the token endpoints.
    #[error("{0}")]
    TokenRefused(TokenError),
    /// 401, code `token_not_valid`: the token names no user.
    #[error("Token contained no recognizable user identification")]
    NoUserIdentification,
    /// 401, code `user_not_found`.
    #[error("User not found")]
    UserNotFound,
    /// 401, code `user_inactive`.
    #[error("User is inactive")]
    UserInactive,
    /// 401, code `password_changed` (with `JWT_CHECK_REVOKE_TOKEN`).
    #[error("The user's password has been changed.")]
    PasswordChanged,
    /// 401 from `/api/token/`: wrong password, unknown or inactive user alike.
    #[error("No active account found with the given credentials")]
    NoActiveAccount,
    /// 401 from `/api/token/refresh/`: the token's user is gone or inactive.
    #[error("No active account found for the given token.")]
    NoActiveAccountForToken,
    /// 404 `{"detail": "Not found."}`.
    #[error("Not found.")]
    NotFound,
    /// 405 `{"detail": "Method \"GET\" not allowed."}`.
    #[error("Method \"{method}\" not allowed.")]
    MethodNotAllowed {
        /// The method used.
        method: Method,
        /// The methods the path answers, for the `Allow` header.
        allowed: &'static str,
    },
    /// 413: the body is larger than the API reads.
    #[error("Request body is too large. The limit is {limit} bytes.")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415 `{"detail": "Unsupported media type \"text/plain\" in request."}`.
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    /// 503: the database did not answer in time.
    #[error("Service temporarily unavailable.")]
    ServiceUnavailable,
    /// 500: a bug. Logged with its cause; the client sees DRF's generic message.
    #[error("A server error occurred.")]
    Internal(String),
}

impl ApiError {
    /// A 400 for one field.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![(name.to_owned(), vec![message.into()])])
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            Self::BadAuthorizationHeader => Some("bad_authorization_header"),
            Self::AccessTokenRefused(_) | Self::TokenRefused(_) | Self::NoUserIdentification => {
                Some("token_not_valid")
            }
            Self::UserNotFound => Some("user_not_found"),
            Self::UserInactive => Some("user_inactive"),
            Self::PasswordChanged => Some("password_changed"),
            _ => None,
        }
    }

    fn body(&self) -> Value {
        match self {
            Self::Validation(fields) => {
                let map: Map<String, Value> = fields
                    .iter()
                    .map(|(field, messages)| (field.clone(), json!(messages)))
                    .collect();
                Value::Object(map)
            }
            Self::AccessTokenRefused(reason) => json!({
                "detail": self.to_string(),
                "code": "token_not_valid",
                "messages": [TokenMessage {
                    token_class: TokenType::Access.token_class().to_owned(),
                    token_type: TokenType::Access.as_str().to_owned(),
                    message: reason.to_string(),
                }],
            }),
            _ => match self.code() {
                Some(code) => json!({"detail": self.to_string(), "code": code}),
                None => json!({"detail": self.to_string()}),
            },
        }
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                Self::ServiceUnavailable
            }
            other => {
                // A query that fails for another reason means the database is in a state the
                // code does not expect (or a connection died mid-query): retrying later is the
                // client's best move, so 503 rather than 500.
                tracing::error!(error = %other, "database error");
                Self::ServiceUnavailable
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::JsonParse(_) => StatusCode::BAD_REQUEST,
            Self::NotAuthenticated
            | Self::BadAuthorizationHeader
            | Self::AccessTokenRefused(_)
            | Self::TokenRefused(_)
            | Self::NoUserIdentification
            | Self::UserNotFound
            | Self::UserInactive
            | Self::PasswordChanged
            | Self::NoActiveAccount
            | Self::NoActiveAccountForToken => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(%cause, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Self::MethodNotAllowed { allowed, .. } = self {
            response.insert_header((header::ALLOW, *allowed));
        }
        // The WWW-Authenticate header of 401s is added by `startup::www_authenticate`, which
        // knows the configured header type.
        response.json(self.body())
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    async fn rendered(error: ApiError) -> (u16, Value) {
        let response = error.error_response();
        let status = response.status().as_u16();
        let bytes = to_bytes(response.into_body()).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[actix_web::test]
    async fn field_errors_keep_their_order() {
        let error = ApiError::Validation(vec![
            ("username".into(), vec!["This field is required.".into()]),
            ("password".into(), vec!["This field is required.".into()]),
        ]);
        let response = error.error_response();
        let bytes = to_bytes(response.into_body()).await.unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"username":["This field is required."],"password":["This field is required."]}"#
        );
    }

    #[actix_web::test]
    async fn a_refused_access_token_lists_the_reason_per_token_class() {
        assert_eq!(
            rendered(ApiError::AccessTokenRefused(TokenError::Expired)).await,
            (
                401,
                json!({
                    "detail": "Given token not valid for any token type",
                    "code": "token_not_valid",
                    "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is expired"}]
                })
            )
        );
    }

    #[actix_web::test]
    async fn database_failures_are_a_503_without_their_cause() {
        let error = ApiError::from(DbError::Unavailable("connection refused".into()));
        assert_eq!(
            rendered(error).await,
            (503, json!({"detail": "Service temporarily unavailable."}))
        );
    }

    #[actix_web::test]
    async fn internal_errors_hide_their_cause() {
        assert_eq!(
            rendered(ApiError::Internal("secret detail".into())).await,
            (500, json!({"detail": "A server error occurred."}))
        );
    }
}
