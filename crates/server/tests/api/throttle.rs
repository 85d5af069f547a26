//! Every path that checks a password is limited in the server itself: log in (`/api/token/`
//! and `/api/session/`, per username and client address) and password change (per user).

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::*;

every_database!(
    guessing_the_old_password_through_the_session_counts_with_the_api_alike,
    guessing_the_old_password_is_throttled_after_five_wrong_guesses,
    guessing_a_password_at_log_in_is_throttled_per_username_and_address,
    a_successful_log_in_forgets_the_failures,
    the_session_log_in_counts_the_same_failures_as_the_token_log_in,
    another_forwarded_address_does_not_reset_the_count_without_a_trusted_proxy,
    behind_a_trusted_proxy_each_client_address_is_counted_apart,
    concurrent_guesses_cannot_all_slip_past_the_limit,
);

const WRONG: &str = "not-the-password-at-all";
const NEW: &str = "a-brand-new-horse-battery";

/// A 429 in DRF's shape, with a `Retry-After` of at most `window` seconds.
async fn assert_throttled(response: Response, window: u64) {
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["Retry-After"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=window).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"detail": format!("Request was throttled. Expected available in {retry_after} seconds.")})
    );
}

async fn log_in_from(app: &TestApp, password: &str, forwarded_for: &str) -> Response {
    app.client
        .post(app.url("/api/token/"))
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({"username": "ada", "password": password}))
        .send()
        .await
        .unwrap()
}

async fn guessing_the_old_password_is_throttled_after_five_wrong_guesses(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;
    for _ in 0..5 {
        assert_eq!(
            app.change_password(&pair.access, WRONG, NEW).await.status(),
            400
        );
    }

    // Even the right password: a stolen access token buys five guesses, not a takeover.
    assert_throttled(app.change_password(&pair.access, PASSWORD, NEW).await, 900).await;
}

async fn guessing_the_old_password_through_the_session_counts_with_the_api_alike(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;
    for _ in 0..3 {
        let guess = app.session_change_password(&pair.access, WRONG, NEW).await;
        assert_eq!(guess.status(), 400);
    }
    for _ in 0..2 {
        assert_eq!(
            app.change_password(&pair.access, WRONG, NEW).await.status(),
            400
        );
    }

    // One count for every path that checks the old password.
    assert_throttled(
        app.session_change_password(&pair.access, PASSWORD, NEW)
            .await,
        900,
    )
    .await;
}

async fn guessing_a_password_at_log_in_is_throttled_per_username_and_address(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("LOGIN_THROTTLE_FAILURES", "3")]).await;
    app.create_user("ada", PASSWORD);
    app.create_user("bob", PASSWORD);
    for _ in 0..3 {
        assert_eq!(app.obtain("ada", WRONG).await.status(), 401);
    }

    assert_throttled(app.obtain("ada", PASSWORD).await, 300).await;
    // Nobody can lock bob out by guessing ada's password.
    assert_eq!(app.obtain("bob", PASSWORD).await.status(), 200);
}

async fn a_successful_log_in_forgets_the_failures(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("LOGIN_THROTTLE_FAILURES", "3")]).await;
    app.create_user("ada", PASSWORD);
    for _ in 0..2 {
        assert_eq!(app.obtain("ada", WRONG).await.status(), 401);
    }
    assert_eq!(app.obtain("ada", PASSWORD).await.status(), 200);

    for _ in 0..2 {
        assert_eq!(app.obtain("ada", WRONG).await.status(), 401);
    }
    assert_eq!(app.obtain("ada", PASSWORD).await.status(), 200);
}

async fn the_session_log_in_counts_the_same_failures_as_the_token_log_in(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("LOGIN_THROTTLE_FAILURES", "3")]).await;
    app.create_user("ada", PASSWORD);
    for _ in 0..3 {
        assert_eq!(app.obtain("ada", WRONG).await.status(), 401);
    }

    let session = app
        .client
        .post(app.url("/api/session/"))
        .header("X-Requested-With", "XMLHttpRequest")
        .json(&json!({"username": "ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_throttled(session, 300).await;
}

async fn another_forwarded_address_does_not_reset_the_count_without_a_trusted_proxy(
    backend: Backend,
) {
    let app = TestApp::spawn_with(&backend, &[("LOGIN_THROTTLE_FAILURES", "3")]).await;
    app.create_user("ada", PASSWORD);
    for address in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        assert_eq!(log_in_from(&app, WRONG, address).await.status(), 401);
    }

    assert_throttled(log_in_from(&app, PASSWORD, "198.51.100.4").await, 300).await;
}

async fn behind_a_trusted_proxy_each_client_address_is_counted_apart(backend: Backend) {
    let app = TestApp::spawn_with(
        &backend,
        &[
            ("LOGIN_THROTTLE_FAILURES", "3"),
            ("TRUSTED_PROXIES", "127.0.0.1/32"),
        ],
    )
    .await;
    app.create_user("ada", PASSWORD);
    for _ in 0..3 {
        assert_eq!(log_in_from(&app, WRONG, "198.51.100.1").await.status(), 401);
    }

    assert_throttled(log_in_from(&app, PASSWORD, "198.51.100.1").await, 300).await;
    assert_eq!(
        log_in_from(&app, PASSWORD, "198.51.100.2").await.status(),
        200
    );
}

async fn concurrent_guesses_cannot_all_slip_past_the_limit(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;

    let answers = futures_util::future::join_all(
        (0..10).map(|_| app.change_password(&pair.access, WRONG, NEW)),
    )
    .await;

    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [400, 400, 400, 400, 400, 429, 429, 429, 429, 429]);
}
