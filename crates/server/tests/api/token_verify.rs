//! `POST /api/token/verify/`: simplejwt's `TokenVerifyView`.

use serde_json::json;

use crate::helpers::*;

every_database_and_mode!(
    a_valid_access_token_verifies,
    a_valid_refresh_token_verifies,
    garbage_is_invalid,
    an_expired_token_is_expired,
    a_token_with_alg_none_is_invalid,
    a_missing_token_field_is_required,
);

every_database!(
    tokens_without_a_family_issued_before_log_out_everywhere_are_blacklisted_to_verify,
    a_blacklisted_token_is_a_400_when_blacklisting_after_rotation,
    a_blacklisted_token_still_verifies_under_simplejwt_defaults,
    a_refresh_token_of_a_family_ended_by_reuse_is_blacklisted_to_verify,
    a_refresh_token_of_a_family_ended_by_log_out_everywhere_is_blacklisted_to_verify,
    an_inactive_users_token_still_verifies_as_in_simplejwt,
    a_token_from_before_a_password_change_still_verifies_as_in_simplejwt,
);

async fn a_valid_access_token_verifies(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;

    assert_json(app.verify(&pair.access).await, 200, json!({})).await;
}

async fn a_valid_refresh_token_verifies(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;

    assert_json(app.verify(&pair.refresh).await, 200, json!({})).await;
}

async fn garbage_is_invalid(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.verify("eyJhbGciOiJIUzI1NiJ9.e30.garbage").await,
        401,
        token_not_valid("Token is invalid"),
    )
    .await;
}

async fn an_expired_token_is_expired(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let expired = sign(&with(claims_for("access", 1), "exp", json!(now())));

    assert_json(
        app.verify(&expired).await,
        401,
        token_not_valid("Token is expired"),
    )
    .await;
}

async fn a_token_with_alg_none_is_invalid(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;
    let payload = pair.access.split('.').nth(1).unwrap();
    // {"alg":"none","typ":"JWT"}, the classic forgery: no signature at all.
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");

    assert_json(
        app.verify(&unsigned).await,
        401,
        token_not_valid("Token is invalid"),
    )
    .await;
}

async fn a_missing_token_field_is_required(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.post_json("/api/token/verify/", &json!({"refresh": "x"}))
            .await,
        400,
        json!({"token": ["This field is required."]}),
    )
    .await;
}

async fn a_blacklisted_token_is_a_400_when_blacklisting_after_rotation(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;
    assert_eq!(app.blacklist(&pair.refresh).await.status(), 200);

    assert_json(
        app.verify(&pair.refresh).await,
        400,
        json!({"non_field_errors": ["Token is blacklisted"]}),
    )
    .await;
}

async fn a_blacklisted_token_still_verifies_under_simplejwt_defaults(backend: Backend) {
    let app = TestApp::spawn_with(&backend, SIMPLEJWT_DEFAULTS).await;
    let pair = app.user_with_tokens().await;
    assert_eq!(app.blacklist(&pair.refresh).await.status(), 200);

    // simplejwt only consults the blacklist here when BLACKLIST_AFTER_ROTATION is on.
    assert_json(app.verify(&pair.refresh).await, 200, json!({})).await;
}

async fn a_refresh_token_of_a_family_ended_by_reuse_is_blacklisted_to_verify(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let first = app.user_with_tokens().await;
    let rotated = json_body(app.refresh(&first.refresh).await, 200).await;
    let current = rotated["refresh"].as_str().unwrap();
    assert_eq!(app.refresh(&first.refresh).await.status(), 401, "reuse");

    assert_json(
        app.verify(current).await,
        400,
        json!({"non_field_errors": ["Token is blacklisted"]}),
    )
    .await;
}

async fn a_refresh_token_of_a_family_ended_by_log_out_everywhere_is_blacklisted_to_verify(
    backend: Backend,
) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;
    let logged_out = app.log_out_everywhere(&pair.access).await;
    assert_eq!(logged_out.status(), 200);

    assert_json(
        app.verify(&pair.refresh).await,
        400,
        json!({"non_field_errors": ["Token is blacklisted"]}),
    )
    .await;
}

async fn an_inactive_users_token_still_verifies_as_in_simplejwt(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;
    app.set_active("ada", false);

    // Verify says nothing of a token's fitness for a particular use (simplejwt's docstring).
    assert_json(app.verify(&pair.access).await, 200, json!({})).await;
}

async fn a_token_from_before_a_password_change_still_verifies_as_in_simplejwt(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_CHECK_REVOKE_TOKEN", "true")]).await;
    let pair = app.user_with_tokens().await;
    app.set_password("ada", "another-horse-battery");

    assert_json(app.verify(&pair.access).await, 200, json!({})).await;
}

async fn tokens_without_a_family_issued_before_log_out_everywhere_are_blacklisted_to_verify(
    backend: Backend,
) {
    let app = TestApp::spawn_with(&backend, &[("JWT_REFRESH_REUSE_DETECTION", "false")]).await;
    let pair = app.user_with_tokens().await;
    next_second().await;
    let logged_out = app.log_out_everywhere(&pair.access).await;
    assert_eq!(logged_out.status(), 200);

    for token in [&pair.access, &pair.refresh] {
        assert_json(
            app.verify(token).await,
            400,
            json!({"non_field_errors": ["Token is blacklisted"]}),
        )
        .await;
    }
}
