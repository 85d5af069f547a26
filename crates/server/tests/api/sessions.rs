//! Browser sessions: `/api/session/...` keeps the refresh token in an HttpOnly cookie that the
//! page's JavaScript never sees, and refuses requests another site could have made.

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::*;

every_database!(
    logging_in_sets_an_httponly_strict_cookie_and_answers_only_the_access_token,
    the_cookie_is_secure_unless_plain_http_reaches_a_loopback_address,
    the_cookie_is_secure_behind_a_tls_proxy,
    refreshing_with_the_cookie_rotates_it,
    a_replayed_cookie_ends_the_session,
    logging_out_clears_the_cookie_and_revokes_the_session,
    logging_out_without_a_session_just_clears_the_cookie,
    refreshing_without_a_cookie_is_unauthenticated,
    a_session_request_without_x_requested_with_is_forbidden,
    a_session_request_from_another_origin_is_forbidden,
    a_session_request_from_the_servers_own_origin_is_served,
    wrong_credentials_are_the_usual_401,
    a_tossed_second_refresh_cookie_is_refused_and_this_hosts_cookie_cleared,
    a_clients_own_forwarding_headers_do_not_pass_the_origin_check,
);

/// `POST path` as the frontend sends it: JSON, `X-Requested-With`, and the cookie if any.
async fn session_post(app: &TestApp, path: &str, cookie: Option<&str>, body: &Value) -> Response {
    let mut request = app
        .client
        .post(app.url(path))
        .header("X-Requested-With", "XMLHttpRequest")
        .json(body);
    if let Some(cookie) = cookie {
        request = request.header("Cookie", format!("refresh={cookie}"));
    }
    request.send().await.unwrap()
}

async fn log_in(app: &TestApp) -> Response {
    app.create_user("ada", PASSWORD);
    session_post(
        app,
        "/api/session/",
        None,
        &json!({"username": "ada", "password": PASSWORD}),
    )
    .await
}

