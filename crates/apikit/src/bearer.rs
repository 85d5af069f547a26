//! Reading `Authorization: Bearer <token>` as simplejwt's `get_raw_token` does, for every
//! service: the header's bytes split at ASCII whitespace; another scheme (or none) is no
//! credentials at all, and the scheme with nothing or two things after it is a malformed
//! header. The header is read with actix-web-httpauth's typed header, into
//! [`JwtAuthorization`], which never shows the token in `Debug` output.

use std::fmt;

use actix_web::HttpRequest;
use actix_web::http::header::{Header, HeaderValue, InvalidHeaderValue, TryIntoHeaderValue};
use actix_web_httpauth::headers::authorization::{Authorization, ParseError, Scheme};

use crate::error::HttpError;

/// An `Authorization` header split at whitespace: the scheme and what follows it.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtAuthorization {
    scheme: String,
    values: Vec<String>,
}

/// The whitespace Python's `bytes.split()` splits at: simplejwt splits the header's bytes.
const ASCII_WHITESPACE: &[u8] = b" \t\n\r\x0b\x0c";

impl Scheme for JwtAuthorization {
    fn parse(header: &HeaderValue) -> Result<Self, ParseError> {
        // Split the bytes at ASCII whitespace only, as simplejwt does: a no-break space is part
        // of a value, not a separator. Bytes that are not UTF-8 cannot hold a valid token; read
        // them lossily so they fail as an invalid token rather than as a missing header.
        let mut parts = header
            .as_bytes()
            .split(|byte| ASCII_WHITESPACE.contains(byte))
            .filter(|part| !part.is_empty())
            .map(|part| String::from_utf8_lossy(part).into_owned());
        let scheme = parts.next().ok_or(ParseError::MissingScheme)?;
        Ok(Self {
            scheme,
            values: parts.collect(),
        })
    }
}

impl JwtAuthorization {
    /// simplejwt's `get_raw_token`: `None` for a scheme that is not one of `header_types` (the
    /// request is then unauthenticated), the token for exactly one value after the scheme, and
    /// a bad-header error otherwise.
    pub fn raw_token<T: AsRef<str>>(&self, header_types: &[T]) -> Result<Option<&str>, HttpError> {
        if !header_types.iter().any(|kind| kind.as_ref() == self.scheme) {
            return Ok(None);
        }
        match self.values.as_slice() {
            [token] => Ok(Some(token)),
            _ => Err(HttpError::BadAuthorizationHeader),
        }
    }
}

impl fmt::Debug for JwtAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ******", self.scheme)
    }
}

impl fmt::Display for JwtAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.scheme)?;
        for value in &self.values {
            write!(f, " {value}")?;
        }
        Ok(())
    }
}

impl TryIntoHeaderValue for JwtAuthorization {
    type Error = InvalidHeaderValue;

    fn try_into_value(self) -> Result<HeaderValue, Self::Error> {
        HeaderValue::from_str(&self.to_string())
    }
}

/// The access token a request carries under one of `header_types` (`Bearer`), or why it
/// carries none that can be used.
pub fn access_token<T: AsRef<str>>(
    req: &HttpRequest,
    header_types: &[T],
) -> Result<String, HttpError> {
    // No header, or one with nothing in it, is an unauthenticated request.
    let Ok(credentials) =
        Authorization::<JwtAuthorization>::parse(req).map(Authorization::into_scheme)
    else {
        return Err(HttpError::NotAuthenticated);
    };
    credentials
        .raw_token(header_types)?
        .map(str::to_owned)
        .ok_or(HttpError::NotAuthenticated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(header: &str) -> JwtAuthorization {
        JwtAuthorization::parse(&HeaderValue::from_str(header).unwrap()).unwrap()
    }

    fn bearer() -> Vec<String> {
        vec!["Bearer".to_owned()]
    }

    #[test]
    fn another_scheme_is_unauthenticated() {
        assert_eq!(parsed("Basic YTpi").raw_token(&bearer()).unwrap(), None);
        // The scheme is compared exactly, as simplejwt does.
        assert_eq!(parsed("bearer abc").raw_token(&bearer()).unwrap(), None);
    }

    #[test]
    fn an_empty_header_has_no_scheme() {
        assert!(JwtAuthorization::parse(&HeaderValue::from_static("")).is_err());
    }

    #[test]
    fn bearer_needs_exactly_one_token() {
        assert!(matches!(
            parsed("Bearer").raw_token(&bearer()),
            Err(HttpError::BadAuthorizationHeader)
        ));
        assert!(matches!(
            parsed("Bearer a b").raw_token(&bearer()),
            Err(HttpError::BadAuthorizationHeader)
        ));
        assert_eq!(
            parsed("Bearer abc").raw_token(&bearer()).unwrap(),
            Some("abc")
        );
    }

    #[test]
    fn configured_header_types_are_all_accepted() {
        let types = vec!["Bearer".to_owned(), "JWT".to_owned()];
        assert_eq!(parsed("JWT abc").raw_token(&types).unwrap(), Some("abc"));
    }

    #[test]
    fn only_ascii_whitespace_separates_as_in_simplejwt() {
        let no_break = HeaderValue::from_bytes(b"Bearer\xc2\xa0abc").unwrap();
        let parsed_no_break = JwtAuthorization::parse(&no_break).unwrap();
        assert_eq!(parsed_no_break.raw_token(&bearer()).unwrap(), None);
        assert_eq!(
            parsed("Bearer\t abc ").raw_token(&bearer()).unwrap(),
            Some("abc")
        );
        let trailing = HeaderValue::from_bytes(b"Bearer abc\xc2\xa0").unwrap();
        assert_eq!(
            JwtAuthorization::parse(&trailing)
                .unwrap()
                .raw_token(&bearer())
                .unwrap(),
            Some("abc\u{a0}")
        );
    }

    #[test]
    fn debug_output_hides_the_token() {
        assert_eq!(
            format!("{:?}", parsed("Bearer secret.token.here")),
            "Bearer ******"
        );
    }
}
