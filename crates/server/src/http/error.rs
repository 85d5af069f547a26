//! Every error the API answers with, mapped in one place to Django REST Framework's JSON shapes
//! and status codes (rendered by `apikit::HttpError`, as the notes service renders its own).
//! Internal details are logged, never sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use apikit::HttpError;
use claims::{Refusal, SessionEnd};

use crate::services::ServiceError;

/// An error answer of the API: a service's refusal, or a request the HTTP layer could not take.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// What a service refused (tokens, credentials, fields) or could not do (database down).
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// A request refused before any service ran: its body, its headers, its path.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// A session endpoint's refusal of a session that ended, with why: the refusal's own answer
    /// and a machine-readable `reason` beside it.
    #[error("{refused}")]
    SessionEnded {
        /// The refusal, answered as everywhere else.
        refused: Box<ApiError>,
        /// Why the session ended.
        reason: SessionEnd,
    },
    /// 503: the notes service, which [`crate::routes::notes`] forwards to in development, did
    /// not answer (the cause is logged).
    #[error("Service temporarily unavailable.")]
    NotesUnavailable(String),
}

impl ApiError {
    /// The answer, as DRF shapes it.
    fn answer(&self) -> HttpError {
        match self {
            Self::Http(error) => error.clone(),
            Self::SessionEnded { refused, .. } => refused.answer(),
            Self::NotesUnavailable(_) => HttpError::Unavailable,
            Self::Service(service) => match service {
                ServiceError::Invalid(fields) => HttpError::Invalid(fields.clone()),
                ServiceError::TokenRefused(refusal) => HttpError::TokenRefused(*refusal),
                ServiceError::AccessTokenRefused(refusal) => HttpError::AccessRefused(*refusal),
                ServiceError::NoUserIdentification => HttpError::AccessRefused(Refusal::NoUserId),
                ServiceError::UserNotFound => HttpError::AccessRefused(Refusal::UserNotFound),
                ServiceError::UserInactive => HttpError::AccessRefused(Refusal::UserInactive),
                ServiceError::PasswordChanged => HttpError::AccessRefused(Refusal::PasswordChanged),
                ServiceError::NoActiveAccount
                | ServiceError::NoActiveAccountForToken
                | ServiceError::PasswordChangedSinceLogin => {
                    HttpError::AuthenticationFailed(service.to_string())
                }
                ServiceError::Throttled { retry_after } => {
                    HttpError::Throttled { wait: *retry_after }
                }
                ServiceError::Unavailable(_) | ServiceError::Overloaded => HttpError::Unavailable,
                ServiceError::Internal(_) => HttpError::Internal,
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
            Self::Service(ServiceError::Overloaded) => {
                tracing::warn!("the password hashing queue is full: answering 503");
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
        self.answer().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        // The WWW-Authenticate header of 401s is added by `apikit::error::www_authenticate`,
        // with the configured header type.
        let answer = self.answer();
        let Self::SessionEnded { reason, .. } = self else {
            return answer.error_response();
        };
        let mut body = answer.body();
        body["reason"] = serde_json::json!(reason);
        HttpResponse::build(answer.status_code()).json(body)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use serde_json::{Value, json};

    use super::*;
    use crate::db::DbError;

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
        let refused = std::io::Error::other("connection refused");
        let error = ApiError::from(ServiceError::from(DbError::unavailable(
            "cannot connect",
            refused,
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
        let unavailable = DbError::unavailable("no connection in time", "timed out");
        assert_eq!(
            ErrorChain(&unavailable).to_string(),
            "database unavailable: no connection in time: timed out"
        );
    }
}
