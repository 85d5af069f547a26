//! Browser sessions: `/api/session/...` keeps the refresh token in an HttpOnly cookie that the
//! page's JavaScript never sees, and refuses requests another site could have made.

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::*;

every_database!(
    logging_in_sets_an_httponly_strict_cookie_and_answers_the_access_token_and_the_session_times,
    refreshing_tells_the_new_refresh_tokens_expiry_and_the_same_session_end,
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
    a_session_ended_by_logging_out_everywhere_says_so,
    a_session_ended_by_a_password_change_elsewhere_says_so,
    a_session_of_a_deactivated_account_says_so,
    a_session_past_its_family_lifetime_says_it_is_too_old,
    the_token_endpoints_answer_a_replay_as_simplejwt_does_without_a_reason,
    a_password_change_in_the_session_sets_a_new_cookie_and_ends_every_other_session,
    a_wrong_old_password_in_the_session_is_djangos_400_and_keeps_the_cookie,
    a_session_password_change_without_x_requested_with_is_forbidden,
    a_session_password_change_from_another_site_is_refused_before_its_token_is_read,
);

/// The 403 of a session request without `X-Requested-With`.
fn missing_x_requested_with() -> Value {
    json!({"detail": "CSRF Failed: the X-Requested-With: XMLHttpRequest header is missing."})
}

/// A session endpoint's 401 for a session that ended: simplejwt's body, and why.
fn session_ended(detail: &str, reason: &str) -> Value {
    let mut body = token_not_valid(detail);
    body["reason"] = json!(reason);
    body
}

/// `POST /api/session/refresh/` with `cookie`, as the frontend sends it.
async fn refresh_session(app: &TestApp, cookie: &str) -> Response {
    session_post(app, "/api/session/refresh/", Some(cookie), &json!({})).await
}

/// Logs `username` in through the session endpoint; returns the refresh cookie and the access
/// token.
async fn session_of(app: &TestApp, username: &str) -> (String, String) {
    let response = session_post(
        app,
        "/api/session/",
        None,
        &json!({"username": username, "password": PASSWORD}),
    )
    .await;
    let refresh = cookie_value(&set_cookie(&response));
    let access = json_body(response, 200).await["access"]
        .as_str()
        .unwrap()
        .to_owned();
    (refresh, access)
}

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

