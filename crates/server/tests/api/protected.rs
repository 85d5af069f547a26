//! `GET /hello/`, `GET /api/hello/` and `GET /api/me/`: simplejwt's `JWTAuthentication` with
//! DRF's `IsAuthenticated`.

use serde_json::json;

use crate::helpers::*;

every_database_and_mode!(
    hello_greets_a_valid_access_token,
    the_api_hello_path_is_the_same_endpoint,
    me_describes_the_user_without_the_password,
    no_header_means_no_credentials,
    another_scheme_means_no_credentials,
    bearer_without_a_token_is_a_bad_header,
    bearer_with_two_values_is_a_bad_header,
    garbage_is_not_valid_for_any_token_type,
    an_expired_token_is_refused,
    a_refresh_token_is_not_an_access_token,
    a_token_with_alg_none_is_refused,
    a_token_with_a_tampered_payload_is_refused,
    a_token_without_user_id_has_no_user_identification,
    a_deleted_user_is_not_found,
    an_inactive_user_is_refused,
);

every_database!(
    other_configured_header_types_are_accepted_and_challenged,
    a_token_for_another_audience_is_refused,
);

async fn hello_greets_a_valid_access_token(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;

    assert_json(
        app.get_as("/hello/", &pair.access).await,
        200,
        json!({"message": "Hello, World!"}),
    )
    .await;
}

async fn the_api_hello_path_is_the_same_endpoint(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;

    assert_json(
        app.get_as("/api/hello/", &pair.access).await,
        200,
        json!({"message": "Hello, World!"}),
    )
    .await;
}

async fn me_describes_the_user_without_the_password(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;

    let me = json_body(app.get_as("/api/me/", &pair.access).await, 200).await;

    let names: Vec<&String> = me.as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        [
            "id",
            "username",
            "is_active",
            "is_staff",
            "date_joined",
            "last_login"
        ]
    );
    assert_eq!(me["username"], "ada");
    assert_eq!(me["is_active"], true);
    assert_eq!(me["is_staff"], false);
    assert!(me["date_joined"].as_str().unwrap().ends_with('Z'), "{me}");
}

async fn no_header_means_no_credentials(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.get("/hello/", None).await,
        401,
        json!({"detail": "Authentication credentials were not provided."}),
    )
    .await;
}

async fn another_scheme_means_no_credentials(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.get("/hello/", Some("Basic YWRhOnNlY3JldA==")).await,
        401,
        json!({"detail": "Authentication credentials were not provided."}),
    )
    .await;
}

const BAD_HEADER: &str = "Authorization header must contain two space-delimited values";

async fn bearer_without_a_token_is_a_bad_header(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.get("/hello/", Some("Bearer")).await,
        401,
        json!({"detail": BAD_HEADER, "code": "bad_authorization_header"}),
    )
    .await;
}

async fn bearer_with_two_values_is_a_bad_header(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.get("/hello/", Some("Bearer a b")).await,
        401,
        json!({"detail": BAD_HEADER, "code": "bad_authorization_header"}),
    )
    .await;
}

async fn garbage_is_not_valid_for_any_token_type(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.get_as("/hello/", "garbage").await,
        401,
        access_token_refused("Token is invalid"),
    )
    .await;
}

async fn an_expired_token_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let id = app.create_user("ada", PASSWORD);
    let expired = sign(&with(claims_for("access", id), "exp", json!(now() - 10)));

    assert_json(
        app.get_as("/hello/", &expired).await,
        401,
        access_token_refused("Token is expired"),
    )
    .await;
}

async fn a_refresh_token_is_not_an_access_token(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;

    assert_json(
        app.get_as("/hello/", &pair.refresh).await,
        401,
        access_token_refused("Token has wrong type"),
    )
    .await;
}

async fn a_token_with_alg_none_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;
    let payload = pair.access.split('.').nth(1).unwrap();
    // {"alg":"NONE","typ":"JWT"}
    let unsigned = format!("eyJhbGciOiJOT05FIiwidHlwIjoiSldUIn0.{payload}.");

    assert_json(
        app.get_as("/hello/", &unsigned).await,
        401,
        access_token_refused("Token is invalid"),
    )
    .await;
}

async fn a_token_with_a_tampered_payload_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;
    let parts: Vec<&str> = pair.access.split('.').collect();
    let mut claims = payload_of(&pair.access);
    claims["user_id"] = json!("2");
    let forged_payload = base64_url(&serde_json::to_vec(&claims).unwrap());
    let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);

    assert_json(
        app.get_as("/hello/", &forged).await,
        401,
        access_token_refused("Token is invalid"),
    )
    .await;
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn a_token_without_user_id_has_no_user_identification(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let token = sign(&without(claims_for("access", 1), "user_id"));

    assert_json(
        app.get_as("/hello/", &token).await,
        401,
        json!({
            "detail": "Token contained no recognizable user identification",
            "code": "token_not_valid",
        }),
    )
    .await;
}

async fn a_deleted_user_is_not_found(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;
    app.delete_user("ada");

    assert_json(
        app.get_as("/hello/", &pair.access).await,
        401,
        json!({"detail": "User not found", "code": "user_not_found"}),
    )
    .await;
}

async fn an_inactive_user_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;
    app.set_active("ada", false);

    assert_json(
        app.get_as("/hello/", &pair.access).await,
        401,
        json!({"detail": "User is inactive", "code": "user_inactive"}),
    )
    .await;
}

async fn other_configured_header_types_are_accepted_and_challenged(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_AUTH_HEADER_TYPES", "JWT,Bearer")]).await;
    let pair = app.user_with_tokens().await;

    let greeted = app
        .get("/hello/", Some(&format!("JWT {}", pair.access)))
        .await;
    assert_eq!(greeted.status(), 200);
    let refused = app.get("/hello/", None).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["WWW-Authenticate"], "JWT realm=\"api\"");
}

async fn a_token_for_another_audience_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_AUDIENCE", "tutorial")]).await;
    let pair = app.user_with_tokens().await;
    assert_eq!(payload_of(&pair.access)["aud"], "tutorial");
    let id = app.create_user("bob", PASSWORD);
    let elsewhere = sign(&with(claims_for("access", id), "aud", json!("another-api")));

    assert_json(
        app.get_as("/hello/", &elsewhere).await,
        401,
        access_token_refused("Token is invalid"),
    )
    .await;
}
