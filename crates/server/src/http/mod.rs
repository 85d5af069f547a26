//! Layer 5, HTTP: what turns requests into service calls and service results into DRF-shaped
//! answers. [`error`] maps every failure to its status and body, [`extractor`] guards
//! protected handlers, [`session`] keeps the browser's refresh token in an HttpOnly cookie, and
//! [`middleware`] does what Django and DRF do before a view runs (header limits,
//! `APPEND_SLASH`, content negotiation). What the notes service needs as well (reading bodies,
//! rendering errors, the `WWW-Authenticate` challenge, the request log line) is in the
//! `apikit` crate.

pub mod error;
pub mod extractor;
pub mod middleware;
pub mod session;

use actix_web::http::header::{HeaderValue, TryIntoHeaderValue};
use actix_web_httpauth::headers::www_authenticate::bearer::Bearer;
use apikit::Challenge;
use apikit::log::TrustedProxies;

use crate::configuration::Settings;

/// Where the API's paths live; every path `routes::configure` registers starts with one of
/// these. The frontend's single-page-app fallback never answers under them (nginx's config
/// keeps the same list in its `location` blocks).
pub const API_PREFIXES: [&str; 7] = [
    "/api",
    "/hello/",
    "/ping/",
    "/healthz",
    "/.well-known/",
    "/notes/api/",
    "/notes/healthz",
];

/// The API explorer's pages (Swagger UI, `routes::explorer`): under `/api`, but HTML and
/// scripts, not the API's JSON, so content negotiation leaves them alone.
pub const EXPLORER: &str = "/api/docs/";

/// The settings the HTTP layer needs, shared by all workers.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The `Authorization` schemes accepted (`JWT_AUTH_HEADER_TYPES`).
    pub auth_header_types: Vec<String>,
    /// The `WWW-Authenticate` value sent with every 401, `Bearer realm="api"` by default.
    pub challenge: Challenge,
    /// Proxies whose `X-Forwarded-For` is believed when logging the client address.
    pub trusted_proxies: TrustedProxies,
}

impl HttpSettings {
    /// The HTTP settings of the server's settings.
    pub fn new(settings: &Settings) -> Self {
        let header_types = settings.jwt.auth_header_types.clone();
        Self {
            challenge: Challenge(challenge(&header_types[0])),
            auth_header_types: header_types,
            trusted_proxies: TrustedProxies(settings.trusted_proxies.clone()),
        }
    }
}

/// `Bearer realm="api"` (built by actix-web-httpauth), or the first of `JWT_AUTH_HEADER_TYPES`
/// in its place, as simplejwt's `authenticate_header` writes it.
fn challenge(header_type: &str) -> HeaderValue {
    let bearer = Bearer::build().realm("api").finish();
    if header_type == "Bearer"
        && let Ok(value) = bearer.try_into_value()
    {
        return value;
    }
    HeaderValue::from_str(&format!("{header_type} realm=\"api\""))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"api\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_names_the_first_header_type() {
        assert_eq!(challenge("Bearer"), "Bearer realm=\"api\"");
        assert_eq!(challenge("JWT"), "JWT realm=\"api\"");
    }
}
