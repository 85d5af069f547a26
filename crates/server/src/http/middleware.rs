//! What Django does to a request before any view sees it, as actix middleware:
//! [`append_slash`], `/api/token` is a 301 to `/api/token/` (Django's `APPEND_SLASH`). The
//! rest (the header limit, content negotiation, the 401 challenge) every service does alike,
//! with `apikit::middleware`.

use actix_web::HttpResponse;
use actix_web::body::MessageBody;
use actix_web::dev::ServiceRequest;
use actix_web::http::header;
use actix_web::middleware::Next;
use apikit::middleware::{Answer, answer_now};

use crate::http::{API_PREFIXES, EXPLORER};

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
            return Ok(answer_now(req, redirect));
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Whether `path` is one of the routes registered. The frontend's fallback matches every path,
/// so the pattern that matched must be the path itself (no API route has a variable segment).
fn is_route(req: &ServiceRequest, path: &str) -> bool {
    req.resource_map().match_pattern(path).as_deref() == Some(path)
}

/// Whether the request is for one of the API's routes (not a page of the frontend).
pub fn is_api_route(req: &ServiceRequest) -> bool {
    let path = req.path();
    API_PREFIXES.iter().any(|prefix| path.starts_with(prefix))
        && !path.starts_with(EXPLORER)
        && is_route(req, path)
}
