//! `GET /healthz`, and what the API does while its database is down: a fast 503 in the usual
//! JSON shape, then recovery on its own once the database is back.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;
use crate::proxy::Proxy;

every_database!(healthz_is_ok_while_the_database_answers);

#[actix_web::test]
async fn ping_answers_without_a_token() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;

    assert_json(
        app.get("/ping/", None).await,
        200,
        json!({"message": "pong"}),
    )
    .await;
}

async fn healthz_is_ok_while_the_database_answers(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    assert_json(
        app.get("/healthz", None).await,
        200,
        json!({"status": "ok"}),
    )
    .await;
}

const UNAVAILABLE: &str = "Service temporarily unavailable.";

/// An app on a fresh PostgreSQL database reached through a proxy the test can cut.
fn app_behind_proxy() -> Option<(TestApp, Proxy)> {
    let Some(backend @ Backend::Postgres { .. }) = Backend::postgres() else {
        return None;
    };
    let database = TestDatabase::create(&backend);
    let direct = database.url();
    let proxy = Proxy::start(host_and_port(&direct));
    let proxied = with_port(&direct, proxy.port());
    let app = TestApp::spawn_on(database, &[("DATABASE_URL", &proxied)]);
    Some((app, proxy))
}

#[actix_web::test]
async fn with_the_database_down_healthz_is_a_503_within_two_seconds() {
    let Some((app, proxy)) = app_behind_proxy() else {
        return;
    };
    proxy.cut();

    let started = Instant::now();
    let response = app.get("/healthz", None).await;

    assert_json(response, 503, json!({"detail": UNAVAILABLE})).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[actix_web::test]
async fn with_the_database_down_logging_in_is_a_503_not_a_500() {
    let Some((app, proxy)) = app_behind_proxy() else {
        return;
    };
    app.create_user("ada", PASSWORD);
    proxy.cut();

    let response = app
        .post_json(
            "/api/token/",
            &json!({"username": "ada", "password": PASSWORD}),
        )
        .await;

    assert_json(response, 503, json!({"detail": UNAVAILABLE})).await;
}

#[actix_web::test]
async fn with_the_database_down_protected_endpoints_are_a_503() {
    let Some((app, proxy)) = app_behind_proxy() else {
        return;
    };
    app.create_user("ada", PASSWORD);
    let pair = app.obtain_pair("ada", PASSWORD).await;
    proxy.cut();

    assert_json(
        app.get_as("/hello/", &pair.access).await,
        503,
        json!({"detail": UNAVAILABLE}),
    )
    .await;
}

#[actix_web::test]
async fn when_the_database_is_back_the_api_recovers_by_itself() {
    let Some((app, proxy)) = app_behind_proxy() else {
        return;
    };
    app.create_user("ada", PASSWORD);
    proxy.cut();
    assert_eq!(app.get("/healthz", None).await.status(), 503);

    proxy.restore();

    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get("/healthz", None).await.status() != 200 {
        assert!(Instant::now() < deadline, "no recovery within 10 s");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let pair = app.obtain_pair("ada", PASSWORD).await;
    assert_eq!(app.get_as("/hello/", &pair.access).await.status(), 200);
}

/// `host:port` of a `postgres://user@host:port/db` URL.
fn host_and_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    }
}

/// The URL with its host and port replaced by `127.0.0.1:port`.
fn with_port(url: &str, port: u16) -> String {
    let original = host_and_port(url);
    let host_only = original
        .rsplit_once(':')
        .map_or(original.as_str(), |(h, _)| h);
    let replaced = url.replacen(&original, &format!("127.0.0.1:{port}"), 1);
    if replaced == url {
        url.replacen(host_only, &format!("127.0.0.1:{port}"), 1)
    } else {
        replaced
    }
}

#[actix_web::test]
async fn with_a_read_only_sqlite_database_writes_are_a_503_not_a_500() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;
    app.create_user("ada", PASSWORD);
    // Opened read-only, as SQLite's URI allows: file permissions would not stop root.
    let read_only = format!("file:{}?mode=ro", app.database_url_text());
    let replica = TestApp::spawn_beside(&app, &[("DATABASE_URL", &read_only)]);

    let registered = replica
        .post_json(
            "/api/register/",
            &json!({"username": "grace", "password": PASSWORD}),
        )
        .await;
    assert_json(registered, 503, json!({"detail": UNAVAILABLE})).await;
    let logged_in = replica
        .post_json(
            "/api/token/",
            &json!({"username": "ada", "password": PASSWORD}),
        )
        .await;
    assert_json(logged_in, 503, json!({"detail": UNAVAILABLE})).await;
    assert_eq!(
        replica.get("/ping/", None).await.status(),
        200,
        "reads still work"
    );
}

#[actix_web::test]
async fn a_write_blocked_by_a_postgresql_lock_is_a_503_after_the_statement_timeout() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let app = TestApp::spawn_with(&backend, &[]).await;
    let mut holder = app.connection();
    diesel::connection::SimpleConnection::batch_execute(
        &mut holder,
        "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE;",
    )
    .expect("the lock is taken");

    let started = Instant::now();
    let registered = app
        .post_json(
            "/api/register/",
            &json!({"username": "grace", "password": PASSWORD}),
        )
        .await;
    let waited = started.elapsed();

    assert_json(registered, 503, json!({"detail": UNAVAILABLE})).await;
    assert!(
        waited >= dbkit::STATEMENT_TIMEOUT && waited < dbkit::STATEMENT_TIMEOUT * 3,
        "answered after {waited:?}: the statement timeout, not the lock, decides"
    );
    drop(holder);
    assert_eq!(
        app.register("grace", PASSWORD).await.status(),
        201,
        "nothing was half-written"
    );
}
