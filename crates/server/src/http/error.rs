//! Every error the API answers with, mapped in one place to Django REST Framework's JSON shapes
//! and status codes. Internal details are logged, never sent.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use claims::{Refusal, TokenMessage, TokenType};
use serde_json::{Map, Value, json};

use crate::services::ServiceError;

/// An error answer of the API: a service's refusal, or a request the HTTP layer could not take.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// What a service refused (tokens, credentials, fields) or could not do (database down).
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// 400 `{"detail": "JSON parse error - ..."}`.
    #[error("JSON parse error - {0}")]
    JsonParse(String),
    /// 401 `{"detail": "Authentication credentials were not provided."}`.
    #[error("{}", claims::NOT_AUTHENTICATED)]
    NotAuthenticated,
    /// 401, code `bad_authorization_header`: `Bearer` with no token or with two.
    #[error("Authorization header must contain two space-delimited values")]
    BadAuthorizationHeader,
    /// 403 `{"detail": "..."}`: a session request another site may have made (CSRF).
    #[error("{0}")]
    Forbidden(String),
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
    /// 406: the `Accept` header admits no media type the API renders (JSON).
    #[error("Could not satisfy the request Accept header.")]
    NotAcceptable,
    /// 413: the body is larger than the API reads.
    #[error("Request body is too large. The limit is {limit} bytes.")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415 `{"detail": "Unsupported media type \"text/plain\" in request."}`.
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    /// 503: the notes service, which [`crate::routes::notes`] forwards to in development, did
    /// not answer (the cause is logged).
    #[error("Service temporarily unavailable.")]
    NotesUnavailable(String),
    /// 431: a request header longer than the app server reads (gunicorn's limit).
    #[error("Request header fields too large.")]
    HeaderFieldsTooLarge,
}

impl ApiError {
    fn code(&self) -> Option<&'static str> {
        match self {
            Self::BadAuthorizationHeader => Some("bad_authorization_header"),
            Self::Service(service) => match service {
                ServiceError::TokenRefused(_)
                | ServiceError::AccessTokenRefused(_)
                | ServiceError::NoUserIdentification => Some(Refusal::Invalid.code()),
                ServiceError::UserNotFound => Some(Refusal::UserNotFound.code()),
                ServiceError::UserInactive => Some(Refusal::UserInactive.code()),
                ServiceError::PasswordChanged => Some(Refusal::PasswordChanged.code()),
                _ => None,
            },
            _ => None,
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Service(ServiceError::Unavailable(_)) => {
                "Service temporarily unavailable.".to_owned()
            }
            Self::Service(ServiceError::Internal(_)) => "A server error occurred.".to_owned(),
            other => other.to_string(),
        }
    }

    fn body(&self) -> Value {
        match self {
            Self::Service(ServiceError::Invalid(fields)) => {
                let map: Map<String, Value> = fields
                    .iter()
                    .map(|(field, messages)| (field.clone(), json!(messages)))
                    .collect();
                Value::Object(map)
            }
            Self::Service(ServiceError::AccessTokenRefused(reason)) => json!({
                "detail": self.detail(),
                "code": "token_not_valid",
                "messages": [TokenMessage {
                    token_class: TokenType::Access.token_class().to_owned(),
                    token_type: TokenType::Access.as_str().to_owned(),
                    message: reason.to_string(),
                }],
            }),
            _ => match self.code() {
                Some(code) => json!({"detail": self.detail(), "code": code}),
                None => json!({"detail": self.detail()}),
            },
        }
    }

    /// Logs what a client must not see: the cause of a 500 and of a 503.
    fn log(&self) {
        match self {
            Self::Service(ServiceError::Internal(cause)) => {
                tracing::error!(cause = %ErrorChain(cause.as_ref()), "internal error");
            }
            Self::Service(ServiceError::Unavailable(cause)) => {
                tracing::warn!(cause = %ErrorChain(cause), "database unavailable");
            }
            Self::NotesUnavailable(cause) => {
                tracing::warn!(%cause, "the notes service did not answer");
            }
            _ => {}
        }
    }
}

/// An error and its sources, one after the other.
struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Service(service) => match service {
                ServiceError::Invalid(_) => StatusCode::BAD_REQUEST,
                ServiceError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                ServiceError::TokenRefused(_)
                | ServiceError::AccessTokenRefused(_)
                | ServiceError::NoUserIdentification
                | ServiceError::UserNotFound
                | ServiceError::UserInactive
                | ServiceError::PasswordChanged
                | ServiceError::NoActiveAccount
                | ServiceError::NoActiveAccountForToken
                | ServiceError::PasswordChangedSinceLogin => StatusCode::UNAUTHORIZED,
            },
            Self::JsonParse(_) => StatusCode::BAD_REQUEST,
            Self::NotAuthenticated | Self::BadAuthorizationHeader => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::HeaderFieldsTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::NotesUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut response = HttpResponse::build(self.status_code());
        if let Self::MethodNotAllowed { allowed, .. } = self {
            response.insert_header((header::ALLOW, *allowed));
        }
        // The WWW-Authenticate header of 401s is added by `startup`, which knows the configured
        // header type.
        response.json(self.body())
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;
    use crate::db::DbError;
    use claims::Refusal;

    async fn rendered(error: ApiError) -> (u16, Value) {
        let response = error.error_response();
        let status = response.status().as_u16();
        let bytes = to_bytes(response.into_body()).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[actix_web::test]
    async fn field_errors_keep_their_order() {
        let error = ApiError::from(ServiceError::Invalid(vec![
            ("username".into(), vec!["This field is required.".into()]),
            ("password".into(), vec!["This field is required.".into()]),
        ]));
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
            rendered(ServiceError::AccessTokenRefused(Refusal::Expired).into()).await,
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
        let error = ApiError::from(ServiceError::from(DbError::Unavailable(
            "connection refused".into(),
        )));
        assert_eq!(
            rendered(error).await,
            (503, json!({"detail": "Service temporarily unavailable."}))
        );
    }

    #[actix_web::test]
    async fn internal_errors_hide_their_cause() {
        assert_eq!(
            rendered(ServiceError::internal(std::io::Error::other("secret detail")).into()).await,
            (500, json!({"detail": "A server error occurred."}))
        );
    }

    #[actix_web::test]
    async fn a_constraint_violation_is_a_bug_not_an_outage() {
        let error = ApiError::from(ServiceError::from(DbError::UniqueViolation(
            "outstanding_tokens.jti".into(),
        )));
        assert_eq!(
            rendered(error).await,
            (500, json!({"detail": "A server error occurred."}))
        );
    }

    #[test]
    fn an_error_chain_shows_every_cause() {
        let io = std::io::Error::other("connection reset");
        let outer = ServiceError::internal(io);
        let ServiceError::Internal(cause) = &outer else {
            unreachable!()
        };
        assert_eq!(ErrorChain(cause.as_ref()).to_string(), "connection reset");
        let unavailable = DbError::Unavailable("timed out".into());
        assert_eq!(
            ErrorChain(&unavailable).to_string(),
            "database unavailable: timed out"
        );
    }
}
