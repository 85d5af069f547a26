//! Layer 5, HTTP: what turns requests into service calls and service results into DRF-shaped
//! answers. [`error`] maps every failure to its status and body, [`input`] reads bodies into the
//! `claims` crate's request types, [`extractor`] guards protected handlers, [`session`] keeps
//! the browser's refresh token in an HttpOnly cookie, and [`middleware`] does what Django and
//! DRF do before a view runs (header limits, `APPEND_SLASH`, content negotiation, the
//! `WWW-Authenticate` challenge).

pub mod error;
pub mod extractor;
pub mod input;
pub mod middleware;
pub mod session;

use actix_web::http::header::{HeaderValue, TryIntoHeaderValue};
use actix_web_httpauth::headers::www_authenticate::bearer::Bearer;
use ipnet::IpNet;

use crate::configuration::Settings;

/// The settings the HTTP layer needs, shared by all workers.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The `Authorization` schemes accepted (`JWT_AUTH_HEADER_TYPES`).
    pub auth_header_types: Vec<String>,
    /// The `WWW-Authenticate` value sent with every 401, `Bearer realm="api"` by default.
    pub challenge: HeaderValue,
    /// Proxies whose `X-Forwarded-For` is believed when logging the client address.
    pub trusted_proxies: Vec<IpNet>,
}

impl HttpSettings {
    /// The HTTP settings of the server's settings.
    pub fn new(settings: &Settings) -> Self {
        let header_types = settings.jwt.auth_header_types.clone();
        Self {
            challenge: challenge(&header_types[0]),
            auth_header_types: header_types,
            trusted_proxies: settings.trusted_proxies.clone(),
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
