//! The readers of hostile bytes, under libFuzzer: the first byte picks the reader, the rest is
//! its input. Each must answer without panicking, and only with one of its documented answers
//! (the same properties as the `hostile_bytes` property tests, guided by coverage instead of
//! chosen at random).

#![no_main]

use actix_web::ResponseError;
use apikit::bearer::raw_token;
use apikit::input::RequestData;
use claims::{Claims, Header, Rules, TokenType, compact};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&reader, input)) = data.split_first() else {
        return;
    };
    match reader % 3 {
        0 => token(input),
        1 => authorization_header(input),
        _ => body(input),
    }
});

/// A token's parts, header and claims, through every check of the contract.
fn token(input: &[u8]) {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let Ok(parts) = compact::split(text) else {
        return;
    };
    let (Ok(header), Ok(claims)) = (
        serde_json::from_slice::<Header>(&parts.header),
        serde_json::from_slice::<Claims<Value>>(&parts.payload),
    ) else {
        return;
    };
    let rules = Rules {
        algorithm: "HS256".to_owned(),
        leeway: 0,
        issuer: None,
        audience: None,
    };
    for now in [i64::MIN, 0, 1_800_000_000, i64::MAX] {
        let violations = rules.violations(&header, &claims, now);
        assert_eq!(rules.check(&header, &claims, now).is_ok(), violations.is_empty());
    }
    for expected in [None, Some(TokenType::Access), Some(TokenType::Refresh)] {
        let _ = claims.verify(expected);
    }
}

/// An `Authorization` header: a token with no separator in it, no credentials, or a
/// malformed header.
fn authorization_header(input: &[u8]) {
    if let Ok(Some(token)) = raw_token(input, &["Bearer", "JWT"]) {
        assert!(!token.is_empty());
        assert!(!token.bytes().any(|byte| b" \t\n\r\x0b\x0c".contains(&byte)));
    }
}

/// A request body as JSON and as a form: read, or refused with a 400 or a 415.
fn body(input: &[u8]) {
    for content_type in ["application/json", "application/x-www-form-urlencoded"] {
        if let Err(error) = RequestData::parse(Some(content_type), input) {
            assert!([400, 415].contains(&error.status_code().as_u16()), "{error:?}");
        }
    }
}
