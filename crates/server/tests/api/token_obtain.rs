//! `POST /api/token/`: simplejwt's `TokenObtainPairView`.

use serde_json::json;

use crate::helpers::*;

every_database_and_mode!(
    json_credentials_give_a_refresh_and_an_access_token,
    form_encoded_credentials_work_too,
    tokens_carry_simplejwts_header_and_claims,
    the_pair_is_not_cacheable,
    missing_fields_are_required,
    blank_fields_are_refused,
    null_fields_are_refused,
    a_non_string_field_is_refused,
    a_wrong_password_is_the_generic_401,
    an_unknown_user_is_the_generic_401,
    an_inactive_user_is_the_generic_401,
    last_login_is_left_alone_by_default,
);

every_database!(last_login_is_updated_when_configured);

async fn json_credentials_give_a_refresh_and_an_access_token(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    app.create_user("ada", PASSWORD);

    let response = app
        .post_json(
            "/api/token/",
            &json!({"username": "ada", "password": PASSWORD}),
        )
        .await;

    let body = json_body(response, 200).await;
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["refresh", "access"]);
}

async fn form_encoded_credentials_work_too(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    app.create_user("ada", PASSWORD);

    let response = app
        .post_form(
            "/api/token/",
            &[("username", "ada"), ("password", PASSWORD)],
        )
        .await;

    let body = json_body(response, 200).await;
    assert!(body["access"].is_string() && body["refresh"].is_string());
}

async fn tokens_carry_simplejwts_header_and_claims(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let id = app.create_user("ada", PASSWORD);

    let pair = app.obtain_pair("ada", PASSWORD).await;

    for (token, token_type, lifetime) in [
        (&pair.access, "access", 5 * 60),
        (&pair.refresh, "refresh", 24 * 60 * 60),
    ] {
        // Byte for byte PyJWT's header, as in simplejwt's (and jwt.io's) tokens.
        assert!(
            token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."),
            "{token}"
        );
        assert_eq!(header_of(token), json!({"alg": "HS256", "typ": "JWT"}));
        let claims = payload_of(token);
        let names: Vec<&String> = claims.as_object().unwrap().keys().collect();
        match setup.mode {
            // Each log in starts a token family (reuse detection, on by default).
            Mode::Rotating => assert_eq!(
                names,
                ["token_type", "exp", "iat", "jti", "user_id", "family_id"]
            ),
            Mode::SimplejwtDefaults => {
                assert_eq!(names, ["token_type", "exp", "iat", "jti", "user_id"])
            }
        }
        assert_eq!(claims["token_type"], token_type);
        assert_eq!(claims["user_id"], id.to_string());
        let jti = claims["jti"].as_str().unwrap();
        assert!(
            jti.len() == 32 && jti.chars().all(|c| c.is_ascii_hexdigit()),
            "{jti}"
        );
        let iat = claims["iat"].as_i64().unwrap();
        assert_eq!(claims["exp"].as_i64().unwrap() - iat, lifetime);
        assert!((iat - now()).abs() <= 5);
    }
}

async fn the_pair_is_not_cacheable(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    app.create_user("ada", PASSWORD);

    let response = app
        .post_json(
            "/api/token/",
            &json!({"username": "ada", "password": PASSWORD}),
        )
        .await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["Cache-Control"], "no-store");
}

async fn missing_fields_are_required(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    let response = app.post_json("/api/token/", &json!({})).await;

    assert_json(
        response,
        400,
        json!({
            "username": ["This field is required."],
            "password": ["This field is required."],
        }),
    )
    .await;
}

async fn blank_fields_are_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    let response = app
        .post_json("/api/token/", &json!({"username": "  ", "password": ""}))
        .await;

    assert_json(
        response,
        400,
        json!({
            "username": ["This field may not be blank."],
            "password": ["This field may not be blank."],
        }),
    )
    .await;
}

async fn null_fields_are_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    let response = app
        .post_json(
            "/api/token/",
            &json!({"username": null, "password": PASSWORD}),
        )
        .await;

    assert_json(
        response,
        400,
        json!({"username": ["This field may not be null."]}),
    )
    .await;
}

async fn a_non_string_field_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    let response = app
        .post_json(
            "/api/token/",
            &json!({"username": ["ada"], "password": {"x": 1}}),
        )
        .await;

    assert_json(
        response,
        400,
        json!({
            "username": ["Not a valid string."],
            "password": ["Not a valid string."],
        }),
    )
    .await;
}

const NO_ACTIVE_ACCOUNT: &str = "No active account found with the given credentials";

async fn a_wrong_password_is_the_generic_401(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    app.create_user("ada", PASSWORD);

    let response = app
        .post_json(
            "/api/token/",
            &json!({"username": "ada", "password": "wrong-password"}),
        )
        .await;

    assert_json(response, 401, json!({"detail": NO_ACTIVE_ACCOUNT})).await;
}

async fn an_unknown_user_is_the_generic_401(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    let response = app
        .post_json(
            "/api/token/",
            &json!({"username": "nobody", "password": PASSWORD}),
        )
        .await;

    assert_json(response, 401, json!({"detail": NO_ACTIVE_ACCOUNT})).await;
}

async fn an_inactive_user_is_the_generic_401(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    app.create_user("ada", PASSWORD);
    app.set_active("ada", false);

    let response = app
        .post_json(
            "/api/token/",
            &json!({"username": "ada", "password": PASSWORD}),
        )
        .await;

    assert_json(response, 401, json!({"detail": NO_ACTIVE_ACCOUNT})).await;
}

async fn last_login_is_left_alone_by_default(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;

    let me = json_body(app.get_as("/api/me/", &pair.access).await, 200).await;

    assert_eq!(me["last_login"], json!(null));
}

async fn last_login_is_updated_when_configured(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_UPDATE_LAST_LOGIN", "true")]).await;
    let pair = app.user_with_tokens().await;

    let me = json_body(app.get_as("/api/me/", &pair.access).await, 200).await;

    assert!(me["last_login"].is_string(), "{me}");
}
