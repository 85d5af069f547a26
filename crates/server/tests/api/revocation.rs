//! Revoking what simplejwt leaves valid: the access token of a logged-out session, every
//! session at once, every session but this one after a password change.

use serde_json::json;

use crate::helpers::*;

every_database!(
    logging_out_with_the_access_token_refuses_it_from_then_on,
    logging_out_without_families_refuses_the_access_token_too,
    an_invalid_access_token_beside_a_logout_changes_nothing,
    another_users_access_token_beside_a_logout_is_left_alone,
    an_access_token_beside_a_refused_refresh_token_is_left_alone,
    logging_out_everywhere_ends_every_session,
    logging_out_everywhere_needs_a_token,
    a_password_change_ends_every_other_session_and_goes_on_with_a_fresh_pair,
    a_wrong_old_password_is_djangos_400,
    a_new_password_is_checked_by_djangos_rules,
    both_password_problems_are_reported_together,
    a_password_change_needs_both_fields,
    with_check_revoke_token_an_old_refresh_token_is_refused_after_a_password_change,
);

every_database_and_mode!(
    a_token_issued_in_the_very_second_of_a_log_out_everywhere_is_refused_too,
    a_session_deactivated_in_the_second_it_started_stays_ended_after_reactivation,
    a_log_in_right_after_logging_out_everywhere_works,
    logging_out_everywhere_ends_every_access_token_of_a_family_or_not,
    a_password_change_ends_every_earlier_token_and_keeps_the_pair_it_returns,
    deactivation_ends_every_session_and_reactivation_does_not_bring_it_back,
);

every_database!(
    a_session_checked_against_a_password_changed_meanwhile_is_not_recorded,
    of_two_concurrent_password_changes_only_one_succeeds,
);

// The tests of "the very second" start a second (`next_second`) and do all their steps
// within it; with bcrypt at the tests' cost that takes milliseconds. Were the second to turn
// in between, they would still pass: the point is that no step may depend on it.

async fn a_token_issued_in_the_very_second_of_a_log_out_everywhere_is_refused_too(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    app.create_user("ada", PASSWORD);
    next_second().await;
    let pair = app.obtain_pair("ada", PASSWORD).await;

    assert_eq!(app.log_out_everywhere(&pair.access).await.status(), 200);

    assert_json(
        app.get_as("/hello/", &pair.access).await,
        401,
        access_token_refused("Token is blacklisted"),
    )
    .await;
}

async fn a_session_deactivated_in_the_second_it_started_stays_ended_after_reactivation(
    setup: Setup,
) {
    let app = TestApp::spawn(&setup).await;
    app.create_user("ada", PASSWORD);
    next_second().await;
    let pair = app.obtain_pair("ada", PASSWORD).await;

    app.deactivate("ada");
    app.set_active("ada", true);

    assert_json(
        app.get_as("/hello/", &pair.access).await,
        401,
        access_token_refused("Token is blacklisted"),
    )
    .await;
}

async fn a_log_in_right_after_logging_out_everywhere_works(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    app.create_user("ada", PASSWORD);
    next_second().await;
    let old = app.obtain_pair("ada", PASSWORD).await;
    assert_eq!(app.log_out_everywhere(&old.access).await.status(), 200);

    // Issued after the second of the log out everywhere, or it would be refused with it.
    let again = app.obtain_pair("ada", PASSWORD).await;

    assert_eq!(app.get_as("/hello/", &again.access).await.status(), 200);
    assert_eq!(app.refresh(&again.refresh).await.status(), 200);
}

async fn of_two_concurrent_password_changes_only_one_succeeds(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let first = app.user_with_tokens().await;
    let second = app.obtain_pair("ada", PASSWORD).await;

    let (one, other) = tokio::join!(
        app.change_password(&first.access, PASSWORD, "the-first-new-passphrase"),
        app.change_password(&second.access, PASSWORD, "the-second-new-passphrase"),
    );

    let (winner, loser) = if one.status() == 200 {
        (one, other)
    } else {
        (other, one)
    };
    assert_eq!(winner.status(), 200);
    // The loser was checked after the winner's write: the old password no longer matches
    // (400), or, when the winner had committed before the loser's token was even read, the
    // loser's session had already ended with it (401). Either way only one change is made.
    if loser.status() == 400 {
        assert_json(
            loser,
            400,
            json!({"old_password": ["Your old password was entered incorrectly. Please enter it again."]}),
        )
        .await;
    } else {
        assert_json(loser, 401, access_token_refused("Token is blacklisted")).await;
    }
}

async fn blacklist_with_access(app: &TestApp, refresh: &str, access: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/token/blacklist/"))
        .bearer_auth(access)
        .json(&json!({"refresh": refresh}))
        .send()
        .await
        .unwrap()
}

