//! Logging, alike in every service: one line per event on stderr, filtered by `RUST_LOG`
//! (default `info`), and one line per request, when it ends, with its method, path, status,
//! client address, request id and the time it took (`time.busy`: working, `time.idle`:
//! waiting). With `RUST_LOG=debug` each step of a request (the services' spans: checking the
//! password, rotating the refresh token, ...) adds a line with its own times, so a slow
//! request's log shows where its time went.
//!
//! Request logs never carry headers or bodies, so tokens and passwords never reach the log.
//! The client address comes from `X-Forwarded-For` only when the peer is a trusted proxy
//! (`TRUSTED_PROXIES`); otherwise anyone could write any address into their logs. The request
//! id is the proxy's `X-Request-Id` when it sent a sane one, so nginx's and the backend's log
//! lines of one request can be matched.

use std::io::IsTerminal;
use std::net::IpAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{HttpRequest, web};
use ipnet::IpNet;
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// The proxies whose forwarding headers are believed (`TRUSTED_PROXIES`), as app data.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

/// Installs the global subscriber. Call once, at the start of `main`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_span_events(FmtSpan::CLOSE)
        .init();
}

/// The span each request runs in; its closing line is the request's log line.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let client =
            client_of(request.request()).map_or_else(|| "-".to_owned(), |ip| ip.to_string());
        let request_id = request
            .headers()
            .get("X-Request-Id")
            .and_then(|value| value.to_str().ok())
            .filter(|id| is_sane_request_id(id))
            .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.path(),
            %client,
            %request_id,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        span.record("status", status);
    }
}

/// Whether `request` came from one of the service's [`TrustedProxies`]: only then are its
/// forwarding headers (`X-Forwarded-*`, `Forwarded`) believed.
pub fn from_trusted_proxy(request: &HttpRequest) -> bool {
    let trusted = request
        .app_data::<web::Data<TrustedProxies>>()
        .map(|trusted| trusted.0.as_slice())
        .unwrap_or_default();
    request
        .peer_addr()
        .is_some_and(|peer| trusted.iter().any(|net| net.contains(&peer.ip())))
}

/// The address of the client that made `request`, by [`client_address`] with the service's
/// [`TrustedProxies`]: what the log line shows and what the log-in limit counts by.
pub fn client_of(request: &HttpRequest) -> Option<IpAddr> {
    let trusted = request
        .app_data::<web::Data<TrustedProxies>>()
        .map(|trusted| trusted.0.as_slice())
        .unwrap_or_default();
    let forwarded_for = request
        .headers()
        .get("X-Forwarded-For")
        .and_then(|value| value.to_str().ok());
    let peer = request.peer_addr().map(|addr| addr.ip());
    client_address(peer, forwarded_for, trusted)
}

/// The client's address: the peer, or when the peer is a trusted proxy, the last address in
/// `X-Forwarded-For` that is not one of the trusted proxies.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer?;
    if !is_trusted(&client) {
        return Some(client);
    }
    for hop in forwarded_for.unwrap_or_default().rsplit(',') {
        let Ok(hop) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = hop;
        if !is_trusted(&hop) {
            break;
        }
    }
    Some(client)
}

/// Request ids are logged verbatim, so only short ids of letters, digits and dashes are taken.
fn is_sane_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let client = client_address(Some(ip("203.0.113.9")), Some("1.2.3.4"), &[]);
        assert_eq!(client, Some(ip("203.0.113.9")));
    }

    #[test]
    fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
        let trusted = nets(&["172.16.0.0/12"]);
        let client = client_address(Some(ip("172.18.0.3")), Some("198.51.100.7"), &trusted);
        assert_eq!(client, Some(ip("198.51.100.7")));
    }

    #[test]
    fn addresses_a_client_prepends_to_the_header_are_ignored() {
        // The client sent "X-Forwarded-For: 1.2.3.4"; nginx appended the real address.
        let trusted = nets(&["172.16.0.0/12"]);
        let client = client_address(
            Some(ip("172.18.0.3")),
            Some("1.2.3.4, 198.51.100.7"),
            &trusted,
        );
        assert_eq!(client, Some(ip("198.51.100.7")));
    }

    #[test]
    fn garbage_in_the_header_stops_the_walk() {
        let trusted = nets(&["10.0.0.0/8"]);
        let client = client_address(Some(ip("10.0.0.2")), Some("not-an-ip"), &trusted);
        assert_eq!(client, Some(ip("10.0.0.2")));
    }

    #[test]
    fn request_ids_are_short_and_plain() {
        assert!(is_sane_request_id("3f2a9c0d1e4b5a6978877665544332211"));
        assert!(!is_sane_request_id(""));
        assert!(!is_sane_request_id("id with spaces"));
        assert!(!is_sane_request_id(&"a".repeat(65)));
    }
}
