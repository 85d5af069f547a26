//! `POST /api/token/blacklist/`: simplejwt's `TokenBlacklistView` (log out).

use serde_json::json;

use crate::helpers::*;

every_database_and_mode!(
    a_refresh_token_is_blacklisted,
    the_same_token_again_is_already_blacklisted,
    an_access_token_has_the_wrong_type,
    garbage_is_invalid,
    a_missing_refresh_field_is_required,
    a_valid_token_issued_elsewhere_is_blacklisted_too,
    a_token_of_a_deleted_user_is_blacklisted,
);

async fn a_refresh_token_is_blacklisted(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;

    assert_json(app.blacklist(&pair.refresh).await, 200, json!({})).await;
}

async fn the_same_token_again_is_already_blacklisted(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;
    app.blacklist(&pair.refresh).await;

    assert_json(
        app.blacklist(&pair.refresh).await,
        401,
        token_not_valid("Token is blacklisted"),
    )
    .await;
}

async fn an_access_token_has_the_wrong_type(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;

    assert_json(
        app.blacklist(&pair.access).await,
        401,
        token_not_valid("Token has wrong type"),
    )
    .await;
}

async fn garbage_is_invalid(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.blacklist("garbage").await,
        401,
        token_not_valid("Token is invalid"),
    )
    .await;
}

async fn a_missing_refresh_field_is_required(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.post_json("/api/token/blacklist/", &json!({})).await,
        400,
        json!({"refresh": ["This field is required."]}),
    )
    .await;
}

async fn a_valid_token_issued_elsewhere_is_blacklisted_too(setup: Setup) {
    // A token with a valid signature that this database never recorded (say, minted by another
    // replica before a restore) is recorded as outstanding and blacklisted, as simplejwt does.
    let app = TestApp::spawn(&setup).await;
    let id = app.create_user("ada", PASSWORD);
    let token = sign(&claims_for("refresh", id));

    assert_json(app.blacklist(&token).await, 200, json!({})).await;
    assert_json(
        app.post_json("/api/token/refresh/", &json!({"refresh": token}))
            .await,
        401,
        token_not_valid("Token is blacklisted"),
    )
    .await;
}

async fn a_token_of_a_deleted_user_is_blacklisted(setup: Setup) {
    // simplejwt records the outstanding token without a user; a foreign-key violation must not
    // turn this into "the database is down".
    let app = TestApp::spawn(&setup).await;
    let id = app.create_user("ada", PASSWORD);
    let token = sign(&claims_for("refresh", id));
    app.delete_user("ada");

    assert_json(app.blacklist(&token).await, 200, json!({})).await;

    let jti = payload_of(&token)["jti"].as_str().unwrap().to_owned();
    assert_eq!(app.outstanding(&jti).map(|row| row.user_id), Some(None));
    assert!(app.is_blacklisted(&jti));
}