async fn logging_out_with_the_access_token_refuses_it_from_then_on(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;

    let logout = blacklist_with_access(&app, &pair.refresh, &pair.access).await;

    assert_json(logout, 200, json!({})).await;
    assert_json(
        app.get_as("/hello/", &pair.access).await,
        401,
        access_token_refused("Token is blacklisted"),
    )
    .await;
}

async fn logging_out_without_families_refuses_the_access_token_too(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_REFRESH_REUSE_DETECTION", "false")]).await;
    let pair = app.user_with_tokens().await;
    let other = app.obtain_pair("ada", PASSWORD).await;

    assert_json(
        blacklist_with_access(&app, &pair.refresh, &pair.access).await,
        200,
        json!({}),
    )
    .await;

    assert_json(
        app.get_as("/hello/", &pair.access).await,
        401,
        access_token_refused("Token is blacklisted"),
    )
    .await;
    // Only that token: the other session's access token still works.
    assert_eq!(app.get_as("/hello/", &other.access).await.status(), 200);
}

async fn an_invalid_access_token_beside_a_logout_changes_nothing(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;

    let logout = blacklist_with_access(&app, &pair.refresh, "not-a-token").await;

    assert_json(logout, 200, json!({})).await;
}

async fn logging_out_everywhere_ends_every_session(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let laptop = app.user_with_tokens().await;
    let phone = app.obtain_pair("ada", PASSWORD).await;
    app.create_user("bob", PASSWORD);
    let bob = app.obtain_pair("bob", PASSWORD).await;

    let response = app.log_out_everywhere(&laptop.access).await;

    assert_json(response, 200, json!({})).await;
    for pair in [&laptop, &phone] {
        assert_json(
            app.refresh(&pair.refresh).await,
            401,
            token_not_valid("Token is blacklisted"),
        )
        .await;
        assert_json(
            app.get_as("/hello/", &pair.access).await,
            401,
            access_token_refused("Token is blacklisted"),
        )
        .await;
    }
    assert_eq!(app.get_as("/hello/", &bob.access).await.status(), 200);
}

async fn logging_out_everywhere_needs_a_token(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    assert_json(
        app.post_json("/api/logout/all/", &json!({})).await,
        401,
        json!({"detail": "Authentication credentials were not provided."}),
    )
    .await;
}

const NEW_PASSWORD: &str = "a-brand-new-passphrase";

async fn a_password_change_ends_every_other_session_and_goes_on_with_a_fresh_pair(
    backend: Backend,
) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let here = app.user_with_tokens().await;
    let elsewhere = app.obtain_pair("ada", PASSWORD).await;

    let response = app
        .change_password(&here.access, PASSWORD, NEW_PASSWORD)
        .await;

    assert_eq!(response.headers()["Cache-Control"], "no-store");
    let fresh = json_body(response, 200).await;
    let keys: Vec<&String> = fresh.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["refresh", "access"]);
    assert_eq!(
        app.get_as("/hello/", fresh["access"].as_str().unwrap())
            .await
            .status(),
        200
    );
    for pair in [&here, &elsewhere] {
        assert_json(
            app.get_as("/hello/", &pair.access).await,
            401,
            access_token_refused("Token is blacklisted"),
        )
        .await;
        assert_json(
            app.refresh(&pair.refresh).await,
            401,
            token_not_valid("Token is blacklisted"),
        )
        .await;
    }
    assert_eq!(app.obtain("ada", PASSWORD).await.status(), 401);
    app.obtain_pair("ada", NEW_PASSWORD).await;
}

async fn a_wrong_old_password_is_djangos_400(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;

    assert_json(
        app.change_password(&pair.access, "not-the-password", NEW_PASSWORD).await,
        400,
        json!({"old_password": ["Your old password was entered incorrectly. Please enter it again."]}),
    )
    .await;
    assert_eq!(app.get_as("/hello/", &pair.access).await.status(), 200);
}

async fn a_new_password_is_checked_by_djangos_rules(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;

    assert_json(
        app.change_password(&pair.access, PASSWORD, "12345678").await,
        400,
        json!({"new_password": ["This password is too common.", "This password is entirely numeric."]}),
    )
    .await;
}

async fn both_password_problems_are_reported_together(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;

    assert_json(
        app.change_password(&pair.access, "wrong-old-one", "short")
            .await,
        400,
        json!({
            "old_password": ["Your old password was entered incorrectly. Please enter it again."],
            "new_password": ["This password is too short. It must contain at least 8 characters."],
        }),
    )
    .await;
}

async fn a_password_change_needs_both_fields(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;

    let response = app
        .client
        .post(app.url("/api/password/change/"))
        .bearer_auth(&pair.access)
        .json(&json!({}))
        .send()
        .await
        .unwrap();

    assert_json(
        response,
        400,
        json!({"old_password": ["This field is required."], "new_password": ["This field is required."]}),
    )
    .await;
}

