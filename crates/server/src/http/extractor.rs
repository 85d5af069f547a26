//! The guard of protected endpoints: simplejwt's `JWTAuthentication` plus DRF's
//! `IsAuthenticated`, as an actix extractor. A handler that takes an [`AuthenticatedUser`]
//! argument only runs for a request with a valid access token of an active user.
//!
//! The `Authorization` header is read with actix-web-httpauth's typed header, into
//! [`JwtAuthorization`], a scheme that splits it as simplejwt's `get_raw_token` does and never
//! shows the token in `Debug` output.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::http::header::{Header, HeaderValue, InvalidHeaderValue, TryIntoHeaderValue};
use actix_web::{FromRequest, HttpRequest, dev::Payload as ActixPayload, web};
use actix_web_httpauth::headers::authorization::{Authorization, ParseError, Scheme};
use apikit::HttpError;

use crate::auth::now;
use crate::db::users::User;
use crate::http::HttpSettings;
use crate::http::error::ApiError;
use crate::services::authenticate::authenticate;
use crate::services::{AppState, ServiceError};

/// The user a valid access token belongs to (shared with this process's view of users).
#[derive(Debug, Clone)]
pub struct AuthenticatedUser(pub Arc<User>);

/// An `Authorization` header split at whitespace: the scheme and what follows it.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtAuthorization {
    scheme: String,
    values: Vec<String>,
}

impl Scheme for JwtAuthorization {
    fn parse(header: &HeaderValue) -> Result<Self, ParseError> {
        // Bytes that are not UTF-8 cannot hold a valid token; read them lossily so they fail
        // as an invalid token rather than as a missing header.
        let text = String::from_utf8_lossy(header.as_bytes());
        let mut parts = text.split_whitespace().map(str::to_owned);
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
    pub fn raw_token(&self, header_types: &[String]) -> Result<Option<&str>, ApiError> {
        if !header_types.contains(&self.scheme) {
            return Ok(None);
        }
        match self.values.as_slice() {
            [token] => Ok(Some(token)),
            _ => Err(ApiError::Http(HttpError::BadAuthorizationHeader)),
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

/// The access token a request carries, or why it carries none that can be used.
pub fn access_token(req: &HttpRequest, header_types: &[String]) -> Result<String, ApiError> {
    // No header, or one with nothing in it, is an unauthenticated request.
    let Ok(credentials) =
        Authorization::<JwtAuthorization>::parse(req).map(Authorization::into_scheme)
    else {
        return Err(ApiError::Http(HttpError::NotAuthenticated));
    };
    credentials
        .raw_token(header_types)?
        .map(str::to_owned)
        .ok_or(ApiError::Http(HttpError::NotAuthenticated))
}

// ANCHOR: extractor
impl FromRequest for AuthenticatedUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut ActixPayload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .app_data::<web::Data<HttpSettings>>()
            .ok_or_else(|| missing("HttpSettings"))
            .and_then(|http| access_token(req, &http.auth_header_types));
        Box::pin(async move {
            let state = state.ok_or_else(|| missing("AppState"))?;
            let user = authenticate(&state, &token?, now()).await?;
            Ok(AuthenticatedUser(user))
        })
    }
}
// ANCHOR_END: extractor

fn missing(what: &str) -> ApiError {
    ServiceError::internal(std::io::Error::other(format!("{what} is not registered"))).into()
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
            Err(ApiError::Http(HttpError::BadAuthorizationHeader))
        ));
        assert!(matches!(
            parsed("Bearer a b").raw_token(&bearer()),
            Err(ApiError::Http(HttpError::BadAuthorizationHeader))
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
    fn debug_output_hides_the_token() {
        assert_eq!(
            format!("{:?}", parsed("Bearer secret.token.here")),
            "Bearer ******"
        );
    }
}
