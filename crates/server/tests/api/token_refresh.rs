//! `POST /api/token/refresh/`: simplejwt's `TokenRefreshView`, with rotation and
//! blacklist-after-rotation on (this project's default) and off (simplejwt's default).

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::*;

every_database_and_mode!(
    a_new_access_token_works_on_protected_endpoints,
    an_access_token_is_refused_as_wrong_type,
    garbage_is_refused_as_invalid,
    an_expired_token_is_refused,
    a_token_signed_with_another_key_is_refused,
    a_token_without_jti_has_no_id,
    a_token_without_token_type_has_no_type,
    a_token_without_exp_has_no_exp_claim,
    a_blacklisted_token_is_refused,
    an_inactive_user_has_no_active_account,
    a_deleted_user_has_no_active_account,
    a_missing_refresh_field_is_required,
    the_response_is_not_cacheable,
);

every_database!(
    rotation_returns_a_new_refresh_token_with_a_new_id,
    after_rotation_the_old_token_is_blacklisted,
    the_rotated_token_is_recorded_as_outstanding,
    a_refresh_token_without_a_user_id_makes_an_access_token_without_one,
    the_refresh_tokens_own_claims_are_carried_into_the_new_tokens,
    a_rotation_whose_new_token_cannot_be_recorded_leaves_the_old_one_valid,
    concurrent_refreshes_of_one_token_let_exactly_one_through,
    without_rotation_only_an_access_token_comes_back,
    without_rotation_a_refresh_token_can_be_used_again,
    rotation_without_blacklisting_leaves_the_old_token_usable,
);

async fn a_new_access_token_works_on_protected_endpoints(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;

    let body = json_body(app.refresh(&pair.refresh).await, 200).await;

    let access = body["access"].as_str().unwrap();
    assert_ne!(access, pair.access);
    assert_eq!(payload_of(access)["token_type"], "access");
    assert_json(
        app.get_as("/hello/", access).await,
        200,
        json!({"message": "Hello, World!"}),
    )
    .await;
}

async fn an_access_token_is_refused_as_wrong_type(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;

    let response = app.refresh(&pair.access).await;

    assert_json(response, 401, token_not_valid("Token has wrong type")).await;
}

async fn garbage_is_refused_as_invalid(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    let response = app.refresh("not.a.token").await;

    assert_json(response, 401, token_not_valid("Token is invalid")).await;
}

async fn an_expired_token_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let id = app.create_user("ada", PASSWORD);
    let expired = sign(&with(claims_for("refresh", id), "exp", json!(now() - 1)));

    let response = app.refresh(&expired).await;

    assert_json(response, 401, token_not_valid("Token is expired")).await;
}

async fn a_token_signed_with_another_key_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let id = app.create_user("ada", PASSWORD);
    let forged = sign_with(
        &claims_for("refresh", id),
        "another-key-that-is-also-32-bytes-long!",
    );

    let response = app.refresh(&forged).await;

    assert_json(response, 401, token_not_valid("Token is invalid")).await;
}

async fn a_token_without_jti_has_no_id(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let id = app.create_user("ada", PASSWORD);
    let token = sign(&without(claims_for("refresh", id), "jti"));

    let response = app.refresh(&token).await;

    assert_json(response, 401, token_not_valid("Token has no id")).await;
}

async fn a_token_without_token_type_has_no_type(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let id = app.create_user("ada", PASSWORD);
    let token = sign(&without(claims_for("refresh", id), "token_type"));

    let response = app.refresh(&token).await;

    assert_json(response, 401, token_not_valid("Token has no type")).await;
}

async fn a_token_without_exp_has_no_exp_claim(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let id = app.create_user("ada", PASSWORD);
    let token = sign(&without(claims_for("refresh", id), "exp"));

    let response = app.refresh(&token).await;

    assert_json(response, 401, token_not_valid("Token has no 'exp' claim")).await;
}

async fn a_blacklisted_token_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;
    let logout = app.blacklist(&pair.refresh).await;
    assert_eq!(logout.status(), 200);

    let response = app.refresh(&pair.refresh).await;

    assert_json(response, 401, token_not_valid("Token is blacklisted")).await;
}

async fn an_inactive_user_has_no_active_account(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;
    app.set_active("ada", false);

    let response = app.refresh(&pair.refresh).await;

    assert_json(
        response,
        401,
        json!({"detail": "No active account found for the given token."}),
    )
    .await;
}

async fn a_deleted_user_has_no_active_account(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;
    app.delete_user("ada");

    let response = app.refresh(&pair.refresh).await;

    assert_json(
        response,
        401,
        json!({"detail": "No active account found for the given token."}),
    )
    .await;
}

async fn a_missing_refresh_field_is_required(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    let response = app.post_json("/api/token/refresh/", &json!({})).await;

    assert_json(
        response,
        400,
        json!({"refresh": ["This field is required."]}),
    )
    .await;
}

async fn the_response_is_not_cacheable(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;

    let response = app.refresh(&pair.refresh).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["Cache-Control"], "no-store");
}

async fn rotation_returns_a_new_refresh_token_with_a_new_id(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;

    let body = json_body(app.refresh(&pair.refresh).await, 200).await;

    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access", "refresh"]);
    let (old, new) = (
        payload_of(&pair.refresh),
        payload_of(body["refresh"].as_str().unwrap()),
    );
    assert_eq!(new["token_type"], "refresh");
    assert_eq!(new["user_id"], old["user_id"]);
    assert_ne!(new["jti"], old["jti"]);
}