async fn with_check_revoke_token_an_old_refresh_token_is_refused_after_a_password_change(
    backend: Backend,
) {
    // simplejwt's main branch refuses it on refresh with `password_changed`.
    let settings = [
        ("JWT_CHECK_REVOKE_TOKEN", "true"),
        ("JWT_REFRESH_REUSE_DETECTION", "false"),
    ];
    let app = TestApp::spawn_with(&backend, &settings).await;
    let pair = app.user_with_tokens().await;
    app.set_password("ada", NEW_PASSWORD);

    assert_json(
        app.refresh(&pair.refresh).await,
        401,
        json!({"detail": "The user's password has been changed."}),
    )
    .await;
}

async fn logging_out_everywhere_ends_every_access_token_of_a_family_or_not(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let laptop = app.user_with_tokens().await;
    let phone = app.obtain_pair("ada", PASSWORD).await;
    next_second().await;

    assert_json(app.log_out_everywhere(&laptop.access).await, 200, json!({})).await;

    for pair in [&laptop, &phone] {
        assert_json(
            app.get_as("/hello/", &pair.access).await,
            401,
            access_token_refused("Token is blacklisted"),
        )
        .await;
    }
}

async fn a_password_change_ends_every_earlier_token_and_keeps_the_pair_it_returns(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    app.create_user("ada", PASSWORD);
    // Issued in the very second of the change: it may have come before it, so it ends too.
    next_second().await;
    let old = app.obtain_pair("ada", PASSWORD).await;

    let changed = app
        .change_password(&old.access, PASSWORD, "a-brand-new-horse-battery")
        .await;
    let fresh = json_body(changed, 200).await;

    assert_json(
        app.get_as("/hello/", &old.access).await,
        401,
        access_token_refused("Token is blacklisted"),
    )
    .await;
    let fresh_access = fresh["access"].as_str().unwrap();
    assert_eq!(app.get_as("/hello/", fresh_access).await.status(), 200);
    let fresh_refresh = fresh["refresh"].as_str().unwrap();
    assert_eq!(app.refresh(fresh_refresh).await.status(), 200);
}

async fn deactivation_ends_every_session_and_reactivation_does_not_bring_it_back(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;
    next_second().await;

    app.deactivate("ada");
    app.set_active("ada", true);

    assert_json(
        app.get_as("/hello/", &pair.access).await,
        401,
        access_token_refused("Token is blacklisted"),
    )
    .await;
    assert_json(
        app.refresh(&pair.refresh).await,
        401,
        token_not_valid("Token is blacklisted"),
    )
    .await;
    assert_eq!(app.obtain("ada", PASSWORD).await.status(), 200);
}

async fn another_users_access_token_beside_a_logout_is_left_alone(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let victim = app.user_with_tokens().await;
    app.create_user("mallory", PASSWORD);
    let attacker = app.obtain_pair("mallory", PASSWORD).await;

    // Mallory logs out her own session, sending the victim's access token along.
    let logout = blacklist_with_access(&app, &attacker.refresh, &victim.access).await;

    assert_json(logout, 200, json!({})).await;
    assert_eq!(app.get_as("/hello/", &victim.access).await.status(), 200);
}

async fn an_access_token_beside_a_refused_refresh_token_is_left_alone(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;

    let logout = blacklist_with_access(&app, "not-a-token", &pair.access).await;

    assert_json(logout, 401, token_not_valid("Token is invalid")).await;
    assert_eq!(app.get_as("/hello/", &pair.access).await.status(), 200);
}

async fn a_session_checked_against_a_password_changed_meanwhile_is_not_recorded(backend: Backend) {
    use server::db::families;
    use server::db::tokens::OutstandingToken;
    use server::db::users;

    let app = TestApp::spawn_with(&backend, &[("JWT_REFRESH_REUSE_DETECTION", "false")]).await;
    app.create_user("ada", PASSWORD);
    let mut conn = app.connection();
    let checked = users::find_by_username(&mut conn, "ada").unwrap().unwrap();
    let session = |jti: &str| OutstandingToken {
        user_id: Some(checked.id),
        jti: jti.to_owned(),
        token: "a.refresh.token".to_owned(),
        created_at: None,
        expires_at: chrono::Utc::now().naive_utc(),
        family_id: None,
    };

    // A log in checked the old password; the password changed before it recorded its session.
    app.set_password("ada", "another-horse-battery");
    let stale = families::record_session(
        &mut conn,
        checked.id,
        &checked.password,
        None,
        &session("a".repeat(32).as_str()),
        None,
    );

    assert!(
        !stale.unwrap(),
        "a session of the old password was recorded"
    );
    assert!(app.outstanding(&"a".repeat(32)).is_none());
    let current = users::find_by_username(&mut conn, "ada").unwrap().unwrap();
    let fresh = families::record_session(
        &mut conn,
        current.id,
        &current.password,
        None,
        &session("b".repeat(32).as_str()),
        None,
    );
    assert!(fresh.unwrap());
}
