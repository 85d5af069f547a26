//! What Django, DRF and gunicorn do to a request before any view sees it, as actix middleware:
//!
//! - [`limit_header_fields`]: a header line over 8190 bytes is a 431 (gunicorn's
//!   `limit_request_field_size`), before anything reads it.
//! - [`append_slash`]: `/api/token` is a 301 to `/api/token/` (Django's `APPEND_SLASH`).
//! - [`negotiate`]: an `Accept` header that admits no JSON is a 406 (DRF's content negotiation,
//!   which runs before authentication).
//! - [`www_authenticate`]: every 401 carries the `WWW-Authenticate` challenge.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use apikit::HttpError;

use crate::http::API_PREFIXES;

/// The longest header line (name, `": "` and value) read, in bytes: gunicorn's default
/// `limit_request_field_size`.
pub const MAX_HEADER_FIELD_BYTES: usize = 8190;

type Answer<B> = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

/// 431 in the JSON error shape for a request with a header line over
/// [`MAX_HEADER_FIELD_BYTES`].
pub async fn limit_header_fields<B: MessageBody>(req: ServiceRequest, next: Next<B>) -> Answer<B> {
    if has_oversized_field(req.headers()) {
        return Ok(answer(
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

/// Django's `APPEND_SLASH` for the API: a path under `/api/` without its trailing slash, whose
/// slashed form is a route, is a 301 to that route (the query string kept). `/hello` stays the
/// frontend's Hello page. Like Django's, the redirect says `text/html; charset=utf-8` and has
/// an empty body.
pub async fn append_slash<B: MessageBody>(req: ServiceRequest, next: Next<B>) -> Answer<B> {
    let path = req.path();
    if path.starts_with("/api/") && !path.ends_with('/') {
        let slashed = format!("{path}/");
        if is_route(&req, &slashed) {
            let location = match req.query_string() {
                "" => slashed,
                query => format!("{slashed}?{query}"),
            };
            // Django's HttpResponsePermanentRedirect: its default content type, no body.
            let redirect = HttpResponse::MovedPermanently()
                .insert_header((header::LOCATION, location))
                .content_type("text/html; charset=utf-8")
                .finish();
            return Ok(answer(req, redirect));
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// DRF's content negotiation, for the API's own routes: 406 when the `Accept` header names no
/// media type the API renders. The API renders JSON only, as the tutorial's settings have it.
pub async fn negotiate<B: MessageBody>(req: ServiceRequest, next: Next<B>) -> Answer<B> {
    if !is_api_route(&req) {
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
        return Ok(answer(req, HttpError::NotAcceptable.error_response()));
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

/// Whether `path` is one of the routes registered. The frontend's fallback matches every path,
/// so the pattern that matched must be the path itself (no route has a variable segment).
fn is_route(req: &ServiceRequest, path: &str) -> bool {
    req.resource_map().match_pattern(path).as_deref() == Some(path)
}

/// Whether the request is for one of the API's routes (not a page of the frontend).
fn is_api_route(req: &ServiceRequest) -> bool {
    let path = req.path();
    API_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) && is_route(req, path)
}

fn answer<B>(req: ServiceRequest, response: HttpResponse) -> ServiceResponse<EitherBody<B>> {
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
