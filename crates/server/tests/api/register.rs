//! `POST /api/register/`: creating an account, with Django's username and password rules.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::*;

every_database_and_mode!(
    a_new_user_is_created,
    the_new_user_can_obtain_tokens,
    a_taken_username_is_refused,
    missing_fields_are_required,
    a_username_with_spaces_is_invalid,
    a_short_password_is_refused,
    an_entirely_numeric_password_is_refused,
    a_password_like_the_username_is_refused,
    a_common_password_is_refused,
    a_password_over_72_bytes_is_refused_not_truncated,
);

every_database!(
    racing_registrations_of_one_username_let_exactly_one_in,
    a_fullwidth_or_ligature_twin_of_a_taken_username_is_taken,
    a_username_is_kept_in_its_nfkc_form,
);

fn password_error(messages: &[&str]) -> Value {
    json!({"password": messages})
}

async fn a_new_user_is_created(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.register("grace", PASSWORD).await,
        201,
        json!({"id": 1, "username": "grace"}),
    )
    .await;
}

async fn the_new_user_can_obtain_tokens(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    assert_eq!(app.register("grace", PASSWORD).await.status(), 201);

    let pair = app.obtain_pair("grace", PASSWORD).await;

    assert_eq!(payload_of(&pair.access)["user_id"], "1");
}

async fn a_taken_username_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    app.create_user("grace", PASSWORD);

    assert_json(
        app.register("grace", "another-good-password").await,
        400,
        json!({"username": ["A user with that username already exists."]}),
    )
    .await;
}

async fn missing_fields_are_required(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.post_json("/api/register/", &json!({})).await,
        400,
        json!({
            "username": ["This field is required."],
            "password": ["This field is required."],
        }),
    )
    .await;
}

async fn a_username_with_spaces_is_invalid(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.register("grace hopper", PASSWORD).await,
        400,
        json!({"username": [
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
        ]}),
    )
    .await;
}

async fn a_short_password_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.register("grace", "x7#kq").await,
        400,
        password_error(&["This password is too short. It must contain at least 8 characters."]),
    )
    .await;
}

async fn an_entirely_numeric_password_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.register("grace", "8302957164").await,
        400,
        password_error(&["This password is entirely numeric."]),
    )
    .await;
}

async fn a_password_like_the_username_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.register("gracehopper", "gracehopper1").await,
        400,
        password_error(&["The password is too similar to the username."]),
    )
    .await;
}

async fn a_common_password_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.register("grace", "password123").await,
        400,
        password_error(&["This password is too common."]),
    )
    .await;
}

async fn a_password_over_72_bytes_is_refused_not_truncated(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    // 37 two-byte characters: 37 characters, 74 bytes.
    let long = "é".repeat(37);

    assert_json(
        app.register("grace", &long).await,
        400,
        password_error(&[
            "This password is too long. It must contain at most 72 bytes (bcrypt's limit).",
        ]),
    )
    .await;
}

async fn racing_registrations_of_one_username_let_exactly_one_in(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let responses = join_all((0..6).map(|_| app.register("grace", PASSWORD))).await;

    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 400, 400, 400, 400, 400]);
    for response in responses.into_iter().filter(|r| r.status() == 400) {
        assert_json(
            response,
            400,
            json!({"username": ["A user with that username already exists."]}),
        )
        .await;
    }
}

async fn a_fullwidth_or_ligature_twin_of_a_taken_username_is_taken(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    app.create_user("admin", PASSWORD);
    app.create_user("fiona", PASSWORD);

    for twin in ["ａｄｍｉｎ", "ﬁona"] {
        assert_json(
            app.register(twin, "another-good-password").await,
            400,
            json!({"username": ["A user with that username already exists."]}),
        )
        .await;
    }
}

async fn a_username_is_kept_in_its_nfkc_form(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    assert_json(
        app.register("ｇｒａｃｅ", PASSWORD).await,
        201,
        json!({"id": 1, "username": "grace"}),
    )
    .await;
    assert_eq!(app.obtain("grace", PASSWORD).await.status(), 200);
}
