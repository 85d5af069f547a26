//! What browser sessions need from HTTP: the HttpOnly cookie that carries the refresh token,
//! and the checks that keep other sites from using it (CSRF).
//!
//! The cookie is `HttpOnly` (no script reads it, so an XSS bug cannot steal it),
//! `SameSite=Strict` (no other site's page makes the browser send it), scoped to
//! `/api/session/` (no other request carries it), and `Secure` unless the request came over
//! plain HTTP to a loopback address (so `http://127.0.0.1:8000` works in development). On top
//! of `SameSite`, each session request must carry `X-Requested-With: XMLHttpRequest` (a header
//! a plain HTML form cannot send) and, when the browser sends an `Origin`, the server's own.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use apikit::HttpError;
use apikit::log::from_trusted_proxy;

use crate::http::error::ApiError;

/// The cookie's name.
pub const COOKIE: &str = "refresh";

/// The only path the cookie is sent to.
pub const COOKIE_PATH: &str = "/api/session/";

/// The header every session request must carry, and its value.
pub const REQUESTED_WITH: (&str, &str) = ("X-Requested-With", "XMLHttpRequest");

/// Refuses a request another site may have made: 403 without `X-Requested-With:
/// XMLHttpRequest`, or with an `Origin` that is not this server's.
pub fn check_same_origin(req: &HttpRequest) -> Result<(), ApiError> {
    let (name, wanted) = REQUESTED_WITH;
    if req.headers().get(name).and_then(|v| v.to_str().ok()) != Some(wanted) {
        return Err(ApiError::Http(HttpError::Forbidden(format!(
            "CSRF Failed: the {name}: {wanted} header is missing."
        ))));
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes());
        let (scheme, host) = client_origin(req);
        let own = format!("{scheme}://{host}");
        if origin != own {
            return Err(ApiError::Http(HttpError::Forbidden(format!(
                "CSRF Failed: Origin checking failed - {origin} does not match any trusted origins."
            ))));
        }
    }
    Ok(())
}

/// [`check_same_origin`] as an extractor, for a handler whose other extractors (the access
/// token, the body) must not run before it: put it first among the handler's arguments.
pub struct SameOrigin;

impl actix_web::FromRequest for SameOrigin {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(check_same_origin(req).map(|()| Self))
    }
}

/// The refresh token the request's cookie carries, if any. A request carrying two `refresh`
/// cookies is refused: a sibling subdomain can set one for this path ("cookie tossing"), and
/// the browser sends both, in an order the server cannot trust; answering with either could
/// hand the session to the attacker's. (The `__Host-` prefix would forbid such cookies, but it
/// requires `Path=/`, and this cookie is scoped to `/api/session/`.)
pub fn refresh_from_cookie(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let cookies = req
        .cookies()
        .map_err(|_| ApiError::Http(HttpError::NotAuthenticated))?;
    let mut refresh = cookies.iter().filter(|cookie| cookie.name() == COOKIE);
    let first = refresh.next().map(|cookie| cookie.value().to_owned());
    if refresh.next().is_some() {
        return Err(ApiError::Http(HttpError::AuthenticationFailed(
            TWO_COOKIES.to_owned(),
        )));
    }
    Ok(first.filter(|value| !value.is_empty()))
}

/// Why a request with two `refresh` cookies is refused.
pub const TWO_COOKIES: &str =
    "Two session cookies were sent, and this server cannot tell which is its own: log in again.";

/// The cookie that hands the browser `refresh`, for `lifetime`.
pub fn refresh_cookie(req: &HttpRequest, refresh: String, lifetime: Duration) -> Cookie<'static> {
    let max_age = actix_web::cookie::time::Duration::seconds(lifetime.as_secs() as i64);
    Cookie::build(COOKIE, refresh)
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(needs_secure(req))
        .max_age(max_age)
        .finish()
}

/// The cookie that makes the browser forget the refresh token.
pub fn cleared_cookie(req: &HttpRequest) -> Cookie<'static> {
    let mut cookie = refresh_cookie(req, String::new(), Duration::ZERO);
    cookie.make_removal();
    cookie
}

/// The scheme and host the client used: what a trusted proxy says it forwarded
/// (`Forwarded`, `X-Forwarded-Proto`, `X-Forwarded-Host`), or else this connection's own (plain
/// HTTP, and its `Host`). A client's own forwarding headers move nothing: otherwise anyone could
/// pass the `Origin` check by naming their own site in `X-Forwarded-Host`.
fn client_origin(req: &HttpRequest) -> (String, String) {
    if from_trusted_proxy(req) {
        let info = req.connection_info();
        return (info.scheme().to_owned(), info.host().to_owned());
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| req.uri().authority().map(|authority| authority.as_str()))
        .unwrap_or_default();
    ("http".to_owned(), host.to_owned())
}

/// `Secure`, unless the request came over plain HTTP to a loopback address, where a browser
/// would refuse to store a secure cookie.
fn needs_secure(req: &HttpRequest) -> bool {
    let (scheme, host) = client_origin(req);
    let host = host.as_str();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    let loopback = matches!(name, "localhost" | "127.0.0.1" | "[::1]")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    !(scheme == "http" && loopback)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use apikit::log::TrustedProxies;

    use super::*;

    /// A request to `host`, from a trusted proxy that says it came over `proto` when given.
    fn request(host: &str, proto: Option<&str>) -> HttpRequest {
        let mut request = TestRequest::default()
            .insert_header((header::HOST, host))
            .peer_addr("127.0.0.1:40000".parse().unwrap())
            .app_data(actix_web::web::Data::new(TrustedProxies(vec![
                "127.0.0.1/32".parse().unwrap(),
            ])));
        if let Some(proto) = proto {
            request = request.insert_header(("X-Forwarded-Proto", proto));
        }
        request.to_http_request()
    }

    #[test]
    fn forwarding_headers_of_an_untrusted_peer_are_not_believed() {
        let request = TestRequest::default()
            .insert_header((header::HOST, "127.0.0.1:8000"))
            .insert_header(("X-Forwarded-Proto", "https"))
            .insert_header(("X-Forwarded-Host", "evil.example"))
            .insert_header(("Forwarded", "proto=https;host=evil.example"))
            .peer_addr("127.0.0.1:40000".parse().unwrap())
            .to_http_request();
        assert_eq!(
            client_origin(&request),
            ("http".to_owned(), "127.0.0.1:8000".to_owned())
        );
    }

    #[test]
    fn plain_http_to_loopback_gets_no_secure_flag() {
        for host in [
            "127.0.0.1:8000",
            "localhost:8080",
            "localhost",
            "[::1]:8000",
        ] {
            assert!(!needs_secure(&request(host, None)), "{host}");
        }
    }

    #[test]
    fn https_or_another_host_gets_the_secure_flag() {
        assert!(needs_secure(&request("localhost:8443", Some("https"))));
        assert!(needs_secure(&request("app.example:80", None)));
        assert!(needs_secure(&request("10.0.0.5:8000", None)));
    }

    #[test]
    fn the_cookie_is_httponly_strict_and_scoped_to_the_session_paths() {
        let cookie = refresh_cookie(
            &request("127.0.0.1:8000", None),
            "token".into(),
            Duration::from_secs(86_400),
        );
        assert_eq!(
            cookie.to_string(),
            "refresh=token; HttpOnly; SameSite=Strict; Path=/api/session/; Max-Age=86400"
        );
    }
}
