//! What Django, DRF and gunicorn do to a request before any view sees it, for every service:
//!
//! - [`limit_header_fields`]: a header line over 8190 bytes is a 431 (gunicorn's
//!   `limit_request_field_size`), before anything reads it.
//! - [`negotiate`]: an `Accept` header that admits no JSON is a 406 (DRF's content negotiation,
//!   which runs before authentication).
//!
//! (Every 401's `WWW-Authenticate` challenge is added by [`crate::error::www_authenticate`].)

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};

use crate::error::HttpError;

/// The longest header line (name, `": "` and value) read, in bytes: gunicorn's default
/// `limit_request_field_size`.
pub const MAX_HEADER_FIELD_BYTES: usize = 8190;

/// What a middleware answers: the service's own response, or one made here.
pub type Answer<B> = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

/// Which requests are for the API (content negotiation applies to them), as app data: a
/// service that also serves pages registers it. Without it, every request is.
#[derive(Clone, Copy)]
pub struct ApiRoutes(pub fn(&ServiceRequest) -> bool);

/// 431 in the JSON error shape for a request with a header line over
/// [`MAX_HEADER_FIELD_BYTES`].
pub async fn limit_header_fields<B: MessageBody>(req: ServiceRequest, next: Next<B>) -> Answer<B> {
    if has_oversized_field(req.headers()) {
        return Ok(answer_now(
            req,
            HttpError::HeaderFieldsTooLarge.error_response(),
        ));
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Whether any header line is longer than [`MAX_HEADER_FIELD_BYTES`].
pub fn has_oversized_field(headers: &HeaderMap) -> bool {
    headers
        .iter()
        .any(|(name, value)| name.as_str().len() + 2 + value.len() > MAX_HEADER_FIELD_BYTES)
}

/// DRF's content negotiation, for the API's routes ([`ApiRoutes`]): 406 when the `Accept`
/// header names no media type the API renders. The API renders JSON only, as the tutorial's
/// settings have it.
pub async fn negotiate<B: MessageBody>(req: ServiceRequest, next: Next<B>) -> Answer<B> {
    let is_api = req
        .app_data::<web::Data<ApiRoutes>>()
        .is_none_or(|api| (api.0)(&req));
    if !is_api {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let accept: Vec<String> = req
        .headers()
        .get_all(header::ACCEPT)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    let accept = accept.join(",");
    // No Accept header (or an empty one) accepts anything.
    if !accept.trim().is_empty() && !accepts_json(&accept) {
        return Ok(answer_now(req, HttpError::NotAcceptable.error_response()));
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Whether an `Accept` header value admits `application/json` (parameters, `q` included, are
/// ignored, as DRF ignores them).
pub fn accepts_json(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let essence = range.split(';').next().unwrap_or_default().trim();
        ["application/json", "application/*", "*/*"]
            .iter()
            .any(|json| essence.eq_ignore_ascii_case(json))
    })
}

/// Answers `req` with `response` without calling the service.
pub fn answer_now<B>(
    req: ServiceRequest,
    response: HttpResponse,
) -> ServiceResponse<EitherBody<B>> {
    let (req, _) = req.into_parts();
    ServiceResponse::new(req, response).map_into_right_body()
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn json_is_accepted_by_name_by_wildcards_and_among_others() {
        for accept in [
            "application/json",
            "*/*",
            "application/*",
            "text/html, application/json;q=0.9",
            "Application/JSON; indent=4",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ] {
            assert!(accepts_json(accept), "{accept}");
        }
    }

    #[test]
    fn html_or_xml_alone_is_not_acceptable() {
        for accept in [
            "text/html",
            "application/xml",
            "text/*",
            "image/png, text/plain",
        ] {
            assert!(!accepts_json(accept), "{accept}");
        }
    }

    #[test]
    fn a_header_line_over_8190_bytes_is_too_large_and_one_at_the_limit_is_not() {
        let line = |value_len: usize| {
            let mut headers = HeaderMap::new();
            headers.insert(
                HeaderName::from_static("x-big"),
                HeaderValue::from_str(&"a".repeat(value_len)).unwrap(),
            );
            headers
        };
        // "x-big: " is 7 bytes.
        assert!(!has_oversized_field(&line(MAX_HEADER_FIELD_BYTES - 7)));
        assert!(has_oversized_field(&line(MAX_HEADER_FIELD_BYTES - 6)));
    }
}