async fn logging_in_sets_an_httponly_strict_cookie_and_answers_the_access_token_and_the_session_times(
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
    assert_eq!(keys, ["access", "refresh_expires", "session_expires"]);
    let refresh_claims = payload_of(&refresh);
    assert_eq!(body["refresh_expires"], refresh_claims["exp"]);
    // The family's lifetime, a week by default, from the same moment as the day of the token.
    assert_eq!(
        body["session_expires"].as_i64().unwrap(),
        refresh_claims["iat"].as_i64().unwrap() + 7 * 24 * 60 * 60
    );
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

    let response = refresh_session(&app, &first).await;

    let second = cookie_value(&set_cookie(&response));
    assert_ne!(second, first);
    let body = json_body(response, 200).await;
    assert!(body["access"].is_string(), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
}

async fn refreshing_tells_the_new_refresh_tokens_expiry_and_the_same_session_end(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let login = log_in(&app).await;
    let first = cookie_value(&set_cookie(&login));
    let logged_in = json_body(login, 200).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let response = refresh_session(&app, &first).await;

    let second = cookie_value(&set_cookie(&response));
    let body = json_body(response, 200).await;
    assert_eq!(body["refresh_expires"], payload_of(&second)["exp"]);
    assert!(body["refresh_expires"].as_i64() > logged_in["refresh_expires"].as_i64());
    assert_eq!(body["session_expires"], logged_in["session_expires"]);
}

async fn a_replayed_cookie_ends_the_session(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let first = cookie_value(&set_cookie(&log_in(&app).await));
    let rotated = refresh_session(&app, &first).await;
    let second = cookie_value(&set_cookie(&rotated));

    let replay = refresh_session(&app, &first).await;

    assert_json(
        replay,
        401,
        session_ended("Token is blacklisted", "replayed"),
    )
    .await;
    assert_json(
        refresh_session(&app, &second).await,
        401,
        session_ended("Token is blacklisted", "replayed"),
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
        refresh_session(&app, &refresh).await,
        401,
        session_ended("Token is blacklisted", "logged_out"),
    )
    .await;
}

async fn a_session_ended_by_logging_out_everywhere_says_so(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    app.create_user("ada", PASSWORD);
    let (refresh, _) = session_of(&app, "ada").await;
    let elsewhere = app.obtain_pair("ada", PASSWORD).await;

    assert_eq!(
        app.log_out_everywhere(&elsewhere.access).await.status(),
        200
    );

    assert_json(
        refresh_session(&app, &refresh).await,
        401,
        session_ended("Token is blacklisted", "logged_out_everywhere"),
    )
    .await;
}

async fn a_session_ended_by_a_password_change_elsewhere_says_so(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    app.create_user("ada", PASSWORD);
    let (refresh, _) = session_of(&app, "ada").await;
    let elsewhere = app.obtain_pair("ada", PASSWORD).await;

    let changed = app
        .change_password(&elsewhere.access, PASSWORD, "a-whole-new-passphrase")
        .await;
    assert_eq!(changed.status(), 200);

    assert_json(
        refresh_session(&app, &refresh).await,
        401,
        session_ended("Token is blacklisted", "password_changed"),
    )
    .await;
}

async fn a_session_of_a_deactivated_account_says_so(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    app.create_user("ada", PASSWORD);
    let (refresh, _) = session_of(&app, "ada").await;

    app.deactivate("ada");

    assert_json(
        refresh_session(&app, &refresh).await,
        401,
        json!({
            "detail": "No active account found for the given token.",
            "reason": "deactivated",
        }),
    )
    .await;
}

async fn a_session_past_its_family_lifetime_says_it_is_too_old(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_REFRESH_FAMILY_LIFETIME", "1")]).await;
    app.create_user("ada", PASSWORD);
    let (refresh, _) = session_of(&app, "ada").await;

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    assert_json(
        refresh_session(&app, &refresh).await,
        401,
        session_ended("Token is expired", "session_too_old"),
    )
    .await;
}

async fn the_token_endpoints_answer_a_replay_as_simplejwt_does_without_a_reason(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let first = app.user_with_tokens().await;
    assert_eq!(app.refresh(&first.refresh).await.status(), 200);

    assert_json(
        app.refresh(&first.refresh).await,
        401,
        token_not_valid("Token is blacklisted"),
    )
    .await;
}

async fn a_password_change_in_the_session_sets_a_new_cookie_and_ends_every_other_session(
    backend: Backend,
) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    app.create_user("ada", PASSWORD);
    let (old_cookie, access) = session_of(&app, "ada").await;
    let elsewhere = app.obtain_pair("ada", PASSWORD).await;

    let response = app
        .session_change_password(&access, PASSWORD, "a-whole-new-passphrase")
        .await;

    let new_cookie = cookie_value(&set_cookie(&response));
    assert_ne!(new_cookie, old_cookie);
    assert_eq!(response.headers()["Cache-Control"], "no-store");
    let body = json_body(response, 200).await;
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access", "refresh_expires", "session_expires"]);
    assert_eq!(
        app.get_as("/hello/", body["access"].as_str().unwrap())
            .await
            .status(),
        200
    );
    assert_json(
        refresh_session(&app, &old_cookie).await,
        401,
        session_ended("Token is blacklisted", "password_changed"),
    )
    .await;
    assert_eq!(app.refresh(&elsewhere.refresh).await.status(), 401);
    assert_eq!(refresh_session(&app, &new_cookie).await.status(), 200);
}

async fn a_wrong_old_password_in_the_session_is_djangos_400_and_keeps_the_cookie(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    app.create_user("ada", PASSWORD);
    let (cookie, access) = session_of(&app, "ada").await;

    let response = app
        .session_change_password(&access, "not-the-password", "a-whole-new-passphrase")
        .await;

    assert!(response.headers().get("Set-Cookie").is_none());
    assert_json(
        response,
        400,
        json!({"old_password": ["Your old password was entered incorrectly. Please enter it again."]}),
    )
    .await;
    assert_eq!(refresh_session(&app, &cookie).await.status(), 200);
}

async fn a_session_password_change_without_x_requested_with_is_forbidden(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    app.create_user("ada", PASSWORD);
    let (_, access) = session_of(&app, "ada").await;

    let response = app
        .client
        .post(app.url("/api/session/password/"))
        .bearer_auth(&access)
        .json(&json!({"old_password": PASSWORD, "new_password": "a-whole-new-passphrase"}))
        .send()
        .await
        .unwrap();

    assert_json(response, 403, missing_x_requested_with()).await;
}

async fn a_session_password_change_from_another_site_is_refused_before_its_token_is_read(
    backend: Backend,
) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = app
        .client
        .post(app.url("/api/session/password/"))
        .header("Content-Type", "text/plain")
        .body("not even json")
        .send()
        .await
        .unwrap();

    assert_json(response, 403, missing_x_requested_with()).await;
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

    assert_json(response, 403, missing_x_requested_with()).await;
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
