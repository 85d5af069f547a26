//! Hostile bytes against what every service reads first: the `Authorization` header and the
//! request body. For every input: no panic, and one of the documented answers (a token, no
//! credentials, a malformed header; a body, a 400 or a 415), never a 500.
//!
//! Each property tries `PROPTEST_CASES` inputs (256 unless set); the long run is
//! `PROPTEST_CASES=1000000 cargo test --release -p apikit --test hostile_bytes`.

use actix_web::ResponseError;
use apikit::bearer::raw_token;
use apikit::error::HttpError;
use apikit::input::RequestData;
use proptest::collection::vec;
use proptest::prelude::*;
use serde::Deserialize;

/// Python's `bytes.split()` whitespace, which separates the header's parts.
const SEPARATORS: &[u8] = b" \t\n\r\x0b\x0c";

fn types() -> Vec<String> {
    vec!["Bearer".to_owned(), "JWT".to_owned()]
}

/// A header value made of the pieces that matter: schemes, separators, token characters,
/// and bytes that are not UTF-8.
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"Bearer".to_vec()),
        Just(b"JWT".to_vec()),
        Just(b"bearer".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\xc2\xa0".to_vec()),
        Just(b"\xff".to_vec()),
        "[A-Za-z0-9_.-]{1,12}".prop_map(String::into_bytes),
    ];
    prop_oneof![
        vec(piece, 0..6).prop_map(|pieces| pieces.concat()),
        vec(any::<u8>(), 0..64),
    ]
}

/// A request type like the API's: named string fields.
#[derive(Debug, Deserialize)]
struct Login {
    username: String,
    password: String,
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("application/json".to_owned())),
        Just(Some("application/json; charset=utf-8".to_owned())),
        Just(Some("application/x-www-form-urlencoded".to_owned())),
        Just(Some("text/plain".to_owned())),
        ".{0,30}".prop_map(Some),
    ]
}

/// A body: JSON and form shapes with awkward values, or any bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just("null".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        ".{0,10}".prop_map(|text| serde_json::to_string(&text).unwrap()),
    ];
    prop_oneof![
        (value.clone(), value.clone()).prop_map(|(username, password)| {
            format!(r#"{{"username": {username}, "password": {password}}}"#).into_bytes()
        }),
        value.prop_map(String::into_bytes),
        "([a-z%=&+]{0,8}){0,4}".prop_map(String::into_bytes),
        vec(any::<u8>(), 0..128),
    ]
}

fn status(error: &HttpError) -> u16 {
    error.status_code().as_u16()
}

proptest! {
    #[test]
    fn any_authorization_header_gives_a_token_no_credentials_or_a_malformed_header(
        header in header_bytes()
    ) {
        match raw_token(&header, &types()) {
            Ok(Some(token)) => {
                prop_assert!(!token.is_empty());
                prop_assert!(!token.bytes().any(|byte| SEPARATORS.contains(&byte)));
            }
            Ok(None) => {}
            Err(error) => prop_assert!(matches!(error, HttpError::BadAuthorizationHeader)),
        }
    }

    #[test]
    fn a_token_padded_with_any_separators_is_read_as_itself(
        token in "[A-Za-z0-9_.\\-]{1,300}",
        before in vec(prop::sample::select(SEPARATORS.to_vec()), 0..3),
        between in vec(prop::sample::select(SEPARATORS.to_vec()), 1..3),
        after in vec(prop::sample::select(SEPARATORS.to_vec()), 0..3),
    ) {
        let header = [&before[..], b"Bearer", &between, token.as_bytes(), &after].concat();
        let read = raw_token(&header, &types()).unwrap();
        prop_assert_eq!(read.as_deref(), Some(token.as_str()));
    }

    #[test]
    fn any_body_is_read_or_refused_with_a_400_or_a_415(
        content_type in content_type(),
        body in body(),
    ) {
        match RequestData::parse(content_type.as_deref(), &body) {
            Ok(data) => match data.read::<Login>() {
                // Reading never makes more text than the body held (lossy UTF-8 at worst
                // triples a byte).
                Ok(login) => prop_assert!(login.username.len() + login.password.len() <= 3 * body.len()),
                Err(error) => prop_assert_eq!(status(&error), 400, "{:?}", error),
            },
            Err(error) => prop_assert!(
                [400, 415].contains(&status(&error)),
                "{} for {:?}",
                status(&error),
                error
            ),
        }
    }
}
