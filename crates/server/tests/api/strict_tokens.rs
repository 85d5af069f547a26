//! Tokens that are correctly signed but break the RFCs' rules on claims and headers: each is
//! "Token is invalid", wherever it is presented. (simplejwt, through PyJWT, accepts some of
//! these: a `crit` it does not understand, an `exp` of `1e300` that never comes.)

use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};

use crate::helpers::*;

every_database!(
    a_crit_header_is_refused_on_a_protected_endpoint,
    a_crit_header_is_refused_by_refresh,
    a_jti_that_is_not_a_string_is_refused,
    a_sub_that_is_not_a_string_is_refused,
    a_string_sub_is_accepted,
    an_exp_of_1e300_is_refused,
    an_exp_past_the_year_9999_is_refused_by_verify,
    an_exp_that_is_a_string_is_refused,
    an_exp_that_is_a_boolean_is_refused,
    an_nbf_that_is_a_string_is_refused,
    an_iat_that_is_a_boolean_is_refused,
);

/// `GET /hello/` with an access token of user "ada" whose claims `change` altered.
async fn hello_with(app: &TestApp, change: impl FnOnce(Value) -> Value) -> reqwest::Response {
    let id = app.create_user("ada", PASSWORD);
    let token = sign(&change(claims_for("access", id)));
    app.get_as("/hello/", &token).await
}

fn with_crit() -> Header {
    let mut header = Header::new(Algorithm::HS256);
    header.crit = Some(vec!["exp".to_owned()]);
    header
}

async fn a_crit_header_is_refused_on_a_protected_endpoint(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let id = app.create_user("ada", PASSWORD);
    let token = sign_with_header(&with_crit(), &claims_for("access", id));

    assert_json(
        app.get_as("/hello/", &token).await,
        401,
        access_token_refused("Token is invalid"),
    )
    .await;
}

async fn a_crit_header_is_refused_by_refresh(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let id = app.create_user("ada", PASSWORD);
    let token = sign_with_header(&with_crit(), &claims_for("refresh", id));

    assert_json(
        app.refresh(&token).await,
        401,
        token_not_valid("Token is invalid"),
    )
    .await;
}

async fn a_jti_that_is_not_a_string_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = hello_with(&app, |claims| with(claims, "jti", json!(12345))).await;

    assert_json(response, 401, access_token_refused("Token is invalid")).await;
}

async fn a_sub_that_is_not_a_string_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = hello_with(&app, |claims| with(claims, "sub", json!(1))).await;

    assert_json(response, 401, access_token_refused("Token is invalid")).await;
}

async fn a_string_sub_is_accepted(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = hello_with(&app, |claims| with(claims, "sub", json!("1"))).await;

    assert_json(response, 200, json!({"message": "Hello, World!"})).await;
}

async fn an_exp_of_1e300_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = hello_with(&app, |claims| with(claims, "exp", json!(1e300))).await;

    assert_json(response, 401, access_token_refused("Token is invalid")).await;
}

async fn an_exp_past_the_year_9999_is_refused_by_verify(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let id = app.create_user("ada", PASSWORD);
    let token = sign(&with(
        claims_for("refresh", id),
        "exp",
        json!(253_402_300_800_i64),
    ));

    assert_json(
        app.verify(&token).await,
        401,
        token_not_valid("Token is invalid"),
    )
    .await;
}

async fn an_exp_that_is_a_string_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = hello_with(&app, |claims| {
        let exp = json!((now() + 300).to_string());
        with(claims, "exp", exp)
    })
    .await;

    assert_json(response, 401, access_token_refused("Token is invalid")).await;
}

async fn an_exp_that_is_a_boolean_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = hello_with(&app, |claims| with(claims, "exp", json!(true))).await;

    assert_json(response, 401, access_token_refused("Token is invalid")).await;
}

async fn an_nbf_that_is_a_string_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = hello_with(&app, |claims| with(claims, "nbf", json!("yesterday"))).await;

    assert_json(response, 401, access_token_refused("Token is invalid")).await;
}

async fn an_iat_that_is_a_boolean_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = hello_with(&app, |claims| with(claims, "iat", json!(false))).await;

    assert_json(response, 401, access_token_refused("Token is invalid")).await;
}
