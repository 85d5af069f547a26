//! The tests of the book's exercises (`docs/src/exercises.md` shows each one from here). They
//! are compiled with every test run, so they always fit the current helpers, and ignored,
//! since each fails until its exercise is solved. Run one with
//! `cargo test -p server --test api exercises::NAME -- --ignored`; once it passes, move it next
//! to the tests of its feature and register it there.

use std::process::Command;

use diesel::RunQueryDsl;
use serde_json::json;

use crate::helpers::*;

/// Registers each exercise's test on SQLite, ignored until the exercise is solved: an
/// `async fn(Setup)` after `setup:` (it must pass in both token modes), an `async fn(Backend)`
/// after `families:` (it needs token families, which simplejwt's defaults do not make).
macro_rules! exercises {
    (setup: $($test:ident),+ ; families: $($family_test:ident),+ $(,)?) => {
        $(
            mod $test {
                #[actix_web::test]
                #[ignore = "an exercise of the book: it fails until you solve it"]
                async fn sqlite() {
                    let setup = crate::helpers::Setup {
                        backend: crate::helpers::Backend::Sqlite,
                        mode: crate::helpers::Mode::Rotating,
                    };
                    super::$test(setup).await
                }
            }
        )+
        $(
            mod $family_test {
                #[actix_web::test]
                #[ignore = "an exercise of the book: it fails until you solve it"]
                async fn sqlite() {
                    super::$family_test(crate::helpers::Backend::Sqlite).await
                }
            }
        )+
    };
}

exercises!(
    setup:
        tokens_carry_the_username,
        only_staff_may_list_users,
        decode_shows_a_token_and_the_servers_verdict,
        an_email_address_logs_in,
        five_failed_logins_throttle_the_account;
    families:
        sessions_are_listed_and_one_is_revoked,
        an_idle_session_ends,
        logging_out_the_others_keeps_this_session,
);

// ANCHOR: username_claim
async fn tokens_carry_the_username(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    app.create_user("ada", PASSWORD);
    app.create_user("grace", PASSWORD);
    for name in ["ada", "grace"] {
        let pair = app.obtain_pair(name, PASSWORD).await;
        assert_eq!(payload_of(&pair.access)["username"], name);
        assert_eq!(payload_of(&pair.refresh)["username"], name);
    }
}
// ANCHOR_END: username_claim

// ANCHOR: staff_only
async fn only_staff_may_list_users(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;
    assert_json(
        app.get_as("/api/users/", &pair.access).await,
        403,
        json!({"detail": "You do not have permission to perform this action."}),
    )
    .await;

    // A handler that always answers 403 must not pass: staff gets the list.
    app.create_user("grace", PASSWORD);
    diesel::sql_query("UPDATE users SET is_staff = TRUE WHERE username = 'grace'")
        .execute(&mut app.connection())
        .unwrap();
    let staff = app.obtain_pair("grace", PASSWORD).await;
    assert_json(
        app.get_as("/api/users/", &staff.access).await,
        200,
        json!([
            {"id": 1, "username": "ada", "is_active": true},
            {"id": 2, "username": "grace", "is_active": true},
        ]),
    )
    .await;
}
// ANCHOR_END: staff_only

// ANCHOR: decode_command
async fn decode_shows_a_token_and_the_servers_verdict(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;
    let decode = |token: &str| {
        Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["decode", token])
            .env("SECRET_KEY", SECRET)
            .env("DATABASE_URL", app.database_url_text())
            .output()
            .expect("the server binary runs")
    };

    let valid = decode(&pair.access);
    let text = String::from_utf8_lossy(&valid.stdout);
    assert!(valid.status.success(), "{text}");
    assert!(text.contains("\"token_type\": \"access\""), "{text}");
    assert_eq!(
        text.lines().last(),
        Some("valid: an access token of user 1")
    );

    let forged = sign_with(
        &claims_for("access", 1),
        "another-key-0123456789abcdef-0123456789",
    );
    let refused = decode(&forged);
    assert_eq!(refused.status.code(), Some(1));
    let text = String::from_utf8_lossy(&refused.stdout);
    assert_eq!(text.lines().last(), Some("refused: Token is invalid"));
}
// ANCHOR_END: decode_command

