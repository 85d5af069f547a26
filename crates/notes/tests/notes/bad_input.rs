//! Bad bodies get DRF's 4xx answers and store nothing.

use serde_json::{Value, json};

use crate::helpers::*;

async fn post_raw(
    notes: &NotesService,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    notes
        .client
        .post(format!("{}/notes/api/notes/", notes.address))
        .bearer_auth(token)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn assert_nothing_stored(notes: &NotesService, token: &str) {
    assert_eq!(json_body(notes.list(token).await, 200).await, json!([]));
}

#[actix_web::test]
async fn malformed_json_is_a_400_parse_error() {
    let (_keys, auth, notes) = both();
    let token = auth.access_token_for("ada").await;

    let body = json_body(
        post_raw(&notes, &token, "application/json", b"{\"text\": ".to_vec()).await,
        400,
    )
    .await;

    let detail = body["detail"].as_str().unwrap();
    assert!(detail.starts_with("JSON parse error - "), "{detail}");
    assert_nothing_stored(&notes, &token).await;
}

#[actix_web::test]
async fn field_errors_use_drf_messages() {
    let (_keys, auth, notes) = both();
    let token = auth.access_token_for("ada").await;
    let cases: [(Value, Value); 5] = [
        (json!({}), json!({"text": ["This field is required."]})),
        (
            json!({"text": null}),
            json!({"text": ["This field may not be null."]}),
        ),
        (
            json!({"text": "   "}),
            json!({"text": ["This field may not be blank."]}),
        ),
        (
            json!({"text": {"a": 1}}),
            json!({"text": ["Not a valid string."]}),
        ),
        (
            json!({"text": "x".repeat(1001)}),
            json!({"text": ["Ensure this field has no more than 1000 characters."]}),
        ),
    ];

    for (body, errors) in cases {
        assert_json(notes.create(&token, &body).await, 400, errors).await;
    }
    assert_json(
        notes.create(&token, &json!(["text"])).await,
        400,
        json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    )
    .await;
    assert_nothing_stored(&notes, &token).await;
}

#[actix_web::test]
async fn a_huge_body_is_a_413() {
    let (_keys, auth, notes) = both();
    let token = auth.access_token_for("ada").await;
    let huge = serde_json::to_vec(&json!({"text": "x".repeat(2 * 1024 * 1024)})).unwrap();

    assert_json(
        post_raw(&notes, &token, "application/json", huge).await,
        413,
        json!({"detail": "Request body is too large. The limit is 65536 bytes."}),
    )
    .await;
    assert_nothing_stored(&notes, &token).await;
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_415() {
    let (_keys, auth, notes) = both();
    let token = auth.access_token_for("ada").await;

    assert_json(
        post_raw(&notes, &token, "text/plain", b"buy milk".to_vec()).await,
        415,
        json!({"detail": "Unsupported media type \"text/plain\" in request."}),
    )
    .await;
}

#[actix_web::test]
async fn garbage_tokens_are_invalid() {
    let (_keys, _auth, notes) = both();

    for garbage in ["garbage", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"] {
        assert_json(
            notes.list(garbage).await,
            401,
            access_token_refused("Token is invalid"),
        )
        .await;
    }
    let two = notes
        .client
        .get(format!("{}/notes/api/notes/", notes.address))
        .header("Authorization", "Bearer one two")
        .send()
        .await
        .unwrap();
    assert_json(
        two,
        401,
        json!({"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"}),
    )
    .await;
}

#[actix_web::test]
async fn a_null_character_is_refused_as_the_auth_server_refuses_it() {
    let (_keys, auth, notes) = both();
    let token = auth.access_token_for("ada").await;

    assert_json(
        notes.create(&token, &json!({"text": "buy\u{0}milk"})).await,
        400,
        json!({"text": ["Null characters are not allowed."]}),
    )
    .await;
    assert_nothing_stored(&notes, &token).await;
}
