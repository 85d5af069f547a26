//! Where Django, DRF and gunicorn answer before simplejwt's views do: requests with no
//! `Content-Type`, an `Accept` that admits no JSON, a path without its trailing slash, an
//! unauthenticated method a protected view does not have, `OPTIONS`, oversized headers. Each
//! answer here was checked against simplejwt 5.5.1 behind gunicorn.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

every_database!(
    a_body_without_a_content_type_is_a_415_naming_no_type,
    an_empty_body_without_a_content_type_is_no_fields,
    accept_html_alone_is_a_406,
    accept_html_alone_is_a_406_before_authentication,
    accept_with_json_among_other_types_is_served,
    a_token_path_without_its_slash_is_a_301_to_it,
    the_redirect_keeps_the_query_string,
    an_unknown_api_path_without_its_slash_is_a_404,
    an_unauthenticated_post_to_hello_is_a_401,
    an_unauthenticated_options_on_hello_is_a_401,
    an_authenticated_options_on_hello_describes_it,
    options_describes_token_obtain_pair,
    options_describes_token_refresh,
    options_describes_token_verify,
    options_describes_token_blacklist,
    a_header_line_over_8_kb_is_a_431,
    a_60_kb_token_is_a_431_and_never_checked,
    a_header_line_at_the_limit_is_read,
);