/// The `Set-Cookie` header of a response.
fn set_cookie(response: &Response) -> String {
    response.headers()["Set-Cookie"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// The refresh token a `Set-Cookie` header hands out.
fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .strip_prefix("refresh=")
        .and_then(|rest| rest.split(';').next())
        .expect("a refresh cookie")
        .to_owned()
}

async fn logging_in_sets_an_httponly_strict_cookie_and_answers_only_the_access_token(
    backend: Backend,
) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = log_in(&app).await;

    let cookie = set_cookie(&response);
    let refresh = cookie_value(&cookie);
    assert_eq!(
        cookie,
        format!("refresh={refresh}; HttpOnly; SameSite=Strict; Path=/api/session/; Max-Age=86400")
    );
    assert_eq!(payload_of(&refresh)["token_type"], "refresh");
    assert_eq!(response.headers()["Cache-Control"], "no-store");
    let body = json_body(response, 200).await;
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access"]);
    assert_eq!(
        app.get_as("/hello/", body["access"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

async fn the_cookie_is_secure_unless_plain_http_reaches_a_loopback_address(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    app.create_user("ada", PASSWORD);

    let response = app
        .client
        .post(app.url("/api/session/"))
        .header("X-Requested-With", "XMLHttpRequest")
        .header("Host", "app.example")
        .json(&json!({"username": "ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert!(
        set_cookie(&response).contains("; Secure"),
        "{}",
        set_cookie(&response)
    );
}

async fn the_cookie_is_secure_behind_a_tls_proxy(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    app.create_user("ada", PASSWORD);

    let response = app
        .client
        .post(app.url("/api/session/"))
        .header("X-Requested-With", "XMLHttpRequest")
        .header("X-Forwarded-Proto", "https")
        .json(&json!({"username": "ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();

    assert!(
        set_cookie(&response).contains("; Secure"),
        "{}",
        set_cookie(&response)
    );
}

async fn refreshing_with_the_cookie_rotates_it(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let first = cookie_value(&set_cookie(&log_in(&app).await));

    let response = session_post(&app, "/api/session/refresh/", Some(&first), &json!({})).await;

    let second = cookie_value(&set_cookie(&response));
    assert_ne!(second, first);
    let body = json_body(response, 200).await;
    assert!(body["access"].is_string(), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
}

async fn a_replayed_cookie_ends_the_session(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let first = cookie_value(&set_cookie(&log_in(&app).await));
    let rotated = session_post(&app, "/api/session/refresh/", Some(&first), &json!({})).await;
    let second = cookie_value(&set_cookie(&rotated));

    let replay = session_post(&app, "/api/session/refresh/", Some(&first), &json!({})).await;

    assert_json(replay, 401, token_not_valid("Token is blacklisted")).await;
    assert_json(
        session_post(&app, "/api/session/refresh/", Some(&second), &json!({})).await,
        401,
        token_not_valid("Token is blacklisted"),
    )
    .await;
}

async fn logging_out_clears_the_cookie_and_revokes_the_session(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let login = log_in(&app).await;
    let refresh = cookie_value(&set_cookie(&login));
    let access = json_body(login, 200).await["access"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = app
        .client
        .post(app.url("/api/session/logout/"))
        .header("X-Requested-With", "XMLHttpRequest")
        .header("Cookie", format!("refresh={refresh}"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();

    let cleared = set_cookie(&response);
    assert!(cleared.starts_with("refresh=; "), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert!(cleared.contains("Path=/api/session/"), "{cleared}");
    assert_json(response, 200, json!({})).await;
    assert_json(
        app.get_as("/hello/", &access).await,
        401,
        access_token_refused("Token is blacklisted"),
    )
    .await;
    assert_json(
        session_post(&app, "/api/session/refresh/", Some(&refresh), &json!({})).await,
        401,
        token_not_valid("Token is blacklisted"),
    )
    .await;
}

async fn logging_out_without_a_session_just_clears_the_cookie(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = session_post(&app, "/api/session/logout/", None, &json!({})).await;

    assert!(set_cookie(&response).contains("Max-Age=0"));
    assert_json(response, 200, json!({})).await;
}

async fn refreshing_without_a_cookie_is_unauthenticated(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    assert_json(
        session_post(&app, "/api/session/refresh/", None, &json!({})).await,
        401,
        json!({"detail": "Authentication credentials were not provided."}),
    )
    .await;
}

async fn a_session_request_without_x_requested_with_is_forbidden(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    app.create_user("ada", PASSWORD);

    let response = app
        .post_json(
            "/api/session/",
            &json!({"username": "ada", "password": PASSWORD}),
        )
        .await;

    assert_json(
        response,
        403,
        json!({"detail": "CSRF Failed: the X-Requested-With: XMLHttpRequest header is missing."}),
    )
    .await;
}

async fn a_session_request_from_another_origin_is_forbidden(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let refresh = cookie_value(&set_cookie(&log_in(&app).await));

    let response = app
        .client
        .post(app.url("/api/session/refresh/"))
        .header("X-Requested-With", "XMLHttpRequest")
        .header("Origin", "https://evil.example")
        .header("Cookie", format!("refresh={refresh}"))
        .send()
        .await
        .unwrap();

    assert_json(
        response,
        403,
        json!({"detail": "CSRF Failed: Origin checking failed - https://evil.example does not match any trusted origins."}),
    )
    .await;
}

async fn a_session_request_from_the_servers_own_origin_is_served(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    app.create_user("ada", PASSWORD);

    let response = app
        .client
        .post(app.url("/api/session/"))
        .header("X-Requested-With", "XMLHttpRequest")
        .header("Origin", app.address.clone())
        .json(&json!({"username": "ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
}

async fn wrong_credentials_are_the_usual_401(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    app.create_user("ada", PASSWORD);

    assert_json(
        session_post(
            &app,
            "/api/session/",
            None,
            &json!({"username": "ada", "password": "wrong"}),
        )
        .await,
        401,
        json!({"detail": "No active account found with the given credentials"}),
    )
    .await;
}

async fn a_tossed_second_refresh_cookie_is_refused_and_this_hosts_cookie_cleared(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let victims = cookie_value(&set_cookie(&log_in(&app).await));
    app.create_user("mallory", PASSWORD);
    let attackers = app.obtain_pair("mallory", PASSWORD).await.refresh;

    // A sibling subdomain set its own `refresh` cookie for this path: the browser sends both.
    for cookies in [
        format!("refresh={attackers}; refresh={victims}"),
        format!("refresh={victims}; refresh={attackers}"),
    ] {
        let response = app
            .client
            .post(app.url("/api/session/refresh/"))
            .header("X-Requested-With", "XMLHttpRequest")
            .header("Cookie", cookies)
            .send()
            .await
            .unwrap();

        assert!(
            set_cookie(&response).starts_with("refresh=; "),
            "{}",
            set_cookie(&response)
        );
        assert_json(
            response,
            401,
            json!({"detail": "Two session cookies were sent, and this server cannot tell which is its own: log in again."}),
        )
        .await;
    }
}

async fn a_clients_own_forwarding_headers_do_not_pass_the_origin_check(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    app.create_user("ada", PASSWORD);

    let response = app
        .client
        .post(app.url("/api/session/"))
        .header("X-Requested-With", "XMLHttpRequest")
        .header("Origin", "https://evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "https")
        .header("Forwarded", "proto=https;host=evil.example")
        .json(&json!({"username": "ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();

    assert_json(
        response,
        403,
        json!({"detail": "CSRF Failed: Origin checking failed - https://evil.example does not match any trusted origins."}),
    )
    .await;
}