async fn after_rotation_the_old_token_is_blacklisted(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;
    json_body(app.refresh(&pair.refresh).await, 200).await;

    let response = app.refresh(&pair.refresh).await;

    assert_json(response, 401, token_not_valid("Token is blacklisted")).await;
}

async fn the_rotated_token_is_recorded_as_outstanding(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;

    let body = json_body(app.refresh(&pair.refresh).await, 200).await;

    let rotated = body["refresh"].as_str().unwrap();
    let claims = payload_of(rotated);
    let row = app
        .outstanding(claims["jti"].as_str().unwrap())
        .expect("the rotated token is in outstanding_tokens");
    assert_eq!(row.token, rotated);
    assert_eq!(
        row.user_id,
        Some(claims["user_id"].as_str().unwrap().parse().unwrap())
    );
    assert_eq!(
        row.expires_at.and_utc().timestamp(),
        claims["exp"].as_i64().unwrap()
    );
    assert!(!app.is_blacklisted(claims["jti"].as_str().unwrap()));
}

async fn a_refresh_token_without_a_user_id_makes_an_access_token_without_one(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let token = sign(&without(claims_for("refresh", 1), "user_id"));

    let body = json_body(app.refresh(&token).await, 200).await;

    assert_eq!(
        payload_of(body["access"].as_str().unwrap()).get("user_id"),
        None
    );
    assert_eq!(
        payload_of(body["refresh"].as_str().unwrap()).get("user_id"),
        None
    );
}

async fn the_refresh_tokens_own_claims_are_carried_into_the_new_tokens(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let id = app.create_user("ada", PASSWORD);
    let token = sign(&with(
        claims_for("refresh", id),
        "scope",
        json!("notes:read"),
    ));

    let body = json_body(app.refresh(&token).await, 200).await;

    let access = payload_of(body["access"].as_str().unwrap());
    let names: Vec<&String> = access.as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        ["token_type", "exp", "iat", "jti", "user_id", "scope"]
    );
    assert_eq!(access["scope"], "notes:read");
    assert_eq!(
        payload_of(body["refresh"].as_str().unwrap())["scope"],
        "notes:read"
    );
}

async fn a_rotation_whose_new_token_cannot_be_recorded_leaves_the_old_one_valid(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;
    refuse_new_outstanding_tokens(&app, true);

    let failed = app.refresh(&pair.refresh).await;

    assert_json(failed, 500, json!({"detail": "A server error occurred."})).await;
    refuse_new_outstanding_tokens(&app, false);
    assert!(!app.is_blacklisted(payload_of(&pair.refresh)["jti"].as_str().unwrap()));
    json_body(app.refresh(&pair.refresh).await, 200).await;
}

/// Installs (or removes) a trigger that makes the database refuse any new row of
/// `outstanding_tokens`, as a full disk or a broken replica would.
fn refuse_new_outstanding_tokens(app: &TestApp, refuse: bool) {
    use diesel::connection::SimpleConnection;
    let mut conn = app.connection();
    let sql = match (&conn, refuse) {
        (server::db::AnyConnection::Sqlite(_), true) => {
            "CREATE TRIGGER refuse_new_tokens BEFORE INSERT ON outstanding_tokens \
             WHEN NEW.jti NOT IN (SELECT jti FROM outstanding_tokens) \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
        }
        (server::db::AnyConnection::Sqlite(_), false) => "DROP TRIGGER refuse_new_tokens;",
        (server::db::AnyConnection::Postgresql(_), true) => {
            "CREATE FUNCTION refuse_new_tokens() RETURNS trigger AS $$ BEGIN \
               IF NOT EXISTS (SELECT 1 FROM outstanding_tokens WHERE jti = NEW.jti) THEN \
                 RAISE EXCEPTION 'refused by the test'; \
               END IF; RETURN NEW; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_new_tokens BEFORE INSERT ON outstanding_tokens \
               FOR EACH ROW EXECUTE FUNCTION refuse_new_tokens();"
        }
        (server::db::AnyConnection::Postgresql(_), false) => {
            "DROP TRIGGER refuse_new_tokens ON outstanding_tokens; \
             DROP FUNCTION refuse_new_tokens();"
        }
    };
    conn.batch_execute(sql).expect("the trigger is changed");
}

async fn concurrent_refreshes_of_one_token_let_exactly_one_through(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;

    let responses = join_all((0..8).map(|_| app.refresh(&pair.refresh))).await;

    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401, 401, 401, 401, 401, 401, 401]);
    for response in responses.into_iter().filter(|r| r.status() == 401) {
        assert_json(response, 401, token_not_valid("Token is blacklisted")).await;
    }
}

async fn without_rotation_only_an_access_token_comes_back(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_ROTATE_REFRESH_TOKENS", "false")]).await;
    let pair = app.user_with_tokens().await;

    let body = json_body(app.refresh(&pair.refresh).await, 200).await;

    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access"]);
}

async fn without_rotation_a_refresh_token_can_be_used_again(backend: Backend) {
    let app = TestApp::spawn_with(&backend, SIMPLEJWT_DEFAULTS).await;
    let pair = app.user_with_tokens().await;
    json_body(app.refresh(&pair.refresh).await, 200).await;

    let again = json_body(app.refresh(&pair.refresh).await, 200).await;

    assert!(again["access"].is_string());
}

async fn rotation_without_blacklisting_leaves_the_old_token_usable(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_BLACKLIST_AFTER_ROTATION", "false")]).await;
    let pair = app.user_with_tokens().await;
    let first = json_body(app.refresh(&pair.refresh).await, 200).await;
    assert!(first["refresh"].is_string());

    let again = json_body(app.refresh(&pair.refresh).await, 200).await;

    assert!(again["refresh"].is_string());
}
