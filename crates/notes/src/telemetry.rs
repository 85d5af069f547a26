//! Logging: one line per event on stderr (`RUST_LOG`, default `info`), one per request with
//! method, path, status, time taken and the proxy's request id (nginx's `X-Request-Id`, so
//! its access log line and ours can be matched; `-` without one). No other header and never a
//! body: tokens stay out of the log.

use std::io::IsTerminal;
use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::middleware::Next;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; call once, first thing in `main`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Logs each request once it is answered.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let (method, path) = (req.method().clone(), req.path().to_owned());
    let request_id = request_id(req.headers()).unwrap_or("-").to_owned();
    let response = next.call(req).await?;
    tracing::info!(
        %method,
        %path,
        %request_id,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    Ok(response)
}

/// The request's `X-Request-Id`, when it is short and plain (1 to 64 letters, digits and
/// dashes): it is logged verbatim, so nothing else is taken.
pub fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("X-Request-Id")
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            (1..=64).contains(&id.len())
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn with_request_id(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("x-request-id"),
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn nginx_request_ids_are_taken() {
        let headers = with_request_id("3f2a9c0d1e4b5a6978877665544332211");
        assert_eq!(
            request_id(&headers),
            Some("3f2a9c0d1e4b5a6978877665544332211")
        );
    }

    #[test]
    fn no_request_id_is_none() {
        assert_eq!(request_id(&HeaderMap::new()), None);
    }

    #[test]
    fn request_ids_that_could_forge_log_text_are_refused() {
        for forged in ["", "id with spaces", "a\"b", "x=1", &"a".repeat(65)] {
            assert_eq!(request_id(&with_request_id(forged)), None, "{forged:?}");
        }
    }
}
