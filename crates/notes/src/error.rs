//! Every error the notes service answers with: the auth API's answers (DRF's shapes, rendered
//! by `apikit`, as the auth server renders its own), and the 503 of a service whose database or
//! keys cannot be had. Causes are logged, never sent.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use apikit::HttpError;

/// An error answer of the notes service.
#[derive(Debug, thiserror::Error)]
pub enum NotesError {
    /// A request refused, in DRF's shape.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// 503: the database, or the auth server's keys (with none held), cannot be had. The
    /// cause goes to the log.
    #[error("Service temporarily unavailable.")]
    Unavailable(String),
}

impl ResponseError for NotesError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Http(error) => error.status_code(),
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Http(error) => error.error_response(),
            Self::Unavailable(cause) => {
                tracing::warn!(%cause, "answering 503");
                let mut response = HttpError::Unavailable.error_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
                response
            }
        }
    }
}