// ANCHOR: email_login
async fn an_email_address_logs_in(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    // The address and the name differ: the address must be stored, not derived.
    let created = app
        .post_json(
            "/api/register/",
            &json!({"username": "ada", "email": "countess@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(created.status(), 201);

    let by_email = json!({"email": "countess@example.com", "password": PASSWORD});
    let pair = json_body(app.post_json("/api/token/", &by_email).await, 200).await;
    assert_eq!(payload_of(pair["access"].as_str().unwrap())["user_id"], "1");

    let wrong = json!({"email": "ada@example.com", "password": PASSWORD});
    assert_json(
        app.post_json("/api/token/", &wrong).await,
        401,
        json!({"detail": "No active account found with the given credentials"}),
    )
    .await;
}
// ANCHOR_END: email_login

// ANCHOR: sessions_list
async fn sessions_are_listed_and_one_is_revoked(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let mine = app.user_with_tokens().await;
    let other = app.obtain_pair("ada", PASSWORD).await;

    let listed = json_body(app.get_as("/api/sessions/", &mine.access).await, 200).await;
    let sessions = listed.as_array().expect("a list");
    assert_eq!(sessions.len(), 2);
    let other_id = payload_of(&other.refresh)["family_id"].clone();
    assert!(
        sessions
            .iter()
            .any(|s| s["id"] == other_id && s["current"] == false)
    );

    let revoke = app
        .client
        .post(app.url(&format!(
            "/api/sessions/{}/revoke/",
            other_id.as_str().unwrap()
        )))
        .bearer_auth(&mine.access)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    assert_json(
        app.refresh(&other.refresh).await,
        401,
        token_not_valid("Token is blacklisted"),
    )
    .await;
    assert_eq!(app.refresh(&mine.refresh).await.status(), 200);
}
// ANCHOR_END: sessions_list

// ANCHOR: idle_timeout
async fn an_idle_session_ends(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_REFRESH_IDLE_TIMEOUT", "1")]).await;
    let pair = app.user_with_tokens().await;

    tokio::time::sleep(std::time::Duration::from_secs(2)).await;

    assert_json(
        app.refresh(&pair.refresh).await,
        401,
        token_not_valid("Token is expired"),
    )
    .await;
}
// ANCHOR_END: idle_timeout

// ANCHOR: logout_others
async fn logging_out_the_others_keeps_this_session(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let here = app.user_with_tokens().await;
    let elsewhere = app.obtain_pair("ada", PASSWORD).await;

    let response = app
        .client
        .post(app.url("/api/logout/others/"))
        .bearer_auth(&here.access)
        .send()
        .await
        .unwrap();

    assert_json(response, 200, json!({})).await;
    assert_json(
        app.refresh(&elsewhere.refresh).await,
        401,
        token_not_valid("Token is blacklisted"),
    )
    .await;
    assert_eq!(app.refresh(&here.refresh).await.status(), 200);
}
// ANCHOR_END: logout_others

// ANCHOR: throttling
async fn five_failed_logins_throttle_the_account(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    app.create_user("ada", PASSWORD);
    app.create_user("bob", PASSWORD);
    for _ in 0..5 {
        assert_eq!(app.obtain("ada", "not-the-password").await.status(), 401);
    }

    assert_json(
        app.obtain("ada", PASSWORD).await,
        429,
        json!({"detail": "Request was throttled. Expected available in 900 seconds."}),
    )
    .await;
    assert_eq!(app.obtain("bob", PASSWORD).await.status(), 200);
}
// ANCHOR_END: throttling
