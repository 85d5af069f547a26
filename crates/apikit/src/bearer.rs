//! Reading `Authorization: Bearer <token>` as simplejwt's `get_raw_token` does, for every
//! service: the header's bytes split at ASCII whitespace; another scheme (or none) is no
//! credentials at all, and the scheme with nothing or two things after it is a malformed
//! header.
//!
//! The header is read where it lies in the request, not through actix-web-httpauth's typed
//! `Authorization` header: that one clones the header's bytes into a scheme of its own, and
//! every protected request reads this header. Nothing is copied but the token handed on.

use std::borrow::Cow;

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::error::HttpError;

/// The whitespace Python's `bytes.split()` splits at: simplejwt splits the header's bytes.
/// (`u8::is_ascii_whitespace` leaves out the vertical tab.)
fn is_ascii_whitespace(byte: &u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// simplejwt's `get_raw_token` over an `Authorization` header's bytes: `None` for no scheme or
/// one that is not one of `header_types` (the request is then unauthenticated), the token for
/// exactly one value after the scheme, and a bad-header error otherwise. A no-break space is
/// part of a value, not a separator.
pub fn raw_token<'a, T: AsRef<str>>(
    header: &'a [u8],
    header_types: &[T],
) -> Result<Option<Cow<'a, str>>, HttpError> {
    let mut parts = header
        .split(is_ascii_whitespace)
        .filter(|part| !part.is_empty());
    let Some(scheme) = parts.next() else {
        return Ok(None);
    };
    if !header_types
        .iter()
        .any(|kind| kind.as_ref().as_bytes() == scheme)
    {
        return Ok(None);
    }
    match (parts.next(), parts.next()) {
        (Some(token), None) => Ok(Some(text(token))),
        _ => Err(HttpError::BadAuthorizationHeader),
    }
}

/// A part of the header as text. Bytes that are not UTF-8 cannot hold a valid token: they are
/// read lossily, so that they fail as an invalid token rather than as a missing header.
fn text(part: &[u8]) -> Cow<'_, str> {
    std::str::from_utf8(part).map_or_else(|_| String::from_utf8_lossy(part), Cow::Borrowed)
}

/// The access token a request carries under one of `header_types` (`Bearer`), or why it
/// carries none that can be used.
pub fn access_token<T: AsRef<str>>(
    req: &HttpRequest,
    header_types: &[T],
) -> Result<String, HttpError> {
    // No header, or one with nothing in it, is an unauthenticated request.
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(HttpError::NotAuthenticated)?;
    raw_token(header.as_bytes(), header_types)?
        .map(Cow::into_owned)
        .ok_or(HttpError::NotAuthenticated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer() -> Vec<String> {
        vec!["Bearer".to_owned()]
    }

    fn token_in(header: &[u8]) -> Option<String> {
        raw_token(header, &bearer()).unwrap().map(Cow::into_owned)
    }

    #[test]
    fn another_scheme_is_unauthenticated() {
        assert_eq!(token_in(b"Basic YTpi"), None);
        // The scheme is compared exactly, as simplejwt does.
        assert_eq!(token_in(b"bearer abc"), None);
    }

    #[test]
    fn an_empty_header_or_only_whitespace_is_unauthenticated() {
        assert_eq!(token_in(b""), None);
        assert_eq!(token_in(b" \t "), None);
    }

    #[test]
    fn bearer_needs_exactly_one_token() {
        assert!(matches!(
            raw_token(b"Bearer", &bearer()),
            Err(HttpError::BadAuthorizationHeader)
        ));
        assert!(matches!(
            raw_token(b"Bearer a b", &bearer()),
            Err(HttpError::BadAuthorizationHeader)
        ));
        assert_eq!(token_in(b"Bearer abc").as_deref(), Some("abc"));
    }

    #[test]
    fn configured_header_types_are_all_accepted() {
        let types = vec!["Bearer".to_owned(), "JWT".to_owned()];
        assert_eq!(
            raw_token(b"JWT abc", &types).unwrap().as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn only_ascii_whitespace_separates_as_in_simplejwt() {
        assert_eq!(token_in(b"Bearer\xc2\xa0abc"), None);
        assert_eq!(token_in(b"Bearer\t abc ").as_deref(), Some("abc"));
        assert_eq!(
            token_in(b"Bearer abc\xc2\xa0").as_deref(),
            Some("abc\u{a0}")
        );
        assert_eq!(token_in(b"Bearer\x0babc").as_deref(), Some("abc"));
    }

    #[test]
    fn a_token_that_is_not_utf8_is_read_lossily_to_fail_as_invalid() {
        assert_eq!(
            token_in(b"Bearer ab\xffcd").as_deref(),
            Some("ab\u{fffd}cd")
        );
    }

    #[test]
    fn the_token_is_read_from_the_requests_first_authorization_header() {
        let request = actix_web::test::TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Bearer abc"))
            .to_http_request();
        assert_eq!(access_token(&request, &bearer()).unwrap(), "abc");
        let without = actix_web::test::TestRequest::default().to_http_request();
        assert!(matches!(
            access_token(&without, &bearer()),
            Err(HttpError::NotAuthenticated)
        ));
    }
}