async fn a_body_without_a_content_type_is_a_415_naming_no_type(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = app
        .client
        .post(app.url("/api/token/"))
        .body(r#"{"username": "ada", "password": "x"}"#)
        .send()
        .await
        .unwrap();

    assert_json(
        response,
        415,
        json!({"detail": "Unsupported media type \"\" in request."}),
    )
    .await;
}

async fn an_empty_body_without_a_content_type_is_no_fields(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = app
        .client
        .post(app.url("/api/token/"))
        .send()
        .await
        .unwrap();

    assert_json(
        response,
        400,
        json!({"username": ["This field is required."], "password": ["This field is required."]}),
    )
    .await;
}

async fn accept_html_alone_is_a_406(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = app
        .client
        .post(app.url("/api/token/"))
        .header("Accept", "text/html")
        .json(&json!({}))
        .send()
        .await
        .unwrap();

    assert_json(
        response,
        406,
        json!({"detail": "Could not satisfy the request Accept header."}),
    )
    .await;
}

async fn accept_html_alone_is_a_406_before_authentication(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = app
        .client
        .get(app.url("/hello/"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();

    assert_json(
        response,
        406,
        json!({"detail": "Could not satisfy the request Accept header."}),
    )
    .await;
}

async fn accept_with_json_among_other_types_is_served(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = app
        .client
        .get(app.url("/ping/"))
        .header("Accept", "text/html, application/json;q=0.9")
        .send()
        .await
        .unwrap();

    assert_json(response, 200, json!({"message": "pong"})).await;
}

/// The status, `Location`, `Content-Type` and body of a response.
async fn redirect_of(response: reqwest::Response) -> (u16, Option<String>, Option<String>, String) {
    let status = response.status().as_u16();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let (location, content_type) = (header("Location"), header("Content-Type"));
    (
        status,
        location,
        content_type,
        response.text().await.unwrap(),
    )
}

/// What Django's `APPEND_SLASH` answers: a 301 to `location`, HTML by its header, empty.
fn django_redirect(location: &str) -> (u16, Option<String>, Option<String>, String) {
    (
        301,
        Some(location.to_owned()),
        Some("text/html; charset=utf-8".to_owned()),
        String::new(),
    )
}

async fn a_token_path_without_its_slash_is_a_301_to_it(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = app.post_json("/api/token", &json!({})).await;

    assert_eq!(redirect_of(response).await, django_redirect("/api/token/"));
}

async fn the_redirect_keeps_the_query_string(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = app.get("/api/token/refresh?format=json", None).await;

    assert_eq!(
        redirect_of(response).await,
        django_redirect("/api/token/refresh/?format=json")
    );
}

async fn an_unknown_api_path_without_its_slash_is_a_404(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    assert_json(
        app.get("/api/nothing", None).await,
        404,
        json!({"detail": "Not found."}),
    )
    .await;
}

async fn an_unauthenticated_post_to_hello_is_a_401(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    assert_json(
        app.post_json("/hello/", &json!({})).await,
        401,
        json!({"detail": "Authentication credentials were not provided."}),
    )
    .await;
}

async fn an_unauthenticated_options_on_hello_is_a_401(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    assert_json(
        app.options("/hello/").await,
        401,
        json!({"detail": "Authentication credentials were not provided."}),
    )
    .await;
}

async fn an_authenticated_options_on_hello_describes_it(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;

    let response = app
        .client
        .request(Method::OPTIONS, app.url("/hello/"))
        .bearer_auth(&pair.access)
        .send()
        .await
        .unwrap();

    assert_eq!(response.headers()["Allow"], "GET, HEAD, OPTIONS");
    assert_json(
        response,
        200,
        json!({
            "name": "Hello",
            "description": "",
            "renders": ["application/json"],
            "parses": ["application/json", "application/x-www-form-urlencoded"],
        }),
    )
    .await;
}

/// DRF's metadata of a string field.
fn field(label: &str, read_only: bool) -> Value {
    json!({"type": "string", "required": !read_only, "read_only": read_only, "label": label})
}

/// DRF's metadata of a `POST` view.
fn post_view(name: &str, description: &str, fields: Value) -> Value {
    json!({
        "name": name,
        "description": description,
        "renders": ["application/json"],
        "parses": ["application/json", "application/x-www-form-urlencoded"],
        "actions": {"POST": fields},
    })
}

async fn options_describes_token_obtain_pair(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = app.options("/api/token/").await;

    assert_eq!(response.headers()["Allow"], "POST, OPTIONS");
    assert_json(
        response,
        200,
        post_view(
            "Token Obtain Pair",
            "Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.",
            json!({"username": field("Username", false), "password": field("Password", false)}),
        ),
    )
    .await;
}

async fn options_describes_token_refresh(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    assert_json(
        app.options("/api/token/refresh/").await,
        200,
        post_view(
            "Token Refresh",
            "Takes a refresh type JSON web token and returns an access type JSON web\ntoken if the refresh token is valid.",
            json!({"refresh": field("Refresh", false), "access": field("Access", true)}),
        ),
    )
    .await;
}

async fn options_describes_token_verify(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    assert_json(
        app.options("/api/token/verify/").await,
        200,
        post_view(
            "Token Verify",
            "Takes a token and indicates if it is valid.  This view provides no\ninformation about a token's fitness for a particular use.",
            json!({"token": field("Token", false)}),
        ),
    )
    .await;
}

async fn options_describes_token_blacklist(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    assert_json(
        app.options("/api/token/blacklist/").await,
        200,
        post_view(
            "Token Blacklist",
            "Takes a token and blacklists it. Must be used with the\n`rest_framework_simplejwt.token_blacklist` app installed.",
            json!({"refresh": field("Refresh", false)}),
        ),
    )
    .await;
}

const TOO_LARGE: &str = "Request header fields too large.";

async fn a_header_line_over_8_kb_is_a_431(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;

    let response = app
        .client
        .get(app.url("/ping/"))
        .header("X-Big", "a".repeat(9000))
        .send()
        .await
        .unwrap();

    assert_json(response, 431, json!({"detail": TOO_LARGE})).await;
}

async fn a_60_kb_token_is_a_431_and_never_checked(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let huge = format!("eyJ.{}.sig", "a".repeat(60 * 1024));

    assert_json(
        app.get_as("/hello/", &huge).await,
        431,
        json!({"detail": TOO_LARGE}),
    )
    .await;
}

async fn a_header_line_at_the_limit_is_read(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    // "x-big: " and the value make 8190 bytes, gunicorn's limit.
    let response = app
        .client
        .get(app.url("/ping/"))
        .header("X-Big", "a".repeat(8190 - 7))
        .send()
        .await
        .unwrap();

    assert_json(response, 200, json!({"message": "pong"})).await;
}
