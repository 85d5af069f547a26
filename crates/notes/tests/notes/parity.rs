//! The notes service reads a request as the auth server does, with the same code
//! (`apikit`): the `Authorization` header, the header limit, content negotiation, `HEAD`, and
//! authentication before the body.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use crate::forge::{attacker_key, sign_raw};
use crate::helpers::*;

/// The status and JSON body of `GET /hello/` on the auth server and of the notes list, both
/// sent with `header` set to `value`.
async fn both_answer(
    auth: &AuthServer,
    notes: &NotesService,
    header: &str,
    value: HeaderValue,
) -> ((u16, Value), (u16, Value)) {
    let client = reqwest::Client::new();
    let hello = client
        .get(format!("{}/hello/", auth.address))
        .header(header, value.clone())
        .send()
        .await
        .unwrap();
    let list = client
        .get(format!("{}/notes/api/notes/", notes.address))
        .header(header, value)
        .send()
        .await
        .unwrap();
    let read = async |response: reqwest::Response| {
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    };
    (read(hello).await, read(list).await)
}

#[actix_web::test]
async fn only_ascii_whitespace_separates_the_scheme_on_both_services() {
    let (_keys, auth, notes) = both();
    let token = auth.access_token_for("ada").await;
    let no_break = [b"Bearer\xc2\xa0".as_slice(), token.as_bytes()].concat();

    let (hello, list) = both_answer(
        &auth,
        &notes,
        "Authorization",
        HeaderValue::from_bytes(&no_break).unwrap(),
    )
    .await;

    let not_provided = json!({"detail": "Authentication credentials were not provided."});
    assert_eq!(hello, (401, not_provided.clone()));
    assert_eq!(list, (401, not_provided));
}

#[actix_web::test]
async fn a_header_line_over_8190_bytes_is_a_431_on_both_services() {
    let (_keys, auth, notes) = both();

    let (hello, list) = both_answer(
        &auth,
        &notes,
        "X-Big",
        HeaderValue::from_str(&"a".repeat(9000)).unwrap(),
    )
    .await;

    let too_large = json!({"detail": "Request header fields too large."});
    assert_eq!(hello, (431, too_large.clone()));
    assert_eq!(list, (431, too_large));
}

#[actix_web::test]
async fn an_accept_header_without_json_is_a_406_on_both_services() {
    let (_keys, auth, notes) = both();

    let (hello, list) = both_answer(
        &auth,
        &notes,
        "Accept",
        HeaderValue::from_static("text/html"),
    )
    .await;

    let not_acceptable = json!({"detail": "Could not satisfy the request Accept header."});
    assert_eq!(hello, (406, not_acceptable.clone()));
    assert_eq!(list, (406, not_acceptable));
}

#[actix_web::test]
async fn head_is_answered_as_get() {
    let (_keys, auth, notes) = both();
    let token = auth.access_token_for("ada").await;

    let head = notes
        .client
        .head(format!("{}/notes/api/notes/", notes.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(head.status(), 200);
}

#[actix_web::test]
async fn a_refused_token_is_answered_before_a_bad_body() {
    let (_keys, _auth, notes) = both();
    // A key nobody published: the service fetches the key set again (at most once a second,
    // so wait past the first fetch) while the body would already be refused.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let now = chrono::Utc::now().timestamp();
    let token = sign_raw(
        &json!({"alg": "ES256", "kid": "a-key-nobody-published", "typ": "JWT"}),
        &json!({"token_type": "access", "exp": now + 60, "iat": now, "jti": "j", "user_id": "1"}),
        &attacker_key(),
        Algorithm::ES256,
    );

    let response = notes
        .client
        .post(format!("{}/notes/api/notes/", notes.address))
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body("buy milk")
        .send()
        .await
        .unwrap();

    assert_json(response, 401, access_token_refused("Token is invalid")).await;
}
