//! Every error the notes service answers with, in the auth API's shapes (Django REST
//! Framework's), mapped in one place. Causes are logged, never sent.

use std::collections::BTreeMap;

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use claims::{ErrorBody, Refusal, TokenMessage, TokenType};

/// An error answer of the notes service.
#[derive(Debug, thiserror::Error)]
pub enum NotesError {
    /// 401 `{"detail": "Authentication credentials were not provided."}`.
    #[error("{}", claims::NOT_AUTHENTICATED)]
    NotAuthenticated,
    /// 401, code `bad_authorization_header`: `Bearer` with no token, or two.
    #[error("Authorization header must contain two space-delimited values")]
    BadAuthorizationHeader,
    /// 401, code `token_not_valid`, with why the access token was refused.
    #[error("{}", claims::NOT_VALID_FOR_ANY_TOKEN_TYPE)]
    TokenRefused(Refusal),
    /// 401, code `token_not_valid`: the token names no user.
    #[error("{}", Refusal::NoUserId)]
    NoUserIdentification,
    /// 400 with field errors.
    #[error("invalid input")]
    Invalid(BTreeMap<String, Vec<String>>),
    /// 400 `{"detail": "JSON parse error - ..."}`.
    #[error("JSON parse error - {0}")]
    JsonParse(String),
    /// 415.
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    /// 413.
    #[error("Request body is too large. The limit is {0} bytes.")]
    PayloadTooLarge(usize),
    /// 404.
    #[error("Not found.")]
    NotFound,
    /// 405.
    #[error("Method \"{method}\" not allowed.")]
    MethodNotAllowed {
        /// The method used.
        method: Method,
        /// What the path answers, for `Allow`.
        allowed: &'static str,
    },
    /// 503: the database, or the auth server's keys (with none held), cannot be had. The
    /// cause goes to the log.
    #[error("Service temporarily unavailable.")]
    Unavailable(String),
}

impl NotesError {
    fn body(&self) -> ErrorBody {
        let token_not_valid = Some(Refusal::Invalid.code().to_owned());
        match self {
            Self::Invalid(fields) => ErrorBody {
                fields: fields.clone(),
                ..ErrorBody::default()
            },
            Self::TokenRefused(refusal) => ErrorBody {
                detail: Some(self.to_string()),
                code: token_not_valid,
                messages: Some(vec![TokenMessage {
                    token_class: TokenType::Access.token_class().to_owned(),
                    token_type: TokenType::Access.as_str().to_owned(),
                    message: refusal.message().to_owned(),
                }]),
                ..ErrorBody::default()
            },
            Self::NoUserIdentification => ErrorBody {
                detail: Some(self.to_string()),
                code: token_not_valid,
                ..ErrorBody::default()
            },
            Self::BadAuthorizationHeader => ErrorBody {
                detail: Some(self.to_string()),
                code: Some("bad_authorization_header".to_owned()),
                ..ErrorBody::default()
            },
            other => ErrorBody {
                detail: Some(other.to_string()),
                ..ErrorBody::default()
            },
        }
    }
}

impl ResponseError for NotesError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotAuthenticated
            | Self::BadAuthorizationHeader
            | Self::TokenRefused(_)
            | Self::NoUserIdentification => StatusCode::UNAUTHORIZED,
            Self::Invalid(_) | Self::JsonParse(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::NotAuthenticated
            | Self::BadAuthorizationHeader
            | Self::TokenRefused(_)
            | Self::NoUserIdentification => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"api\""));
            }
            Self::MethodNotAllowed { allowed, .. } => {
                response.insert_header((header::ALLOW, *allowed));
            }
            Self::Unavailable(cause) => {
                tracing::warn!(%cause, "answering 503");
                response.insert_header((header::RETRY_AFTER, "2"));
            }
            _ => {}
        }
        response.json(self.body())
    }
}
