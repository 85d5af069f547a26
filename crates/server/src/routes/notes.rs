//! `/notes/api/...` and `/notes/healthz`, in development only: forwarded to the notes service
//! at `NOTES_URL`, so the frontend reaches both services on one origin, as it does behind nginx
//! in production (where these requests never reach this server). Without `NOTES_URL` they are
//! 404s like any other unknown API path.
//!
//! This is not a general proxy: one upstream, a body of at most [`MAX_BODY_BYTES`], and only
//! the headers the notes API reads or answers with.

use actix_web::http::header::{self, HeaderName};
use actix_web::{HttpRequest, HttpResponse, web};
use apikit::HttpError;
use apikit::input::{MAX_BODY_BYTES, read_limited};

use crate::http::error::ApiError;

/// The request headers passed on.
const FORWARDED: [HeaderName; 4] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::ACCEPT,
    HeaderName::from_static("x-request-id"),
];

/// The answer headers passed back.
const RETURNED: [HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::WWW_AUTHENTICATE,
    header::ALLOW,
    header::RETRY_AFTER,
    header::CACHE_CONTROL,
];

/// Where the notes service is, and a client for it (one per worker thread: a pooled
/// connection belongs to the thread that opened it).
pub struct NotesUpstream {
    base: String,
    client: reqwest::Client,
}

impl NotesUpstream {
    /// The notes service at `base` (`http://host:port`).
    pub fn new(base: String) -> Self {
        Self {
            base,
            client: reqwest::Client::new(),
        }
    }
}

/// Registers the forwarded paths, when there is an upstream.
pub fn configure(cfg: &mut web::ServiceConfig, upstream: Option<NotesUpstream>) {
    if let Some(upstream) = upstream {
        cfg.app_data(web::Data::new(upstream))
            .service(web::resource("/notes/api/{rest:.*}").to(forward))
            .service(web::resource("/notes/healthz").to(forward));
    }
}

async fn forward(
    req: HttpRequest,
    payload: web::Payload,
    upstream: web::Data<NotesUpstream>,
) -> Result<HttpResponse, ApiError> {
    let body = read_limited(payload, MAX_BODY_BYTES).await?;
    let unavailable = |error: reqwest::Error| ApiError::NotesUnavailable(error.to_string());
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes())
        .map_err(|_| ApiError::Http(HttpError::NotFound))?;
    let mut request = upstream
        .client
        .request(method, format!("{}{}", upstream.base, req.uri()))
        .body(body);
    for name in &FORWARDED {
        if let Some(value) = req.headers().get(name) {
            request = request.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = request.send().await.map_err(unavailable)?;
    let mut response = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(answer.status().as_u16())
            .map_err(|error| ApiError::NotesUnavailable(error.to_string()))?,
    );
    for name in &RETURNED {
        if let Some(value) = answer.headers().get(name.as_str()) {
            response.insert_header((name.clone(), value.as_bytes()));
        }
    }
    Ok(response.body(answer.bytes().await.map_err(unavailable)?))
}
