//! Input no client should send: each gets a clear 4xx in DRF's shape, never a 500 or library
//! text.

use serde_json::json;

use crate::helpers::*;

every_database_and_mode!(
    malformed_json_is_a_parse_error,
    json_that_is_not_an_object_is_refused,
    json_that_is_not_utf8_is_a_parse_error,
    an_unsupported_content_type_is_a_415,
    a_body_over_the_limit_is_a_413,
    a_chunked_body_over_the_limit_is_a_413,
    a_wrong_method_is_a_405_naming_it,
    a_get_path_refuses_post_with_a_405,
    an_unknown_path_is_a_404,
    an_authorization_header_that_is_not_utf8_is_an_invalid_token,
    a_null_character_in_a_field_is_refused,
);

async fn malformed_json_is_a_parse_error(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    let response = app
        .post_raw(
            "/api/token/",
            "application/json",
            b"{\"username\": ".to_vec(),
        )
        .await;

    assert_json(
        response,
        400,
        json!({"detail": "JSON parse error - EOF while parsing a value at line 1 column 13"}),
    )
    .await;
}

async fn json_that_is_not_an_object_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    let response = app
        .post_json("/api/token/", &json!(["ada", "secret"]))
        .await;

    assert_json(
        response,
        400,
        json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    )
    .await;
}

async fn json_that_is_not_utf8_is_a_parse_error(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    let response = app
        .post_raw(
            "/api/token/",
            "application/json",
            b"{\"username\": \"\xff\"}".to_vec(),
        )
        .await;

    assert_json(
        response,
        400,
        json!({"detail": "JSON parse error - invalid unicode code point at line 1 column 15"}),
    )
    .await;
}

async fn an_unsupported_content_type_is_a_415(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    let response = app
        .post_raw("/api/token/", "text/plain", b"username=ada".to_vec())
        .await;

    assert_json(
        response,
        415,
        json!({"detail": "Unsupported media type \"text/plain\" in request."}),
    )
    .await;
}

const TOO_LARGE: &str = "Request body is too large. The limit is 65536 bytes.";

async fn a_body_over_the_limit_is_a_413(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let huge = format!("{{\"username\": \"{}\"}}", "a".repeat(1024 * 1024));

    let response = app
        .post_raw("/api/token/", "application/json", huge.into_bytes())
        .await;

    assert_json(response, 413, json!({"detail": TOO_LARGE})).await;
}

async fn a_chunked_body_over_the_limit_is_a_413(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    // No Content-Length: the limit has to be enforced while the body streams in.
    let chunk = "a".repeat(16 * 1024);
    let mut request = String::from(
        "POST /api/register/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for _ in 0..8 {
        request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    request.push_str("0\r\n\r\n");

    let (status, body) = raw_request(app.port, request.as_bytes()).await;

    assert_eq!((status, body), (413, json!({"detail": TOO_LARGE})));
}

async fn a_wrong_method_is_a_405_naming_it(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    let response = app.get("/api/token/", None).await;

    assert_eq!(response.headers()["Allow"], "POST, OPTIONS");
    assert_json(
        response,
        405,
        json!({"detail": "Method \"GET\" not allowed."}),
    )
    .await;
}

async fn a_get_path_refuses_post_with_a_405(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;

    let response = app
        .client
        .post(app.url("/hello/"))
        .bearer_auth(&pair.access)
        .send()
        .await
        .unwrap();

    assert_eq!(response.headers()["Allow"], "GET, HEAD, OPTIONS");
    assert_json(
        response,
        405,
        json!({"detail": "Method \"POST\" not allowed."}),
    )
    .await;
}

async fn an_unknown_path_is_a_404(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.get("/api/nothing-here/", None).await,
        404,
        json!({"detail": "Not found."}),
    )
    .await;
}

async fn an_authorization_header_that_is_not_utf8_is_an_invalid_token(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let request = b"GET /hello/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
                    Authorization: Bearer \xff\xfe\r\n\r\n";

    let (status, body) = raw_request(app.port, request).await;

    assert_eq!(status, 401);
    assert_eq!(body["messages"][0]["message"], "Token is invalid");
}

async fn a_null_character_in_a_field_is_refused(setup: Setup) {
    let app = TestApp::spawn(&setup).await;

    assert_json(
        app.post_json(
            "/api/token/",
            &json!({"username": "a\u{0}b", "password": "x"}),
        )
        .await,
        400,
        json!({"username": ["Null characters are not allowed."]}),
    )
    .await;
}
