//! Trusting tokens through the published keys alone: rotation while both services run, the
//! auth server unreachable, and the header tricks that must not pick a key.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;
use server::auth::keyset;

use crate::forge::{CountingListener, attacker_key, sign_raw};
use crate::helpers::*;

/// Logs in until the auth server signs with `kid` (it reads its key directory every few
/// seconds); fails after 10 s.
async fn access_token_signed_by(auth: &AuthServer, username: &str, kid: &str) -> String {
    let started = Instant::now();
    loop {
        let access = auth.log_in(username).await["access"]
            .as_str()
            .unwrap()
            .to_owned();
        if header_of(&access)["kid"] == kid {
            return access;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still not signing with {kid}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[actix_web::test]
async fn a_rotation_while_both_run_keeps_old_tokens_and_accepts_new_ones_at_once() {
    let keys = tempfile::tempdir().unwrap();
    let auth = AuthServer::start(keys.path(), &[]);
    let notes = NotesService::start(&auth.jwks_url(), &[("AUTH_JWKS_MAX_AGE", "1")]);
    let old_token = auth.access_token_for("ada").await;
    let old = header_of(&old_token)["kid"].as_str().unwrap().to_owned();
    json_body(notes.list(&old_token).await, 200).await;

    let new = keyset::add_key(keys.path(), Algorithm::ES256).unwrap();
    let new_token = access_token_signed_by(&auth, "ada", &new).await;

    assert_ne!(old, new);
    json_body(notes.list(&new_token).await, 200).await;
    json_body(notes.list(&old_token).await, 200).await;

    keyset::retire_key(keys.path(), &old).unwrap();
    let started = Instant::now();
    while notes.list(&old_token).await.status() == 200 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the retired key still verifies"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    assert_json(
        notes.list(&old_token).await,
        401,
        access_token_refused("Token is invalid"),
    )
    .await;
    json_body(notes.list(&new_token).await, 200).await;
}

#[actix_web::test]
async fn with_the_auth_server_down_cached_keys_still_verify() {
    let keys = tempfile::tempdir().unwrap();
    let auth = AuthServer::start(keys.path(), &[]);
    let notes = NotesService::start(&auth.jwks_url(), &[("AUTH_JWKS_MAX_AGE", "1")]);
    let token = auth.access_token_for("ada").await;
    json_body(notes.list(&token).await, 200).await;

    auth.stop().await;
    // Past the set's max age: the refetch fails, and the set held still verifies.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    json_body(notes.list(&token).await, 200).await;
    json_body(
        notes.create(&token, &json!({"text": "still here"})).await,
        201,
    )
    .await;
}

#[actix_web::test]
async fn with_the_auth_server_down_and_nothing_cached_the_answer_is_a_503() {
    let (_keys, auth, _notes) = both();
    let token = auth.access_token_for("ada").await;
    let unreachable = format!("http://127.0.0.1:{}/.well-known/jwks.json", closed_port());
    let notes = NotesService::start(&unreachable, &[]);

    let response = notes.list(&token).await;

    assert_eq!(response.headers()["Retry-After"], "2");
    assert_json(
        response,
        503,
        json!({"detail": "Service temporarily unavailable."}),
    )
    .await;
}

#[actix_web::test]
async fn a_token_of_a_key_nobody_published_is_invalid() {
    let (_keys, auth, notes) = both();
    let token = auth.access_token_for("ada").await;
    let claims = payload_of(&token);

    for kid in ["unknown", "../../dev/null", "' OR '1'='1"] {
        let forged = sign_raw(
            &json!({"alg": "ES256", "kid": kid, "typ": "JWT"}),
            &claims,
            &attacker_key(),
            Algorithm::ES256,
        );
        assert_json(
            notes.list(&forged).await,
            401,
            access_token_refused("Token is invalid"),
        )
        .await;
    }
}

#[actix_web::test]
async fn an_hs256_token_keyed_with_the_published_key_is_refused() {
    let (_keys, auth, notes) = both();
    let token = auth.access_token_for("ada").await;
    let kid = header_of(&token)["kid"].clone();
    let published = reqwest::get(auth.jwks_url())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    let forged = sign_raw(
        &json!({"alg": "HS256", "kid": kid, "typ": "JWT"}),
        &payload_of(&token),
        &EncodingKey::from_secret(published.as_bytes()),
        Algorithm::HS256,
    );

    assert_json(
        notes.list(&forged).await,
        401,
        access_token_refused("Token is invalid"),
    )
    .await;
}

#[actix_web::test]
async fn key_urls_in_a_header_are_never_fetched() {
    let listener = CountingListener::start().await;
    let url = listener.url.clone();
    let (_keys, auth, notes) = both();
    let token = auth.access_token_for("ada").await;
    let attacker = attacker_key();
    let attacker_jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&attacker, Algorithm::ES256).unwrap();

    let forged = sign_raw(
        &json!({"alg": "ES256", "typ": "JWT", "kid": "attacker", "jku": url, "x5u": url, "jwk": attacker_jwk}),
        &payload_of(&token),
        &attacker,
        Algorithm::ES256,
    );

    assert_json(
        notes.list(&forged).await,
        401,
        access_token_refused("Token is invalid"),
    )
    .await;
    assert_eq!(listener.connections(), 0, "a key URL was fetched");
}

#[actix_web::test]
async fn a_flood_of_unknown_kids_fetches_the_keys_at_most_once_a_second() {
    let (_keys, auth, _notes) = both();
    let token = auth.access_token_for("ada").await;
    let published = reqwest::get(auth.jwks_url())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let fetches = Arc::new(AtomicUsize::new(0));
    let jwks = counting_jwks_server(published, fetches.clone());
    let notes = NotesService::start(&jwks, &[]);
    json_body(notes.list(&token).await, 200).await;
    let started = Instant::now();

    let forged: Vec<String> = (0..40)
        .map(|i| {
            sign_raw(
                &json!({"alg": "ES256", "kid": format!("made-up-{i}"), "typ": "JWT"}),
                &payload_of(&token),
                &attacker_key(),
                Algorithm::ES256,
            )
        })
        .collect();
    let answers = futures_util::future::join_all(forged.iter().map(|t| notes.list(t))).await;

    let elapsed = started.elapsed().as_secs() as usize;
    assert!(answers.iter().all(|a| a.status() == 401));
    let fetched = fetches.load(Ordering::SeqCst);
    println!("{fetched} fetches of the key set for 41 requests in {elapsed} s");
    assert!(fetched <= 2 + elapsed, "{fetched} fetches in {elapsed} s");
}

/// An HTTP server answering every request with `jwks`, counting them: the auth server's set,
/// served by something that can count.
fn counting_jwks_server(jwks: String, count: Arc<AtomicUsize>) -> String {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let server = HttpServer::new(move || {
        let jwks = jwks.clone();
        let count = count.clone();
        App::new().default_service(web::to(move || {
            count.fetch_add(1, Ordering::SeqCst);
            let body = jwks.clone();
            async move {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body)
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let address = server.addrs()[0];
    actix_web::rt::spawn(server.run());
    format!("http://{address}/.well-known/jwks.json")
}

#[actix_web::test]
async fn issuer_and_audience_must_be_the_ones_the_notes_service_expects() {
    let keys = tempfile::tempdir().unwrap();
    let auth = AuthServer::start(
        keys.path(),
        &[
            ("JWT_ISSUER", "https://auth.example"),
            ("JWT_AUDIENCE", "notes"),
        ],
    );
    let expected = [
        ("AUTH_ISSUER", "https://auth.example"),
        ("AUTH_AUDIENCE", "notes"),
    ];
    let notes = NotesService::start(&auth.jwks_url(), &expected);
    let billing = NotesService::start(
        &auth.jwks_url(),
        &[
            ("AUTH_ISSUER", "https://auth.example"),
            ("AUTH_AUDIENCE", "billing"),
        ],
    );
    let token = auth.access_token_for("ada").await;

    json_body(notes.list(&token).await, 200).await;
    assert_json(
        billing.list(&token).await,
        401,
        access_token_refused("Token is invalid"),
    )
    .await;
}

#[actix_web::test]
async fn a_token_without_the_expected_issuer_and_audience_is_refused() {
    let (_keys, auth, _notes) = both();
    let notes = NotesService::start(
        &auth.jwks_url(),
        &[
            ("AUTH_ISSUER", "https://auth.example"),
            ("AUTH_AUDIENCE", "notes"),
        ],
    );
    let token = auth.access_token_for("ada").await;

    assert_json(
        notes.list(&token).await,
        401,
        access_token_refused("Token is invalid"),
    )
    .await;
}

/// An auth server (kept alive by the guards returned), a token it signed, and its key set as
/// published: what a fake key server serves.
async fn a_token_and_its_published_set() -> (tempfile::TempDir, AuthServer, String, String) {
    let keys = tempfile::tempdir().unwrap();
    let auth = AuthServer::start(keys.path(), &[]);
    let token = auth.access_token_for("ada").await;
    let set = reqwest::get(auth.jwks_url())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (keys, auth, token, set)
}

/// A listener on a free port and the key-set URL at it, over `scheme`.
async fn key_server_listener(scheme: &str) -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (
        listener,
        format!("{scheme}://127.0.0.1:{port}/.well-known/jwks.json"),
    )
}

/// A key-set server that answers the first request with `first_body` and then accepts
/// connections without ever answering: an auth server that hangs.
async fn hanging_after_first_answer(first_body: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (listener, url) = key_server_listener("http").await;
    actix_web::rt::spawn(async move {
        let mut held = Vec::new();
        let mut answered = false;
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            if answered {
                held.push(stream);
                continue;
            }
            answered = true;
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first_body}",
                first_body.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    url
}

#[actix_web::test]
async fn a_stale_key_set_keeps_verifying_while_the_auth_server_hangs() {
    let (_keys, _auth, token, set) = a_token_and_its_published_set().await;
    let url = hanging_after_first_answer(set).await;
    let notes = NotesService::start(
        &url,
        &[("AUTH_JWKS_MAX_AGE", "1"), ("AUTH_JWKS_TIMEOUT", "30000")],
    );
    json_body(notes.list(&token).await, 200).await;
    // The set is stale now, and every fetch of it hangs for 30 s.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let started = Instant::now();
    let answers = futures_util::future::join_all((0..5).map(|_| notes.list(&token))).await;

    for answer in answers {
        assert_eq!(answer.status(), 200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "known keys waited for the hanging fetch: {:?}",
        started.elapsed()
    );
}

#[actix_web::test]
async fn a_key_set_is_refused_once_it_grows_past_64_kib_while_being_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_keys, auth, _notes) = both();
    let token = auth.access_token_for("ada").await;
    // A key set that never ends, sent in chunks with no length announced.
    let (listener, url) = key_server_listener("http").await;
    actix_web::rt::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            actix_web::rt::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 4096, " ".repeat(4096));
                while stream.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    let notes = NotesService::start(&url, &[("AUTH_JWKS_TIMEOUT", "60000")]);

    let started = Instant::now();
    let response = notes.list(&token).await;

    assert_json(
        response,
        503,
        json!({"detail": "Service temporarily unavailable."}),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the endless key set was read for {:?}",
        started.elapsed()
    );
}

/// The fixtures of a key server over HTTPS: a private CA, and a certificate it signed for
/// 127.0.0.1 (`crates/notes/tests/fixtures/`).
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// A key-set server over HTTPS with the fixture certificate, answering every request with
/// `body`; returns its URL.
async fn https_key_server(body: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::ServerConfig;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certs = CertificateDer::pem_file_iter(format!("{FIXTURES}/jwks-server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(format!("{FIXTURES}/jwks-server.key")).unwrap();
    // The one crypto provider compiled in (ring, as reqwest's TLS uses it).
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let (listener, url) = key_server_listener("https").await;
    actix_web::rt::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let body = body.clone();
            actix_web::rt::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut request = [0u8; 4096];
                let _ = tls.read(&mut request).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    url
}

#[actix_web::test]
async fn keys_are_fetched_over_https_from_a_server_the_ca_file_vouches_for() {
    let (_keys, _auth, token, set) = a_token_and_its_published_set().await;
    let url = https_key_server(set).await;
    let ca = format!("{FIXTURES}/jwks-ca.pem");
    let notes = NotesService::start(&url, &[("AUTH_JWKS_CA_FILE", &ca)]);

    json_body(notes.list(&token).await, 200).await;
}

#[actix_web::test]
async fn a_key_server_whose_certificate_nobody_vouches_for_is_not_trusted() {
    let (_keys, _auth, token, set) = a_token_and_its_published_set().await;
    let url = https_key_server(set).await;
    // Whoever answers the key URL decides which tokens are accepted: without the CA that
    // signed its certificate, its keys are never taken.
    let notes = NotesService::start(&url, &[]);

    assert_json(
        notes.list(&token).await,
        503,
        json!({"detail": "Service temporarily unavailable."}),
    )
    .await;
}
